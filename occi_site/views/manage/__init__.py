"""The management view, /manage on any object (ZMI-like): one module per tab
or area.  Administrators may use it everywhere; editors within /content."""

TAB_MODULES = (
    '.chamber',
    '.contents',
    '.properties',
    '.workflow',
    '.security',
    '.audit',
    '.undo',
    '.database',
    '.accounts',
    '.companies',
    '.records',
    '.payments',
    '.notifications',
    '.reports',
)


def includeme(config):
    config.include('.tabs')
    for module in TAB_MODULES:
        config.scan(module)
