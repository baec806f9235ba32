"""The chamber's own records in /manage: each has a type name and its
container lists them in columns of their own, in English and Arabic; the fee
schedule is edited through its schema on the Properties tab."""

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationExecutionError

from occi_site.resources.company import Company
from occi_site.resources.types import lookup
from tests.conftest import cells, login, read

ADMIN = '90000009'


def admin_app(wsgi, lang='en'):
    return login(wsgi, ADMIN, roles=('member', 'admin'), lang=lang)


def headings(page):
    return [' '.join(th.get_text().split()) for th in page.html.select('table.manage-table th')]


def type_name(page):
    return page.html.select_one('.manage-type').get_text(strip=True)


@pytest.mark.parametrize(
    'lang, type_title, columns, name',
    [
        ('en', 'Companies', ['Name', 'Name in English', 'Name in Arabic'], 'promising projects'),
        ('ar', 'الشركات', ['الاسم', 'الاسم بالإنجليزية', 'الاسم بالعربية'], 'المشاريع الواعدة'),
    ],
)
def test_companies_listed_in_columns_of_their_own(portal, lang, type_title, columns, name):
    admin = admin_app(portal, lang)
    page = admin.get('/companies/@@manage-contents')
    assert type_name(page) == type_title
    assert [heading.rstrip(' ▲') for heading in headings(page)] == columns
    row = page.html.find('a', string='1229237').find_parent('tr')
    assert cells(row, 'td') == ['1229237', 'promising projects', 'المشاريع الواعدة']
    company = admin.get('/companies/1229237/@@manage-membership')
    assert company.html.h1.get_text(strip=True) == name


@pytest.mark.parametrize(
    'lang, expected',
    [
        ('en', {'accounts': 'Accounts', 'audit': 'Audit log', 'orders': 'Orders'}),
        ('ar', {'accounts': 'الحسابات', 'audit': 'سجل التدقيق', 'orders': 'أوامر الدفع'}),
    ],
)
def test_the_portal_names_the_type_of_each_area(portal, lang, expected):
    page = admin_app(portal, lang).get('/@@manage-contents')
    types = {
        row.select('td')[0].get_text(strip=True): row.select('td')[2].get_text(strip=True)
        for row in page.html.select('table.manage-table tbody tr')
    }
    assert {name: types[name] for name in expected} == expected


def test_accounts_listed_by_name_and_state(portal):
    page = admin_app(portal).get('/accounts/@@manage-contents')
    assert type_name(page) == 'Accounts'
    assert headings(page)[1:] == ['Full name', 'State']
    row = page.html.find('a', string=ADMIN).find_parent('tr')
    assert cells(row, 'td')[2] == 'Active'


@pytest.mark.parametrize(
    'lang, message',
    [
        ('en', 'Type an amount in rials, such as 25 or 12.500.'),
        ('ar', 'اكتب مبلغاً بالريال، مثل 25 أو 12.500.'),
    ],
)
def test_fee_schedule_refuses_a_wrong_amount_next_to_the_field(portal, lang, message):
    admin = admin_app(portal, lang)
    page = admin.get('/settings/fees/manage').follow()
    assert page.request.path == '/settings/fees/@@manage-properties'
    form = page.forms['deform']
    form['Fourth'] = '12.5x'
    form['certificate'] = '6'
    answer = form.submit('save', status=200)
    form = answer.forms['deform']
    assert form['Fourth'].value == '12.5x'
    assert form['certificate'].value == '6'
    typed = answer.html.find('input', attrs={'name': 'Fourth'})
    field = answer.html.find(id='item-%s' % typed['id'])
    assert field.find(class_='invalid-feedback').get_text(strip=True) == message
    fees = read(portal, lambda site: dict(site['settings']['fees'].annual_fees))
    assert fees['Fourth'] == 25_000


def test_types_are_declared_on_their_classes_when_the_configuration_scans_them():
    config = Configurator()
    config.include('occi_site.resources.types')
    config.commit()
    assert lookup('company').factory is Company
    assert Company.type_info.title == 'Company'


def test_two_classes_declared_under_one_name_stop_the_start():
    class Impostor:
        pass

    config = Configurator()
    config.include('occi_site.resources.types')
    config.add_content_type(Impostor, 'company', 'Company')
    with pytest.raises(ConfigurationExecutionError, match='declared twice'):
        config.commit()
