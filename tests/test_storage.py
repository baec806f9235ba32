"""development.ini's ``zlibfile://`` databases: records compressed, blobs
beside them, conflicts resolved as on a plain FileStorage."""

import transaction
from BTrees.OOBTree import OOBucket
from ZODB import DB
from ZODB.blob import Blob
from zodburi import resolve_uri


def open_database(tmp_path):
    # Through zodburi, as pyramid_zodbconn resolves development.ini's URI.
    open_storage, db_arguments = resolve_uri(
        'zlibfile://%s?blobstorage_dir=%s&connection_cache_size=100'
        % (tmp_path / 'Data.fs', tmp_path / 'blobs')
    )
    assert db_arguments['cache_size'] == 100
    return DB(open_storage(), **db_arguments)


def test_two_writers_of_one_record_are_reconciled(tmp_path):
    db = open_database(tmp_path)
    with db.transaction() as conn:
        conn.root()['names'] = OOBucket({'%04d' % n: 'company %d' % n for n in range(40)})
    first, second = transaction.TransactionManager(), transaction.TransactionManager()
    one, other = db.open(transaction_manager=first), db.open(transaction_manager=second)
    one.root()['names']['1000'] = 'added by one'
    other.root()['names']['2000'] = 'added by the other'
    first.commit()
    # The bucket's stored record is compressed: resolving the conflict reads it.
    second.commit()
    one.close()
    other.close()
    with db.transaction() as conn:
        names = conn.root()['names']
        assert names['1000'] == 'added by one' and names['2000'] == 'added by the other'
    db.close()


def test_blobs_are_kept_beside_the_compressed_records(tmp_path):
    db = open_database(tmp_path)
    with db.transaction() as conn:
        conn.root()['pdf'] = blob = Blob()
        with blob.open('w') as file:
            file.write(b'%PDF-1.7 ' * 100)
    db.close()
    db = open_database(tmp_path)
    with db.transaction() as conn, conn.root()['pdf'].open() as file:
        assert file.read() == b'%PDF-1.7 ' * 100
    db.close()
