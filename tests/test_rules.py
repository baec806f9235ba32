"""The chamber's rules for the five e-services, on any day: no database needed."""

from datetime import UTC, date, datetime

import pytest

from occi_site.integrations.commercial_registry import RegistryCompany
from occi_site.resources.company import Companies, Company, Membership, ServiceRefused, add_years
from occi_site.resources.search import find_companies
from occi_site.resources.services import SERVICES, Choice, get_service
from occi_site.resources.settings import FeeSchedule

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

FEES = FeeSchedule()
RO = 1000


def registry_company(
    cr='1229237',
    name_en='promising projects',
    name_ar='المشاريع الواعدة',
    grade='Fourth',
    status='active',
):
    return RegistryCompany(
        cr, name_en, name_ar, 'Ruwi, Muttrah, Muscat Governorate, 423, 30', grade, status
    )


def member(
    expires_on,
    grade='Fourth',
    debit_baisa=0,
    name_en='promising projects',
    name_ar='المشاريع الواعدة',
):
    company = Company('1229237', name_en, name_ar, 'Ruwi, Muttrah, Muscat Governorate, 423, 30')
    company.membership = Membership('91868', grade, expires_on, debit_baisa)
    return company


def refusal(call, *args, **kwargs):
    with pytest.raises(ServiceRefused) as caught:
        call(*args, **kwargs)
    assert caught.value.message.domain == 'occi_site'
    return caught.value


# Dates


@pytest.mark.parametrize(
    'day, years, expected',
    [
        (date(2018, 3, 19), 2, date(2020, 3, 19)),
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2023, 2, 28), 1, date(2024, 2, 28)),
    ],
)
def test_add_years(day, years, expected):
    assert add_years(day, years) == expected


def test_expired_from_the_day_after_expiry():
    membership = Membership('91868', 'Fourth', date(2018, 3, 19))
    assert not membership.is_expired(date(2018, 3, 19))
    assert membership.is_expired(date(2018, 3, 20))


def test_expires_within():
    membership = Membership('91868', 'Fourth', date(2026, 12, 24))
    assert membership.expires_within(30, date(2026, 11, 24))
    assert not membership.expires_within(29, date(2026, 11, 24))
    assert not membership.expires_within(30, date(2026, 12, 25))  # expired already


# Membership Renewal


def test_renewal_one_year_as_in_the_guide():
    quote = member(date(2018, 3, 19)).membership.renewal_quote(1, date(2018, 3, 18), FEES)
    assert quote.year_fees == (25 * RO,)
    assert quote.old_debit_baisa == 0
    assert quote.total_baisa == 25 * RO
    assert quote.new_expiry == date(2019, 3, 19)
    assert [str(label) for label, _amount in quote.lines] == ['First year fees', 'Old Debit']


def test_renewal_two_years_as_in_the_guide():
    quote = member(date(2018, 3, 19)).membership.renewal_quote(2, date(2018, 3, 18), FEES)
    assert quote.lines == (
        ('First year fees', 25 * RO),
        ('Second year fees', 25 * RO),
        ('Old Debit', 0),
    )
    assert quote.total_baisa == 50 * RO
    assert quote.new_expiry == date(2020, 3, 19)


def test_renewal_on_the_expiry_day_has_no_arrears():
    quote = member(date(2018, 3, 19)).membership.renewal_quote(1, date(2018, 3, 19), FEES)
    assert quote.arrears_years == 0
    assert quote.new_expiry == date(2019, 3, 19)


def test_renewal_of_an_expired_membership_charges_the_unpaid_years():
    # Expired 2024-05-02: the years ending 2025-05-02 and 2026-05-02 are
    # unpaid; the year ending 2027-05-02 holds today and is the first renewed.
    membership = member(date(2024, 5, 2), grade='Third').membership
    quote = membership.renewal_quote(1, date(2026, 11, 24), FEES)
    assert quote.arrears_years == 2
    assert quote.arrears_baisa == 100 * RO
    assert quote.old_debit_baisa == 100 * RO
    assert quote.total_baisa == 150 * RO
    assert quote.new_expiry == date(2027, 5, 2)
    two = membership.renewal_quote(2, date(2026, 11, 24), FEES)
    assert two.total_baisa == 200 * RO
    assert two.new_expiry == date(2028, 5, 2)


@pytest.mark.parametrize(
    'today, arrears, new_expiry',
    [
        (date(2024, 5, 3), 0, date(2025, 5, 2)),  # a day late: the running year is renewed
        (date(2025, 5, 2), 0, date(2025, 5, 2)),  # the first year still covers today
        (date(2025, 5, 3), 1, date(2026, 5, 2)),  # the first year is wholly past
        (date(2026, 5, 2), 1, date(2026, 5, 2)),
        (date(2026, 5, 3), 2, date(2027, 5, 2)),
    ],
)
def test_unpaid_whole_years_at_their_edges(today, arrears, new_expiry):
    quote = member(date(2024, 5, 2)).membership.renewal_quote(1, today, FEES)
    assert quote.arrears_years == arrears
    assert quote.old_debit_baisa == arrears * 25 * RO
    assert quote.new_expiry == new_expiry


def test_renewal_adds_the_recorded_debit():
    current = member(date(2027, 3, 19), debit_baisa=7 * RO).membership
    assert current.renewal_quote(1, date(2026, 11, 24), FEES).old_debit_baisa == 7 * RO
    expired = member(date(2025, 3, 19), debit_baisa=7 * RO).membership
    quote = expired.renewal_quote(1, date(2026, 11, 24), FEES)
    assert quote.arrears_years == 1
    assert quote.old_debit_baisa == 32 * RO
    assert quote.total_baisa == 57 * RO


def test_renewal_from_29_february():
    membership = member(date(2024, 2, 29)).membership
    assert membership.renewal_quote(1, date(2024, 1, 10), FEES).new_expiry == date(2025, 2, 28)
    assert membership.renewal_quote(2, date(2024, 1, 10), FEES).new_expiry == date(2026, 2, 28)
    late = membership.renewal_quote(2, date(2026, 3, 1), FEES)
    assert late.arrears_years == 2
    assert late.new_expiry == date(2028, 2, 29)


def test_renewal_prices_by_grade():
    quote = member(date(2027, 1, 15), grade='Excellent').membership.renewal_quote(
        2, date(2026, 11, 24), FEES
    )
    assert quote.year_fees == (FEES.annual_fee('Excellent'),) * 2


@pytest.mark.parametrize('years', [0, 3, '1'])
def test_renewal_is_for_one_or_two_years(years):
    with pytest.raises(ValueError):
        member(date(2027, 3, 19)).membership.renewal_quote(years, date(2026, 11, 24), FEES)


def test_amounts_are_integer_baisa():
    quote = member(date(2024, 5, 2)).membership.renewal_quote(2, date(2026, 11, 24), FEES)
    assert all(type(amount) is int for _label, amount in quote.lines)


# Change Grade


def test_grade_change_as_in_the_guide():
    membership = member(date(2018, 12, 13), grade='First').membership
    quote = membership.grade_change_quote('Fourth', date(2018, 3, 18), FEES)
    assert quote.new_grade == 'Fourth'
    assert quote.new_expiry == date(2019, 3, 18)  # max(2018-12-13, 2019-03-18)
    assert quote.price_baisa == 4 * RO


def test_grade_change_keeps_a_later_expiry():
    membership = member(date(2020, 1, 1), grade='First').membership
    assert membership.grade_change_quote('Fourth', date(2018, 3, 18), FEES).new_expiry == date(
        2020, 1, 1
    )


def test_grade_change_to_the_same_grade_is_refused():
    membership = member(date(2027, 3, 19)).membership
    assert (
        refusal(membership.grade_change_quote, 'Fourth', date(2026, 11, 24), FEES).reason
        == 'same_grade'
    )


def test_grade_change_while_expired_is_refused():
    refused = refusal(
        member(date(2024, 5, 2)).membership.grade_change_quote, 'First', date(2026, 11, 24), FEES
    )
    assert refused.reason == 'expired' and refused.offer_renewal


def test_grade_change_to_an_unpriced_grade_is_refused():
    assert (
        refusal(
            member(date(2027, 3, 19)).membership.grade_change_quote,
            'Platinum',
            date(2026, 11, 24),
            FEES,
        ).reason
        == 'unknown_grade'
    )


# Change Name and Get your Certificate


def test_name_change_takes_the_registry_names():
    company = member(date(2027, 3, 19), name_ar='AAالمشاريع الواعدة')
    assert company.name_change(registry_company(), date(2026, 11, 24)) == (
        'promising projects',
        'المشاريع الواعدة',
    )


def test_name_change_with_the_same_names_is_refused():
    company = member(date(2027, 3, 19), name_en='promising  projects ')
    assert (
        refusal(company.name_change, registry_company(), date(2026, 11, 24)).reason == 'same_name'
    )


def test_name_change_while_expired_asks_to_renew_the_company():
    company = member(date(2024, 5, 2), name_ar='AAالمشاريع الواعدة')
    refused = refusal(company.name_change, registry_company(), date(2026, 11, 24))
    assert refused.reason == 'expired'
    assert refused.message == 'Please renew the company'
    assert refused.offer_renewal


def test_certificate_while_expired_is_refused():
    refused = refusal(member(date(2024, 5, 2)).certificate_check, date(2026, 11, 24))
    assert refused.reason == 'expired' and refused.offer_renewal
    member(date(2024, 5, 2)).certificate_check(date(2024, 5, 2))


def test_services_of_members_are_refused_without_a_membership():
    company = Company('1445820', 'Al Noor Trading', 'النور للتجارة', 'Al Khuwair')
    assert refusal(company.certificate_check, date(2026, 11, 24)).reason == 'not_member'


# New Membership


def test_new_membership_terms():
    terms = Membership.new_membership_terms(
        registry_company(grade='Third'), None, date(2024, 2, 29)
    )
    assert terms.grade == 'Third'
    assert terms.expires_on == date(2025, 2, 28)


def test_new_membership_for_a_company_the_chamber_knows_without_membership():
    company = Company('1445820', 'Al Noor Trading', 'النور للتجارة', 'Al Khuwair')
    terms = Membership.new_membership_terms(
        registry_company('1445820'), company, date(2026, 11, 24)
    )
    assert terms.expires_on == date(2027, 11, 24)


@pytest.mark.parametrize(
    'listed, company, reason',
    [
        (None, None, 'cr_unknown'),
        (registry_company(status='struck off'), None, 'cr_inactive'),
        (registry_company(), member(date(2027, 3, 19)), 'already_member'),
        (registry_company(grade='Platinum'), None, 'unknown_grade'),
    ],
)
def test_new_membership_refusals(listed, company, reason):
    assert (
        refusal(Membership.new_membership_terms, listed, company, date(2026, 11, 24)).reason
        == reason
    )


# The five services


def test_the_five_services():
    assert list(SERVICES) == [
        'new_membership',
        'renewal',
        'certificate',
        'change_name',
        'change_grade',
    ]
    assert [str(s.title) for s in SERVICES.values()] == [
        'New Membership Registration',
        'Membership Renewal',
        'Get your Certificate',
        'Change Name',
        'Change Grade',
    ]
    assert all(s.title.domain == 'occi_site' for s in SERVICES.values())
    assert [s.name for s in SERVICES.values() if s.shows_captcha] == ['new_membership']
    assert [s.name for s in SERVICES.values() if not s.needs_membership] == ['new_membership']
    assert [c.name for c in get_service('renewal').choices] == ['years']


def test_renewal_choices_are_read_from_the_form():
    renewal = get_service('renewal')
    assert renewal.read_choices({}) == {'years': 1}
    assert renewal.read_choices({'years': '2'}) == {'years': 2}
    with pytest.raises(ValueError):
        renewal.read_choices({'years': '3'})
    assert get_service('certificate').read_choices({'years': '2'}) == {}


def test_choice_labels():
    choice = get_service('renewal').choices[0]
    assert isinstance(choice, Choice)
    assert [str(label) for _value, label in choice.options] == ['One Year', 'Two Years']


def test_renewal_quote_of_the_service():
    quote = get_service('renewal').quote(
        member(date(2018, 3, 19)), registry_company(), date(2018, 3, 18), FEES, {'years': '2'}
    )
    assert quote.total_baisa == 50 * RO and quote.needs_payment
    assert quote.new_expiry == date(2020, 3, 19)
    assert quote.old_expiry == date(2018, 3, 19)
    assert quote.years == 2


def test_renewal_of_an_expired_membership_is_allowed():
    get_service('renewal').check(member(date(2024, 5, 2)), registry_company(), date(2026, 11, 24))


@pytest.mark.parametrize(
    'service, price', [('certificate', 4 * RO), ('change_name', 4 * RO), ('change_grade', 4 * RO)]
)
def test_service_prices(service, price):
    company = member(date(2027, 3, 19), grade='First', name_en='promising projects old')
    quote = get_service(service).quote(company, registry_company(), date(2026, 11, 24), FEES)
    assert quote.total_baisa == price
    assert len(quote.lines) == 1


def test_new_membership_is_free_by_default():
    quote = get_service('new_membership').quote(
        None, registry_company('1445820', grade='Second'), date(2026, 11, 24), FEES
    )
    assert quote.total_baisa == 0 and not quote.needs_payment
    assert quote.new_grade == 'Second'
    assert quote.new_expiry == date(2027, 11, 24)


def test_change_grade_quote_takes_the_registry_grade():
    quote = get_service('change_grade').quote(
        member(date(2018, 12, 13), grade='First'),
        registry_company(grade='Fourth'),
        date(2018, 3, 18),
        FEES,
    )
    assert (quote.old_grade, quote.new_grade) == ('First', 'Fourth')
    assert quote.new_expiry == date(2019, 3, 18)


@pytest.mark.parametrize(
    'service, company, listed, reason',
    [
        ('renewal', None, registry_company(), 'not_member'),
        ('renewal', member(date(2027, 3, 19)), registry_company(status='suspended'), 'cr_inactive'),
        ('certificate', member(date(2027, 3, 19)), None, 'cr_unknown'),
        ('certificate', member(date(2024, 5, 2)), registry_company(), 'expired'),
        ('change_name', member(date(2027, 3, 19)), registry_company(), 'same_name'),
        ('change_grade', member(date(2027, 3, 19)), registry_company(), 'same_grade'),
        ('change_grade', member(date(2024, 5, 2), grade='First'), registry_company(), 'expired'),
        ('new_membership', member(date(2024, 5, 2)), registry_company(), 'already_member'),
    ],
)
def test_service_refusals(service, company, listed, reason):
    assert refusal(get_service(service).check, company, listed, date(2026, 11, 24)).reason == reason


def test_the_occi_number_must_be_the_companys():
    renewal = get_service('renewal')
    renewal.check(
        member(date(2027, 3, 19)), registry_company(), date(2026, 11, 24), occi_number='91868'
    )
    assert (
        refusal(
            renewal.check,
            member(date(2027, 3, 19)),
            registry_company(),
            date(2026, 11, 24),
            occi_number='90412',
        ).reason
        == 'wrong_occi_number'
    )


def test_companies_keep_their_indexes_through_every_change(announced):
    request, events = announced
    companies = Companies('Companies')
    company = companies.add('1229237', member(date(2027, 3, 19)))
    assert companies.find_by_occi_number('91868') is company
    assert find_companies(companies, 'Promising') == [company]
    assert find_companies(companies, 'المشاريع الواعدة') == [company]
    companies.rename(company, 'Promising Ventures', 'المشاريع الواعدة')
    assert find_companies(companies, 'projects') == []
    assert find_companies(companies, 'promising ventures') == [company]
    companies.change_membership(company, NOW, request, expires_on=date(2028, 3, 19))
    [changed] = events
    assert (changed.subject, changed.changes) == (
        company,
        {'expires_on': (date(2027, 3, 19), date(2028, 3, 19))},
    )
    companies.change_membership(company, NOW, request, expires_on=date(2028, 3, 19))
    assert len(events) == 1  # nothing changed, nothing announced
    assert list(companies.expiring_between(date(2027, 1, 1), date(2027, 12, 31))) == []
    assert list(companies.expiring_between(date(2028, 3, 19), date(2028, 3, 19))) == [company]
    companies.remove('1229237')
    assert companies.find_by_occi_number('91868') is None
    assert find_companies(companies, 'promising') == []
    assert not companies.by_expiry and not len(companies.name_index)
