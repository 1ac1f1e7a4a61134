"""The records every stage passes along: keys, definitions, live objects.

Specs are plain JSON mappings in the service's own (API) form; the JSON Schemas in
`schemas/` are their type. Records are frozen: change them with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Kind = Literal['connection', 'resource', 'script', 'job', 'cdm-link', 'cdm-job']

# Apply order follows references: connections are used by scripts and nodes, links by CDM
# jobs, scripts/resources/CDM jobs by Factory job nodes. Deletions run in reverse.
APPLY_ORDER: tuple[Kind, ...] = ('connection', 'cdm-link', 'resource', 'script', 'cdm-job', 'job')
KINDS: tuple[Kind, ...] = get_args(Kind)
CDM_KINDS: frozenset[Kind] = frozenset({'cdm-link', 'cdm-job'})
_RANK = {kind: rank for rank, kind in enumerate(APPLY_ORDER)}

Spec = dict[str, Any]

# The service's batch limits; jobsync.yaml `batch` may lower them per target (config.py).
MAX_EXPORT_JOBS = 100  # batch-export `jobList` limit (reference §4.6, §10)
MAX_PACKAGE_BYTES = 1024 * 1024  # import package limit (reference §4.7, §10)


class ObjectKey(tuple[int, str, str, str]):
    """The one identity of an object: in plans, logs, errors and sort order.

    `cluster` is the CDM cluster *name* for `cdm-link` and `cdm-job`, and empty otherwise.

    A tuple underneath, laid out in sort order (apply order, cluster, name; then the kind, which
    the rank already decides): hashing, equality and sorting run in C. A large plan hashes and
    compares keys millions of times (issue 14: a dataclass's Python `__eq__` and `__lt__` were a
    tenth of a no-op plan's CPU outside parsing).
    """

    __slots__ = ()
    __match_args__ = ('kind', 'name', 'cluster')

    def __new__(cls, kind: Kind, name: str, cluster: str = '') -> ObjectKey:
        rank = _RANK.get(kind)
        if rank is None:
            raise ValueError(f'unknown kind {kind!r}')
        if (kind in CDM_KINDS) != bool(cluster):
            raise ValueError(f'{kind} keys {"need" if kind in CDM_KINDS else "take no"} cluster')
        return tuple.__new__(cls, (rank, cluster, name, kind))

    def __getnewargs__(self) -> tuple[Kind, str, str]:
        return self.kind, self.name, self.cluster  # copy and pickle build it as ObjectKey(...) does

    @property
    def kind(self) -> Kind:
        return self[3]  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return self[2]

    @property
    def cluster(self) -> str:
        return self[1]

    def __repr__(self) -> str:
        return f'ObjectKey(kind={self.kind!r}, name={self.name!r}, cluster={self.cluster!r})'

    def __str__(self) -> str:
        if self[1]:
            return f'{self[3]}/{self[1]}/{self[2]}'
        return f'{self[3]}/{self[2]}'

    def sort_key(self) -> tuple[int, str, str]:
        """Apply order first, then cluster and name: deterministic everywhere (the tuple's own order)."""
        return (self[0], self[1], self[2])

    @classmethod
    def parse(cls, text: str) -> ObjectKey:
        """Inverse of `str(key)`: 'job/daily', 'cdm-link/cdm-prod/mysql_src'."""
        kind, _, rest = text.partition('/')
        if kind not in KINDS or not rest:
            raise ValueError(f'not an object key: {text!r} (expected KIND/NAME, KIND one of {", ".join(KINDS)})')
        if kind in CDM_KINDS:
            cluster, _, name = rest.partition('/')
            return cls(kind, name, cluster)
        return cls(kind, rest)


# slots=True on the classes a large plan holds tens of thousands of (definitions, listing entries,
# state entries, changes): a third of their memory.
@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a definition came from: a path relative to the repo root, and a line when known.

    `origin` is the place inside the file the definition comes from when the file is not the
    definition itself: `/params/3` for the fourth parameter set of a template.
    """

    path: str
    line: int | None = None
    origin: str = ''

    def at(self, pointer: str = '') -> str:
        where = self.path if self.line is None else f'{self.path}:{self.line}'
        return f'{where}#{pointer}' if pointer else where

    @property
    def label(self) -> str:
        """For plans and messages: `jobs/daily.yaml`, `cdm/c/jobs/tables.template.yaml#/params/3`."""
        return f'{self.path}#{self.origin}' if self.origin else self.path


@dataclass(frozen=True, slots=True)
class Definition:
    """One desired object, from git, in API form (secrets still as references)."""

    key: ObjectKey
    spec: Spec
    source: SourceRef


@dataclass(frozen=True, slots=True)
class LiveObject:
    """One object as the workspace returns it.

    Write-only values come back masked (`Add password here`, `*********`) or absent;
    callers must not treat that as drift. `updated` is the list call's `lastUpdateTime`
    (epoch ms), the cheap fingerprint that tells whether content must be fetched again.
    """

    key: ObjectKey
    spec: Spec
    updated: int
    status: str | None = None
