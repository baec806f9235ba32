"""Arabic completeness: every message the portal shows has an Arabic translation, and no
template shows text that bypasses gettext.

The occi_site messages are extracted afresh from the sources with the project's
babel.cfg (as ``make update-catalogs`` does), so a new string that never reached the
catalog fails here too; deform's and colander's are those of the installed packages.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import colander
import deform
import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
ARABIC = ROOT / 'occi_site' / 'locale' / 'ar' / 'LC_MESSAGES'
TEMPLATES = ROOT / 'occi_site' / 'templates'
PACKAGE_TEMPLATES = {
    'deform': Path(deform.__file__).parent / 'locale' / 'deform.pot',
    'colander': Path(colander.__file__).parent / 'locale' / 'colander.pot',
}
# Words a template may show as they are, in both languages.
ALLOWED_WORDS = {
    'OCCI',  # the chamber's acronym, part of its logo
    'JSON',  # a file format's name (the dev outbox's link to its JSON form)
    'English',  # each language is offered under its own name, never translated
    'العربية',
}
TRANSLATABLE_ATTRIBUTES = ('alt', 'title', 'placeholder', 'aria-label')
WORD = re.compile(r'[^\W\d_]+')
# Not words to translate: e-mail addresses, URLs and paths, and the attribute
# fragments (name="...") a macro writes into the tag that calls it.
NOT_PROSE = re.compile(r'\S+@\S+|\S*/\S*|[\w-]+="[^"]*"')


def read_catalog(path):
    with open(path, 'rb') as po:
        return read_po(po)


def msgids(messages):
    """The message ids, a plural message by its singular."""
    return {message if isinstance(message, str) else message[0] for message in messages}


def portal_messages():
    """The occi_site messages in the sources now, extracted as babel.cfg says."""
    with open(ROOT / 'babel.cfg') as config:
        method_map, options_map = parse_mapping_cfg(config)
    return msgids(
        message
        for _path, _line, message, _comments, _context in (
            extracted[:5] for extracted in extract_from_dir(str(ROOT), method_map, options_map)
        )
    )


def package_messages(domain):
    return msgids(message.id for message in read_catalog(PACKAGE_TEMPLATES[domain]) if message.id)


def untranslated(domain, wanted):
    catalog = read_catalog(ARABIC / ('%s.po' % domain))
    missing = []
    for msgid in sorted(wanted):
        message = catalog.get(msgid)
        strings = (
            []
            if message is None
            else (message.string if isinstance(message.string, (list, tuple)) else [message.string])
        )
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(msgid)
    return missing


def test_every_portal_message_has_arabic():
    missing = untranslated('occi_site', portal_messages())
    assert not missing, 'No Arabic in occi_site.po for:\n' + '\n'.join(missing)


@pytest.mark.parametrize('domain', sorted(PACKAGE_TEMPLATES))
def test_every_form_library_message_has_arabic(domain):
    missing = untranslated(domain, package_messages(domain))
    assert not missing, 'No Arabic in %s.po for:\n%s' % (domain, '\n'.join(missing))


def template_data(source):
    """The template's own text (what Jinja passes through as it is), with the line it starts
    on kept, and ``{% trans %}`` blocks left out since gettext owns them."""
    lines, parts, in_trans, after_block_begin = 1, [], False, False
    for lineno, token, value in jinja2.Environment().lex(source):
        if token == 'data' and not in_trans:
            parts.append('\n' * max(0, lineno - lines))
            lines = max(lines, lineno) + value.count('\n')
            parts.append(value)
        elif token == 'name' and after_block_begin and value in ('trans', 'endtrans'):
            in_trans = value == 'trans'
        if token != 'whitespace':
            after_block_begin = token == 'block_begin'
        if token != 'data':
            # Keep words on either side of a tag or expression apart.
            parts.append(' ')
    return ''.join(parts)


class VisibleText(HTMLParser):
    """Words a reader would see, and translatable attributes written out literally."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ('script', 'style'):
            self.hidden += 1
        for name, value in attrs:
            if name in TRANSLATABLE_ATTRIBUTES and value and WORD.search(value):
                self.found.append((self.getpos()[0], '%s="%s"' % (name, value.strip())))

    def handle_endtag(self, tag):
        if tag in ('script', 'style'):
            self.hidden -= 1

    def handle_data(self, data):
        text = ' '.join(NOT_PROSE.sub(' ', data).split())
        words = [word for word in WORD.findall(text) if word not in ALLOWED_WORDS]
        if words and not self.hidden:
            leading = data[: len(data) - len(data.lstrip())]
            self.found.append((self.getpos()[0] + leading.count('\n'), text))


def untranslated_text(path):
    """``(line, text)`` of each text in the template that does not come from gettext."""
    parser = VisibleText()
    parser.feed(template_data(path.read_text(encoding='utf-8')))
    parser.close()
    return parser.found


def test_templates_show_no_text_outside_gettext():
    found = [
        '%s:%d: %s' % (path.relative_to(TEMPLATES), line, text)
        for path in sorted(TEMPLATES.rglob('*.jinja2'))
        for line, text in untranslated_text(path)
    ]
    assert not found, 'Text outside gettext:\n' + '\n'.join(found)


def test_the_template_check_finds_literal_text_and_attributes(tmp_path):
    template = tmp_path / 'sample.jinja2'
    template.write_text(
        '{# a comment #}<p title="Help">{{ _("Fine") }} Not fine</p>\n'
        '<img alt="{{ _(\'Logo\') }}"><span>OCCI · {{ name }}</span>\n'
        '{% trans %}Owned by gettext{% endtrans %}<script>var words = 1;</script>\n'
        '<input placeholder="Type here">&amp; &nbsp; info@chamberoman.om {{ url }}/verify/\n',
        encoding='utf-8',
    )
    assert untranslated_text(template) == [
        (1, 'title="Help"'),
        (1, 'Not fine'),
        (4, 'placeholder="Type here"'),
    ]
