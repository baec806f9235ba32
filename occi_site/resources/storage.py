"""``zlibfile://``: zodburi's ``file://`` (the same path and query
arguments) with each record compressed by zc.zlibstorage.

development.ini keeps the object tree so: the chamber's records are short
pickles of repeated class names and keys, which zlib takes to about two
thirds, and the index buckets to about a third.  Records written before,
uncompressed, are read as they are, so an existing Data.fs needs nothing.
"""

from zc.zlibstorage import ZlibStorage
from zodburi.resolvers import file_storage_resolver

SCHEME = 'zlibfile://'


def zlib_file_storage_resolver(uri):
    """zodburi's resolver interface: ``(storage factory, DB keyword arguments)``."""
    open_file_storage, db_arguments = file_storage_resolver('file://' + uri[len(SCHEME) :])
    return (lambda: ZlibStorage(open_file_storage())), db_arguments
