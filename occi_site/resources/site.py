"""The root of the object tree."""

from pyramid.authorization import ALL_PERMISSIONS, Allow, Everyone

from ..i18n import _
from .folder import Folder
from .types import content_type


@content_type('site', _('Portal'))
class Site(Folder):
    """``/``: holds the containers of DESIGN §3 and the schema generation."""

    title = 'Oman Chamber of Commerce and Industry'
    generation = 0

    __acl__ = [
        (Allow, Everyone, 'view'),
        (Allow, 'role:member', 'member'),
        (Allow, 'role:editor', ('edit', 'manage_content')),
        # Finance staff read the reports, and nothing else of /manage.
        (Allow, 'role:finance', 'reports'),
        (Allow, 'role:admin', ALL_PERMISSIONS),
    ]
