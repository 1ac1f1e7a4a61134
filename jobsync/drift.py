"""Drift: what the workspace holds that git does not. Pure.

Drift is `plan` seen from the other side. Where `plan` says "apply would set this field to git's
value", drift says "someone changed this field in the console, to this value": the live value is
the new one. Three kinds:

* `changed`  an object in both whose content differs (fields: before = git, after = workspace);
* `added`    an object only in the workspace (created in the console);
* `missing`  an object in git the workspace lacks (deleted in the console, or never applied).

Without state every difference is drift. `classify` is the one place that decides, and takes an
optional `Baseline`: the `lastUpdateTime` each object had right after jobsync last wrote it (the
state arrives with another issue). With it, a difference the workspace did not cause is not drift
but `pending` (git moved ahead; apply will carry it): an object unchanged since jobsync wrote it,
or an object in git that jobsync never created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from jobsync.diff import FieldChange, diff_specs
from jobsync.model import Definition, LiveObject, ObjectKey

# The lastUpdateTime (epoch ms) each object had right after jobsync last wrote it.
Baseline = Mapping[ObjectKey, int]


class DriftKind(str, Enum):
    CHANGED = 'changed'
    ADDED = 'added'
    MISSING = 'missing'
    PENDING = 'pending'  # differs, but because git moved (needs a baseline): apply's business, not drift


@dataclass(frozen=True)
class DriftItem:
    key: ObjectKey
    kind: DriftKind
    reason: str
    fields: tuple[FieldChange, ...] = ()  # before = git, after = workspace
    source: str | None = None  # the repo file, when git has the object
    live_updated: int | None = None


@dataclass(frozen=True)
class DriftReport:
    repo_rev: str
    target: str
    workspace: str
    items: tuple[DriftItem, ...]  # sorted by key; in-sync objects are not listed
    in_sync: int
    api_calls: Mapping[str, int] = field(default_factory=dict)
    # Not compared: (key, why) of workspace objects whose names cannot be file names (issue 12).
    skipped: tuple[tuple[ObjectKey, str], ...] = ()

    @property
    def drifted(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.kind is not DriftKind.PENDING)

    @property
    def has_drift(self) -> bool:
        return bool(self.drifted)

    def count(self, kind: DriftKind) -> int:
        return sum(1 for i in self.items if i.kind is kind)


def _plural(n: int, word: str) -> str:
    return f'{n} {word}{"s" if n != 1 else ""}'


def classify(
    key: ObjectKey,
    desired: Definition | None,
    live: LiveObject | None,
    baseline: Baseline | None = None,
) -> DriftItem | None:
    """The drift of one object, or None when git and the workspace agree."""
    if desired is not None and live is not None:
        changes = diff_specs(key.kind, desired.spec, live.spec)
        if not changes:
            return None
        fields = tuple(FieldChange(c.pointer, c.after, c.before) for c in changes)
        if baseline is not None and baseline.get(key) == live.updated:
            return DriftItem(key, DriftKind.PENDING, f'git changed {_plural(len(fields), "field")}; '
                             'the workspace did not', fields, desired.source.path, live.updated)
        return DriftItem(key, DriftKind.CHANGED, f'{_plural(len(fields), "field")} changed in the workspace',
                         fields, desired.source.path, live.updated)
    if live is not None:
        return DriftItem(key, DriftKind.ADDED, 'only in the workspace (created in the console)',
                         live_updated=live.updated)
    if desired is not None:
        if baseline is not None and key not in baseline:
            return DriftItem(key, DriftKind.PENDING, 'not applied yet', source=desired.source.path)
        return DriftItem(key, DriftKind.MISSING, 'in git, missing from the workspace', source=desired.source.path)
    return None


def detect_drift(
    desired: Mapping[ObjectKey, Definition],
    live: Mapping[ObjectKey, LiveObject],
    *,
    repo_rev: str,
    target: str,
    workspace: str,
    baseline: Baseline | None = None,
    api_calls: Mapping[str, int] | None = None,
) -> DriftReport:
    """Compare every object git or the workspace has; see the module docstring for the kinds."""
    items: list[DriftItem] = []
    in_sync = 0
    for key in sorted(set(desired) | set(live)):
        item = classify(key, desired.get(key), live.get(key), baseline)
        if item is None:
            in_sync += 1
        else:
            items.append(item)
    return DriftReport(repo_rev, target, workspace, tuple(items), in_sync, dict(api_calls or {}))
