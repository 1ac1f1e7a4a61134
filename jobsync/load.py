"""Repo files -> desired definitions, collecting every problem before stopping.

The folder gives the kind and the file stem gives the name (design.md §3):

    connections/<name>.yaml            resources/<name>.yaml
    scripts/<name>.yaml + <name>.sql   jobs/<name>.yaml  (or a console-exported <name>.job)
    cdm/<cluster>/links/<name>.yaml    cdm/<cluster>/jobs/<name>.yaml

Sub-folders inside a kind's folder are allowed for organisation; names stay unique per kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from jobsync import codec, schema, secrets, yamlio
from jobsync.config import CONFIG_FILES, RepoConfig, default_config, parse_config
from jobsync.errors import ConfigError, Diagnostic
from jobsync.fields import is_secret_field
from jobsync.gitrepo import Snapshot
from jobsync.model import Definition, Kind, ObjectKey, SourceRef
from jobsync.refs import references

DEFINITION_SUFFIXES = ('.yaml', '.yml', '.json')
EXPORT_SUFFIXES: dict[Kind, str] = {'job': '.job', 'script': '.script'}  # console exports, read as is
SIDECAR_SUFFIXES = ('.sql', '.sh', '.py')
_FOLDERS: dict[str, Kind] = {'connections': 'connection', 'resources': 'resource', 'scripts': 'script', 'jobs': 'job'}
_CDM_FOLDERS: dict[str, Kind] = {'links': 'cdm-link', 'jobs': 'cdm-job'}


@dataclass(frozen=True)
class Located:
    """A file's place in the layout: kind, cluster (CDM only), stem and suffix."""

    kind: Kind
    cluster: str
    stem: str
    suffix: str
    folder: str  # directory of the file, for finding a script's sidecar


@dataclass(frozen=True)
class LoadResult:
    config: RepoConfig
    desired: dict[ObjectKey, Definition]
    warnings: tuple[Diagnostic, ...]


def locate(rel: str) -> Located | None:
    """Where `rel` sits in the layout, or None for a file outside the kinds' folders."""
    path = PurePosixPath(rel)
    parts = path.parts
    if len(parts) >= 2 and parts[0] in _FOLDERS:
        return Located(_FOLDERS[parts[0]], '', path.stem, path.suffix, str(path.parent))
    if len(parts) >= 4 and parts[0] == 'cdm' and parts[2] in _CDM_FOLDERS:
        return Located(_CDM_FOLDERS[parts[2]], parts[1], path.stem, path.suffix, str(path.parent))
    return None


def load_repo(snapshot: Snapshot) -> LoadResult:
    """Read jobsync.yaml and every definition; raise ConfigError listing every problem found."""
    problems: list[Diagnostic] = []
    config = _load_config(snapshot.files, problems)
    desired: dict[ObjectKey, Definition] = {}
    docs: dict[ObjectKey, yamlio.Document] = {}
    for rel, raw in snapshot.files.items():
        loc = locate(rel)
        if loc is None:
            continue
        if loc.suffix in SIDECAR_SUFFIXES and loc.kind == 'script':
            if not any(f'{loc.folder}/{loc.stem}{s}' in snapshot.files for s in DEFINITION_SUFFIXES):
                problems.append(Diagnostic('error', f'script content without a definition: no {loc.stem}.yaml next '
                                           'to it', rel, f'add {loc.folder}/{loc.stem}.yaml with the script type'))
            continue
        if loc.suffix not in DEFINITION_SUFFIXES and loc.suffix != EXPORT_SUFFIXES.get(loc.kind):
            problems.append(Diagnostic('warning', f'ignored: {loc.suffix or "no suffix"} is not a definition file',
                                       rel, 'definitions are .yaml, .yml or .json'))
            continue
        loaded = _load_definition(rel, raw, loc, snapshot.files, problems, config.secret_fields.get(loc.kind, ()))
        if loaded is None:
            continue
        definition, doc = loaded
        if definition.key in desired:
            problems.append(Diagnostic('error', f'{definition.key} is defined twice', rel,
                                       f'also defined in {desired[definition.key].source.path}; keep one'))
            continue
        desired[definition.key] = definition
        docs[definition.key] = doc
    problems.extend(check_references(desired, lambda key, pointer: docs[key].where(pointer)))
    errors = [p for p in problems if p.severity == 'error']
    if errors:
        raise ConfigError(problems)
    return LoadResult(config, dict(sorted(desired.items())), tuple(problems))


def load_config(files: Mapping[str, bytes]) -> RepoConfig:
    """Only jobsync.yaml (for commands that need a target but not valid definitions, like export).

    Raises ConfigError when jobsync.yaml itself has problems.
    """
    problems: list[Diagnostic] = []
    config = _load_config(files, problems)
    if any(p.severity == 'error' for p in problems):
        raise ConfigError(problems)
    return config


def _load_config(files: Mapping[str, bytes], problems: list[Diagnostic]) -> RepoConfig:
    for name in CONFIG_FILES:
        if name not in files:
            continue
        doc, found = yamlio.parse(name, files[name])
        problems.extend(found)
        if doc is None:
            return default_config()
        data = doc.data if doc.data is not None else {}
        schema_problems = _schema_problems(doc, 'config', data)
        problems.extend(schema_problems)
        if schema_problems:
            return default_config()
        return parse_config(data, name)
    return default_config()


def _schema_problems(doc: yamlio.Document, name: Kind | Literal['config'], data: Any) -> list[Diagnostic]:
    return [Diagnostic('error', p.message, doc.where(p.pointer), p.hint) for p in schema.validate(name, data)]


def _load_definition(
    rel: str, raw: bytes, loc: Located, files: Mapping[str, bytes], problems: list[Diagnostic],
    secret_fields: tuple[str, ...] = (),
) -> tuple[Definition, yamlio.Document] | None:
    doc, found = yamlio.parse(rel, raw)
    problems.extend(found)
    if doc is None:
        return None
    if not isinstance(doc.data, dict):
        problems.append(Diagnostic('error', 'a definition must be a mapping of fields', rel,
                                   f'see schemas/{loc.kind}.schema.json for the fields of a {loc.kind}'))
        return None
    data: dict[str, Any] = doc.data
    schema_problems = _schema_problems(doc, loc.kind, data)
    problems.extend(schema_problems)
    name_field = codec.NAME_FIELD[loc.kind]
    name = data.get(name_field, loc.stem)
    if name != loc.stem:
        problems.append(Diagnostic('error', f'{name_field} {name!r} does not match the file name {loc.stem!r}',
                                   doc.where(f'/{name_field}'),
                                   f'rename the file to {name}{loc.suffix} or set {name_field}: {loc.stem}'))
        return None
    if schema_problems:
        return None
    content = _script_content(rel, loc, data, files, problems) if loc.kind == 'script' else None
    data = {name_field: name, **{k: v for k, v in data.items() if k != name_field}}
    problems.extend(_literal_secrets(doc, loc.kind, data, secret_fields))
    spec = secrets.parse_placeholders(codec.from_repo(loc.kind, data, content))
    key = ObjectKey(loc.kind, loc.stem, loc.cluster)
    return Definition(key, spec, SourceRef(rel)), doc


def _script_content(
    rel: str, loc: Located, data: dict[str, Any], files: Mapping[str, bytes], problems: list[Diagnostic],
) -> str | None:
    sidecars = [f'{loc.folder}/{loc.stem}{s}' for s in SIDECAR_SUFFIXES if f'{loc.folder}/{loc.stem}{s}' in files]
    if len(sidecars) > 1:
        problems.append(Diagnostic('error', f'several content files for one script: {", ".join(sidecars)}', rel,
                                   'keep exactly one content file per script'))
        return None
    if sidecars and 'content' in data:
        problems.append(Diagnostic('error', f'content is both inline and in {sidecars[0]}', f'{rel}#/content',
                                   'keep the content in the sidecar file and remove the inline field'))
        return None
    if not sidecars:
        if 'content' not in data:
            suffix = codec.sidecar_suffix(str(data.get('type', '')))
            problems.append(Diagnostic('error', 'script has no content', rel,
                                       f'put the script in {loc.folder}/{loc.stem}{suffix}'))
        return None
    try:
        return files[sidecars[0]].decode('utf-8')
    except UnicodeDecodeError:
        problems.append(Diagnostic('error', 'script content is not UTF-8 text', sidecars[0], 'save it as UTF-8'))
        return None


def suggested_secret_name(key_name: str, field: str) -> str:
    """An environment variable name for a secret field: `mysql_src` + `linkConfig.password`."""
    raw = f'{key_name}_{field.rsplit(".", 1)[-1]}'
    return ''.join(c if c.isalnum() else '_' for c in raw).upper()


def _literal_secrets(
    doc: yamlio.Document, kind: Kind, data: Any, extra: tuple[str, ...], path: tuple[str, ...] = (),
) -> list[Diagnostic]:
    """Secret fields holding a literal value (a password committed to git, or CDM's placeholder)."""
    if isinstance(data, dict) and isinstance(data.get('name'), str) and 'value' in data:
        # An API-form pair (`{name: linkConfig.password, value: ...}`) counts as the field it names.
        return _literal_secrets(doc, kind, data['value'], extra, (*path, data['name']))
    if isinstance(data, (dict, list)):
        items = data.items() if isinstance(data, dict) else enumerate(data)
        out: list[Diagnostic] = []
        for k, v in items:
            out.extend(_literal_secrets(doc, kind, v, extra, (*path, str(k))))
        return out
    if not (isinstance(data, str) and data and is_secret_field(kind, path, extra)):
        return []
    if secrets.REF_PATTERN.search(data):
        return []
    pointer = ''.join(f'/{secrets.escape_pointer(p)}' for p in path)
    stem = PurePosixPath(doc.path).stem
    ref = f'${{secret:env:{suggested_secret_name(stem, path[-1])}}}'
    if data in secrets.PLACEHOLDERS:
        return [Diagnostic('error', f'{path[-1]} holds the export placeholder {data!r}, not a secret reference',
                           doc.where(pointer), f'write a reference instead, e.g. {path[-1]}: {ref!r}')]
    return [Diagnostic('error', f'{path[-1]} holds a literal secret; passwords must not be committed to git',
                       doc.where(pointer),
                       f'replace it with a reference such as {ref!r}, set the value in CI, and rotate '
                       'the password: it is in the git history now')]


def check_references(
    desired: Mapping[ObjectKey, Definition], where: Callable[[ObjectKey, str], str] | None = None,
) -> list[Diagnostic]:
    """References that point nowhere in the repo: a node's script, connection or CDM job, links, dependJobs.

    `where(key, pointer)` locates a reference for the message (file and line); by default the file.
    """
    problems = []
    for key, definition in desired.items():
        for ref in references(key, definition.spec):
            if ref.target not in desired:
                problems.append(Diagnostic(
                    'error', f'{ref.what} {ref.target.name!r} is not defined in the repo ({ref.target})',
                    where(key, ref.pointer) if where else definition.source.at(ref.pointer),
                    f'add it under {_folder_of(ref.target)} or fix the name',
                ))
    return problems


def _folder_of(key: ObjectKey) -> str:
    if key.kind == 'cdm-link':
        return f'cdm/{key.cluster}/links/'
    if key.kind == 'cdm-job':
        return f'cdm/{key.cluster}/jobs/'
    return {'connection': 'connections/', 'resource': 'resources/', 'script': 'scripts/', 'job': 'jobs/'}[key.kind]
