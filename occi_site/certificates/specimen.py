"""Specimen documents with the figures of the chamber's guide, for the
render benchmark and the tests (and for anyone previewing the layout)."""

import datetime

from .membership import CertificateData
from .receipt import ReceiptData

CERTIFICATE = CertificateData(
    serial='C-2024-000123',
    occi_number='91868',
    cr_number='1229237',
    name_en='promising projects',
    name_ar='المشاريع الواعدة',
    grade_en='Fourth',
    grade_ar='الرابعة',
    address='Ruwi, Muttrah, Muscat Governorate, 423, 30',
    issued_on=datetime.date(2024, 3, 19),
    expires_on=datetime.date(2025, 3, 19),
    verification_code='7KQ2-M9XD-4TPA',
    verify_url='https://eservices.chamberoman.om/verify/C-2024-000123/7KQ2M9XD4TPA',
)

RECEIPT = ReceiptData(
    reference='ORD-2024-000045',
    issued_at=datetime.datetime(2024, 3, 19, 10, 42),
    payer_name='Shamsa Hamed Said Al-Rashdi',
    company_name_en='promising projects',
    company_name_ar='المشاريع الواعدة',
    cr_number='1229237',
    service_en='Membership Renewal',
    service_ar='تجديد العضوية',
    lines=[
        ('First year fees', 'رسوم السنة الأولى', 25000),
        ('Second year fees', 'رسوم السنة الثانية', 25000),
        ('Old debit', 'المديونية السابقة', 0),
    ],
    total_baisa=50000,
    card_type='Visa',
    card_last4='1111',
    transaction_id='TX-7731904',
)
