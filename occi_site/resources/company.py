"""Companies (keyed by CR number) and their OCCI memberships."""
from datetime import date

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.authorization import Allow

from .folder import Folder

GRADES = ('Excellent', 'First', 'Second', 'Third', 'Fourth')


class Membership(Persistent):
    """The chamber's membership of one company: number, grade and expiry."""

    def __init__(self, occi_number, grade, expires_on, debit_baisa=0):
        self.occi_number = occi_number
        self.grade = grade
        self.expires_on = expires_on
        self.debit_baisa = debit_baisa

    def is_expired(self, today):
        return self.expires_on < today


class Company(Persistent):
    """The chamber's record of a company, named by its CR number."""

    __name__ = None
    __parent__ = None

    def __init__(self, cr_number, name_en, name_ar, address, email=''):
        self.cr_number = cr_number
        self.name_en = name_en
        self.name_ar = name_ar
        self.address = address
        self.email = email
        self.membership = None

    @property
    def __acl__(self):
        return [(Allow, 'cr:%s' % self.cr_number, 'view')]


class Companies(Folder):
    """All companies, with indexes kept on every change (never a scan):
    OCCI number -> CR, expiry date -> CRs."""

    def __init__(self, title=''):
        super().__init__(title)
        self.by_occi_number = OOBTree()
        self.by_expiry = OOBTree()

    def set_membership(self, company, membership):
        """Attach or replace ``company``'s membership, keeping the indexes."""
        self._unindex(company)
        company.membership = membership
        self._index(company)

    def change_membership(self, company, **changes):
        """Change fields of ``company``'s membership (expiry, grade ...)
        and keep the indexes true."""
        self._unindex(company)
        for name, value in changes.items():
            setattr(company.membership, name, value)
        self._index(company)

    def _index(self, company):
        membership = company.membership
        self.by_occi_number[membership.occi_number] = company.cr_number
        crs = self.by_expiry.get(membership.expires_on)
        if crs is None:
            crs = self.by_expiry[membership.expires_on] = OOTreeSet()
        crs.add(company.cr_number)

    def _unindex(self, company):
        membership = company.membership
        if membership is None:
            return
        if self.by_occi_number.get(membership.occi_number) == company.cr_number:
            del self.by_occi_number[membership.occi_number]
        crs = self.by_expiry.get(membership.expires_on)
        if crs is not None and company.cr_number in crs:
            crs.remove(company.cr_number)
            if not crs:
                del self.by_expiry[membership.expires_on]

    def find_by_occi_number(self, occi_number):
        cr = self.by_occi_number.get(occi_number)
        return None if cr is None else self[cr]

    def expiring_between(self, first: date, last: date):
        for expiry, crs in self.by_expiry.items(first, last):
            for cr in crs:
                yield self[cr]
