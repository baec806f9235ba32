"""Who may do what to the chamber's content: local roles and the publication
workflow.

Local roles are granted on an object to a principal (a civil ID, or
``role:editor`` for every editor) in the Security tab; they hold on the
object and everything below it.  ``content_acl`` turns them into ACL entries,
so the one security policy of the site honours them without knowing of them.

The workflow moves an item private -> pending -> published.  Each transition
needs its own permission; the ACLs decide who holds it.  A published item
edited by someone without the publish right keeps its published version
online: the edit waits beside it (``changes``) until it is published or sent
back.  Out of the box an
editor (site role) may submit and retract, and an admin may do everything;
granting the local role "publisher" on a folder (to a person, or to
``role:editor``) lets them publish and reject there too.
"""

from dataclasses import dataclass

from pyramid.authorization import ALL_PERMISSIONS, Allow, Deny, Everyone
from pyramid.traversal import lineage

from ..i18n import _

ROLE_PERMISSIONS = {
    'editor': ('view', 'edit', 'manage_content', 'submit', 'retract'),
    'publisher': ('view', 'edit', 'manage_content', 'submit', 'retract', 'publish', 'reject'),
}
CONTENT_ROLE_TITLES = {'editor': _('Editor'), 'publisher': _('Publisher')}

# What the site role "editor" may do to content beyond the site's own grant
# (edit, manage_content): preview drafts, submit and retract.
EDITORS_ON_CONTENT = (Allow, 'role:editor', ('view', 'submit', 'retract'))


class LocalRoles:
    """Mixin: ``__local_roles__`` {principal: set of roles}.

    The mapping is replaced on every change, never mutated in place, so ZODB
    notices the change without a persistent mapping per object.
    """

    __local_roles__ = {}

    def grant_local_role(self, principal, role):
        if role not in ROLE_PERMISSIONS:
            raise ValueError('unknown local role %r' % role)
        roles = dict(self.__local_roles__)
        roles[principal] = set(roles.get(principal, ())) | {role}
        self.__local_roles__ = roles

    def revoke_local_role(self, principal, role):
        roles = dict(self.__local_roles__)
        remaining = set(roles.get(principal, ())) - {role}
        if remaining:
            roles[principal] = remaining
        else:
            roles.pop(principal, None)
        self.__local_roles__ = roles


def local_roles_acl(resource):
    """Allow entries for the local roles granted on ``resource`` and above it.

    The ancestors' roles are repeated here because a draft's ACL ends with a
    denial of 'view', which would otherwise hide it from a publisher named on
    its folder.
    """
    acl = []
    for node in lineage(resource):
        for principal, roles in sorted(getattr(node, '__local_roles__', {}).items()):
            acl.extend((Allow, principal, ROLE_PERMISSIONS[role]) for role in sorted(roles))
    return acl


def content_acl(resource, public):
    """The ACL of a content object; ``public`` False hides it from visitors."""
    acl = [(Allow, 'role:admin', ALL_PERMISSIONS), *local_roles_acl(resource)]
    acl.append(EDITORS_ON_CONTENT)
    if not public:
        acl.append((Deny, Everyone, 'view'))
    return acl


PUBLICATION_STATE_TITLES = {
    'private': _('Private'),
    'pending': _('Pending review'),
    'published': _('Published'),
}


@dataclass(frozen=True)
class Transition:
    name: str
    title: str
    sources: tuple
    target: str
    permission: str
    # Acts on the changes of a published item that wait for review.
    on_changes: bool = False


PUBLICATION_TRANSITIONS = (
    Transition('submit', _('Submit for publication'), ('private',), 'pending', 'submit'),
    Transition('publish', _('Publish'), ('private', 'pending'), 'published', 'publish'),
    Transition('reject', _('Send back to the author'), ('pending',), 'private', 'reject'),
    Transition('retract', _('Retract'), ('pending', 'published'), 'private', 'retract'),
    Transition(
        'publish_changes',
        _('Publish the changes'),
        ('published',),
        'published',
        'publish',
        on_changes=True,
    ),
    Transition(
        'reject_changes',
        _('Send the changes back'),
        ('published',),
        'published',
        'reject',
        on_changes=True,
    ),
)
# What the history calls an edit of a published item that waits for review.
EDIT_FOR_REVIEW = 'edit'
HISTORY_TITLES = {
    **{t.name: t.title for t in PUBLICATION_TRANSITIONS},
    EDIT_FOR_REVIEW: _('Changes submitted for review'),
}


class WorkflowError(ValueError):
    """A transition that the item's state does not allow."""


class Workflowed:
    """Mixin: a ``state`` and the ``workflow_history`` of who moved it, when, and why.

    The history is a tuple replaced on every transition: it belongs to one
    item, so it conflicts only with edits of that same item.

    The class using it says what an edit is: ``version()`` (its fields as they
    stand), ``prepared(changes)`` (the fields an edit would give, as stored)
    and ``apply_version(version)``.
    """

    state = 'private'
    workflow_history = ()
    # The version of a published item waiting for review, or None.
    changes = None

    @property
    def is_published(self):
        return self.state == 'published'

    def transitions(self):
        """The transitions the current state allows (permissions aside)."""
        return [
            t
            for t in PUBLICATION_TRANSITIONS
            if self.state in t.sources and (not t.on_changes or self.changes is not None)
        ]

    def _record(self, name, target, user, when, comment):
        self.workflow_history = (
            *self.workflow_history,
            {
                'transition': name,
                'from': self.state,
                'to': target,
                'user': user,
                'when': when,
                'comment': comment,
            },
        )

    def transition(self, name, user, when, comment=''):
        chosen = next((t for t in self.transitions() if t.name == name), None)
        if chosen is None:
            raise WorkflowError('%r is not possible from %r' % (name, self.state))
        self._record(name, chosen.target, user, when, comment)
        if name == 'publish_changes' or (name == 'retract' and self.changes is not None):
            # Published, or offline again: either way the latest edit is the item.
            self.apply_version(self.changes)
        if name in ('publish_changes', 'reject_changes', 'retract'):
            self.changes = None
        self.state = chosen.target
        return chosen

    def edit(self, changes, user, when, *, may_publish):
        """Apply ``changes``; True if they are what visitors now see.

        On a published item, without the right to publish it, they wait for
        review beside the published version, which stays online.
        """
        if self.is_published and not may_publish:
            self.changes = {**(self.changes or self.version()), **self.prepared(changes)}
            self._record(EDIT_FOR_REVIEW, self.state, user, when, '')
            return False
        if self.changes is not None:
            self.apply_version(self.changes)
            self.changes = None
        self.apply_version({**self.version(), **self.prepared(changes)})
        return True
