"""jobsync.yaml: targets (workspaces), batch limits, the default target, and per-target environments.

A target may carry what differs between environments (README "Environments"): `variables`
(`${var:NAME}` in definitions; top-level `variables` are defaults every target may override),
`remap` (names in git -> names in the target, remap.py), `scope` (the part of a shared
workspace the target owns, scope.py) and `expressionTimeZone` (for schedules that set none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobsync.errors import UsageError
from jobsync.model import MAX_EXPORT_JOBS, MAX_PACKAGE_BYTES, Kind
from jobsync.scope import Scope, parse_scope

CONFIG_FILES = ('jobsync.yaml', 'jobsync.yml')
DEFAULT_TARGET = 'local'
DEFAULT_WORKSPACE = 'local:.jobsync/workspace.db'
DEFAULT_MAX_DELETE_SHARE = 0.25  # --prune refuses to delete more of the managed objects than this


@dataclass(frozen=True)
class Target:
    """One workspace the repo is applied to.

    `workspace` is `local:PATH` (PATH relative to the repo root unless absolute) or `dataarts`.
    `settings` is the target's whole mapping from jobsync.yaml, for backends needing more.
    `variables` are the top-level defaults merged with the target's own; `remap` maps a
    section (`connections`, `cdm_clusters`, ...) to {name in git: name in this target};
    `expression_time_zone` is set on schedules that name no zone.
    """

    name: str
    workspace: str = DEFAULT_WORKSPACE
    max_objects: int = MAX_EXPORT_JOBS
    max_bytes: int = MAX_PACKAGE_BYTES
    settings: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    remap: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    expression_time_zone: str | None = None
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE
    same_name: str = 'overwrite'  # `same_name` in jobsync.yaml: skip | overwrite (plan.SameName)


@dataclass(frozen=True)
class RepoConfig:
    targets: Mapping[str, Target]
    default_target: str
    source: str | None = None  # the config file's path, None when the repo has none
    # Extra secret fields per kind (JSON pointers with `*`), on top of the built-in rules.
    secret_fields: Mapping[Kind, tuple[str, ...]] = field(default_factory=dict)

    def target(self, name: str | None) -> Target:
        chosen = name or self.default_target
        if chosen not in self.targets:
            known = ', '.join(sorted(self.targets)) or '(none)'
            where = self.source or 'the built-in defaults (no jobsync.yaml)'
            raise UsageError(f'target {chosen!r} is not defined in {where}', hint=f'known targets: {known}')
        return self.targets[chosen]


def default_config() -> RepoConfig:
    """No jobsync.yaml: the embedded workspace `.jobsync/workspace.db` under the repo root."""
    return RepoConfig({DEFAULT_TARGET: Target(DEFAULT_TARGET)}, DEFAULT_TARGET)


def parse_config(doc: Mapping[str, Any], source: str) -> RepoConfig:
    """Build the config from a schema-valid jobsync.yaml document."""
    targets: dict[str, Target] = {}
    defaults = doc.get('variables') or {}
    for name, raw in (doc.get('targets') or {}).items():
        batch = raw.get('batch') or {}
        targets[name] = Target(
            name=name,
            workspace=raw.get('workspace', DEFAULT_WORKSPACE),
            max_objects=batch.get('max_objects', MAX_EXPORT_JOBS),
            max_bytes=batch.get('max_bytes', MAX_PACKAGE_BYTES),
            settings=raw,
            variables={**defaults, **(raw.get('variables') or {})},
            remap={section: dict(names or {}) for section, names in (raw.get('remap') or {}).items()},
            scope=parse_scope(raw.get('scope')),
            expression_time_zone=raw.get('expressionTimeZone'),
            max_delete_share=float((raw.get('prune') or {}).get('max_delete_share', DEFAULT_MAX_DELETE_SHARE)),
            same_name=str(raw.get('same_name', 'overwrite')),
        )
    if not targets:
        targets = {DEFAULT_TARGET: Target(DEFAULT_TARGET, variables=dict(defaults))}
    default = doc.get('default_target') or (DEFAULT_TARGET if DEFAULT_TARGET in targets else sorted(targets)[0])
    secret_fields = {kind: tuple(patterns) for kind, patterns in (doc.get('secret_fields') or {}).items()}
    return RepoConfig(targets, default, source, secret_fields)
