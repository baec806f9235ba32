"""Companies (keyed by CR number), their OCCI memberships, and the chamber's
rules on them: renewal, change of grade, change of name, new membership.

Every rule takes ``today`` (the date in Oman, ``request.today``) from its
caller, so it can be tried on any day.  Money is integer baisa.

A membership "expiring on" a date covers that whole day: it is expired from
the next day on (``expires_on < today``).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow

from ..events import MembershipChanged, announce
from ..i18n import _
from .compact import CompactState
from .folder import ChangeCounted, Folder, Located
from .multi_index import LargeSet, file_under, unfile
from .search import NameIndex, company_names, index_company, unindex_company
from .tally import DayTally
from .types import Column, content_type, in_language, portal_title

GRADES = ('Excellent', 'First', 'Second', 'Third', 'Fourth')
# The grades as the member reads them, for templates and certificates.
GRADE_TITLES = {
    'Excellent': _('Excellent'),
    'First': _('First'),
    'Second': _('Second'),
    'Third': _('Third'),
    'Fourth': _('Fourth'),
}
RENEWAL_YEARS = (1, 2)
YEAR_FEE_LABELS = (_('First year fees'), _('Second year fees'))
OLD_DEBIT_LABEL = _('Old Debit')


def add_years(day, years):
    """``day`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


class ServiceRefused(Exception):
    """A rule of the chamber refuses a service.

    ``reason`` is a stable code for tests and the audit log; ``message`` is
    the TranslationString the member reads; ``offer_renewal`` asks the view
    to link to Membership Renewal, as the portal does for expired companies.
    """

    def __init__(self, reason, message, offer_renewal=False):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.offer_renewal = offer_renewal


def require_active(registry_company):
    """Refuse a CR the commercial registry does not know or lists as not active."""
    if registry_company is None:
        raise ServiceRefused(
            'cr_unknown', _('The commercial registry does not know this CR number.')
        )
    if not registry_company.is_active:
        raise ServiceRefused(
            'cr_inactive',
            _(
                'The commercial registry lists this company as not active, so the chamber '
                'cannot serve it.'
            ),
        )


def membership_of(company):
    """The membership of ``company`` (which may be None), or ServiceRefused."""
    if company is None or company.membership is None:
        raise ServiceRefused('not_member', _('This company has no OCCI membership.'))
    return company.membership


def require_grade(grade):
    """Refuse a grade the chamber does not price (e.g. a new one in the registry)."""
    if grade not in GRADES:
        raise ServiceRefused(
            'unknown_grade',
            _("The chamber has no fee for this company's grade; please contact the chamber."),
        )


def _same_text(first, second):
    return ' '.join(first.split()) == ' '.join(second.split())


@dataclass(frozen=True)
class RenewalQuote:
    """The price and outcome of renewing for ``years`` years.

    ``arrears_years`` are the unpaid whole years since expiry, each priced at
    the annual fee of the grade; with the recorded debit they make the old debit.
    """

    grade: str
    years: int
    year_fees: tuple
    arrears_years: int
    arrears_baisa: int
    recorded_debit_baisa: int
    old_expiry: date
    new_expiry: date

    @property
    def old_debit_baisa(self):
        return self.arrears_baisa + self.recorded_debit_baisa

    @property
    def total_baisa(self):
        return sum(self.year_fees) + self.old_debit_baisa

    @property
    def lines(self):
        """``((label, amount_baisa), ...)``: each year's fee, then the old debit."""
        return (
            *zip(YEAR_FEE_LABELS, self.year_fees, strict=False),
            (OLD_DEBIT_LABEL, self.old_debit_baisa),
        )


@dataclass(frozen=True)
class GradeChangeQuote:
    old_grade: str
    new_grade: str
    old_expiry: date
    new_expiry: date
    price_baisa: int


@dataclass(frozen=True)
class MembershipTerms:
    """What a New Membership gives: the registry's grade, for one year from today."""

    grade: str
    expires_on: date


class Membership(CompactState):
    """The chamber's membership of one company: number, grade and expiry.

    ``debit_baisa`` is what the chamber records as owed beyond unpaid years
    (e.g. carried over from the paper registry); renewal collects and clears it.
    Change the fields through ``Companies.change_membership`` so indexes stay true.
    """

    # The expiry date occi-remind last reminded the company of (None: never).
    # A class default, so memberships stored before it existed read None.
    reminded_for = None
    # The day the company became a member (None: not known, as for records
    # loaded from the paper registry); counted by Companies.joined_tally.
    joined_on = None
    # The debits the chamber recorded, oldest first, as (when, amount_baisa,
    # reason); the newest of them that add up to no more than ``debit_baisa``
    # are still owed (a renewal collects the debit and sets it to 0).
    debits = ()
    # In the order their values are pickled (compact.py).
    stored = (
        'occi_number',
        'grade',
        'expires_on',
        'debit_baisa',
        'reminded_for',
        'joined_on',
        'debits',
    )
    days = frozenset({'expires_on', 'reminded_for', 'joined_on'})

    def __init__(self, occi_number, grade, expires_on, debit_baisa=0, joined_on=None):
        self.occi_number = occi_number
        self.grade = grade
        self.expires_on = expires_on
        self.debit_baisa = debit_baisa
        self.reminded_for = None
        self.joined_on = joined_on

    def debits_owed(self):
        """``(brought_forward_baisa, [(when, amount, reason)])``: the recorded
        debits still owed, oldest first, and what of ``debit_baisa`` no dated
        record explains (a debit loaded from the chamber's earlier records)."""
        owed, left = [], self.debit_baisa
        for when, amount, reason in reversed(self.debits):
            if amount > left:
                break
            owed.append((when, amount, reason))
            left -= amount
        return left, owed[::-1]

    def is_expired(self, today):
        return self.expires_on < today

    def expires_within(self, days, today):
        """Still current today, and expiring on or before ``today + days``."""
        return not self.is_expired(today) and self.expires_on <= today + timedelta(days=days)

    def require_current(self, today):
        if self.is_expired(today):
            raise ServiceRefused('expired', _('Please renew the company'), offer_renewal=True)

    def arrears_years(self, today):
        """The unpaid whole years since expiry.

        The k-th year after an expiry on E covers the days after
        ``add_years(E, k - 1)`` up to and including ``add_years(E, k)``.  It
        is in arrears once it is wholly past, i.e. ``add_years(E, k) < today``;
        the year that contains today is the first one a renewal buys.
        Expired 2024-05-02, today 2026-11-24: the years ending 2025-05-02 and
        2026-05-02 are arrears, the one ending 2027-05-02 is renewed.
        """
        years = max(today.year - self.expires_on.year, 0)
        while years and add_years(self.expires_on, years) >= today:
            years -= 1
        return years

    def renewal_quote(self, years, today, fees):
        """Renewing for 1 or 2 years: each year's fee by grade, the old debit,
        and the new expiry, counted from the first unpaid year."""
        if years not in RENEWAL_YEARS:
            raise ValueError('a membership is renewed for 1 or 2 years, not %r' % (years,))
        require_grade(self.grade)
        annual = fees.annual_fee(self.grade)
        arrears = self.arrears_years(today)
        return RenewalQuote(
            grade=self.grade,
            years=years,
            year_fees=(annual,) * years,
            arrears_years=arrears,
            arrears_baisa=arrears * annual,
            recorded_debit_baisa=self.debit_baisa,
            old_expiry=self.expires_on,
            new_expiry=add_years(self.expires_on, arrears + years),
        )

    def grade_change_check(self, new_grade, today):
        """Refuse a change to ``new_grade``: while expired (the one-year rule
        of the quote would otherwise sell a year of membership, arrears
        included, for the price of a grade change), or to the same grade."""
        self.require_current(today)
        if new_grade == self.grade:
            raise ServiceRefused(
                'same_grade',
                _(
                    'The commercial registry lists the same grade as the chamber: '
                    'there is no grade to change.'
                ),
            )
        require_grade(new_grade)

    def grade_change_quote(self, new_grade, today, fees):
        """Moving to ``new_grade`` (the registry's): the new expiry is the
        later of the old expiry and one year from today."""
        self.grade_change_check(new_grade, today)
        return GradeChangeQuote(
            old_grade=self.grade,
            new_grade=new_grade,
            old_expiry=self.expires_on,
            new_expiry=max(self.expires_on, add_years(today, 1)),
            price_baisa=fees.service_fee('change_grade'),
        )

    @classmethod
    def new_membership_terms(cls, registry_company, company, today):
        """The terms of a New Membership for a CR, or ServiceRefused.

        ``company`` is the chamber's record of that CR, if there is one.
        """
        require_active(registry_company)
        if company is not None and company.membership is not None:
            raise ServiceRefused(
                'already_member',
                _(
                    'This company is already a member of the chamber (OCCI number ${number}).',
                    mapping={'number': company.membership.occi_number},
                ),
            )
        require_grade(registry_company.grade)
        return MembershipTerms(grade=registry_company.grade, expires_on=add_years(today, 1))


COMPANY_COLUMNS = (
    Column(_('Name in English'), lambda company, lang: company.name_en),
    Column(_('Name in Arabic'), lambda company, lang: company.name_ar),
)


@content_type('company', _('Company'), label=in_language('name_en', 'name_ar'))
class Company(CompactState, Located):
    """The chamber's record of a company, named by its CR number."""

    # In the order their values are pickled (compact.py).
    stored = (
        'cr_number',
        'name_en',
        'name_ar',
        'address',
        'email',
        'membership',
        '__name__',
        '__parent__',
    )

    def __init__(self, cr_number, name_en, name_ar, address, email=''):
        self.cr_number = cr_number
        self.name_en = name_en
        self.name_ar = name_ar
        self.address = address
        self.email = email
        self.membership = None

    @property
    def __acl__(self):
        # The people the registry lists for the CR see its statement of account.
        return [(Allow, 'cr:%s' % self.cr_number, ('view', 'statement'))]

    def require_membership(self):
        return membership_of(self)

    def certificate_check(self, today):
        """Get your Certificate reissues the certificate of a current membership only."""
        self.require_membership().require_current(today)

    def name_change(self, registry_company, today):
        """The registry's names ``(name_en, name_ar)`` this company would take."""
        self.require_membership().require_current(today)
        self.require_other_names(registry_company.name_en, registry_company.name_ar)
        return registry_company.name_en.strip(), registry_company.name_ar.strip()

    def require_other_names(self, name_en, name_ar):
        """Refuse to change this company's names to the ones it has."""
        if _same_text(name_en, self.name_en) and _same_text(name_ar, self.name_ar):
            raise ServiceRefused(
                'same_name',
                _(
                    'The commercial registry lists the same names as the chamber: '
                    'there is no name to change.'
                ),
            )


# The membership fields the companies' tallies count by.
TALLIED_FIELDS = ('grade', 'expires_on', 'joined_on')
# The membership fields the administrators' search rows show: only a change
# of one of them, or of a name, counts towards ``Companies.revision``.
LISTED_FIELDS = ('occi_number', 'grade', 'expires_on')


@content_type('companies', _('Companies'), columns=COMPANY_COLUMNS, label=portal_title)
class Companies(ChangeCounted, Folder):
    """All companies, with indexes kept on every change (never a scan):
    OCCI number -> CR, expiry date -> CRs, and ``name_index``, the words of
    both names for the administrators' search (see ``search.py``).  Every
    change to what that search lists (a company added or removed, its names,
    its membership's number, grade or expiry) counts (``revision``): the
    search's rows are kept by it.  A debit or a reminder does not count, so
    it does not hold back the undo of an earlier change on a storage that
    refuses an undo once any object it wrote was written again (RelStorage).

    Two tallies count the memberships by grade for the chamber's reports
    (see ``tally.py``): ``expiry_tally`` on their expiry dates, so how many
    are expired or expire within N days of any day is a sum over a period,
    never stale; ``joined_tally`` on the day each company became a member.
    Every way a membership is attached or changed keeps them true, loading
    records (``set_membership``) included."""

    # Nothing of the site's grants (everyone's view, editors') reaches the
    # companies: a company's own ACL names who else sees it.
    __acl__ = [(Allow, 'role:admin', ALL_PERMISSIONS), DENY_ALL]

    def __init__(self, title=''):
        super().__init__(title)
        self.by_occi_number = OOBTree()
        self.by_expiry = OOBTree()
        self.name_index = NameIndex()
        self.expiry_tally = DayTally()
        self.joined_tally = DayTally()
        self.change_count = Length()

    def add(self, name, company):
        super().add(name, company)
        index_company(self, company)
        if company.membership is not None:
            self._index(company)
        self.changed()
        return company

    def remove(self, name):
        company = super().remove(name)
        unindex_company(self, company)
        self._unindex(company)
        self.changed()
        return company

    def rename(self, company, name_en, name_ar):
        """Give ``company`` new names, keeping the name index true."""
        old_names = company_names(company)
        company.name_en = name_en
        company.name_ar = name_ar
        index_company(self, company, old_names)
        self.changed()

    def set_membership(self, company, membership):
        """Attach or replace ``company``'s membership, keeping the indexes.

        For loading records (sample data, synthetic data) only: it announces
        nothing.  The chamber's own changes go through ``admit`` and
        ``change_membership``.
        """
        self._unindex(company)
        self._tally(company.membership, -1)
        company.membership = membership
        self._index(company)
        self._tally(membership, 1)
        self.changed()

    def admit(self, company, membership, now, request, today):
        """``company`` becomes a member with ``membership`` (New Membership) on ``today``."""
        membership.joined_on = today
        self.set_membership(company, membership)
        announce(
            request,
            MembershipChanged,
            subject=company,
            when=now,
            changes={
                name: (None, getattr(membership, name))
                for name in ('occi_number', 'grade', 'expires_on')
            },
        )

    def change_membership(self, company, now, request, by='', **changes):
        """Change fields of ``company``'s membership (expiry, grade ...), keep
        the indexes true and announce what changed; ``by`` names who acts
        when the request has nobody logged in (a script).

        Only an index whose key changes is written: a renewal rewriting
        every index entry of its company would make concurrent payments
        conflict on index buckets they need not touch.
        """
        membership = company.membership
        changed = {
            name: (getattr(membership, name), value)
            for name, value in changes.items()
            if getattr(membership, name) != value
        }
        if not changed:
            return
        retally = not changed.keys().isdisjoint(TALLIED_FIELDS)
        if retally:
            self._tally(membership, -1)
        for name, (_old, value) in changed.items():
            setattr(membership, name, value)
        if 'occi_number' in changed:
            self._unindex_occi_number(company.cr_number, changed['occi_number'][0])
            self.by_occi_number[membership.occi_number] = company.cr_number
        if 'expires_on' in changed:
            self._unindex_expiry(company.cr_number, changed['expires_on'][0])
            self._index_expiry(company.cr_number, membership.expires_on)
        if retally:
            self._tally(membership, 1)
        if not changed.keys().isdisjoint(LISTED_FIELDS):
            self.changed()
        announce(request, MembershipChanged, subject=company, when=now, by=by, changes=changed)

    def record_debit(self, company, amount_baisa, reason, now, request):
        """The chamber records that ``company`` owes ``amount_baisa`` more, and why."""
        membership = company.membership
        membership.debits = (*membership.debits, (now, amount_baisa, reason))
        self.change_membership(
            company, now, request, debit_baisa=membership.debit_baisa + amount_baisa
        )

    def _tally(self, membership, sign):
        """Count ``membership`` in (``sign`` 1) or out of (-1) the tallies."""
        if membership is None:
            return
        self.expiry_tally.add(membership.expires_on, {membership.grade: sign})
        if membership.joined_on is not None:
            self.joined_tally.add(membership.joined_on, {membership.grade: sign})

    def retally(self):
        """Count every membership again (for a schema step; it reads every company)."""
        self.expiry_tally = DayTally()
        self.joined_tally = DayTally()
        jar = self._p_jar
        for number, company in enumerate(self.values(), 1):
            self._tally(company.membership, 1)
            if jar is not None and not number % 10_000:
                # Unchanged companies leave the cache as the walk goes on.
                jar.cacheGC()

    def _index(self, company):
        membership = company.membership
        self.by_occi_number[membership.occi_number] = company.cr_number
        self._index_expiry(company.cr_number, membership.expires_on)

    def _unindex(self, company):
        membership = company.membership
        if membership is None:
            return
        self._unindex_occi_number(company.cr_number, membership.occi_number)
        self._unindex_expiry(company.cr_number, membership.expires_on)

    def _index_expiry(self, cr_number, expires_on):
        file_under(self.by_expiry, expires_on, cr_number, LargeSet)

    def _unindex_occi_number(self, cr_number, occi_number):
        if self.by_occi_number.get(occi_number) == cr_number:
            del self.by_occi_number[occi_number]

    def _unindex_expiry(self, cr_number, expires_on):
        unfile(self.by_expiry, expires_on, cr_number)

    def find_by_occi_number(self, occi_number):
        cr = self.by_occi_number.get(occi_number)
        return None if cr is None else self[cr]

    def expiring_between(self, first: date, last: date):
        for crs in self.by_expiry.values(first, last):
            for cr in crs:
                yield self[cr]
