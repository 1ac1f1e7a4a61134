"""The target's state recorded as an apply goes, so that a killed apply leaves one that matches
what it wrote (issue 13).

Before each batch the state is written again: what the batches before it applied (with the
fingerprints the workspace shows now), and, for every object of the coming batch that the state
already knows and that is about to be overwritten, a *pending* entry: its old fingerprint and
definition hash, but the `live_hash` of the definition being sent. If the apply dies (`kill -9`,
a lost runner) in the middle of the batch, the next plan then reads each such object right:

* written before the death: the workspace holds the content of `live_hash`, so the workspace did
  not move; git moved (the old definition hash), so it is a git-only update, never a conflict,
  also after git changed it again;
* not written: its fingerprint did not move, so again a git-only update.

What a pending entry cannot tell apart is an object someone else edits in the console to exactly
the content being sent: that edit is then taken as ours, which is what it holds anyway.

A state write costs a read and a write of the state; the fingerprints come from the listing the
apply took under the lock, with what the batches since wrote read back (`read_back`: a few
name-filtered list calls, issue 14), so one listing round serves the whole apply. One write per
batch keeps that bounded by the number of batches, not of objects.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from jobsync import secrets
from jobsync.apply import ApplyResult, recorded_state
from jobsync.events import Status
from jobsync.model import ObjectKey
from jobsync.plan import Action, Plan
from jobsync.state import ObjectState, State, live_hash
from jobsync.workspace.base import ListEntry, Workspace

SecretMacs = Callable[[set[secrets.SecretRef]], dict[str, str]]


class Journal:
    """Writes the target's state (kept as `key`) as the apply goes; `last` is what is stored now.

    `old` is the state the plan was made from; every state written is computed from it and the
    outcomes so far (never from a state holding pending entries), so a failed object keeps what
    `old` said of it. `macs` gives the keyed fingerprints of secret references as sent. `listing`
    is the one the apply took under the lock (before any write); without it the workspace is
    listed once.
    """

    def __init__(self, plan: Plan, workspace: Workspace, key: str, old: State | None, *,
                 macs: SecretMacs = lambda refs: {}, clock: Callable[[], int],
                 renew: Callable[[], None] = lambda: None,
                 listing: Mapping[ObjectKey, ListEntry] | None = None) -> None:
        self.plan, self.workspace, self.key, self.old = plan, workspace, key, old
        self.last = old
        self.macs, self.clock, self.renew = macs, clock, renew
        self._macs: dict[str, str] = {}
        self._changes = {c.key: c for c in plan.changes}
        self.coming: tuple[ObjectKey, ...] = ()  # the batch being written (after the last checkpoint)
        # The fingerprints as listed, kept up to date by reading back what was written since.
        self._listed: dict[ObjectKey, int] | None = \
            {k: e.updated for k, e in listing.items()} if listing is not None else None
        self._since: tuple[ObjectKey, ...] = ()  # written since that listing

    def _computed(self, result: ApplyResult) -> State:
        applied = {o.key for o in result.outcomes if o.status is Status.APPLIED}
        refs = {ref for c in self.plan.changes if c.key in applied and c.action is not Action.DELETE
                for ref in secrets.refs_in(c.desired)}
        missing = {ref for ref in refs if str(ref) not in self._macs}
        if missing:
            self._macs.update(self.macs(missing))
        return recorded_state(self.old, self.plan, result, self._listing(), self._macs, now=self.clock(),
                              kept_as=self.key)

    def _listing(self) -> dict[ObjectKey, int]:
        """Fingerprints as the workspace shows them now: the listing (taken once), with the objects
        the batches since wrote or deleted read back. A fingerprint of an object not written that
        moved meanwhile only costs the next plan a read (content unchanged: not drift)."""
        if self._listed is None:
            self._listed = {k: e.updated for k, e in self.workspace.list_objects().items()}
        elif self._since:
            since = set(self._since)
            fresh = self.workspace.read_back(since)  # a key that is gone is absent
            self._listed = {**{k: v for k, v in self._listed.items() if k not in since},
                            **{k: e.updated for k, e in fresh.items()}}
        self._since = ()
        return self._listed

    def _pending(self, keys: Sequence[ObjectKey], result: ApplyResult, base: Mapping[ObjectKey, ObjectState]
                 ) -> dict[ObjectKey, ObjectState]:
        """Pending entries for the objects of `keys` about to be overwritten (not applied yet)."""
        done = {o.key for o in result.outcomes if o.status is Status.APPLIED}
        pending: dict[ObjectKey, ObjectState] = {}
        for key in keys:
            change = self._changes.get(key)
            entry = base.get(key)
            if change is None or change.desired is None or entry is None or key in done \
                    or change.action not in (Action.UPDATE, Action.CREATE):
                continue
            pending[key] = dataclasses.replace(entry, live_hash=live_hash(key.kind, change.desired))
        return pending

    def write(self, new: State) -> State | None:
        """Store `new` as the next serial unless it says what is stored already; what was stored."""
        if self.last is not None and dict(new.objects) == dict(self.last.objects) \
                and new.plan_digest == self.last.plan_digest:
            return None
        serial = self.last.serial + 1 if self.last is not None else 1
        new = dataclasses.replace(new, serial=serial)
        self.renew()  # still ours: nobody took the target over while we wrote
        self.workspace.write_state(new)
        self.last = new
        return new

    def checkpoint(self, coming: Sequence[ObjectKey], result: ApplyResult) -> None:
        """Before a batch (`coming`): record what was applied so far, and the batch as pending."""
        self._since += self.coming  # the batch before this one went through (or failed)
        self.coming = tuple(coming)
        if not result.outcomes and not any(self._changes[k].action in (Action.UPDATE, Action.CREATE)
                                           and self.old is not None and k in self.old.objects for k in coming):
            self.renew()
            return  # nothing written yet, nothing pending: the stored state still says it all
        computed = self._computed(result)
        pending = self._pending(coming, result, computed.objects)
        objects = {**computed.objects, **pending}
        if self.write(dataclasses.replace(computed, objects=dict(sorted(objects.items())),
                                          plan_digest=self.last.plan_digest if self.last else '')) is None:
            self.renew()

    def finish(self, result: ApplyResult, *, plan_digest: str, pending: Sequence[ObjectKey] = ()) -> State | None:
        """After the last batch (or an interrupt, with the batch it stopped in as `pending`): the state
        of what was applied; None when the stored one says it already."""
        self._since += self.coming  # the last batch (or the one it stopped in) is read back too
        # A connection's show can move when later batches write what it serves (its agent_id is
        # the service's, filled from the CDM cluster): the connections written are read back again.
        self._since += tuple(k for k in self._changes if k.kind == 'connection' and k not in self._since
                             and any(o.key == k and o.status is Status.APPLIED for o in result.outcomes))
        self.coming = ()
        computed = self._computed(result)
        extra = self._pending(pending, result, computed.objects)
        if self.old is not None and not extra and dict(computed.objects) == dict(self.old.objects) \
                and self.last is self.old:
            return None
        objects = dict(sorted({**computed.objects, **extra}.items()))
        return self.write(dataclasses.replace(computed, objects=objects, plan_digest=plan_digest))
