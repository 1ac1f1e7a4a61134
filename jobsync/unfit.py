"""Workspace objects whose names cannot be file names in the repo (issue 12, item 9). Pure.

The console and the API let names through that no repo file can carry: `a/b`, `..`, `.`, the
empty name, names holding NUL or another control character, names longer than one path
component leaves room for (`export.MAX_FILE_NAME_BYTES`). One such object must not stop a
command for all the others: every command that reads the workspace sets it aside from the
listing, before it reads or writes anything, goes on with the rest, and names it at the end
(exit 1) with what to do. Such a name is not read either: a batch export has to put it in a zip
entry's name and a show call in a URL path, where `..` or `/` would address something else.

`export` asks more (`why_refused_for_export`): a name it would write to a file `validate` then
refuses (the service's name rules, `kinds.name_problem`, or a stem that marks a template, such
as `x.template`) is refused the same way, so an export never leaves a repo that does not validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from jobsync import kinds, templates
from jobsync.errors import Diagnostic
from jobsync.model import ObjectKey

_V = TypeVar('_V')

# A name must leave room in one path component (255 bytes on common file systems) for the
# longest suffix export writes (`.yaml`) and for the temporary name of a safe write
# (`.NAME.yaml.jobsync-tmp`, safewrite.py): 255 - len('.') - len('.yaml') - len('.jobsync-tmp').
MAX_FILE_NAME_BYTES = 237


def unsafe_name(name: str) -> str:
    """Why `name` cannot be a file name in the repo ('' when it can)."""
    if not name or name in ('.', '..'):
        return 'it is empty or a relative path segment'
    if any(c in name for c in '/\\') or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return 'it holds a path separator or a control character'
    if len(name.encode('utf-8')) > MAX_FILE_NAME_BYTES:
        return f'it is longer than {MAX_FILE_NAME_BYTES} bytes'
    return ''


HINT = 'rename it in the console (a name the service accepts that can be a file name), then run the command again'


@dataclass(frozen=True)
class Skipped:
    """A workspace object set aside because of its name, and why."""

    key: ObjectKey
    why: str

    def diagnostic(self) -> Diagnostic:
        return Diagnostic('error', f'skipped: its name cannot be a file name in the repo ({self.why})',
                          str(self.key), HINT)


def why_unfit(key: ObjectKey) -> str:
    """Why `key`'s name (or its CDM cluster's) cannot be a file name ('' when it can)."""
    why = unsafe_name(key.name)
    if not why and key.cluster:
        why = unsafe_name(key.cluster)
        return f'its cluster name: {why}' if why else ''
    return why


def why_refused_for_export(key: ObjectKey) -> str:
    """Why export must not write `key` (as named in git) to a file ('' when it may): not a file
    name, or a file name `validate` would refuse."""
    why = why_unfit(key)
    if why:
        return why
    if templates.is_template(key.name):
        return f'a file named {key.name}.yaml would be read as a template, not as one {key.kind}'
    problem = kinds.name_problem(key.kind, key.name)
    return f'validate would refuse the file: {problem}' if problem else ''


def split(entries: Mapping[ObjectKey, _V]) -> tuple[dict[ObjectKey, _V], tuple[Skipped, ...]]:
    """`entries` less the objects whose names cannot be file names, and those set aside."""
    fit: dict[ObjectKey, _V] = {}
    skipped: list[Skipped] = []
    for key, value in entries.items():
        why = why_unfit(key)
        if why:
            skipped.append(Skipped(key, why))
        else:
            fit[key] = value
    return fit, tuple(skipped)


def diagnostics(skipped: tuple[Skipped, ...]) -> tuple[Diagnostic, ...]:
    return tuple(s.diagnostic() for s in skipped)
