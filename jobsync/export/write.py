"""Rendering one object's files: a changed YAML file patched in place (roundtrip.py), a new one in
the house style, JSON and console files in the console's style, script content in its sidecar. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from jobsync import codec, schema, secrets, yamlio
from jobsync.errors import Diagnostic
from jobsync.export import roundtrip
from jobsync.export.index import RepoEntry, default_path
from jobsync.export.merge import SecretNote, merge_values, place_secrets, templated, without_defaults
from jobsync.load import EXPORT_SUFFIXES
from jobsync.model import Kind, ObjectKey, Spec

_API_FORM_SUFFIXES = frozenset(EXPORT_SUFFIXES.values())  # .job, .script: console files, API form JSON


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


def _yaml_file(doc: dict[str, Any], entry: RepoEntry | None) -> str:
    """A YAML definition: git's file patched where it changed (comments and layout kept), else written whole."""
    if entry is None or not entry.raw:
        return _dump_yaml(doc, None)
    if entry.data is not None:
        style = _yaml_style(entry.raw)
        patched = roundtrip.patch_yaml(entry.raw, entry.data, doc,
                                       roundtrip.HouseStyle(style.double_quotes, _inline_by_default))
        if patched is not None:
            return patched
    return entry.header + _dump_yaml(doc, entry.raw)  # the rare file ruamel cannot keep: its leading comment kept


def _repo_doc(kind: Kind, api: Spec, inline: bool) -> dict[str, Any]:
    """An API-form spec in repo form; script content stays in the document when `inline`."""
    doc, content = codec.to_repo(kind, api)
    if inline and content is not None:
        doc['content'] = content
    return doc


def _git_doc(kind: Kind, data: dict[str, Any], inline: bool) -> dict[str, Any]:
    """Git's document in repo form (a console `.job` is API form), inline script content in its place."""
    doc = _repo_doc(kind, codec.from_repo(kind, data), inline)
    if 'content' in doc and 'content' in data:
        doc = {**{k: doc[k] for k in data if k in doc}, **{k: v for k, v in doc.items() if k not in data}}
    return doc


@dataclass
class Files:
    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[SecretNote] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)


def render_object(
    key: ObjectKey, api: Spec, entry: RepoEntry | None, out: Files, extra: Sequence[str],
    filled: Spec | None = None,
) -> tuple[str, ...]:
    """Write one object's files into `out`; returns their paths (definition first).

    `key` and `api` are in git's names. `filled` is git's definition as the target sees it (API
    form, git's names), when the repo loaded for the target; without it git's file stands in.
    """
    kind = key.kind
    name_field = codec.NAME_FIELD[kind]
    path = entry.path if entry is not None else default_path(key)
    suffix = PurePosixPath(path).suffix
    inline = suffix in _API_FORM_SUFFIXES or (entry is not None and entry.data is not None
                                                and 'content' in entry.data)
    old = _git_doc(kind, entry.data, inline) if entry is not None and entry.data is not None else None
    doc = _repo_doc(kind, api, inline)
    content = None if inline else codec.to_repo(kind, api)[1]
    if old is not None:
        base = _repo_doc(kind, filled, inline) if filled is not None else old

        def warn(pointer: str, text: str) -> None:
            out.warnings.append(Diagnostic(
                'warning', f'the workspace changed a value git takes from {text}; the literal value was written',
                f'{path}#{pointer}', 'if it differs per target, put it back in a variable'))

        doc = merge_values(old, base, doc, kind, (), warn)
    else:  # a new file: the defaults the service filled in need not be written (jobdefaults.py)
        doc = without_defaults(kind, doc)
    doc, notes = place_secrets(key, doc, old, path, extra)
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
        data = _yaml_file(doc, entry).encode('utf-8')
    out.files[path] = data
    out.warnings.extend(
        Diagnostic('warning', f'the exported definition does not validate: {p.message}',
                   f'{path}#{p.pointer}' if p.pointer else path, p.hint)
        for p in schema.validate(kind, written)
    )
    paths: tuple[str, ...] = (path,)
    if content is not None and entry is not None and entry.content is not None:
        filled_content = codec.to_repo(kind, filled)[1] if filled is not None else entry.content
        if filled_content == content:
            content = entry.content  # the workspace agrees: keep git's text (its ${var:...} included)
        elif templated(entry.content):
            out.warnings.append(Diagnostic(
                'warning', 'the workspace changed script content that takes ${var:...} values; the literal '
                'content was written', entry.sidecar or path, 'put the variables back where they differ per target'))
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
