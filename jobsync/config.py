"""jobsync.yaml: targets (workspaces), batch limits, and the default target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobsync.errors import UsageError
from jobsync.model import Kind, ObjectKey
from jobsync.workspace.base import MAX_EXPORT_JOBS, MAX_PACKAGE_BYTES

CONFIG_FILES = ('jobsync.yaml', 'jobsync.yml')
DEFAULT_MAX_DELETE_SHARE = 0.25  # --prune refuses to delete more of the managed objects than this
_DIRECTORY_KINDS: frozenset[Kind] = frozenset({'job', 'script', 'resource'})  # Factory objects with a directory


@dataclass(frozen=True)
class Scope:
    """The part of a workspace a target owns: Factory directories and name prefixes.

    Empty tuples mean no restriction. An object is inside when its name starts with one of
    `name_prefixes` (if any are given) and, for jobs, scripts and resources, its directory is
    one of `directories` or below one (if any are given). `--prune` deletes only inside.
    """

    directories: tuple[str, ...] = ()
    name_prefixes: tuple[str, ...] = ()

    @property
    def needs_directory(self) -> bool:
        return bool(self.directories)

    def contains(self, key: ObjectKey, directory: str | None) -> bool:
        """Whether `key` is inside; `directory` is the live object's (None: unknown, so outside)."""
        if self.name_prefixes and not key.name.startswith(self.name_prefixes):
            return False
        if self.directories and key.kind in _DIRECTORY_KINDS:
            if directory is None:
                return False
            here = '/' + directory.strip('/')
            return any(here == d or here.startswith(d.rstrip('/') + '/') or d == '/'
                       for d in ('/' + d.strip('/') for d in self.directories))
        return True

    def describe(self) -> str:
        parts = []
        if self.directories:
            parts.append('directories ' + ', '.join(self.directories))
        if self.name_prefixes:
            parts.append('name prefixes ' + ', '.join(self.name_prefixes))
        return '; '.join(parts) or 'the whole workspace'

DEFAULT_TARGET = 'local'
DEFAULT_WORKSPACE = 'local:.jobsync/workspace.db'


@dataclass(frozen=True)
class Target:
    """One workspace the repo is applied to.

    `workspace` is `local:PATH` (PATH relative to the repo root unless absolute) or `dataarts`.
    `settings` is the target's whole mapping from jobsync.yaml, for backends needing more.
    """

    name: str
    workspace: str = DEFAULT_WORKSPACE
    max_objects: int = MAX_EXPORT_JOBS
    max_bytes: int = MAX_PACKAGE_BYTES
    settings: Mapping[str, Any] = field(default_factory=dict)
    scope: Scope = field(default_factory=Scope)
    max_delete_share: float = DEFAULT_MAX_DELETE_SHARE


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
    for name, raw in (doc.get('targets') or {}).items():
        batch = raw.get('batch') or {}
        scope = raw.get('scope') or {}
        targets[name] = Target(
            name=name,
            workspace=raw.get('workspace', DEFAULT_WORKSPACE),
            max_objects=batch.get('max_objects', MAX_EXPORT_JOBS),
            max_bytes=batch.get('max_bytes', MAX_PACKAGE_BYTES),
            settings=raw,
            scope=Scope(tuple(scope.get('directories') or ()), tuple(scope.get('name_prefixes') or ())),
            max_delete_share=float((raw.get('prune') or {}).get('max_delete_share', DEFAULT_MAX_DELETE_SHARE)),
        )
    if not targets:
        targets = dict(default_config().targets)
    default = doc.get('default_target') or (DEFAULT_TARGET if DEFAULT_TARGET in targets else sorted(targets)[0])
    secret_fields = {kind: tuple(patterns) for kind, patterns in (doc.get('secret_fields') or {}).items()}
    return RepoConfig(targets, default, source, secret_fields)
