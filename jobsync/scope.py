"""A target's scope: the part of a shared workspace that one repo (one team) owns.

Pure. `plan` lists as unmanaged only what is inside scope, `validate` refuses definitions
outside it, and `export` and `--prune` (later) act only inside it, so two teams can apply
two repos to one workspace without seeing or touching each other's objects.

A scope has two optional criteria (jobsync.yaml `targets.<name>.scope`):

* `directories`: Factory folders (`/team_a/`); an object whose kind has a folder (job, script,
  resource) is inside when its `directory` is one of them or below one of them;
* `prefixes`: name prefixes (`team_a_`); an object is inside when its name starts with one.

Every criterion that is set and applies to the object's kind must hold (AND): a job must sit
in one of the directories *and*, when prefixes are set, carry one of the prefixes. Kinds
without a folder (connections, CDM links and jobs) are judged by prefixes alone, and are
inside any scope that sets no prefixes. An empty scope holds everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobsync.model import Kind, ObjectKey, Spec

# Kinds the Factory files in folders (reference §4.2 `directory`, §5, §6); the others have none.
DIRECTORY_KINDS: frozenset[Kind] = frozenset({'job', 'script', 'resource'})


@dataclass(frozen=True)
class Scope:
    """Directories and name prefixes a target owns; both empty means the whole workspace."""

    directories: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    @property
    def is_everything(self) -> bool:
        return not self.directories and not self.prefixes

    def describe(self) -> str:
        """For messages: `directories /team_a/ and name prefixes team_a_`."""
        parts = []
        if self.directories:
            parts.append('directories ' + ', '.join(self.directories))
        if self.prefixes:
            parts.append('name prefixes ' + ', '.join(self.prefixes))
        return ' and '.join(parts) or 'the whole workspace'


def parse_scope(raw: Mapping[str, Any] | None) -> Scope:
    """The scope from a schema-valid `scope` mapping (None: no scope, the whole workspace)."""
    if not raw:
        return Scope()
    return Scope(tuple(raw.get('directories') or ()), tuple(raw.get('prefixes') or ()))


def normalise_directory(directory: str) -> str:
    """`team_a/`, `/team_a/`, `/team_a` -> `/team_a`; `''` and `/` -> `/`."""
    trimmed = directory.strip().strip('/')
    return f'/{trimmed}' if trimmed else '/'


def directory_of(key: ObjectKey, spec: Spec) -> str | None:
    """The object's folder (`/` when unset, as the service files it), or None for kinds without one."""
    if key.kind not in DIRECTORY_KINDS:
        return None
    value = spec.get('directory')
    return normalise_directory(value) if isinstance(value, str) else '/'


def _under(directory: str, parents: tuple[str, ...]) -> bool:
    for parent in parents:
        base = normalise_directory(parent)
        if base == '/' or directory == base or directory.startswith(base + '/'):
            return True
    return False


def may_be_in_scope(key: ObjectKey, scope: Scope) -> bool:
    """Whether `key` can be inside `scope` judging by its name alone.

    False means certainly outside (no need to read the object); True means `in_scope` on its
    content decides. Useful to skip reading workspace objects that belong to someone else.
    """
    return not scope.prefixes or key.name.startswith(scope.prefixes)


def in_scope(key: ObjectKey, spec: Spec, scope: Scope) -> bool:
    """Whether the object `key` with content `spec` (API or repo form) is inside `scope`."""
    if not may_be_in_scope(key, scope):
        return False
    directory = directory_of(key, spec)
    if directory is None or not scope.directories:
        return True
    return _under(directory, scope.directories)


def why_outside(key: ObjectKey, spec: Spec, scope: Scope) -> str:
    """In words, why `in_scope` is False for this object ('' when it is inside)."""
    if not may_be_in_scope(key, scope):
        return f'its name does not start with {" or ".join(repr(p) for p in scope.prefixes)}'
    directory = directory_of(key, spec)
    if directory is not None and scope.directories and not _under(directory, scope.directories):
        return f'its directory {directory!r} is not under {" or ".join(repr(d) for d in scope.directories)}'
    return ''
