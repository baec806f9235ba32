"""Membership certificates: immutable records under ``/certificates/<serial>``.

A certificate states the membership as it was on the day it was issued.  A
new certificate for the same company supersedes the previous one; the public
verify page tells which is which.

Serials are counted, so anyone can guess them; each certificate also carries
an unguessable verification code, printed on it and inside its QR link, and
the public verify page answers only for the serial and code together.
"""

import secrets

from BTrees.OOBTree import OOBTree
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow

from ..i18n import _
from .company import GRADE_TITLES
from .folder import Folder, Located
from .multi_index import file_under, filed_under, unfile
from .types import Column, content_type, in_language, portal_title, titled
from .verification import ARABIC_DIGITS

STATUSES = ('current', 'superseded')

# Crockford's base 32: no I, L, O or U, so a code read off paper is typed right.
CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
# 12 characters of 32: 60 bits, beyond any guessing through a rate-limited page.
CODE_LENGTH = 12
_MISREAD = str.maketrans({'O': '0', 'I': '1', 'L': '1'})


def new_verification_code():
    return ''.join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text):
    """A code as typed (any case, grouped with dashes or spaces) -> its stored form."""
    typed = ''.join(text.split()).replace('-', '').translate(ARABIC_DIGITS)
    return typed.upper().translate(_MISREAD)


CERTIFICATE_COLUMNS = (
    Column(_('Company'), in_language('name_en', 'name_ar')),
    Column(_('Grade'), titled(GRADE_TITLES, 'grade')),
    Column(_('Expires on'), lambda certificate, lang: certificate.expires_on.isoformat()),
)


@content_type('certificate', _('Certificate'))
class Certificate(Located):
    """What one certificate states.  Only its status ever changes."""

    # Certificates issued before verification codes get theirs in evolve step 6.
    verification_code = None
    # The serial of the company's certificate this one replaced, if any.
    supersedes = None

    RECORD = (
        'serial',
        'cr_number',
        'occi_number',
        'name_en',
        'name_ar',
        'grade',
        'address',
        'issued_on',
        'expires_on',
        'request_id',
        'verification_code',
    )

    def __init__(
        self,
        serial,
        cr_number,
        occi_number,
        name_en,
        name_ar,
        grade,
        address,
        issued_on,
        expires_on,
        request_id='',
        verification_code=None,
    ):
        self.serial = serial
        self.cr_number = cr_number
        self.occi_number = occi_number
        self.name_en = name_en
        self.name_ar = name_ar
        self.grade = grade
        self.address = address
        self.issued_on = issued_on
        self.expires_on = expires_on
        self.request_id = request_id
        self.verification_code = verification_code or new_verification_code()
        self.status = 'current'
        self.superseded_by = None

    def __setattr__(self, name, value):
        if name in self.RECORD:
            # Load a ghost first, or its empty __dict__ would let a field be rewritten.
            self._p_activate()
            if name in self.__dict__:
                raise AttributeError(
                    'certificate %s is a record: %s never changes' % (self.serial, name)
                )
        super().__setattr__(name, value)

    @property
    def __acl__(self):
        # The company's authorised persons may download it; the public sees
        # only what /verify shows.
        return [
            (Allow, 'cr:%s' % self.cr_number, 'view'),
            (Allow, 'role:admin', ALL_PERMISSIONS),
            DENY_ALL,
        ]

    @property
    def title(self):
        return self.serial

    @property
    def printed_code(self):
        """The verification code in groups of four, as printed: ``7KQ2-M9XD-4TPA``."""
        code = self.verification_code
        return '-'.join(code[start : start + 4] for start in range(0, len(code), 4))

    def has_code(self, code):
        if self.verification_code is None:
            # A certificate from before codes were given (evolve step 6) matches none.
            return False
        return secrets.compare_digest(
            normalise_code(code).encode(), self.verification_code.encode()
        )

    def supersede(self, serial):
        self.status = 'superseded'
        self.superseded_by = serial

    def verification_status(self, today):
        """``'valid'``, ``'superseded'`` or ``'expired'``, as the verify page says it."""
        if self.status == 'superseded':
            return 'superseded'
        if self.expires_on < today:
            return 'expired'
        return 'valid'


@content_type('certificates', _('Certificates'), columns=CERTIFICATE_COLUMNS, label=portal_title)
class Certificates(Folder):
    """All certificates by serial; ``current`` maps a CR to its current serial,
    ``by_cr`` a CR to every serial it was ever issued."""

    # Nothing of the site's grants (everyone's view) reaches the certificates: an address
    # under /certificates tells a visitor nothing; /verify is the public's way in.
    __acl__ = [(Allow, 'role:admin', ALL_PERMISSIONS), DENY_ALL]

    def __init__(self, title=''):
        super().__init__(title)
        self.current = OOBTree()
        self.by_cr = OOBTree()

    def add(self, name, certificate):
        super().add(name, certificate)
        file_under(self.by_cr, certificate.cr_number, name)
        previous = self.current_for(certificate.cr_number)
        if previous is not None:
            previous.supersede(name)
            certificate.supersedes = previous.serial
        self.current[certificate.cr_number] = name
        return certificate

    def remove(self, name):
        certificate = super().remove(name)
        unfile(self.by_cr, certificate.cr_number, name)
        if self.current.get(certificate.cr_number) == name:
            del self.current[certificate.cr_number]
        return certificate

    def verified(self, serial, code):
        """The certificate with this serial if ``code`` is its verification code, else None."""
        certificate = self.get(serial)
        if certificate is None or not certificate.has_code(code):
            return None
        return certificate

    def current_for(self, cr_number):
        serial = self.current.get(cr_number)
        return None if serial is None else self[serial]

    def issued_for(self, cr_number):
        """Every certificate of a CR, newest first: the current one, then each
        one it superseded in turn (serials say nothing of the order)."""
        ordered, seen = [], set()
        certificate = self.current_for(cr_number)
        while certificate is not None and certificate.serial not in seen:
            ordered.append(certificate)
            seen.add(certificate.serial)
            certificate = self.get(certificate.supersedes) if certificate.supersedes else None
        # Those issued before the chain was kept, or off it.
        rest = (self[serial] for serial in filed_under(self.by_cr, cr_number) if serial not in seen)
        return ordered + sorted(
            rest, key=lambda certificate: (certificate.issued_on, certificate.serial), reverse=True
        )


def new_certificate_serial(site, today):
    """A serial like ``OCCI-2026-418305``: the year and six random digits,
    drawn again while taken.

    No counter: concurrent payments issuing certificates would all write
    one counter object (and conflict); random serials are inserted all over
    the certificates' tree, two transactions only conflict if they draw the
    same one (then the retry draws again), and nobody can walk the serials.
    """
    certificates = site['certificates']
    while True:
        serial = 'OCCI-%d-%06d' % (today.year, 1 + secrets.randbelow(999_999))
        if serial not in certificates:
            return serial


def issue_certificate(site, company, today, request_id=''):
    """A new certificate of ``company``'s membership as it is today; the
    company's previous certificate is superseded."""
    membership = company.require_membership()
    certificate = Certificate(
        serial=new_certificate_serial(site, today),
        cr_number=company.cr_number,
        occi_number=membership.occi_number,
        name_en=company.name_en,
        name_ar=company.name_ar,
        grade=membership.grade,
        address=company.address,
        issued_on=today,
        expires_on=membership.expires_on,
        request_id=request_id,
    )
    return site['certificates'].add(certificate.serial, certificate)
