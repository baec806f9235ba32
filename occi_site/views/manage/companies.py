"""Companies and memberships in /manage: find a company by CR, OCCI number
or a name in either language; its membership, its history, and recording a
debit the member owes the chamber."""

from datetime import datetime
from typing import NamedTuple

import colander
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.traversal import resource_path

from ...clock import OMAN
from ...i18n import _
from ...money import Rials, rials_between
from ...page_cache import kept_value
from ...resources.company import Companies, Company
from ...resources.search import find_companies
from ..formatting import formatted_day
from ..forms import text_node
from .changes import record_change
from .forms import ManageForm, find_page
from .tabs import manage_url_in, mgmt_view

HISTORY_SHOWN = 30


class CompanySearch(colander.Schema):
    text = text_node(
        _('CR number, OCCI number or name'),
        200,
        2,
        description=_('A name in English or Arabic, or the start of its words.'),
    )


class FoundCompany(NamedTuple):
    """A company as the Find tab lists it, its cells ready to show."""

    url: str
    cr_number: str
    name_en: str
    name_ar: str
    # (OCCI number, grade, expiry), or None without a membership.
    membership: tuple | None


def found_rows(request, context, companies):
    """The rows of ``companies``, each cell worked out here: a template asks
    again for the translation, the date and the address of every row."""
    locale_name = request.locale_name
    url = manage_url_in(request, context)
    grades = {}
    rows = []
    for company in companies:
        membership = company.membership
        if membership is not None:
            grade = grades.get(membership.grade)
            if grade is None:
                grade = grades[membership.grade] = request.localizer.translate(_(membership.grade))
            membership = (
                membership.occi_number,
                grade,
                formatted_day(membership.expires_on, locale_name),
            )
        rows.append(
            FoundCompany(
                url(company), company.cr_number, company.name_en, company.name_ar, membership
            )
        )
    return rows


@mgmt_view('manage-search', _('Find'), Companies, order=5, template='companies', member_cache=True)
def search(context, request):
    def find(companies, text):
        # The rows hold addresses and the language's words.
        key = ('manage-search', text, request.application_url, request.locale_name)
        return kept_value(
            request,
            key,
            companies.revision,
            lambda: found_rows(request, companies, find_companies(companies, text)),
        )

    return find_page(request, context, CompanySearch(), find)


class DebitSchema(colander.Schema):
    amount = colander.SchemaNode(
        Rials(),
        title=_('Amount (RO)'),
        validator=rials_between(1, 100_000_000),
        description=_('In rials, with up to three decimals (baisa).'),
    )
    reason = text_node(_('Reason'), 300, 3)


def history(request, company):
    return [
        dict(entry, when=datetime.fromisoformat(entry['when']).astimezone(OMAN))
        for _key, entry in request.root['audit'].latest(HISTORY_SHOWN, path=resource_path(company))
    ]


@mgmt_view('manage-membership', _('Membership'), Company, order=5, template='company')
class MembershipView(ManageForm):
    schema = DebitSchema
    button_titles = (('record', _('Record the debit')),)

    def __call__(self):
        if self.context.membership is None:
            return self.show(None)
        return super().__call__()

    def show(self, rendered_form, **values):
        return super().show(
            rendered_form,
            company=self.context,
            membership=self.context.membership,
            history=history(self.request, self.context),
            **values,
        )

    def record_success(self, form, appstruct):
        company = self.context
        amount = appstruct['amount']
        company.__parent__.record_debit(
            company, amount, appstruct['reason'], self.request.now, self.request
        )
        record_change(
            self.request,
            'membership.debit',
            company,
            _(
                'Recorded a debit of ${amount} baisa on CR ${cr}: ${reason}',
                mapping={'amount': amount, 'cr': company.cr_number, 'reason': appstruct['reason']},
            ),
            amount_baisa=amount,
            reason=appstruct['reason'],
        )
        return HTTPSeeOther(self.request.url)
