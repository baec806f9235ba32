"""``zlibfile://``: zodburi's ``file://`` (the same path and query
arguments) with each record compressed by zc.zlibstorage.

development.ini keeps the object tree so: the chamber's records are short
pickles of repeated class names and keys, which zlib takes to about two
thirds, and the index buckets to about a third.  Records written before,
uncompressed, are read as they are, so an existing Data.fs needs nothing.

The compression sits directly on the FileStorage, under the blobs: the
FileStorage resolves conflicts (tallies, counters) by reading records, and
learns to uncompress them only from a wrapper registered with it, which
ZODB's BlobStorage does not pass on.
"""

from urllib.parse import parse_qsl, urlencode

from zc.zlibstorage import ZlibStorage
from ZODB.blob import BlobStorage
from zodburi.resolvers import file_storage_resolver

SCHEME = 'zlibfile://'
BLOB_ARGUMENTS = ('blobstorage_dir', 'blobstorage_layout')


def zlib_file_storage_resolver(uri):
    """zodburi's resolver interface: ``(storage factory, the URI's other
    arguments)``, which zodburi's ``resolve_uri`` turns into the DB's."""
    path, _, query = uri[len(SCHEME) :].partition('?')
    arguments = parse_qsl(query)
    blobs = {name: value for name, value in arguments if name in BLOB_ARGUMENTS}
    others = urlencode([(name, value) for name, value in arguments if name not in BLOB_ARGUMENTS])
    open_file_storage, db_arguments = file_storage_resolver('file://%s?%s' % (path, others))

    def open_storage():
        storage = ZlibStorage(open_file_storage())
        if 'blobstorage_dir' not in blobs:
            return storage
        return BlobStorage(
            blobs['blobstorage_dir'],
            storage,
            layout=blobs.get('blobstorage_layout', 'automatic'),
        )

    return open_storage, db_arguments
