"""Bar charts of the chamber's reports as SVG, drawn on the server with pygal.

pygal is pure Python and writes SVG itself: no browser, JavaScript engine or
image library runs to draw a chart, and the SVG is put in the page as it is,
where it scales to the width of the page and of the printed sheet and stays
sharp.  Its labels are text, in the page's language: months and days as
Babel names them in that language, numbers as Babel writes them there.

pygal draws left to right only.  A chart for a right-to-left page is mirrored
as a whole (the value axis then stands on the right, the first category on
the right, each legend's colour box right of its name), and every text in it
is mirrored back in place and set right-to-left, so it reads as written.

What pygal adds for its own interactive script (the script and its ids) is
left out: the pages run no inline script, and the table beneath each chart
says everything the tooltips would.
"""

import xml.etree.ElementTree as ET

import pygal
from babel.numbers import format_decimal
from markupsafe import Markup
from pygal.style import Style

SVG = 'http://www.w3.org/2000/svg'
ET.register_namespace('', SVG)
WIDTH, HEIGHT = 800, 420
# The height of a second line of an axis label.
LINE = 16
# The chamber's colours first (those of the site's style sheet), then others
# told apart in print and by people who do not see red from green.
COLOURS = (
    '#8a1538',
    '#0d6b5f',
    '#d08c00',
    '#1f4e79',
    '#7a7a7a',
    '#5b2a86',
    '#c0504d',
)
STYLE = Style(
    font_family='"Noto Sans", "DejaVu Sans", "Amiri", Arial, sans-serif',
    background='#ffffff',
    plot_background='#ffffff',
    foreground='#1f2a30',
    foreground_strong='#1f2a30',
    foreground_subtle='#53626b',
    colors=COLOURS,
    opacity='.9',
    opacity_hover='.9',
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=16,
    no_data_font_size=20,
)


def number_formatter(locale):
    """Numbers as ``locale`` writes them: ``1,234.5`` in English."""
    return lambda value: format_decimal(value, format='#,##0.###', locale=locale)


def bar_chart(
    title, categories, series, locale, *, stacked=True, rtl=False, no_data='', description=''
):
    """An SVG bar chart: ``categories`` are the labels along the axis, ``series``
    ``[(name, [value for each category])]``; returns Markup to put in a page."""
    chart_class = pygal.StackedBar if stacked else pygal.Bar
    chart = chart_class(
        style=STYLE,
        width=WIDTH,
        height=HEIGHT,
        js=[],
        disable_xml_declaration=True,
        legend_at_bottom=True,
        truncate_label=-1,
        truncate_legend=-1,
        value_formatter=number_formatter(locale),
        no_data_text=no_data,
        x_label_rotation=0,
        print_zeroes=False,
        include_x_axis=True,
        margin=16,
    )
    chart.title = title
    chart.x_labels = list(categories)
    for name, values in series:
        chart.add(name, list(values))
    svg = ET.fromstring(chart.render(is_unicode=True))
    _drop_script(svg)
    _break_lines(svg)
    if rtl:
        _mirror(svg)
    svg.set('direction', 'rtl' if rtl else 'ltr')
    svg.set('role', 'img')
    if description:
        desc = ET.Element('{%s}desc' % SVG)
        desc.text = description
        svg.insert(list(svg).index(svg.find('{%s}title' % SVG)) + 1, desc)
    return Markup(ET.tostring(svg, encoding='unicode'))


def _drop_script(svg):
    defs = svg.find('{%s}defs' % SVG)
    for script in defs.findall('{%s}script' % SVG):
        defs.remove(script)
    for element in svg.iter():
        # Ids for the script: the same on every chart, so two on a page would clash.
        if element.get('id', '').startswith('activate-serie'):
            del element.attrib['id']


def _break_lines(svg):
    """A label with a line break (``'March\\n2026'``) on two lines, one under
    the other, the legend moved down by a line to make room."""
    broken = False
    for text in svg.iter('{%s}text' % SVG):
        if text.text and '\n' in text.text:
            lines, text.text = text.text.split('\n'), None
            for number, line in enumerate(lines):
                span = ET.SubElement(text, '{%s}tspan' % SVG, x=text.get('x', '0'))
                span.set('dy', '1.2em' if number else '0')
                span.text = line
            broken = True
    if broken:
        for legends in svg.iter('{%s}g' % SVG):
            if legends.get('class') == 'legends':
                x, y = legends.get('transform')[len('translate(') : -1].split(',')
                legends.set('transform', 'translate(%s, %s)' % (x, float(y) + LINE))


def _mirror(svg):
    """Mirror the drawing for a right-to-left page, its texts kept readable."""
    width = float(svg.get('viewBox').split()[2])
    drawing = ET.Element('{%s}g' % SVG, transform='matrix(-1 0 0 1 %s 0)' % width)
    for child in list(svg):
        if child.tag not in ('{%s}defs' % SVG, '{%s}title' % SVG):
            svg.remove(child)
            drawing.append(child)
    svg.append(drawing)
    for parent in list(drawing.iter()):
        for index, child in enumerate(list(parent)):
            if child.tag == '{%s}text' % SVG:
                # Mirrored about its own anchor, which the whole mirror moves
                # into place; with direction rtl its start and end anchors
                # swap sides too.  In a group of its own, so pygal's style
                # sheet still anchors it as a text without a transform.
                anchor = float(child.get('x', 0))
                group = ET.Element('{%s}g' % SVG, transform='matrix(-1 0 0 1 %s 0)' % (2 * anchor))
                parent.remove(child)
                group.append(child)
                parent.insert(index, group)
