"""Live objects -> repo files: the pull direction (design.md §1, §3). Pure: values in, bytes out.

`export_objects` turns what the workspace (or a console bundle) holds into the files a user keeps
in git, in the repo form `load.py` reads back:

* fields the service manages (ids, timestamps, users, versions; `fields.FIELD_RULES`) are
  dropped; fields the comparison merely ignores (canvas `location`) are kept: they are the user's;
* pair lists become mappings and script content goes to a sidecar file (`codec.to_repo`);
* a secret field never carries a value into git: the placeholder the service reads back (`Add
  password here`, `*********`), or a literal found in a bundle, becomes the reference the repo
  already has for that field, or else a suggested `${secret:env:<OBJECT>_<FIELD>}`, listed in
  `ExportResult.secrets` so the caller can say what must be set;
* an object git already has keeps its file: same path, same format (a console `.job` stays a
  `.job`), same key order, same leading comment, same sidecar; and when git already matches the
  workspace (what `plan` would call a no-op) its files are not rewritten at all, so exporting
  twice changes no byte and hand formatting survives;
* nothing is ever deleted: objects git has (inside the scope) that the workspace lacks are
  reported in `ExportResult.missing`.

`index_repo` reads the repo leniently (a file that does not parse still tells where its object
lives), because exporting is how a broken or half-adopted repo gets repaired.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

import yaml

from jobsync import codec, schema, secrets, yamlio
from jobsync.diff import FieldChange, diff_specs, without_server_managed
from jobsync.errors import Diagnostic
from jobsync.fields import FIELD_RULES, is_secret_field
from jobsync.load import DEFINITION_SUFFIXES, EXPORT_SUFFIXES, SIDECAR_SUFFIXES, locate, suggested_secret_name
from jobsync.model import Kind, LiveObject, ObjectKey, Spec
from jobsync.refs import references

Status = Literal['added', 'changed', 'unchanged']
MAX_FILE_NAME_BYTES = 250  # common file systems allow 255 bytes per name; leave room for the suffix

_FOLDER: dict[Kind, str] = {'connection': 'connections', 'resource': 'resources', 'script': 'scripts', 'job': 'jobs'}
_CDM_FOLDER: dict[Kind, str] = {'cdm-link': 'links', 'cdm-job': 'jobs'}
_API_FORM_SUFFIXES = frozenset(EXPORT_SUFFIXES.values())  # .job, .script: console files, API form JSON


@dataclass(frozen=True)
class RepoEntry:
    """Where git keeps one object, and what the file says (None when it does not parse as a mapping)."""

    key: ObjectKey
    path: str
    data: dict[str, Any] | None
    sidecar: str | None = None  # scripts: the content file, when there is one
    content: str | None = None  # scripts: the sidecar's text
    header: str = ''  # YAML: the leading comment block, kept on rewrite
    raw: bytes = b''  # the file as it is, to keep its style on rewrite


@dataclass(frozen=True)
class SecretNote:
    """A secret field written as a reference. `new`: suggested by this export, so it must be set."""

    key: ObjectKey
    path: str
    pointer: str  # repo-form JSON pointer in `path`
    reference: str
    new: bool
    literal: bool = False  # the source held a real value (a bundle), which was not written


@dataclass(frozen=True)
class ExportedObject:
    key: ObjectKey
    status: Status
    paths: tuple[str, ...]  # the files holding it (definition first, then the sidecar)
    fields: tuple[FieldChange, ...] = ()  # changed: before = git, after = workspace


@dataclass(frozen=True)
class ExportResult:
    """`files` holds only what must be (re)written: the files of added and changed objects."""

    files: dict[str, bytes]
    objects: tuple[ExportedObject, ...]
    secrets: tuple[SecretNote, ...] = ()
    missing: tuple[RepoEntry, ...] = ()  # in git (inside the scope), not in the workspace
    warnings: tuple[Diagnostic, ...] = ()
    refused: tuple[Diagnostic, ...] = ()  # objects that cannot be written (a name that is no file name)

    def count(self, status: Status) -> int:
        return sum(1 for o in self.objects if o.status == status)

    @property
    def new_secrets(self) -> tuple[SecretNote, ...]:
        return tuple(n for n in self.secrets if n.new)


# --- reading the repo, leniently ---------------------------------------------------------------

def _header(raw: bytes) -> str:
    """The leading comment block of a YAML file (comments and blank lines before the first field)."""
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
        key = ObjectKey(loc.kind, loc.stem, loc.cluster)
        if key in out:
            continue
        doc, _problems = yamlio.parse(rel, files[rel])
        data = doc.data if doc is not None and isinstance(doc.data, dict) else None
        sidecar = content = None
        if loc.kind == 'script':
            for suffix in SIDECAR_SUFFIXES:
                candidate = f'{loc.folder}/{loc.stem}{suffix}'
                if candidate in files:
                    sidecar = candidate
                    content = files[candidate].decode('utf-8', errors='replace')
                    break
        header = _header(files[rel]) if loc.suffix in ('.yaml', '.yml') else ''
        out[key] = RepoEntry(key, rel, data, sidecar, content, header, files[rel])
    return out


def entry_spec(entry: RepoEntry) -> Spec:
    """The entry's definition in API form, secrets as references (empty for an unreadable file)."""
    if entry.data is None:
        return {}
    inline = 'content' in entry.data
    spec = codec.from_repo(entry.key.kind, entry.data, None if inline else entry.content)
    spec.setdefault(codec.NAME_FIELD[entry.key.kind], entry.key.name)
    parsed: Spec = secrets.parse_placeholders(spec)
    return parsed


# --- paths -------------------------------------------------------------------------------------

def unsafe_name(name: str) -> str:
    """Why `name` cannot be a file name in the repo ('' when it can)."""
    if not name or name in ('.', '..'):
        return 'it is empty or a relative path segment'
    if any(c in name for c in '/\\') or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return 'it holds a path separator or a control character'
    if len(name.encode('utf-8')) > MAX_FILE_NAME_BYTES:
        return f'it is longer than {MAX_FILE_NAME_BYTES} bytes'
    return ''


def default_path(key: ObjectKey) -> str:
    """Where a new object's definition goes (design.md §3)."""
    if key.kind in _CDM_FOLDER:
        return f'cdm/{key.cluster}/{_CDM_FOLDER[key.kind]}/{key.name}.yaml'
    return f'{_FOLDER[key.kind]}/{key.name}.yaml'


# --- secrets -----------------------------------------------------------------------------------

def _pointer(path: tuple[str, ...]) -> str:
    return ''.join(f'/{secrets.escape_pointer(p)}' for p in path)


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _holds_ref(value: Any) -> bool:
    return isinstance(value, str) and secrets.REF_PATTERN.search(value) is not None


def _suggested(key: ObjectKey, field: str) -> str:
    return f'${{secret:env:{suggested_secret_name(key.name, field)}}}'


def _place_secrets(
    key: ObjectKey, doc: Any, old: Any, path_in_repo: str, extra: Sequence[str] = (),
) -> tuple[Any, list[SecretNote]]:
    """Replace every secret value in a repo-form `doc` by a reference; `old` is git's repo-form doc,
    `extra` the fields jobsync.yaml marks secret for this kind (`secret_fields`).

    * a secret field (write-only per fields.py) or a masked placeholder: git's reference for that
      field if it has one, else a suggested one;
    * any other field where git holds a reference (a JDBC URL embedding a password): git's text,
      since the workspace may return the filled-in value;
    * a secret reference git has and the workspace omits entirely: put back, or apply would
      drop the password.
    """
    notes: list[SecretNote] = []
    kind = key.kind

    def walk(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, str(i))) for i, v in enumerate(value)]
        if not isinstance(value, str) or not value:
            return value
        before = _get(old, path)
        secret = is_secret_field(kind, path, extra) or value in secrets.PLACEHOLDERS
        if secret:
            if _holds_ref(value):
                notes.append(SecretNote(key, path_in_repo, _pointer(path), value, new=False))
                return value
            if _holds_ref(before):
                notes.append(SecretNote(key, path_in_repo, _pointer(path), str(before), new=False))
                return before
            ref = _suggested(key, path[-1] if path else 'secret')
            notes.append(SecretNote(key, path_in_repo, _pointer(path), ref, new=True,
                                    literal=value not in secrets.PLACEHOLDERS))
            return ref
        if _holds_ref(before) and not _holds_ref(value):
            return before
        return value

    out = walk(doc, ())
    for path, text in _secret_refs(kind, old, extra):
        parent = _get(out, path[:-1]) if path[:-1] else out
        if isinstance(parent, dict) and path[-1] not in parent:
            parent[path[-1]] = text
            notes.append(SecretNote(key, path_in_repo, _pointer(path), text, new=False))
    return out, notes


def _secret_refs(
    kind: Kind, doc: Any, extra: Sequence[str], path: tuple[str, ...] = (),
) -> list[tuple[tuple[str, ...], str]]:
    if isinstance(doc, dict):
        return [found for k, v in doc.items() for found in _secret_refs(kind, v, extra, (*path, str(k)))]
    if isinstance(doc, list):
        return [found for i, v in enumerate(doc) for found in _secret_refs(kind, v, extra, (*path, str(i)))]
    if _holds_ref(doc) and is_secret_field(kind, path, extra):
        return [(path, str(doc))]
    return []


# --- key order ---------------------------------------------------------------------------------

def _named_items(value: Any) -> dict[str, Any] | None:
    if isinstance(value, list) and all(isinstance(i, dict) and isinstance(i.get('name'), str) for i in value):
        names = [i['name'] for i in value]
        if len(set(names)) == len(names):
            return {i['name']: i for i in value}
    return None


def _ordered(new: Any, old: Any, kind: Kind, path: tuple[str, ...] = ()) -> Any:
    """`new` with git's key order (new keys last, in the workspace's order), recursively.

    Lists of named items that the diff compares by name (nodes, params) also keep git's order,
    so a console that returns nodes in another order does not rewrite the file.
    """
    if isinstance(new, dict) and isinstance(old, dict):
        keys = [k for k in old if k in new] + [k for k in new if k not in old]
        return {k: _ordered(new[k], old.get(k), kind, (*path, str(k))) for k in keys}
    if isinstance(new, list) and isinstance(old, list):
        new_named, old_named = _named_items(new), _named_items(old)
        if new_named is not None and old_named is not None:
            items = list(new)
            if _pointer(path) in FIELD_RULES[kind].name_keyed:
                rank = {name: i for i, name in enumerate(old_named)}
                items.sort(key=lambda i: rank.get(i['name'], len(rank)))
            return [_ordered(i, old_named.get(i['name']), kind, path) for i in items]
        return [_ordered(n, old[i] if i < len(old) else None, kind, path) for i, n in enumerate(new)]
    return new


# --- one object --------------------------------------------------------------------------------

def _json_text(value: Any, indent: int = 0) -> str:
    """JSON in the console's hand-kept style: a collection of scalars on one line, others one member a line."""
    scalars = isinstance(value, (dict, list)) and not any(
        isinstance(v, (dict, list)) for v in (value.values() if isinstance(value, dict) else value))
    if not isinstance(value, (dict, list)) or not value or scalars:
        return json.dumps(value, ensure_ascii=False)
    pad = ' ' * (indent + 2)
    if isinstance(value, dict):
        members = [f'{pad}{json.dumps(k, ensure_ascii=False)}: {_json_text(v, indent + 2)}' for k, v in value.items()]
        return '{\n' + ',\n'.join(members) + '\n' + ' ' * indent + '}'
    members = [f'{pad}{_json_text(v, indent + 2)}' for v in value]
    return '[\n' + ',\n'.join(members) + '\n' + ' ' * indent + ']'


def _dump_json(value: Any) -> bytes:
    return (_json_text(value) + '\n').encode('utf-8')


@dataclass(frozen=True)
class _YamlStyle:
    """How a YAML file is written, so a rewrite changes only what changed."""

    double_quotes: bool = True  # examples/repo's style, for new files
    indent_sequences: bool = True
    collections: frozenset[str] = frozenset()  # pointers of the collections the file has ...
    inline: frozenset[str] = frozenset()  # ... and of those it writes inline
    quoted: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # pointer -> (text, quote)


def _yaml_style(raw: bytes) -> _YamlStyle:
    """The style of an existing YAML file (the defaults when it has no evidence or does not parse)."""
    try:
        text = raw.decode('utf-8-sig')
        tokens = list(yaml.scan(text, Loader=yaml.SafeLoader))
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError):
        return _YamlStyle()
    quotes = [t.style for t in tokens if isinstance(t, yaml.ScalarToken) and t.style in ('"', "'")]
    double = quotes.count('"') >= quotes.count("'")
    collections: set[str] = set()
    inline: set[str] = set()
    indented: list[bool] = []
    quoted: dict[str, tuple[str, str]] = {}

    def walk(n: yaml.Node, pointer: str) -> None:
        if isinstance(n, yaml.MappingNode):
            collections.add(pointer)
            if n.flow_style:
                inline.add(pointer)
            for key_node, value_node in n.value:
                if isinstance(value_node, yaml.SequenceNode) and not value_node.flow_style and value_node.value:
                    indented.append(value_node.start_mark.column > key_node.start_mark.column)
                walk(value_node, f'{pointer}/{secrets.escape_pointer(str(key_node.value))}')
        elif isinstance(n, yaml.ScalarNode) and n.style in ('"', "'"):
            quoted[pointer] = (str(n.value), n.style)
        elif isinstance(n, yaml.SequenceNode):
            collections.add(pointer)
            if n.flow_style:
                inline.add(pointer)
            for i, item in enumerate(n.value):
                walk(item, f'{pointer}/{i}')

    if node is not None:
        walk(node, '')
    return _YamlStyle(double, indented[0] if indented else True, frozenset(collections), frozenset(inline),
                      quoted)


def _inline_by_default(pointer: str, value: Any) -> bool:
    """New collections: short lists of scalars and canvas positions go on one line, as examples/repo does."""
    members = value.values() if isinstance(value, dict) else value
    if any(isinstance(v, (dict, list)) for v in members):
        return False
    if isinstance(value, dict):
        return pointer.rsplit('/', 1)[-1] == 'location'
    return len(json.dumps(value, ensure_ascii=False)) <= 60


def _dump_yaml(doc: Any, raw: bytes | None) -> str:
    style = _yaml_style(raw) if raw else _YamlStyle()

    def flow(pointer: str, value: Any) -> bool:
        if pointer in style.collections:
            return pointer in style.inline
        return _inline_by_default(pointer, value)

    def quotes(pointer: str, text: str) -> str | None:
        old = style.quoted.get(pointer)  # a field git quoted stays quoted, even with a new value
        return old[1] if old is not None else None

    return yamlio.dump_yaml(doc, double_quotes=style.double_quotes, indent_sequences=style.indent_sequences,
                            flow=flow, quotes=quotes)


def _git_doc(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """Git's document in repo form (a console `.job` is API form), inline script content in its place."""
    doc, content = codec.to_repo(kind, codec.from_repo(kind, data))
    if content is not None and 'content' in data:
        doc['content'] = content
        doc = {**{k: doc[k] for k in data if k in doc}, **{k: v for k, v in doc.items() if k not in data}}
    return doc


@dataclass
class _Files:
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[SecretNote] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def _render(
    key: ObjectKey, api: Spec, entry: RepoEntry | None, out: _Files, extra: Sequence[str],
) -> tuple[str, ...]:
    """Write one object's files into `out`; returns their paths (definition first)."""
    kind = key.kind
    name_field = codec.NAME_FIELD[kind]
    path = entry.path if entry is not None else default_path(key)
    suffix = PurePosixPath(path).suffix
    old = _git_doc(kind, entry.data) if entry is not None and entry.data is not None else None
    doc, content = codec.to_repo(kind, api)
    inline = suffix in _API_FORM_SUFFIXES or (entry is not None and entry.data is not None
                                                and 'content' in entry.data)
    if content is not None and inline:
        doc['content'] = content
        content = None
    if old is not None:
        doc = _ordered(doc, old, kind)  # first: secrets are matched with git's by position
    doc, notes = _place_secrets(key, doc, old, path, extra)
    out.notes.extend(notes)
    if suffix in _API_FORM_SUFFIXES or (old is not None and name_field in old):
        doc = doc if name_field in doc else {name_field: key.name, **doc}
    else:
        doc.pop(name_field, None)
    if suffix in _API_FORM_SUFFIXES:
        written: Any = codec.from_repo(kind, doc)
        data = _dump_json(written)
    elif suffix == '.json':
        written = doc
        data = _dump_json(doc)
    else:
        written = doc
        header = entry.header if entry is not None else ''
        data = (header + _dump_yaml(doc, entry.raw if entry is not None else None)).encode('utf-8')
    out.files[path] = data
    out.warnings.extend(
        Diagnostic('warning', f'the exported definition does not validate: {p.message}',
                   f'{path}#{p.pointer}' if p.pointer else path, p.hint)
        for p in schema.validate(kind, written)
    )
    paths: tuple[str, ...] = (path,)
    if content is not None:
        folder = str(PurePosixPath(path).parent)
        sidecar = (entry.sidecar if entry is not None and entry.sidecar
                   else f'{folder}/{key.name}{codec.sidecar_suffix(str(api.get("type", "")))}')
        out.files[sidecar] = content.encode('utf-8')
        paths += (sidecar,)
    elif kind == 'script' and not inline:
        out.warnings.append(Diagnostic('warning', 'the script has no content in the workspace', path,
                                       'validate will ask for a content file; add one or fix the script'))
    return paths


# --- everything --------------------------------------------------------------------------------

def export_objects(
    live: Mapping[ObjectKey, LiveObject],
    repo: Mapping[ObjectKey, RepoEntry],
    *,
    in_scope: Callable[[ObjectKey, Spec], bool] | None = None,
    secret_fields: Mapping[Kind, Sequence[str]] | None = None,
) -> ExportResult:
    """The repo files for `live`, given what the repo holds (`index_repo`).

    `in_scope(key, api_spec)` says which repo objects the export covered, for `missing`; None
    means none are reported. `secret_fields` are the fields jobsync.yaml marks secret, by kind
    (repo-form pointers with `*`): their values are written as references too. Objects whose
    name cannot be a file name are refused (listed in `refused`, nothing written for them); the
    caller decides whether that stops everything.
    """
    out = _Files()
    objects: list[ExportedObject] = []
    refused: list[Diagnostic] = []
    for key in sorted(live):
        obj = live[key]
        entry = repo.get(key)
        why = unsafe_name(key.name) or (unsafe_name(key.cluster) if key.cluster else '')
        if entry is None and why:
            refused.append(Diagnostic('error', f'cannot write {key} to the repo: {why}', str(key),
                                      'rename it in the workspace'))
            continue
        extra = tuple((secret_fields or {}).get(key.kind, ()))
        api = without_server_managed(key.kind, obj.spec)
        api.pop(codec.NAME_FIELD[key.kind], None)
        api = {codec.NAME_FIELD[key.kind]: key.name, **api}
        if entry is not None and entry.data is not None:
            fields = tuple(FieldChange(f.pointer, f.after, f.before)
                           for f in diff_specs(key.kind, entry_spec(entry), api))
            if not fields:
                paths = (entry.path,) + ((entry.sidecar,) if entry.sidecar else ())
                objects.append(ExportedObject(key, 'unchanged', paths))
                continue
            objects.append(ExportedObject(key, 'changed', _render(key, api, entry, out, extra), fields))
        elif entry is not None:
            objects.append(ExportedObject(key, 'changed', _render(key, api, entry, out, extra)))
        else:
            objects.append(ExportedObject(key, 'added', _render(key, api, None, out, extra)))
    warnings = list(out.warnings)
    known = set(live) | set(repo)
    for key in sorted(live):
        for ref in references(key, live[key].spec):
            if ref.target not in known:
                warnings.append(Diagnostic(
                    'warning', f'{ref.what} {ref.target.name!r} is neither exported nor in the repo ({ref.target})',
                    f'{key}#{ref.pointer}', 'export it too (--with-deps) or validate will report it'))
    for note in out.notes:
        if note.literal:
            warnings.append(Diagnostic(
                'warning', 'a literal secret value was found here and was not written to the repo',
                f'{note.path}#{note.pointer}', f'set {note.reference} to that value before apply'))
    missing = tuple(entry for key, entry in sorted(repo.items())
                    if key not in live and in_scope is not None and in_scope(key, entry_spec(entry)))
    return ExportResult(
        files=dict(sorted(out.files.items())),
        objects=tuple(objects),
        secrets=tuple(out.notes),
        missing=missing,
        warnings=tuple(warnings),
        refused=tuple(refused),
    )
