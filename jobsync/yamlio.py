"""Parse YAML and JSON documents with line numbers and duplicate-key detection.

Pure: bytes in, values and diagnostics out. Line numbers are kept per JSON pointer so that
schema errors can say `jobs/daily.yaml:14`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from jobsync.errors import Diagnostic
from jobsync.secrets import escape_pointer


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: `2025-01-01` stays a string, as JSON needs."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != 'tag:yaml.org,2002:timestamp']
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class Document:
    path: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)  # JSON pointer -> 1-based line

    def line_of(self, pointer: str) -> int | None:
        """Line of the value at `pointer`, or of its nearest ancestor that has one."""
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit('/', 1)[0]

    def where(self, pointer: str = '') -> str:
        line = self.line_of(pointer)
        loc = f'{self.path}:{line}' if line else self.path
        return f'{loc}#{pointer}' if pointer else loc


def parse(path: str, raw: bytes) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one file by its suffix (`.json`, `.job`, `.script` are JSON; the rest YAML)."""
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as err:
        return None, [Diagnostic('error', f'not UTF-8 text ({err.reason} at byte {err.start})', path,
                                 'save the file as UTF-8')]
    if path.endswith(('.json', '.job', '.script')):
        return _parse_json(path, text)
    return _parse_yaml(path, text)


def _parse_json(path: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                problems.append(Diagnostic('error', f'duplicate key {key!r}', path,
                                           'a key may appear once per object; remove one of them'))
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as err:
        return None, [Diagnostic('error', f'JSON syntax error: {err.msg} (column {err.colno})',
                                 f'{path}:{err.lineno}', 'fix the JSON syntax')]
    return Document(path, data), problems


def _parse_yaml(path: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(path, None), []
        lines: dict[str, int] = {}
        problems: list[Diagnostic] = []
        _walk(node, '', lines, problems, path)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f'{path}:{mark.line + 1}' if mark else path
        summary = ' '.join(p for p in (err.context, err.problem) if p) or 'invalid YAML'
        if err.context_mark and mark and err.context_mark.line != mark.line:
            summary += f' (the construct opened at line {err.context_mark.line + 1})'
        return None, [Diagnostic('error', f'YAML syntax error: {summary}', where,
                                 'check indentation and quoting around this line')]
    except yaml.YAMLError as err:
        return None, [Diagnostic('error', f'YAML error: {err}', path, 'fix the YAML syntax')]
    finally:
        loader.dispose()
    return Document(path, data, lines), problems


def _walk(node: yaml.Node, pointer: str, lines: dict[str, int], problems: list[Diagnostic], path: str) -> None:
    lines[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f'{pointer}/{escape_pointer(key)}'
            if key in seen:
                problems.append(Diagnostic(
                    'error', f'duplicate key {key!r}', f'{path}:{key_node.start_mark.line + 1}#{child}',
                    'a key may appear once per mapping; YAML would silently keep only the last one',
                ))
            seen.add(key)
            _walk(value_node, child, lines, problems, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, f'{pointer}/{i}', lines, problems, path)


def dump_yaml(
    data: Any,
    *,
    double_quotes: bool = False,
    indent_sequences: bool = False,
    flow: Callable[[str, Any], bool] | None = None,
    quotes: Callable[[str, str], str | None] | None = None,
) -> str:
    """Stable, review-friendly YAML: key order kept, block style, unicode as is.

    The options let a rewrite keep a file's own style (export.py): `double_quotes` quotes with
    `"` where quoting is needed, `indent_sequences` indents a list under its key (`  - a`), and
    `flow(pointer, value)` says which collections to write inline (`{x: "1", y: "2"}`), and
    `quotes(pointer, text)` which quote (`'` or `"`) a one-line string gets, None for the default
    (plain when YAML allows it). A quote that cannot represent the string is not used.
    """
    if flow is not None or quotes is not None:
        data = _mark(data, '', flow or (lambda _p, _v: False), quotes or (lambda _p, _t: None))
    dumper = _dumper(double_quotes, indent_sequences)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)


class _Dumper(yaml.SafeDumper):
    pass


class _FlowDict(dict[str, Any]):
    pass


class _FlowList(list[Any]):
    pass


class _QuotedStr(str):
    style: str | None = None


def _mark(
    value: Any, pointer: str, flow: Callable[[str, Any], bool], quotes: Callable[[str, str], str | None],
) -> Any:
    if isinstance(value, dict):
        out = {k: _mark(v, f'{pointer}/{escape_pointer(str(k))}', flow, quotes) for k, v in value.items()}
        return _FlowDict(out) if value and flow(pointer, value) else out
    if isinstance(value, list):
        items = [_mark(v, f'{pointer}/{i}', flow, quotes) for i, v in enumerate(value)]
        return _FlowList(items) if value and flow(pointer, value) else items
    if isinstance(value, str) and '\n' not in value:
        style = quotes(pointer, value)
        if style in ('"', "'"):
            marked = _QuotedStr(value)
            marked.style = style
            return marked
    return value


@functools.cache
def _dumper(double_quotes: bool, indent_sequences: bool) -> type[_Dumper]:
    class Styled(_Dumper):
        def choose_scalar_style(self) -> str:
            style: str = super().choose_scalar_style()
            asked = self.event.style if isinstance(self.event, yaml.ScalarEvent) else None
            return '"' if double_quotes and style == "'" and asked != "'" else style

        def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
            super().increase_indent(flow, indentless and not indent_sequences)

    return Styled


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = '|' if '\n' in value else None
    return dumper.represent_scalar('tag:yaml.org,2002:str', value, style=style)


def _quoted_presenter(dumper: yaml.SafeDumper, value: _QuotedStr) -> yaml.Node:
    return dumper.represent_scalar('tag:yaml.org,2002:str', str(value), style=value.style)


def _flow_dict(dumper: yaml.SafeDumper, value: _FlowDict) -> yaml.Node:
    return dumper.represent_mapping('tag:yaml.org,2002:map', value.items(), flow_style=True)


def _flow_list(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.Node:
    return dumper.represent_sequence('tag:yaml.org,2002:seq', value, flow_style=True)


_Dumper.add_representer(str, _str_presenter)
_Dumper.add_representer(_QuotedStr, _quoted_presenter)
_Dumper.add_representer(_FlowDict, _flow_dict)
_Dumper.add_representer(_FlowList, _flow_list)
