"""Deleting what another workspace object still uses: one check for `delete`, `groups delete`
and `apply --prune` (issue 16 item 5).

The users are found among the workspace's objects of the kinds that can refer to a deleted one
(refs.py); specs already in hand (`known`: what a plan will leave behind) are not read again.
Users deleted in the same run do not count. `--force` skips the check. A possible user whose name
cannot be a file name is not read (issue 12): it is returned as unchecked, for the caller to name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from jobsync import ops, unfit
from jobsync.model import ObjectKey, Spec
from jobsync.state import is_reserved
from jobsync.workspace.base import ListEntry, Workspace

# Kinds whose objects can refer to each deletable kind (refs.py): only those are read to find users.
USER_KINDS = {'script': {'job'}, 'resource': {'job'}, 'connection': {'job', 'script'}, 'job': {'job'},
              'cdm-link': {'cdm-job'}, 'cdm-job': {'job'}}


def possible_users(
    workspace: Workspace, deleting: Collection[ObjectKey], *,
    listing: Mapping[ObjectKey, ListEntry] | None = None, known: Mapping[ObjectKey, Spec] | None = None,
) -> tuple[dict[ObjectKey, Spec], tuple[unfit.Skipped, ...]]:
    """The specs of every workspace object (outside `deleting`) of a kind that could use one of
    them, and those that could not be read (their names cannot be file names).

    `listing` is the workspace's list round when the caller has it; `known` specs are taken as
    they are (a plan's desired content) instead of being read.
    """
    kinds = {u for k in deleting for u in USER_KINDS.get(k.kind, ())}
    if not kinds:
        return {}, ()
    given = known or {}
    entries = listing if listing is not None else workspace.list_objects()
    chosen = set(deleting)
    candidates = {k for k in (*entries, *given) if k.kind in kinds and k not in chosen and not is_reserved(k)}
    out = {k: given[k] for k in candidates if k in given}
    to_read, unread = unfit.split({k: entries[k] for k in sorted(candidates - set(given))})
    out.update((k, o.spec) for k, o in workspace.read(to_read).items())
    return out, unread


def refuse_if_used(
    workspace: Workspace, deleting: Collection[ObjectKey], *, flag: str = '--force',
    listing: Mapping[ObjectKey, ListEntry] | None = None, known: Mapping[ObjectKey, Spec] | None = None,
) -> tuple[unfit.Skipped, ...]:
    """Raise UsageError naming every object of `deleting` that a remaining object uses, and its
    users; return the possible users that could not be checked."""
    if not deleting:
        return ()
    users, unread = possible_users(workspace, deleting, listing=listing, known=known)
    used = ops.users_left(users, deleting)
    if used:
        raise ops.still_used_error(used, flag=flag)
    return unread
