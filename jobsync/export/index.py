"""Where the repo keeps each object: the repo's files indexed per object, read leniently. Pure.

A file that does not parse still tells where its object lives, because exporting is how a broken
or half-adopted repo gets repaired.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from jobsync import codec, secrets, templates, yamlio
from jobsync.errors import ConfigError, Diagnostic
from jobsync.gitrepo import Snapshot
from jobsync.load import DEFINITION_SUFFIXES, EXPORT_SUFFIXES, SIDECAR_SUFFIXES, load_repo, locate
from jobsync.model import Definition, Kind, ObjectKey, Spec

# The file-name rule lives in unfit.py (issue 12, item 9); export's callers import it from here too.
from jobsync.unfit import MAX_FILE_NAME_BYTES as MAX_FILE_NAME_BYTES
from jobsync.unfit import unsafe_name as unsafe_name

_FOLDER: dict[Kind, str] = {'connection': 'connections', 'resource': 'resources', 'script': 'scripts', 'job': 'jobs'}
_CDM_FOLDER: dict[Kind, str] = {'cdm-link': 'links', 'cdm-job': 'jobs'}


@dataclass(frozen=True)
class RepoEntry:
    """Where git keeps one object, and what the file says (`data`: None when it does not parse as a mapping)."""

    key: ObjectKey
    path: str
    sidecar: str | None = None  # scripts: the content file, when there is one
    content: str | None = None  # scripts: the sidecar's text
    header: str = ''  # YAML: the leading comment block, kept when the file must be rewritten whole
    raw: bytes = b''  # the file as it is: a rewrite changes only what changed in it

    @functools.cached_property
    def data(self) -> dict[str, Any] | None:
        """The file parsed, on first use: an export of an in-sync repo parses none (the loaded
        definitions say what git holds; only a file to be written, or a repo that does not load,
        is read here)."""
        doc, _problems = yamlio.parse(self.path, self.raw)
        return doc.data if doc is not None and isinstance(doc.data, dict) else None


def _header(raw: bytes) -> str:
    """The leading comment block of a YAML file (comments and blank lines before the first field)."""
    if not raw[:1].isspace() and not raw.startswith(b'#'):
        return ''  # most files start with their first field
    lines = raw.decode('utf-8', errors='replace').splitlines(keepends=True)
    out: list[str] = []
    for line in lines:
        if line.lstrip().startswith('#') or not line.strip():
            out.append(line)
        else:
            break
    text = ''.join(out)
    return text if not text or text.endswith('\n') else text + '\n'


def index_repo(files: Mapping[str, bytes]) -> dict[ObjectKey, RepoEntry]:
    """Every object the repo defines, by key, with its file; unparsable files are kept with `data` None.

    When a key is defined twice the first file in path order wins (`validate` reports the other).
    """
    out: dict[ObjectKey, RepoEntry] = {}
    for rel in sorted(files):
        loc = locate(rel)
        if loc is None or (loc.kind == 'script' and loc.suffix in SIDECAR_SUFFIXES):
            continue
        if loc.suffix not in DEFINITION_SUFFIXES and loc.suffix != EXPORT_SUFFIXES.get(loc.kind):
            continue
        if templates.is_template(loc.stem):  # generates several objects: known through `load_repo` only
            continue
        key = ObjectKey(loc.kind, loc.stem, loc.cluster)
        if key in out:
            continue
        sidecar = content = None
        if loc.kind == 'script':
            for suffix in SIDECAR_SUFFIXES:
                candidate = f'{loc.folder}/{loc.stem}{suffix}'
                if candidate in files:
                    sidecar = candidate
                    content = files[candidate].decode('utf-8', errors='replace')
                    break
        header = _header(files[rel]) if loc.suffix in ('.yaml', '.yml') else ''
        out[key] = RepoEntry(key, rel, sidecar, content, header, files[rel])
    return out


def load_for_target(
    snapshot: Snapshot, target: str | None, present: Collection[ObjectKey] | None = None,
) -> tuple[dict[ObjectKey, Definition] | None, tuple[Diagnostic, ...]]:
    """The repo's definitions as they apply to `target` (None, with a warning, when it does not load).

    `present` are the workspace's keys, which references may point at (an object not exported yet).
    """
    try:
        return load_repo(snapshot, target, present=present).desired, ()
    except ConfigError as err:
        errors = sum(1 for d in err.diagnostics if d.severity == 'error')
        return None, (Diagnostic(
            'warning', f'the repo does not validate ({errors} problem(s)); its files are matched with the workspace '
                       'by name, without the target\'s variables, remapping and templates',
            hint='run `jobsync validate` to see the problems'),)


def entry_spec(entry: RepoEntry) -> Spec:
    """The entry's definition in API form, secrets as references (empty for an unreadable file)."""
    if entry.data is None:
        return {}
    inline = 'content' in entry.data
    spec = codec.from_repo(entry.key.kind, entry.data, None if inline else entry.content)
    spec.setdefault(codec.NAME_FIELD[entry.key.kind], entry.key.name)
    parsed: Spec = secrets.parse_placeholders(spec)
    return parsed


def default_path(key: ObjectKey) -> str:
    """Where a new object's definition goes (design.md §3)."""
    if key.kind in _CDM_FOLDER:
        return f'cdm/{key.cluster}/{_CDM_FOLDER[key.kind]}/{key.name}.yaml'
    return f'{_FOLDER[key.kind]}/{key.name}.yaml'
