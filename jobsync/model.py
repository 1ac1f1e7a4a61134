"""The records every stage passes along: keys, definitions, live objects.

Specs are plain JSON mappings in the service's own (API) form; the JSON Schemas in
`schemas/` are their type. Records are frozen: change them with `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


# slots=True on the classes a large plan holds tens of thousands of (keys, definitions, listing
# entries, state entries, changes): a third of their memory.
@dataclass(frozen=True, slots=True)
class ObjectKey:
    """The one identity of an object: in plans, logs, errors and sort order.

    `cluster` is the CDM cluster *name* for `cdm-link` and `cdm-job`, and empty otherwise.
    """

    kind: Kind
    name: str
    cluster: str = ''
    # Computed once: keys are hashed millions of times in a large plan (dicts and sets of keys).
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f'unknown kind {self.kind!r}')
        if (self.kind in CDM_KINDS) != bool(self.cluster):
            raise ValueError(f'{self.kind} keys {"need" if self.kind in CDM_KINDS else "take no"} cluster')
        object.__setattr__(self, '_hash', hash((self.kind, self.name, self.cluster)))

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        if self.cluster:
            return f'{self.kind}/{self.cluster}/{self.name}'
        return f'{self.kind}/{self.name}'

    def __lt__(self, other: ObjectKey) -> bool:
        return self.sort_key() < other.sort_key()

    def sort_key(self) -> tuple[int, str, str]:
        """Apply order first, then cluster and name: deterministic everywhere."""
        return (_RANK[self.kind], self.cluster, self.name)

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
