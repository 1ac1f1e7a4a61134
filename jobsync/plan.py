"""The plan: what apply will do, as a versioned document. Pure.

A plan is never re-decided during apply: apply checks it is still fresh and executes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from jobsync import secrets
from jobsync.diff import FieldChange, diff_specs
from jobsync.errors import PlanError
from jobsync.model import Definition, LiveObject, ObjectKey, Spec
from jobsync.refs import references

FORMAT_VERSION = 1


class Action(str, Enum):
    CREATE = 'create'
    UPDATE = 'update'
    DELETE = 'delete'
    EXPORT = 'export'
    NOOP = 'noop'
    CONFLICT = 'conflict'


@dataclass(frozen=True)
class Change:
    """What happens to one object, and why (the reason is for people; code never branches on it)."""

    key: ObjectKey
    action: Action
    reason: str
    fields: tuple[FieldChange, ...] = ()
    desired: Spec | None = None  # API form, secrets as references
    live_updated: int | None = None  # the live lastUpdateTime this change was planned against
    source: str | None = None  # repo file of the definition (`file#/params/N` for a template's)
    requires: tuple[ObjectKey, ...] = ()  # planned objects this one references: written first


@dataclass(frozen=True)
class Plan:
    repo_rev: str
    target: str
    workspace: str
    changes: tuple[Change, ...]
    unmanaged: tuple[ObjectKey, ...] = ()  # in the workspace, not in git: reported, left alone
    batches: tuple[tuple[ObjectKey, ...], ...] = ()
    api_calls: Mapping[str, int] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action not in (Action.NOOP,))

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def change(self, key: ObjectKey) -> Change:
        for c in self.changes:
            if c.key == key:
                return c
        raise KeyError(str(key))


# Upper bound of an import package's bytes for some items; must be additive: size_of([]) plus one
# term per item (package.estimate_package_bytes is).
SizeOf = Callable[[Sequence[tuple[ObjectKey, Spec]]], int]


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
) -> Plan:
    """Compare desired with live: create what is missing, update what differs, leave the rest.

    Objects only in the workspace are listed as unmanaged and never touched here. With
    `refresh_secrets`, unchanged objects that carry secrets are re-sent (rotation): the service
    never reads a secret back, so a rotated value cannot show up as a difference.
    """
    changes: list[Change] = []
    for key in sorted(desired):
        definition = desired[key]
        current = live.get(key)
        if current is None:
            changes.append(Change(key, Action.CREATE, 'not in the workspace', desired=definition.spec,
                                  source=definition.source.label))
            continue
        fields = tuple(diff_specs(key.kind, definition.spec, current.spec))
        if fields:
            reason = f'{len(fields)} field{"s" if len(fields) != 1 else ""} differ{"s" if len(fields) == 1 else ""} ' \
                     'from the workspace'
            changes.append(Change(key, Action.UPDATE, reason, fields, definition.spec, current.updated,
                                  definition.source.label))
        elif refresh_secrets and secrets.refs_in(definition.spec):
            changes.append(Change(key, Action.UPDATE, 'carries secrets: re-sent to rotate them (--refresh-secrets)',
                                  desired=definition.spec, live_updated=current.updated,
                                  source=definition.source.label))
        else:
            changes.append(Change(key, Action.NOOP, 'matches the workspace', desired=definition.spec,
                                  live_updated=current.updated, source=definition.source.label))
    changes = _with_requirements(changes)
    unmanaged = tuple(sorted(k for k in live if k not in desired))
    batches = make_batches(changes, max_objects=max_objects, max_bytes=max_bytes, size_of=size_of)
    return Plan(repo_rev, target, workspace, tuple(changes), unmanaged, batches, dict(api_calls or {}))


def _with_requirements(changes: list[Change]) -> list[Change]:
    planned = {c.key for c in changes if c.action in (Action.CREATE, Action.UPDATE)}
    out = []
    for c in changes:
        if c.desired is not None and c.action in (Action.CREATE, Action.UPDATE):
            needs = sorted({r.target for r in references(c.key, c.desired) if r.target in planned} - {c.key})
            c = Change(c.key, c.action, c.reason, c.fields, c.desired, c.live_updated, c.source, tuple(needs))
        out.append(c)
    return out


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
    """Upserts dependencies first, deletes last and reversed; one kind (and job wave) per batch.

    Each batch holds at most `max_objects` objects and its package is estimated under `max_bytes`.
    """
    todo = [c for c in changes if c.action in (Action.CREATE, Action.UPDATE, Action.DELETE)]
    waves = _job_waves(todo)

    def rank(c: Change) -> tuple[int, int, tuple[int, str, str]]:
        return (c.key.sort_key()[0], waves.get(c.key, 0), c.key.sort_key())

    upserts = sorted((c for c in todo if c.action is not Action.DELETE), key=rank)
    deletes = sorted((c for c in todo if c.action is Action.DELETE), key=rank, reverse=True)
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


# --- the plan as a document -------------------------------------------------------------------

def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan document (schemas/plan.schema.json). Secrets appear only as references."""
    return {
        'format_version': plan.format_version,
        'repo_rev': plan.repo_rev,
        'target': plan.target,
        'workspace': plan.workspace,
        'summary': summary_counts(plan),
        'changes': [
            {
                'key': str(c.key),
                'action': c.action.value,
                'reason': c.reason,
                'source': c.source,
                'live_updated': c.live_updated,
                'requires': [str(k) for k in c.requires],
                'fields': [{'pointer': f.pointer, 'before': secrets.to_jsonable(f.before),
                            'after': secrets.to_jsonable(f.after)} for f in c.fields],
                'desired': secrets.to_jsonable(c.desired),
            }
            for c in plan.changes
        ],
        'unmanaged': [str(k) for k in plan.unmanaged],
        'batches': [[str(k) for k in batch] for batch in plan.batches],
        'api_calls': dict(sorted(plan.api_calls.items())),
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + '\n'


def plan_from_json(text: str) -> Plan:
    """Read a saved plan; refuses unknown format versions."""
    try:
        doc = json.loads(text)
        version = doc.get('format_version')
        if version != FORMAT_VERSION:
            raise PlanError(f'plan format_version {version!r} is not supported (this jobsync reads {FORMAT_VERSION})',
                            hint='re-run plan with this version of jobsync')
        changes = tuple(
            Change(
                key=ObjectKey.parse(c['key']),
                action=Action(c['action']),
                reason=c['reason'],
                fields=tuple(FieldChange(f['pointer'], secrets.parse_placeholders(f['before']),
                                         secrets.parse_placeholders(f['after'])) for f in c['fields']),
                desired=secrets.parse_placeholders(c['desired']),
                live_updated=c['live_updated'],
                source=c['source'],
                requires=tuple(ObjectKey.parse(k) for k in c['requires']),
            )
            for c in doc['changes']
        )
        return Plan(
            repo_rev=doc['repo_rev'], target=doc['target'], workspace=doc['workspace'], changes=changes,
            unmanaged=tuple(ObjectKey.parse(k) for k in doc['unmanaged']),
            batches=tuple(tuple(ObjectKey.parse(k) for k in b) for b in doc['batches']),
            api_calls=doc.get('api_calls', {}), format_version=version,
        )
    except PlanError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise PlanError(f'not a jobsync plan file: {err}', hint='pass a file written by `jobsync plan --out`') from None


def summary_counts(plan: Plan) -> dict[str, int]:
    counts = {a.value: 0 for a in Action}
    for c in plan.changes:
        counts[c.action.value] += 1
    return counts
