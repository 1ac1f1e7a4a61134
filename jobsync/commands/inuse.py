"""Deleting what another workspace object still uses: one check for `delete`, `groups delete`
and `apply --prune` (issue 16 item 5).

The users are found among the workspace's objects of the kinds that can refer to a deleted one
(refs.py); specs already in hand (`known`: what a plan will leave behind) are not read again.
Users deleted in the same run do not count. `--force` skips the check.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from jobsync import ops
from jobsync.model import ObjectKey, Spec
from jobsync.state import is_reserved
from jobsync.workspace.base import ListEntry, Workspace

# Kinds whose objects can refer to each deletable kind (refs.py): only those are read to find users.
USER_KINDS = {'script': {'job'}, 'resource': {'job'}, 'connection': {'job', 'script'}, 'job': {'job'},
              'cdm-link': {'cdm-job'}, 'cdm-job': {'job'}}


def possible_users(
    workspace: Workspace, deleting: Collection[ObjectKey], *,
    listing: Mapping[ObjectKey, ListEntry] | None = None, known: Mapping[ObjectKey, Spec] | None = None,
) -> dict[ObjectKey, Spec]:
    """The specs of every workspace object (outside `deleting`) of a kind that could use one of them.

    `listing` is the workspace's list round when the caller has it; `known` specs are taken as
    they are (a plan's desired content) instead of being read.
    """
    kinds = {u for k in deleting for u in USER_KINDS.get(k.kind, ())}
    if not kinds:
        return {}
    given = known or {}
    entries = listing if listing is not None else workspace.list_objects()
    chosen = set(deleting)
    candidates = {k for k in (*entries, *given) if k.kind in kinds and k not in chosen and not is_reserved(k)}
    out = {k: given[k] for k in candidates if k in given}
    out.update((k, o.spec) for k, o in workspace.read({k: entries[k] for k in sorted(candidates - set(given))}).items())
    return out


def refuse_if_used(
    workspace: Workspace, deleting: Collection[ObjectKey], *, flag: str = '--force',
    listing: Mapping[ObjectKey, ListEntry] | None = None, known: Mapping[ObjectKey, Spec] | None = None,
) -> None:
    """Raise UsageError naming every object of `deleting` that a remaining object uses, and its users."""
    if not deleting:
        return
    used = ops.users_left(possible_users(workspace, deleting, listing=listing, known=known), deleting)
    if used:
        raise ops.still_used_error(used, flag=flag)
