"""The plan: what apply will do, as a versioned document. Pure.

A plan is never re-decided during apply: apply checks it is still fresh and executes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from jobsync import secrets
from jobsync.config import DEFAULT_MAX_DELETE_SHARE
from jobsync.diff import FieldChange, diff_specs
from jobsync.errors import PlanError
from jobsync.model import Definition, LiveObject, ObjectKey, Spec
from jobsync.planseal import PLAN_KEY_ENV, check_target_config, seal, verify  # noqa: F401 - the plan's API
from jobsync.refs import references
from jobsync.runnotes import run_notes
from jobsync.scope import DIRECTORY_KINDS, Scope, in_scope, may_be_in_scope
from jobsync.state import ObjectState, State, content_hash, is_reserved, live_hash

FORMAT_VERSION = 1


class Action(str, Enum):
    CREATE = 'create'
    UPDATE = 'update'
    DELETE = 'delete'
    EXPORT = 'export'  # the workspace holds what git should adopt (`jobsync export`); apply leaves it
    NOOP = 'noop'
    CONFLICT = 'conflict'  # changed in git and in the workspace since the last apply: apply refuses


WRITES = (Action.CREATE, Action.UPDATE, Action.DELETE)


class Side(str, Enum):
    """With state: which side changed since jobsync last applied the object."""

    GIT = 'git'  # an import: git moved, the workspace did not
    WORKSPACE = 'workspace'  # drift: the workspace moved, git did not
    BOTH = 'both'  # a conflict (or both moved to the same content)


class Take(str, Enum):
    """How to settle conflicts: `git` overwrites the workspace, `live` keeps it (for `export`)."""

    GIT = 'git'
    LIVE = 'live'


class SameName(str, Enum):
    """What apply does with a defined object that already exists in the workspace (the console's import choice)."""

    OVERWRITE = 'overwrite'  # make it match git (the default)
    SKIP = 'skip'  # leave it as it is; only what is missing is created


SKIPPED_REASON = 'skipped: exists in the workspace, left as it is (--same-name skip)'


@dataclass(frozen=True, slots=True)
class Change:
    """What happens to one object, and why (the reason is for people; code never branches on it)."""

    key: ObjectKey
    action: Action
    reason: str
    fields: tuple[FieldChange, ...] = ()
    desired: Spec | None = None  # API form, secrets as references
    live_updated: int | None = None  # the live lastUpdateTime this change was planned against; None: absent
    source: str | None = None  # repo file of the definition (`file#/params/N` for a template's)
    requires: tuple[ObjectKey, ...] = ()  # upserts: planned objects it references (written first);
    # deletes: planned deletions referencing it (deleted first)
    side: Side | None = None  # with state: which side changed since the last apply
    secrets_changed: tuple[str, ...] = ()  # references whose value changed since the last apply (no values)


@dataclass(frozen=True)
class Orphan:
    """An object jobsync manages (per the state) that git no longer defines, and why it stays."""

    key: ObjectKey
    reason: str


@dataclass(frozen=True)
class Plan:
    repo_rev: str
    target: str
    workspace: str
    changes: tuple[Change, ...]
    unmanaged: tuple[ObjectKey, ...] = ()  # in the workspace, not in git, not in the state: left alone
    batches: tuple[tuple[ObjectKey, ...], ...] = ()
    api_calls: Mapping[str, int] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    orphans: tuple[Orphan, ...] = ()  # managed, removed from git, not deleted by this plan
    state_serial: int | None = None  # the state this plan was made against; None: none used
    base_rev: str | None = None  # `plan --base REV`
    branch_changes: tuple[ObjectKey, ...] = ()  # definitions this branch adds, changes or removes vs base_rev
    target_settings: Mapping[str, Any] = field(default_factory=dict)  # to reopen the workspace without the repo
    notes: tuple[str, ...] = ()  # things a reader should know about how the plan was made
    skipped: tuple[ObjectKey, ...] = ()  # exist in the workspace and differ from git; `--same-name skip` left them

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action not in (Action.NOOP,))

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def conflicts(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is Action.CONFLICT)

    @property
    def writes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action in WRITES)

    def change(self, key: ObjectKey) -> Change:
        for c in self.changes:
            if c.key == key:
                return c
        raise KeyError(str(key))


@dataclass(frozen=True)
class PlanOptions:
    """Choices the user makes on the command line that shape a plan."""

    refresh_secrets: bool = False
    take: Take | None = None
    prune: bool = False
    scope: Scope = field(default_factory=Scope)
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    allow_mass_delete: bool = False
    same_name: SameName = SameName.OVERWRITE
    force: bool = False  # --prune deletes objects other workspace objects still use (commands.inuse)


# Upper bound of an import package's bytes for some items; must be additive: size_of([]) plus one
# term per item (package.estimate_package_bytes is).
SizeOf = Callable[[Sequence[tuple[ObjectKey, Spec]]], int]


def _fields_reason(fields: Sequence[FieldChange], tail: str = 'from the workspace') -> str:
    n = len(fields)
    return f'{n} field{"s" if n != 1 else ""} differ{"s" if n == 1 else ""} {tail}'


def definition_hashes(desired: Mapping[ObjectKey, Definition]) -> dict[ObjectKey, str]:
    """`state.content_hash` of every definition, computed once for `keys_to_read` and `make_plan`."""
    return {key: content_hash(key.kind, d.spec) for key, d in desired.items()}


def scope_verdict(key: ObjectKey, scope: Scope, live: LiveObject | None, directory: str | None) -> bool | None:
    """Whether a workspace object is inside `scope`: True, False, or None when only its content can tell.

    `directory` is what its list entry said (None: the listing did not say).
    """
    if not may_be_in_scope(key, scope):
        return False
    if not scope.directories or key.kind not in DIRECTORY_KINDS:
        return True
    if live is not None:
        return in_scope(key, live.spec, scope)
    if directory is not None:
        return in_scope(key, {'directory': directory}, scope)
    return None


def keys_to_read(
    desired: Mapping[ObjectKey, Definition],
    listed: Mapping[ObjectKey, int],
    state: State | None,
    options: PlanOptions = PlanOptions(),
    hashes: Mapping[ObjectKey, str] | None = None,
    directories: Mapping[ObjectKey, str] | None = None,
) -> set[ObjectKey]:
    """The objects whose content a plan needs; everything else is decided from list fingerprints.

    Without state: every defined object that exists. With state: only those jobsync does not
    manage yet, those whose definition changed since the last apply (to show field changes) and
    those whose fingerprint moved; with `--prune`, also the candidates for deletion (their
    references decide the order). Objects git does not define are read only when the scope
    needs their directory and the listing did not give it. A plan with nothing to do then costs
    the list calls only.
    """
    dirs = directories or {}
    managed = state.managed if state is not None else frozenset()
    out = {k for k in listed if k not in desired and not is_reserved(k)
           and scope_verdict(k, options.scope, None, dirs.get(k)) is None}
    present = {k for k in desired if k in listed}
    if state is None:
        return out | present
    out |= present - settled_since_apply(desired, listed, state, hashes)
    if options.prune:
        out |= {k for k in managed if k not in desired and k in listed}
    return out


def settled_since_apply(
    desired: Mapping[ObjectKey, Definition],
    listed: Mapping[ObjectKey, int],
    state: State,
    hashes: Mapping[ObjectKey, str] | None = None,
) -> set[ObjectKey]:
    """The defined objects neither git nor the workspace changed since the last apply: the list
    fingerprint is the one the state recorded, and so is the definition's content hash. What the
    workspace holds of them is what git defines; nothing need be read to know it."""
    digests = hashes if hashes is not None else definition_hashes(desired)
    return {key for key in desired if key in listed and (entry := state.objects.get(key)) is not None
            and entry.fingerprint == listed[key] and entry.content_hash == digests[key]}


def make_plan(
    desired: Mapping[ObjectKey, Definition],
    live: Mapping[ObjectKey, LiveObject],
    *,
    repo_rev: str,
    target: str,
    workspace: str,
    max_objects: int,
    max_bytes: int,
    size_of: SizeOf,
    api_calls: Mapping[str, int] | None = None,
    refresh_secrets: bool = False,
    listed: Mapping[ObjectKey, int] | None = None,
    state: State | None = None,
    options: PlanOptions | None = None,
    secret_fingerprints: Mapping[str, str] | None = None,
    base_rev: str | None = None,
    branch_changes: Iterable[ObjectKey] = (),
    target_settings: Mapping[str, Any] | None = None,
    hashes: Mapping[ObjectKey, str] | None = None,
    directories: Mapping[ObjectKey, str] | None = None,
) -> Plan:
    """Compare desired with live (and, given one, with the state of the last apply).

    `live` holds content for at least `keys_to_read(...)`; `listed` maps every object in the
    workspace to its list fingerprint (`lastUpdateTime`), by default the fingerprints in `live`;
    `hashes` are `definition_hashes(desired)` when the caller has them already; `directories`
    the Factory directories list entries gave (to judge the scope without content).

    Only the target's scope (`options.scope`) is looked at: workspace objects outside it are not
    listed as unmanaged, and never pruned.

    Without state: create what is missing, update what differs, leave the rest; objects only in
    the workspace are listed as unmanaged and never touched. With state, each object that moved
    since the last apply is classified: changed in git only (an import, `side=git`), in the
    workspace only (drift, `side=workspace`: apply reverts it to git; `jobsync export` adopts it
    instead), on both sides (a CONFLICT, refused by apply unless `take` settles it: `git`
    overwrites the workspace, `live` keeps it and reports it for export). With `prune`, objects
    the state manages that git no longer defines are deleted when inside `scope`, in reverse
    dependency order; a plan deleting more than `max_delete_share` of the managed objects raises
    PlanError unless `allow_mass_delete`.

    With `refresh_secrets`, unchanged objects that carry secrets are re-sent (rotation); with
    `secret_fingerprints` (reference text -> HMAC of today's value), those whose HMAC differs from
    the one the state recorded are re-sent as "secret changed". Reserved jobsync objects (state
    and lock scripts) are never planned.
    """
    opts = options or PlanOptions(refresh_secrets=refresh_secrets)
    refresh = refresh_secrets or opts.refresh_secrets
    fingerprints = dict(listed) if listed is not None else {k: v.updated for k, v in live.items()}
    fingerprints = {k: v for k, v in fingerprints.items() if not is_reserved(k)}
    rotated_refs = secret_fingerprints or {}
    digests = hashes if hashes is not None else (definition_hashes(desired) if state is not None else {})
    changes: list[Change] = []
    for key in sorted(desired):
        definition = desired[key]
        entry = state.objects.get(key) if state is not None else None
        if entry is None:
            changes.append(_two_way(definition, live.get(key), fingerprints.get(key), refresh,
                                    adopting=state is not None))
        else:
            changes.append(_three_way(definition, live.get(key), fingerprints.get(key), entry, opts, refresh,
                                      rotated_refs, digests[key]))
    orphans: list[Orphan] = []
    notes: list[str] = []
    dirs = directories or {}
    if state is not None:
        deletes, orphans = _removed_from_git(desired, live, fingerprints, dirs, state, opts)
        changes.extend(deletes)
        _guard_mass_delete(deletes, state, target, opts)
    elif opts.prune:
        notes.append(f'--prune deletes nothing yet: target {target} has no state (jobsync has not applied to it), '
                     'so no object in the workspace is known to be managed by jobsync')
    changes, skipped = _same_name(changes, opts.same_name)
    changes = _with_requirements(sorted(changes, key=lambda c: c.key), live)
    notes.extend(run_notes(changes, live))  # running jobs apply will stop, restart or wait for
    managed = state.managed if state is not None else frozenset()
    unmanaged = tuple(sorted(k for k in fingerprints if k not in desired and k not in managed
                             and scope_verdict(k, opts.scope, live.get(k), dirs.get(k))))
    batches = make_batches(changes, max_objects=max_objects, max_bytes=max_bytes, size_of=size_of)
    return Plan(repo_rev, target, workspace, tuple(changes), unmanaged, batches, dict(api_calls or {}),
                orphans=tuple(orphans), state_serial=state.serial if state is not None else None,
                base_rev=base_rev, branch_changes=tuple(sorted(set(branch_changes))),
                target_settings=dict(target_settings or {}), notes=tuple(notes), skipped=skipped)


def _same_name(changes: list[Change], policy: SameName) -> tuple[list[Change], tuple[ObjectKey, ...]]:
    """Under `skip`, writes to objects that exist in the workspace become skipped no-ops.

    A skipped change keeps its field differences (the plan shows what was left) but no desired
    content, so the state records nothing new for it: a later `--same-name overwrite` plan still
    sees the difference. Deletions (--prune) are not same-name decisions and stay.
    """
    if policy is SameName.OVERWRITE:
        return changes, ()
    out: list[Change] = []
    skipped: list[ObjectKey] = []
    for c in changes:
        if c.action in (Action.UPDATE, Action.CONFLICT) and c.live_updated is not None:
            c = replace(c, action=Action.NOOP, reason=f'{SKIPPED_REASON}; {c.reason}', desired=None)
            skipped.append(c.key)
        out.append(c)
    return out, tuple(sorted(skipped))


def _two_way(
    definition: Definition, current: LiveObject | None, fingerprint: int | None, refresh: bool, *, adopting: bool,
) -> Change:
    """An object the state does not know: desired against live only."""
    key, spec, source = definition.key, definition.spec, definition.source.label
    if fingerprint is None:
        return Change(key, Action.CREATE, 'not in the workspace', desired=spec, source=source)
    if current is None:
        raise ValueError(f'internal: the content of {key} was not read (see keys_to_read)')
    fields = tuple(diff_specs(key.kind, spec, current.spec))
    tail = ' (exists in the workspace, not yet applied by jobsync: adopting it)' if adopting else ''
    if fields:
        return Change(key, Action.UPDATE, _fields_reason(fields) + tail, fields, spec, fingerprint, source)
    if refresh and secrets.refs_in(spec):
        return Change(key, Action.UPDATE, 'carries secrets: re-sent to rotate them (--refresh-secrets)',
                      desired=spec, live_updated=fingerprint, source=source)
    return Change(key, Action.NOOP, 'matches the workspace' + tail, desired=spec, live_updated=fingerprint,
                  source=source)


def _three_way(
    definition: Definition, current: LiveObject | None, fingerprint: int | None, entry: ObjectState,
    opts: PlanOptions, refresh: bool, secret_fingerprints: Mapping[str, str], digest: str,
) -> Change:
    """An object jobsync applied before: which side moved since, and what to do about it."""
    key, spec, source = definition.key, definition.spec, definition.source.label
    git_moved = digest != entry.content_hash
    if fingerprint is None:  # gone from the workspace since the last apply
        if not git_moved:
            return Change(key, Action.CREATE, 'drift: deleted in the workspace since the last apply; '
                          'apply recreates it (delete it from git to adopt the deletion)',
                          desired=spec, source=source, side=Side.WORKSPACE)
        return _settle(Change(key, Action.CONFLICT, 'conflict: changed in git and deleted in the workspace since '
                              'the last apply', desired=spec, source=source, side=Side.BOTH),
                       opts.take, create=True)
    if not git_moved and fingerprint == entry.fingerprint:
        rotated = tuple(sorted(ref for ref, mac in entry.secrets.items()
                               if ref in secret_fingerprints and secret_fingerprints[ref] != mac))
        if rotated:
            return Change(key, Action.UPDATE, f'secret changed since the last apply: {", ".join(rotated)}',
                          desired=spec, live_updated=fingerprint, source=source, secrets_changed=rotated)
        if refresh and secrets.refs_in(spec):
            return Change(key, Action.UPDATE, 'carries secrets: re-sent to rotate them (--refresh-secrets)',
                          desired=spec, live_updated=fingerprint, source=source)
        # No `desired`: the state records it already (same content hash, same fingerprint), so apply
        # keeps that entry as it is; a no-op plan of 10,000 jobs does not carry 10,000 definitions.
        return Change(key, Action.NOOP, 'unchanged in git and in the workspace since the last apply',
                      live_updated=fingerprint, source=source)
    if current is None:
        raise ValueError(f'internal: the content of {key} was not read (see keys_to_read)')
    fields = tuple(diff_specs(key.kind, spec, current.spec))
    if not fields:
        why = 'matches the workspace' + (' (git and the workspace moved to the same content)'
                                         if git_moved and fingerprint != entry.fingerprint else '')
        return Change(key, Action.NOOP, why, desired=spec, live_updated=fingerprint, source=source)
    workspace_moved = (fingerprint != entry.fingerprint
                       and live_hash(key.kind, spec, current.spec) != entry.live_hash)
    if not workspace_moved:
        return Change(key, Action.UPDATE, _fields_reason(fields, 'from the workspace: changed in git'),
                      fields, spec, fingerprint, source, side=Side.GIT)
    if not git_moved:
        return Change(key, Action.UPDATE, _fields_reason(fields, 'from git: drift, changed in the workspace since '
                                                                 'the last apply; apply reverts it to git '
                                                                 '(`jobsync export` adopts it instead)'),
                      fields, spec, fingerprint, source, side=Side.WORKSPACE)
    return _settle(Change(key, Action.CONFLICT, _fields_reason(fields, 'and both git and the workspace changed '
                                                                        'since the last apply: conflict'),
                          fields, spec, fingerprint, source, side=Side.BOTH), opts.take)


def _settle(conflict: Change, take: Take | None, *, create: bool = False, delete: bool = False) -> Change:
    """A conflict as is, or settled by `--take`."""
    if take is None:
        return conflict
    if take is Take.GIT:
        action = Action.CREATE if create else Action.DELETE if delete else Action.UPDATE
        return replace(conflict, action=action, reason=f'{conflict.reason}; --take git: git wins')
    kept = '--take live: the workspace is kept (`jobsync export` brings it into git)'
    return replace(conflict, action=Action.EXPORT, reason=f'{conflict.reason}; {kept}')


def _removed_from_git(
    desired: Mapping[ObjectKey, Definition], live: Mapping[ObjectKey, LiveObject],
    fingerprints: Mapping[ObjectKey, int], directories: Mapping[ObjectKey, str], state: State, opts: PlanOptions,
) -> tuple[list[Change], list[Orphan]]:
    """Managed objects git no longer defines: deletions under --prune inside the scope, else orphans."""
    deletes: list[Change] = []
    orphans: list[Orphan] = []
    for key in sorted(state.objects):
        if key in desired or key not in fingerprints:
            continue  # still defined, or already gone from the workspace (the next state drops it)
        if not opts.prune:
            orphans.append(Orphan(key, 'removed from git; apply --prune deletes it'))
            continue
        if not scope_verdict(key, opts.scope, live.get(key), directories.get(key)):  # None: unknown, so outside
            orphans.append(Orphan(key, f'removed from git, but outside the target\'s scope ({opts.scope.describe()}): '
                                       'never pruned'))
            continue
        change = Change(key, Action.DELETE, 'managed by jobsync and removed from git (--prune)',
                        live_updated=fingerprints[key])
        if fingerprints[key] != state.objects[key].fingerprint:
            change = _settle(replace(change, action=Action.CONFLICT, side=Side.BOTH,
                                     reason='conflict: removed from git, and changed in the workspace since the '
                                            'last apply (--prune would lose that change)'),
                             opts.take, delete=True)
        deletes.append(change)
    return deletes, orphans


def _guard_mass_delete(changes: Sequence[Change], state: State, target: str, opts: PlanOptions) -> None:
    deleting = sum(1 for c in changes if c.action is Action.DELETE)
    managed = len(state.objects)
    allowed = max(1, math.floor(opts.max_delete_share * managed))
    if deleting > allowed and not opts.allow_mass_delete:
        raise PlanError(
            f'refusing a plan that deletes {deleting} of the {managed} objects jobsync manages in target {target} '
            f'(more than {opts.max_delete_share:.0%}, the limit: {allowed})',
            hint='check the repo is complete (a wrong --ref or a missing folder looks like mass deletion); '
                 'if the deletions are intended, re-run with --allow-mass-delete '
                 '(or raise prune.max_delete_share for the target in jobsync.yaml)',
        )


def _with_requirements(changes: list[Change], live: Mapping[ObjectKey, LiveObject]) -> list[Change]:
    """Upserts require the planned upserts they reference; deletions require the planned deletions
    of what references them (a job is deleted before the script it runs)."""
    planned = {c.key for c in changes if c.action in (Action.CREATE, Action.UPDATE)}
    deleted = {c.key for c in changes if c.action is Action.DELETE}
    users: dict[ObjectKey, set[ObjectKey]] = {}
    for key in deleted:
        if key in live:
            for ref in references(key, live[key].spec):
                if ref.target in deleted and ref.target != key:
                    users.setdefault(ref.target, set()).add(key)
    out = []
    for c in changes:
        if c.desired is not None and c.action in (Action.CREATE, Action.UPDATE):
            needs = sorted({r.target for r in references(c.key, c.desired) if r.target in planned} - {c.key})
            c = replace(c, requires=tuple(needs))
        elif c.action is Action.DELETE:
            c = replace(c, requires=tuple(sorted(users.get(c.key, ()))))
        out.append(c)
    return out


def branch_changes(
    desired: Mapping[ObjectKey, Definition], base: Mapping[ObjectKey, Definition],
) -> tuple[ObjectKey, ...]:
    """Definitions added, changed or removed relative to `base` (the definitions at `--base REV`)."""
    keys = set(desired) | set(base)
    return tuple(sorted(
        k for k in keys
        if k not in desired or k not in base
        or content_hash(k.kind, desired[k].spec) != content_hash(k.kind, base[k].spec)
    ))


def _job_waves(changes: Iterable[Change]) -> dict[ObjectKey, int]:
    """Dependency depth of each planned job among planned jobs (dependJobs): 0 needs no other."""
    jobs = {c.key: c for c in changes if c.key.kind == 'job'}
    depth: dict[ObjectKey, int] = {}

    def visit(key: ObjectKey, stack: frozenset[ObjectKey]) -> int:
        if key in depth:
            return depth[key]
        deps = [r for r in jobs[key].requires if r.kind == 'job' and r in jobs and r not in stack]
        depth[key] = 1 + max((visit(d, stack | {key}) for d in deps), default=-1)
        return depth[key]

    for key in jobs:
        visit(key, frozenset())
    return depth


def make_batches(
    changes: Sequence[Change], *, max_objects: int, max_bytes: int, size_of: SizeOf,
) -> tuple[tuple[ObjectKey, ...], ...]:
    """Upserts dependencies first, deletes last in reverse dependency order; one kind (and job wave) per batch.

    Each batch holds at most `max_objects` objects and its package is estimated under `max_bytes`.
    """
    todo = [c for c in changes if c.action in (Action.CREATE, Action.UPDATE, Action.DELETE)]
    waves = _job_waves(todo)

    def rank(c: Change) -> tuple[int, int, tuple[int, str, str]]:
        kind_rank = c.key.sort_key()[0]
        # Deletions run kinds in reverse; their `requires` are the deletions that must run first.
        return (-kind_rank if c.action is Action.DELETE else kind_rank, waves.get(c.key, 0), c.key.sort_key())

    upserts = sorted((c for c in todo if c.action is not Action.DELETE), key=rank)
    deletes = sorted((c for c in todo if c.action is Action.DELETE), key=rank)
    # The estimate is additive (overhead + one term per item): size each item once, then sum,
    # instead of re-estimating the growing batch (quadratic for 10,000 objects).
    overhead = size_of([])
    item_bytes = {c.key: size_of([(c.key, c.desired or {})]) - overhead for c in upserts}
    batches: list[tuple[ObjectKey, ...]] = []
    for ordered in (upserts, deletes):
        current: list[Change] = []
        current_bytes = overhead
        for c in ordered:
            size = item_bytes.get(c.key, 0)
            group_changed = current and rank(current[-1])[:2] != rank(c)[:2]
            too_many = len(current) >= max_objects
            too_big = current_bytes + size > max_bytes
            if current and (group_changed or too_many or too_big):
                batches.append(tuple(x.key for x in current))
                current, current_bytes = [], overhead
            current.append(c)
            current_bytes += size
        if current:
            batches.append(tuple(x.key for x in current))
    return tuple(batches)


def stale_changes(plan: Plan, listed: Mapping[ObjectKey, int]) -> list[tuple[ObjectKey, str]]:
    """Planned writes whose object changed in the workspace since the plan was made, and how.

    `listed` maps every object now in the workspace to its list fingerprint. A create is stale
    when the object now exists; an update or delete when its fingerprint moved or it is gone.
    """
    out = []
    for c in plan.writes:
        now = listed.get(c.key)
        if c.live_updated is None:
            if now is not None:
                out.append((c.key, 'now exists in the workspace (the plan creates it)'))
        elif now is None:
            out.append((c.key, 'was deleted from the workspace'))
        elif now != c.live_updated:
            out.append((c.key, 'was changed in the workspace'))
    return out


def summary_counts(plan: Plan) -> dict[str, int]:
    counts = {a.value: 0 for a in Action}
    for c in plan.changes:
        counts[c.action.value] += 1
    return counts

