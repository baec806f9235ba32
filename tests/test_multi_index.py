"""The multi-valued index helper and the folder's removal."""

from BTrees.OOBTree import OOBTree

from occi_site.resources.certificate import Certificate, Certificates
from occi_site.resources.folder import Folder
from occi_site.resources.multi_index import file_under, filed_under, unfile


def test_names_are_filed_once_and_their_set_goes_with_the_last():
    index = OOBTree()
    file_under(index, 'CR-1', 'b')
    file_under(index, 'CR-1', 'a')
    file_under(index, 'CR-1', 'a')
    file_under(index, 'CR-2', 'c')
    assert list(filed_under(index, 'CR-1')) == ['a', 'b']
    unfile(index, 'CR-1', 'a')
    unfile(index, 'CR-1', 'a')
    unfile(index, 'CR-9', 'a')
    assert list(filed_under(index, 'CR-1')) == ['b']
    unfile(index, 'CR-1', 'b')
    assert 'CR-1' not in index
    assert list(filed_under(index, 'CR-1')) == []
    assert list(index.keys()) == ['CR-2']


def test_a_removed_child_keeps_its_name_and_loses_its_parent():
    folder = Folder('Things')
    child = folder.add('one', Folder('One'))
    assert child.__parent__ is folder
    assert folder.remove('one') is child
    assert (child.__name__, child.__parent__, len(folder)) == ('one', None, 0)


def test_a_container_index_follows_removal():
    certificates = Certificates()
    for serial in ('OCCI-2026-000001', 'OCCI-2026-000002'):
        certificates.add(
            serial,
            Certificate(
                serial=serial,
                cr_number='1234567',
                occi_number='100000',
                name_en='Al Noor',
                name_ar='النور',
                grade='first',
                address='Muscat',
                issued_on=None,
                expires_on=None,
            ),
        )
    assert list(filed_under(certificates.by_cr, '1234567')) == [
        'OCCI-2026-000001',
        'OCCI-2026-000002',
    ]
    certificates.remove('OCCI-2026-000002')
    certificates.remove('OCCI-2026-000001')
    assert '1234567' not in certificates.by_cr
    assert certificates.current_for('1234567') is None
