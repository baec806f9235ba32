"""The card gateway adapter: signatures, the checkout form and reading results.

Expected signatures are computed here with hmac over data strings written out
by hand, so the adapter is held against the protocol and not against itself.
"""

import base64
import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest
from webob.multidict import MultiDict

from occi_site.integrations.payment import (
    GatewayResult,
    PaymentResponseError,
    PaymentSignatureError,
    SecureAcceptanceGateway,
    gateway_from_settings,
    sign_fields,
    verify_signature,
)

SECRET = 'c2VjcmV0LWtleS1mb3ItdGVzdHM'
NOW = datetime(2026, 3, 19, 8, 30, 5, tzinfo=UTC)


def reference_signature(data, secret=SECRET):
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# -- signatures ---------------------------------------------------------------


def signed_example():
    fields = {
        'access_key': 'AK1',
        'profile_id': 'PROFILE',
        'amount': '25.000',
        'currency': 'OMR',
        'signed_field_names': 'access_key,profile_id,amount,currency,signed_field_names',
    }
    data = (
        'access_key=AK1,profile_id=PROFILE,amount=25.000,currency=OMR,'
        'signed_field_names=access_key,profile_id,amount,currency,signed_field_names'
    )
    return fields, reference_signature(data)


def test_sign_fields_matches_reference_vector():
    fields, expected = signed_example()
    assert sign_fields(fields, SECRET) == expected


def test_sign_fields_known_base64_value():
    fields = {'a': '1', 'signed_field_names': 'a,signed_field_names'}
    assert sign_fields(fields, 'key') == reference_signature(
        'a=1,signed_field_names=a,signed_field_names', 'key'
    )
    assert sign_fields(fields, 'key') == '4KZMF95TlOiouH1pQ8JgJD1sx83zX+jxN1t/MnDfgk8='


def test_sign_fields_signs_utf8_values():
    fields = {'name': 'المشاريع الواعدة', 'signed_field_names': 'name'}
    assert sign_fields(fields, SECRET) == reference_signature('name=المشاريع الواعدة')


def test_verify_accepts_the_signature():
    fields, signature = signed_example()
    assert verify_signature({**fields, 'signature': signature}, SECRET)


def test_verify_refuses_a_tampered_value():
    fields, signature = signed_example()
    assert not verify_signature({**fields, 'amount': '2.500', 'signature': signature}, SECRET)


def test_verify_refuses_a_missing_signed_field():
    fields, signature = signed_example()
    del fields['currency']
    assert not verify_signature({**fields, 'signature': signature}, SECRET)


def test_verify_refuses_reordered_signed_field_names():
    fields, signature = signed_example()
    fields['signed_field_names'] = 'profile_id,access_key,amount,currency,signed_field_names'
    assert not verify_signature({**fields, 'signature': signature}, SECRET)


def test_verify_refuses_a_shortened_signed_field_names():
    """Dropping a field from the list changes the data signed, so it cannot slip out."""
    fields, signature = signed_example()
    fields['signed_field_names'] = 'access_key,profile_id,amount,signed_field_names'
    assert not verify_signature({**fields, 'signature': signature}, SECRET)


def test_verify_ignores_unsigned_extra_fields():
    fields, signature = signed_example()
    assert verify_signature({**fields, 'utm_source': 'mail', 'signature': signature}, SECRET)


def test_verify_refuses_another_key():
    fields, signature = signed_example()
    assert not verify_signature({**fields, 'signature': signature}, 'another-secret')


@pytest.mark.parametrize('signature', ['', 'not base64', 'ظظظ', None])
def test_verify_refuses_garbage_signatures(signature):
    fields, _ = signed_example()
    if signature is not None:
        fields['signature'] = signature
    assert not verify_signature(fields, SECRET)


def test_verify_refuses_fields_without_signed_field_names():
    fields, signature = signed_example()
    del fields['signed_field_names']
    assert not verify_signature({**fields, 'signature': signature}, SECRET)


# -- checkout -----------------------------------------------------------------


def make_gateway(secret=SECRET):
    return SecureAcceptanceGateway(
        endpoint_url='https://gateway.example/pay',
        profile_id='PROFILE',
        access_key='AK1',
        secret_key=secret,
        clock=lambda: NOW,
    )


def checkout(gateway=None, **overrides):
    arguments = {
        'reference_number': 'OCCI-2026-000123',
        'transaction_uuid': '6f1d2a8e-uuid',
        'amount_baisa': 50000,
        'locale': 'en',
        'bill_to': {
            'forename': 'Ali',
            'surname': 'Said',
            'email': 'ali@chamberoman.com',
            'phone': '99416689',
            'address_line1': 'Ruwi, Muttrah',
            'address_city': 'Muscat',
        },
        'return_url': 'https://portal.example/payment/return',
        'notify_url': 'https://portal.example/payment/notify',
    }
    arguments.update(overrides)
    return (gateway or make_gateway()).checkout(**arguments)


def test_checkout_fields():
    url, fields = checkout()
    assert url == 'https://gateway.example/pay'
    assert fields == {
        'access_key': 'AK1',
        'profile_id': 'PROFILE',
        'transaction_uuid': '6f1d2a8e-uuid',
        'signed_date_time': '2026-03-19T08:30:05Z',
        'locale': 'en',
        'transaction_type': 'sale',
        'reference_number': 'OCCI-2026-000123',
        'amount': '50.000',
        'currency': 'OMR',
        'bill_to_forename': 'Ali',
        'bill_to_surname': 'Said',
        'bill_to_email': 'ali@chamberoman.com',
        'bill_to_phone': '99416689',
        'bill_to_address_line1': 'Ruwi, Muttrah',
        'bill_to_address_city': 'Muscat',
        'bill_to_address_country': 'OM',
        'override_custom_receipt_page': 'https://portal.example/payment/return',
        'override_backoffice_post_url': 'https://portal.example/payment/notify',
        'unsigned_field_names': '',
        'signed_field_names': fields['signed_field_names'],
        'signature': fields['signature'],
    }


def test_checkout_signs_every_field_it_sends():
    _, fields = checkout()
    names = fields['signed_field_names'].split(',')
    assert set(names) == set(fields) - {'signature'}
    data = ','.join(f'{name}={fields[name]}' for name in names)
    assert fields['signature'] == reference_signature(data)


def test_checkout_signed_date_time_is_utc():
    gulf = timezone(timedelta(hours=4))
    gateway = SecureAcceptanceGateway(
        endpoint_url='https://gateway.example/pay',
        profile_id='PROFILE',
        access_key='AK1',
        secret_key=SECRET,
        clock=lambda: datetime(2026, 3, 19, 12, 30, 5, tzinfo=gulf),
    )
    _, fields = checkout(gateway)
    assert fields['signed_date_time'] == '2026-03-19T08:30:05Z'


def test_checkout_in_arabic_with_another_country():
    _, fields = checkout(locale='ar', bill_to={'forename': 'علي', 'address_country': 'AE'})
    assert fields['locale'] == 'ar'
    assert fields['bill_to_forename'] == 'علي'
    assert fields['bill_to_address_country'] == 'AE'
    assert 'bill_to_surname' not in fields


def test_checkout_cuts_billing_values_longer_than_the_gateway_takes():
    address = 'Building 1204, Way 3017, Al Qurum Heights, Muscat Governorate, Sultanate of Oman'
    _, fields = checkout(
        bill_to={
            'forename': 'Ali',
            'address_line1': address,
            'address_city': 'M' * 51,
            'email': 'a' * 250 + '@chamberoman.com',
        }
    )
    assert fields['bill_to_address_line1'] == 'Building 1204, Way 3017, Al Qurum Heights, Muscat'
    assert address.startswith(fields['bill_to_address_line1'])
    assert fields['bill_to_address_city'] == 'M' * 50
    assert 'bill_to_email' not in fields  # a cut address would be someone else's
    assert fields['bill_to_forename'] == 'Ali'


def test_checkout_refuses_an_unknown_locale():
    with pytest.raises(ValueError):
        checkout(locale='fr')


def test_checkout_refuses_unknown_billing_fields():
    with pytest.raises(ValueError):
        checkout(bill_to={'first_name': 'Ali'})


def test_checkout_refuses_a_negative_amount():
    with pytest.raises(ValueError):
        checkout(amount_baisa=-4000)


def test_gateway_from_settings():
    gateway = gateway_from_settings(
        {
            'occi.payment.endpoint_url': 'http://127.0.0.1:6543/gateway/pay',
            'occi.payment.profile_id': 'P',
            'occi.payment.access_key': 'A',
            'occi.payment.secret_key': 'S',
        }
    )
    assert (gateway.endpoint_url, gateway.profile_id, gateway.access_key, gateway.secret_key) == (
        'http://127.0.0.1:6543/gateway/pay',
        'P',
        'A',
        'S',
    )


# -- reading results ----------------------------------------------------------


def gateway_response(**overrides):
    """A response as the gateway signs it, with the signature computed here."""
    fields = {
        'decision': 'ACCEPT',
        'reason_code': '100',
        'message': 'Request was processed successfully.',
        'transaction_id': '6187436410656473204105',
        'auth_amount': '50.000',
        'req_reference_number': 'OCCI-2026-000123',
        'req_transaction_uuid': '6f1d2a8e-uuid',
        'req_amount': '50.000',
        'req_currency': 'OMR',
        'req_card_number': 'xxxxxxxxxxxx1111',
        'req_card_type': '001',
        'signed_date_time': '2026-03-19T08:31:40Z',
    }
    fields.update(overrides)
    fields = {name: value for name, value in fields.items() if value is not None}
    fields['signed_field_names'] = ','.join([*fields, 'signed_field_names'])
    data = ','.join(f'{name}={value}' for name, value in fields.items())
    fields['signature'] = reference_signature(data)
    return fields


def test_read_result_accept():
    fields = gateway_response()
    result = make_gateway().read_result(fields)
    assert result == GatewayResult(
        decision='ACCEPT',
        reason_code='100',
        message='Request was processed successfully.',
        transaction_id='6187436410656473204105',
        reference_number='OCCI-2026-000123',
        transaction_uuid='6f1d2a8e-uuid',
        amount_baisa=50000,
        currency='OMR',
        card_type='Visa',
        card_last4='1111',
        signed_date_time='2026-03-19T08:31:40Z',
        fields=fields,
    )
    assert result.accepted


def test_read_result_decline_with_mastercard():
    result = make_gateway().read_result(
        gateway_response(
            decision='DECLINE',
            reason_code='203',
            auth_amount=None,
            req_card_number='xxxxxxxxxxxx4444',
            req_card_type='002',
        )
    )
    assert (result.decision, result.reason_code, result.card_type, result.card_last4) == (
        'DECLINE',
        '203',
        'Mastercard',
        '4444',
    )
    assert not result.accepted


def test_read_result_cancel_has_no_card():
    result = make_gateway().read_result(
        gateway_response(
            decision='CANCEL',
            reason_code=None,
            auth_amount=None,
            req_card_number=None,
            req_card_type=None,
        )
    )
    assert (result.decision, result.reason_code, result.card_type, result.card_last4) == (
        'CANCEL',
        None,
        None,
        None,
    )


def test_read_result_unknown_card_type_is_none():
    assert make_gateway().read_result(gateway_response(req_card_type='003')).card_type is None


def test_read_result_refuses_a_bad_signature_and_logs_it(caplog):
    fields = gateway_response()
    fields['req_amount'] = '0.001'
    with (
        caplog.at_level(logging.WARNING, logger='occi_site.integrations.payment'),
        pytest.raises(PaymentSignatureError),
    ):
        make_gateway().read_result(fields)
    assert 'OCCI-2026-000123' in caplog.text


def test_read_result_refuses_a_missing_signature():
    fields = gateway_response()
    del fields['signature']
    with pytest.raises(PaymentSignatureError):
        make_gateway().read_result(fields)


def test_read_result_refuses_another_profiles_key():
    with pytest.raises(PaymentSignatureError):
        make_gateway(secret='another-secret').read_result(gateway_response())


def test_read_result_refuses_a_field_sent_twice():
    fields = gateway_response()
    posted = MultiDict(fields)
    posted.add('decision', 'ACCEPT')
    with pytest.raises(PaymentSignatureError):
        make_gateway().read_result(posted)


def test_read_result_reads_signed_values_only():
    fields = gateway_response(req_amount=None)
    fields['req_amount'] = '0.001'
    result = make_gateway().read_result(fields)
    assert result.amount_baisa is None
    assert result.fields['req_amount'] == '0.001'


def test_read_result_refuses_an_unknown_decision():
    with pytest.raises(PaymentResponseError):
        make_gateway().read_result(gateway_response(decision='MAYBE'))


def test_read_result_refuses_a_malformed_amount():
    with pytest.raises(PaymentResponseError):
        make_gateway().read_result(gateway_response(req_amount='50,000'))
