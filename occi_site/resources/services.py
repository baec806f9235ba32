"""The five e-services, declared in one place.

Each ``Service`` says what its wizard needs (an existing membership, a
captcha, its own choices), refuses what the chamber's rules refuse
(``check``), prices the request (``quote``) and says how, once paid or free,
it changes the company (``change``; ``ServiceRequest.fulfil`` applies it and
issues the company's new certificate).  The rules
themselves are methods of Membership and Company; this module only puts
them together per service.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from ..i18n import _
from .company import Company, Membership, ServiceRefused, membership_of, require_active
from .counters import next_occi_number

__all__ = ('SERVICES', 'Choice', 'Quote', 'Service', 'ServiceRefused', 'get_service')


@dataclass(frozen=True)
class Quote:
    """What step 3 shows and the member confirms; kept on the request as it was.

    ``lines`` are ``(label TranslationString, amount_baisa)``.  ``old_*``
    describe the membership when priced, so fulfilment can tell whether it
    changed since (the debit only where the price counts it: a renewal's;
    None in a quote that did not keep it); ``new_*`` what it will become.
    Quotes are pickled into the requests: keep this class here, and give a
    new field a default.
    """

    service: str
    lines: tuple
    old_grade: str | None = None
    old_expiry: date | None = None
    new_grade: str | None = None
    new_expiry: date | None = None
    new_name_en: str | None = None
    new_name_ar: str | None = None
    years: int | None = None
    arrears_years: int = 0
    old_recorded_debit_baisa: int | None = None

    @property
    def total_baisa(self):
        return sum(amount for _label, amount in self.lines)

    @property
    def as_shown(self):
        """A short digest of what step 3 shows of it: its form carries the one
        the member read, and a confirm with another one prices nothing."""
        shown = (
            [(str(label), amount) for label, amount in self.lines],
            self.new_grade,
            self.new_expiry,
            self.new_name_en,
            self.new_name_ar,
        )
        return hashlib.sha256(repr(shown).encode('utf-8')).hexdigest()[:16]

    @property
    def needs_payment(self):
        return self.total_baisa > 0


@dataclass(frozen=True)
class Choice:
    """A choice the member makes at step 3: ``options`` are ``(value, label)``."""

    name: str
    options: tuple
    title: str = ''

    @property
    def default(self):
        return self.options[0][0]

    def read(self, raw):
        """The option whose value, as text, is ``raw``; ValueError for anything else."""
        for value, _label in self.options:
            if str(value) == str(raw):
                return value
        raise ValueError('%r is not a choice of %s' % (raw, self.name))


@dataclass(frozen=True)
class Service:
    name: str
    title: str
    # What the service does, for the home page.
    summary: str
    # The step-3 button, in the guide's words.
    confirm_title: str
    needs_membership: bool
    shows_captcha: bool
    # (company, registry_company, today) -> None, or ServiceRefused
    rule: Callable
    # (company, registry_company, today, fees, choices) -> Quote
    pricing: Callable
    # (site, company, service_request, registry_company, today, now, request)
    # -> the changed Company
    change: Callable
    choices: tuple = ()
    # Whether ``change`` reads the registry's record again; those that apply
    # the quote given at step 3 (expiry, names, grade) say not, and complete
    # while the registry is silent.
    completes_with_registry: bool = True
    # Whether one change is paid for at a time: a second request's payment
    # would be refused at completion and given back.  Get your Certificate
    # says not: a second certificate is a purchase of its own.
    one_payment_at_a_time: bool = True

    def read_choices(self, raw):
        """The service's choices from submitted values (a mapping); defaults
        for missing ones, ValueError for values not offered."""
        return {
            choice.name: choice.read(raw[choice.name]) if choice.name in raw else choice.default
            for choice in self.choices
        }

    def check(self, company, registry_company, today, occi_number=None):
        """Refuse (ServiceRefused) what the chamber's rules refuse.

        ``company`` is the chamber's record of the CR (None if it has none);
        ``occi_number`` the one the member picked at step 1.
        """
        require_active(registry_company)
        if self.needs_membership:
            membership = membership_of(company)
            if occi_number is not None and occi_number != membership.occi_number:
                raise ServiceRefused(
                    'wrong_occi_number',
                    _('This OCCI number is not the membership of this company.'),
                )
        self.rule(company, registry_company, today)

    def quote(self, company, registry_company, today, fees, choices=None):
        """The Quote of this service for the company today (after ``check``)."""
        self.check(company, registry_company, today)
        chosen = self.read_choices(choices or {})
        return self.pricing(company, registry_company, today, fees, chosen)


def _fee_line(label, service, fees):
    return ((label, fees.service_fee(service)),)


def _require_unchanged(company, quote):
    """Refuse to apply a price given for a membership that changed since
    (e.g. another renewal of the same company was fulfilled meanwhile, or a
    debit was recorded that the renewal's price does not count)."""
    membership = membership_of(company)
    debit_changed = quote.old_recorded_debit_baisa not in (None, membership.debit_baisa)
    if debit_changed or (membership.grade, membership.expires_on) != (
        quote.old_grade,
        quote.old_expiry,
    ):
        raise ServiceRefused(
            'membership_changed',
            _('The membership changed after the price was given; the chamber will contact you.'),
        )


# New Membership Registration


def _new_membership_rule(company, registry_company, today):
    Membership.new_membership_terms(registry_company, company, today)


def _new_membership_pricing(company, registry_company, today, fees, choices):
    terms = Membership.new_membership_terms(registry_company, company, today)
    return Quote(
        'new_membership',
        _fee_line(_('Membership fee'), 'new_membership', fees),
        new_grade=terms.grade,
        new_expiry=terms.expires_on,
        new_name_en=registry_company.name_en,
        new_name_ar=registry_company.name_ar,
    )


def _new_membership_change(site, company, service_request, registry_company, today, now, request):
    terms = Membership.new_membership_terms(registry_company, company, today)
    companies = site['companies']
    if company is None:
        company = companies.add(
            service_request.cr_number,
            Company(
                service_request.cr_number,
                registry_company.name_en,
                registry_company.name_ar,
                registry_company.address,
            ),
        )
    else:
        companies.rename(company, registry_company.name_en, registry_company.name_ar)
        company.address = registry_company.address
    companies.admit(
        company,
        Membership(next_occi_number(site), terms.grade, terms.expires_on),
        now,
        request,
        today,
    )
    return company


# Membership Renewal


def _renewal_rule(company, registry_company, today):
    """Renewal is open to every member, expired ones first of all."""


def _renewal_pricing(company, registry_company, today, fees, choices):
    renewal = company.membership.renewal_quote(choices['years'], today, fees)
    return Quote(
        'renewal',
        renewal.lines,
        old_grade=renewal.grade,
        old_expiry=renewal.old_expiry,
        new_expiry=renewal.new_expiry,
        years=renewal.years,
        arrears_years=renewal.arrears_years,
        old_recorded_debit_baisa=renewal.recorded_debit_baisa,
    )


def _renewal_change(site, company, service_request, registry_company, today, now, request):
    _require_unchanged(company, service_request.quote)
    site['companies'].change_membership(
        company, now, request, expires_on=service_request.quote.new_expiry, debit_baisa=0
    )
    return company


# Get your Certificate


def _certificate_rule(company, registry_company, today):
    company.certificate_check(today)


def _certificate_pricing(company, registry_company, today, fees, choices):
    membership = company.membership
    return Quote(
        'certificate',
        _fee_line(_('Certificate fee'), 'certificate', fees),
        old_grade=membership.grade,
        old_expiry=membership.expires_on,
    )


def _certificate_change(site, company, service_request, registry_company, today, now, request):
    membership_of(company)
    return company


# Change Name


def _change_name_rule(company, registry_company, today):
    company.name_change(registry_company, today)


def _change_name_pricing(company, registry_company, today, fees, choices):
    name_en, name_ar = company.name_change(registry_company, today)
    membership = company.membership
    return Quote(
        'change_name',
        _fee_line(_('Change of name fee'), 'change_name', fees),
        old_grade=membership.grade,
        old_expiry=membership.expires_on,
        new_name_en=name_en,
        new_name_ar=name_ar,
    )


def _change_name_change(site, company, service_request, registry_company, today, now, request):
    membership_of(company)
    quote = service_request.quote
    # Another change of name to the same names may have been completed since the price.
    company.require_other_names(quote.new_name_en, quote.new_name_ar)
    site['companies'].rename(company, quote.new_name_en, quote.new_name_ar)
    return company


# Change Grade


def _change_grade_rule(company, registry_company, today):
    company.membership.grade_change_check(registry_company.grade, today)


def _change_grade_pricing(company, registry_company, today, fees, choices):
    change = company.membership.grade_change_quote(registry_company.grade, today, fees)
    return Quote(
        'change_grade',
        ((_('Change of grade fee'), change.price_baisa),),
        old_grade=change.old_grade,
        old_expiry=change.old_expiry,
        new_grade=change.new_grade,
        new_expiry=change.new_expiry,
    )


def _change_grade_change(site, company, service_request, registry_company, today, now, request):
    _require_unchanged(company, service_request.quote)
    site['companies'].change_membership(
        company,
        now,
        request,
        grade=service_request.quote.new_grade,
        expires_on=service_request.quote.new_expiry,
    )
    return company


SERVICES = {
    service.name: service
    for service in (
        Service(
            'new_membership',
            _('New Membership Registration'),
            summary=_(
                'Register a company listed in the commercial registry as a member of the '
                'chamber and receive its membership certificate.'
            ),
            confirm_title=_('Register'),
            needs_membership=False,
            shows_captcha=True,
            rule=_new_membership_rule,
            pricing=_new_membership_pricing,
            change=_new_membership_change,
        ),
        Service(
            'renewal',
            _('Membership Renewal'),
            summary=_(
                'Renew a membership for one or two years, settle any old debit and pay by card.'
            ),
            confirm_title=_('Renew Membership'),
            needs_membership=True,
            shows_captcha=False,
            completes_with_registry=False,
            rule=_renewal_rule,
            pricing=_renewal_pricing,
            change=_renewal_change,
            choices=(
                Choice(
                    'years', ((1, _('One Year')), (2, _('Two Years'))), title=_('Renewal Period')
                ),
            ),
        ),
        Service(
            'certificate',
            _('Get your Certificate'),
            summary=_('Obtain a new copy of the current membership certificate of a company.'),
            confirm_title=_('Get Your Certificate'),
            needs_membership=True,
            shows_captcha=False,
            completes_with_registry=False,
            one_payment_at_a_time=False,
            rule=_certificate_rule,
            pricing=_certificate_pricing,
            change=_certificate_change,
        ),
        Service(
            'change_name',
            _('Change Name'),
            summary=_(
                'Bring the company names on the membership in line with the commercial registry.'
            ),
            confirm_title=_('Change Name'),
            needs_membership=True,
            shows_captcha=False,
            completes_with_registry=False,
            rule=_change_name_rule,
            pricing=_change_name_pricing,
            change=_change_name_change,
        ),
        Service(
            'change_grade',
            _('Change Grade'),
            summary=_(
                'Change the membership grade after the Ministry of Commerce changed the '
                'company grade.'
            ),
            confirm_title=_('Change Grade'),
            needs_membership=True,
            shows_captcha=False,
            completes_with_registry=False,
            rule=_change_grade_rule,
            pricing=_change_grade_pricing,
            change=_change_grade_change,
        ),
    )
}


def service_title(record, lang):
    """A column's value: the title of the service a request or an order is for."""
    service = SERVICES.get(record.service)
    return service.title if service is not None else ''


def get_service(name):
    """The Service called ``name``, or KeyError."""
    return SERVICES[name]
