"""The Arabic catalogs of deform and colander messages.

Deform and colander ship no Arabic, so the portal carries its own catalogs. These tests keep
them complete against the templates of the installed packages, and check that Pyramid's
localizer really turns a form's validation messages into Arabic with the values filled in.
"""

import re
from pathlib import Path

import colander
import deform
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from pyramid.i18n import make_localizer

CATALOG_DIR = Path(__file__).resolve().parent.parent / 'occi_site' / 'locale' / 'ar' / 'LC_MESSAGES'
TEMPLATES = {
    'colander': Path(colander.__file__).parent / 'locale' / 'colander.pot',
    'deform': Path(deform.__file__).parent / 'locale' / 'deform.pot',
}
PLACEHOLDER = re.compile(r'\$\{[^}]*\}')


def read_catalog(path):
    with open(path, 'rb') as po:
        return read_po(po)


def message_ids(catalog):
    """The catalog's msgids, without the header entry (whose msgid is empty)."""
    return {message.id for message in catalog if message.id}


@pytest.mark.parametrize('domain', sorted(TEMPLATES))
def test_catalog_header_declares_arabic(domain):
    catalog = read_catalog(CATALOG_DIR / f'{domain}.po')
    assert str(catalog.locale) == 'ar'
    assert catalog.num_plurals == 6
    # A fuzzy header would make pybabel skip the whole catalog when compiling.
    assert not catalog.fuzzy


@pytest.mark.parametrize('domain', sorted(TEMPLATES))
def test_every_template_message_is_translated(domain):
    catalog = read_catalog(CATALOG_DIR / f'{domain}.po')
    untranslated = []
    for msgid in sorted(message_ids(read_catalog(TEMPLATES[domain]))):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            untranslated.append(msgid)
    assert untranslated == []


@pytest.mark.parametrize('domain', sorted(TEMPLATES))
def test_translations_keep_the_placeholders(domain):
    wrong = [
        message.id
        for message in read_catalog(CATALOG_DIR / f'{domain}.po')
        if message.id
        and set(PLACEHOLDER.findall(message.string)) != set(PLACEHOLDER.findall(message.id))
    ]
    assert wrong == []


@pytest.mark.parametrize('domain', sorted(TEMPLATES))
def test_catalog_holds_no_message_the_package_dropped(domain):
    catalog = read_catalog(CATALOG_DIR / f'{domain}.po')
    template = read_catalog(TEMPLATES[domain])
    assert message_ids(catalog) - message_ids(template) == set()


@pytest.fixture
def arabic(tmp_path):
    """A localizer over the catalogs compiled the way the portal's translation dir holds them."""
    target = tmp_path / 'ar' / 'LC_MESSAGES'
    target.mkdir(parents=True)
    for domain in TEMPLATES:
        with open(target / f'{domain}.mo', 'wb') as mo:
            write_mo(mo, read_catalog(CATALOG_DIR / f'{domain}.po'))
    return make_localizer('ar', [str(tmp_path)])


def validation_message(node, cstruct):
    with pytest.raises(colander.Invalid) as raised:
        node.deserialize(cstruct)
    return raised.value.msg


def test_required_field_says_so_in_arabic(arabic):
    message = validation_message(colander.SchemaNode(colander.String()), colander.null)
    assert arabic.translate(message) == 'مطلوب'


def test_not_a_number_names_the_value_entered(arabic):
    message = validation_message(colander.SchemaNode(colander.Int()), 'abc')
    assert arabic.translate(message) == 'القيمة «abc» ليست رقمًا'


def test_below_minimum_names_value_and_minimum(arabic):
    node = colander.SchemaNode(colander.Int(), validator=colander.Range(min=1))
    message = validation_message(node, '0')
    assert arabic.translate(message) == 'القيمة 0 أقل من الحد الأدنى المسموح به 1'


def test_failed_form_renders_in_arabic(arabic):
    """Deform's own templates draw their words from the deform catalog through the translator."""
    renderer = deform.ZPTRendererFactory(
        deform.Form.default_renderer.loader.search_path,
        translator=arabic.translate,
    )
    schema = colander.SchemaNode(colander.Mapping())
    schema.add(colander.SchemaNode(colander.Int(), name='years'))
    form = deform.Form(schema, renderer=renderer)
    with pytest.raises(deform.ValidationFailure) as failed:
        form.validate([('years', '')])
    html = failed.value.render()
    assert 'تعذّر قبول البيانات المُرسلة' in html
    assert 'مطلوب' in html
