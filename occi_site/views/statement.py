"""A company's statement of account, for the people the commercial registry
lists for it (the ``cr:`` principal of the company's ACL): a page, and the
same as a PDF in the chamber's house style, in the reader's language."""

from babel.dates import format_date
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from ..certificates import StatementData, render_statement
from ..clock import OMAN
from ..i18n import _, translate_all
from ..money import table_amount
from ..resources.statement import statement_of
from . import member_page


def company_of(request):
    """The company the address names, if the person may read its statement
    (the company's ACL says who may: ``cr:`` principals, administrators).
    Otherwise not found, whether it exists or not: the address tells nothing."""
    company = request.root['companies'].get(request.matchdict['cr'])
    if company is None or not request.has_permission('statement', company):
        raise HTTPNotFound()
    return company


def statement_rows(request, statement):
    """Each entry as the reader reads it: date, description, reference, debit,
    credit, balance (amounts in rials; empty where the entry has none)."""
    locale, localizer = request.locale_name, request.localizer

    def amount(baisa):
        return table_amount(baisa, locale) if baisa else ''

    rows = []
    for entry in statement.entries:
        description = translate_all(localizer, entry.text, locale)
        if entry.noted_baisa:
            description = localizer.translate(
                _(
                    '${description} (${amount})',
                    mapping={
                        'description': description,
                        'amount': table_amount(entry.noted_baisa, locale),
                    },
                )
            )
        rows.append(
            {
                'day': (
                    format_date(entry.when.astimezone(OMAN), 'yyyy-MM-dd', locale=locale)
                    if entry.when is not None
                    else localizer.translate(_('Brought forward'))
                ),
                'when': entry.when,
                'description': description,
                'reference': entry.reference,
                'debit': amount(entry.debit_baisa),
                'credit': amount(entry.credit_baisa),
                'balance': table_amount(entry.balance_baisa, locale),
            }
        )
    return rows


def balance_text(request, statement):
    balance = statement.balance_baisa
    amount = table_amount(abs(balance), request.locale_name)
    if balance > 0:
        message = _('The company owes the chamber RO ${amount}.', mapping={'amount': amount})
    elif balance < 0:
        message = _('The chamber owes the company RO ${amount}.', mapping={'amount': amount})
    else:
        message = _('Nothing is owed either way.')
    return request.localizer.translate(message)


def _statement(request, company):
    statement = statement_of(company, request.today)
    return statement, statement_rows(request, statement), balance_text(request, statement)


@member_page('statement', 'account/statement.jinja2')
def statement_page(request):
    company = company_of(request)
    statement, rows, balance = _statement(request, company)
    return {
        'company': company,
        'statement': statement,
        'rows': rows,
        'balance': balance,
        'crumbs': [(_('Statement of account'), None)],
    }


@view_config(route_name='statement_pdf', permission='member', request_method='GET')
def statement_pdf(request):
    company = company_of(request)
    rows, balance = _statement(request, company)[1:]
    translate = request.localizer.translate
    membership = company.membership
    data = StatementData(
        language=request.locale_name,
        company_name_en=company.name_en,
        company_name_ar=company.name_ar,
        cr_number=company.cr_number,
        occi_number=membership.occi_number if membership is not None else '',
        as_of=request.today.isoformat(),
        headings=tuple(
            translate(heading)
            for heading in (
                _('Date'),
                _('Description'),
                _('Debit (RO)'),
                _('Credit (RO)'),
                _('Balance (RO)'),
            )
        ),
        rows=tuple(
            (
                row['day'],
                row['description'],
                row['reference'],
                row['debit'],
                row['credit'],
                row['balance'],
            )
            for row in rows
        ),
        balance=balance,
    )
    response = request.response
    response.content_type = 'application/pdf'
    response.content_disposition = 'attachment; filename="statement-%s-%s.pdf"' % (
        company.cr_number,
        request.today.isoformat(),
    )
    response.body = render_statement(data)
    return response


def includeme(config):
    config.add_route('statement', '/account/companies/{cr}/statement')
    config.add_route('statement_pdf', '/account/companies/{cr}/statement.pdf')
    config.scan(__name__)
