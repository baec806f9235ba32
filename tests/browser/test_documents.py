"""Documents that prove themselves, in English and Arabic: the member downloads the
certificate of a New Membership, and anyone uploads it to the public verify page,
which says the chamber issued it unchanged; an edited copy is called out."""

import re

import pytest
from playwright.sync_api import expect

from ..test_documents import changed_byte
from .steps import confirm, login_with_card, start_service, step_up

pytestmark = pytest.mark.browser


@pytest.fixture(scope='module', autouse=True)
def registered(members):
    members.register('90000001')


def check_document(journey, path, label, snap_form=False):
    """The verify page's "Check a PDF document": choose the file, press the button."""
    page, _ = journey.page, journey._
    page.goto('/verify')
    journey.speak()
    if snap_form:
        journey.snap('verify-form', phone=True)
    page.get_by_label(_('PDF document'), exact=True).set_input_files(path)
    page.get_by_role('button', name=_('Check the document')).click()
    result = page.locator('.check-result')
    expect(result.get_by_role('heading', level=2)).to_have_text(_('Result of the check'))
    # The answer to an upload cannot be opened again at phone width: desktop only.
    journey.snap(label)
    return result


def test_new_membership_certificate_checked_on_the_verify_page(journeys, tmp_path):
    journey = journeys.open('signed-certificate')
    page, _ = journey.page, journey._
    login_with_card(journey, '90000001')
    start_service(journey, 'New Membership Registration', '1445820')
    step_up(journey, '90000001', 'card')
    confirm(journey, 'Register')
    expect(page.get_by_role('status')).to_contain_text(_('Your request is complete.'))
    with page.expect_download() as download:
        page.get_by_role('link', name=_('Download the Membership Certificate')).click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b'%PDF')

    page.get_by_role('link', name=_('Verification page')).click()
    page.wait_for_url('**/verify/*/*')
    expect(page.locator('code.fingerprint')).to_have_text(re.compile(r'^[0-9a-f]{64}$'))
    journey.snap('verification-page')

    result = check_document(journey, pdf, 'upload-authentic', snap_form=True)
    expect(result.get_by_role('status')).to_have_text(
        _(
            'This document was issued by the Oman Chamber of Commerce and Industry '
            'and has not been changed.'
        )
    )
    expect(result).to_contain_text(_('This certificate is valid.'))
    expect(result).to_contain_text('Al Noor Trading')

    edited = tmp_path / 'edited.pdf'
    edited.write_bytes(changed_byte(pdf.read_bytes(), b'Al Noor'))
    result = check_document(journey, edited, 'upload-edited')
    expect(result.get_by_role('alert')).to_have_text(
        _('This document has been changed since the chamber signed it. Do not rely on it.')
    )
