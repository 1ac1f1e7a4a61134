"""Parse YAML and JSON documents with line numbers and duplicate-key detection, within bounds.

Pure: bytes in, values and diagnostics out. Line numbers are kept per JSON pointer so that
schema errors can say `jobs/daily.yaml:14`. Definitions are JSON values written as YAML: aliases,
merge keys and tags beyond JSON's types are refused, and size, depth, value count and number
length are bounded, so that no file a user can write costs unbounded time or memory or escapes
as an internal error (issue 12).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from sys import intern
from typing import Any

import yaml

from jobsync.errors import Diagnostic
from jobsync.secrets import escape_pointer

# Bounds on what a definition file may be (issue 12, "Bounded YAML"). Definitions are small
# JSON-like documents; anything beyond these is a mistake or an attack, refused with a
# diagnostic before it can cost memory or time.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024  # the service's package limit is 1 MB; inline content may add some
MAX_DEPTH = 64                        # real definitions nest about 8 deep
MAX_NODES = 200_000                   # values per document (a template's parameter sets included)
MAX_NUMBER_CHARS = 100                # a number longer than this is no int64 or double anyone meant

# What YAML 1.1 calls printable (pyyaml's Reader.NON_PRINTABLE, inverted); the same rule for JSON,
# whose raw C0/C1 controls in a definition are as suspect (a CSI byte reaching a terminal).
_NON_PRINTABLE = re.compile('[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]')

_STR, _INT, _FLOAT = 'tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float'
_NULL, _BOOL, _MERGE = 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:merge'
_SEQ, _MAP = 'tag:yaml.org,2002:seq', 'tag:yaml.org,2002:map'


def _without_timestamps(resolvers: dict[Any, list[tuple[str, Any]]]) -> dict[Any, list[tuple[str, Any]]]:
    """The implicit resolvers less the timestamp one: `2025-01-01` stays a string, as JSON needs."""
    return {first: [(tag, regexp) for tag, regexp in items if tag != 'tag:yaml.org,2002:timestamp']
            for first, items in resolvers.items()}


class _PyLoader(yaml.SafeLoader):
    """The pure-Python parser: used only where pyyaml was built without libyaml."""


_PyLoader.yaml_implicit_resolvers = _without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)
_Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = _PyLoader
if yaml.__with_libyaml__:
    class _CLoader(yaml.CSafeLoader):
        """libyaml's parser (issue 14: the pure-Python one was 60% of a plan's CPU)."""

    _CLoader.yaml_implicit_resolvers = _without_timestamps(yaml.SafeLoader.yaml_implicit_resolvers)
    _Loader = _CLoader

USING_LIBYAML = _Loader is not _PyLoader


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


class _Refused(Exception):
    """A document outside the bounds, or using a YAML feature definitions may not use."""

    def __init__(self, summary: str, line: int | None, hint: str) -> None:
        super().__init__(summary)
        self.summary, self.line, self.hint = summary, line, hint


def parse(path: str, raw: bytes, *, lines: bool = True) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one file by its suffix (`.json`, `.job`, `.script` are JSON; the rest YAML).

    Total: whatever the bytes, the answer is a document or diagnostics naming `path` (and a line
    where there is one), never an exception. None with diagnostics when the file cannot be read.
    `lines` False: the document maps no pointer to its line (a third of the parse's cost, for a
    caller that parses again with lines when it has something to say); the parse's own
    diagnostics keep theirs.
    """
    try:
        return _parse(path, raw, lines)
    except _Refused as err:
        return None, [Diagnostic('error', err.summary, f'{path}:{err.line}' if err.line else path, err.hint)]
    except (RecursionError, MemoryError):  # the bounds should make these unreachable; a last guard
        return None, [Diagnostic('error', 'the file is too large or too deeply nested to read', path,
                                 f'keep definitions under {MAX_DEPTH} levels of nesting')]
    except Exception as err:  # a parser bug must still name the file, not crash validate
        return None, [Diagnostic('error', f'cannot read the file: {type(err).__name__}: {err}', path,
                                 'check the file\'s syntax')]


def _parse(path: str, raw: bytes, lines: bool = True) -> tuple[Document | None, list[Diagnostic]]:
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise _Refused(f'the file is {len(raw):,} bytes; a definition may be at most {MAX_DOCUMENT_BYTES:,}', None,
                       'move large script content into the sidecar file, or split the definition')
    try:
        text = raw.decode('utf-8-sig')
    except UnicodeDecodeError as err:
        return None, [Diagnostic('error', f'not UTF-8 text ({err.reason} at byte {err.start})', path,
                                 'save the file as UTF-8')]
    bad = _NON_PRINTABLE.search(text)
    is_json = path.endswith(('.json', '.job', '.script'))
    if bad is not None:
        line = text.count('\n', 0, bad.start()) + 1
        column = bad.start() - (text.rfind('\n', 0, bad.start()) + 1) + 1
        escape = f'\\u{ord(bad.group()):04x}' + ('' if is_json else ' in a double-quoted string')
        raise _Refused(f'control character U+{ord(bad.group()):04X} at column {column}: raw control characters '
                       'are not allowed in definitions', line, f'remove it, or write it as {escape} if it is meant')
    if is_json:
        return _parse_json(path, text)
    try:
        return _parse_yaml(path, text, lines)
    except _NeedsLines:  # a problem whose message needs a pointer's line: parse again, keeping them
        return _parse_yaml(path, text, True)


# --- JSON -----------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class _LongNumber(ValueError):
    def __init__(self, digits: str) -> None:
        super().__init__(digits[:20])
        self.digits = digits


def _json_int(text: str) -> int:
    # Checked before int(): Python refuses more than 4,300 digits with a ValueError of its own.
    if len(text) > MAX_NUMBER_CHARS:
        raise _LongNumber(text)
    return int(text)


class _NotFinite(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(text[:20])
        self.text = text


def _json_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise _NotFinite(text)
    return number


def _json_constant(text: str) -> float:
    raise _NotFinite(text)  # NaN, Infinity, -Infinity: Python's json reads them, JSON has none


def _json_depth(text: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, naming the line where it gets too deep."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in '[{':
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f'nested deeper than {MAX_DEPTH} levels', text.count('\n', 0, match.start()) + 1,
                               'definitions are shallow documents; flatten this structure')
        elif token in ']}':
            depth -= 1


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
        data = json.loads(text, object_pairs_hook=pairs, parse_int=_json_int, parse_float=_json_float,
                          parse_constant=_json_constant)
    except RecursionError:  # nested past the interpreter's limit (about 1,000 levels): name the line
        _json_depth(text)
        raise
    except json.JSONDecodeError as err:
        return None, [Diagnostic('error', f'JSON syntax error: {err.msg} (column {err.colno})',
                                 f'{path}:{err.lineno}', 'fix the JSON syntax')]
    except _LongNumber as err:
        at = text.find(err.digits)
        raise _Refused(_long_number(err.digits), text.count('\n', 0, at) + 1 if at >= 0 else None,
                       _LONG_NUMBER_HINT) from None
    except _NotFinite as err:
        at = text.find(err.text)
        raise _Refused(f'{err.text} is not a number JSON can carry', text.count('\n', 0, at) + 1 if at >= 0 else None,
                       _NOT_FINITE_HINT) from None
    if _too_deep_or_large(data):
        _json_depth(text)  # the text is valid JSON here, so the scan is linear
        raise _Refused(f'more than {MAX_NODES:,} values in one document', None, 'split the definition')
    return Document(path, data), problems


def _too_deep_or_large(data: Any) -> bool:
    count, todo = 0, [(data, 0)]
    while todo:
        value, depth = todo.pop()
        count += 1
        if count > MAX_NODES or (depth >= MAX_DEPTH and isinstance(value, (dict, list))):
            return True
        if isinstance(value, dict):
            todo.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            todo.extend((v, depth + 1) for v in value)
    return False


def _long_number(digits: str) -> str:
    return f'a number of {len(digits):,} characters ({digits[:12]}...) is too long'


_NOT_FINITE_HINT = 'NaN and infinity are not JSON numbers and the service cannot store them; write a number'
_LONG_NUMBER_HINT = (f'numbers may have at most {MAX_NUMBER_CHARS} characters; '
                     'put quotes around the value if it is meant as text')


# --- YAML -----------------------------------------------------------------------------------------


class _NeedsLines(Exception):
    """A parse without lines met a diagnostic that names a pointer (a duplicate key)."""


def _parse_yaml(path: str, text: str, lines: bool = True) -> tuple[Document | None, list[Diagnostic]]:
    """YAML from libyaml's event stream, built into JSON values here.

    Building from events rather than composing nodes keeps the bounds (depth, value count,
    aliases) checked as the parser goes, before anything large exists, and skips the node graph
    and pyyaml's constructor (faster than `yaml.load` with the C loader).
    """
    loader: yaml.SafeLoader | yaml.CSafeLoader | None = None
    try:
        loader = _Loader(text)  # the pure-Python reader checks the text here; the C one lazily
        builder = _Builder(loader, path, lines)
        data = builder.document()
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
        if loader is not None:
            loader.dispose()
    return Document(path, data, builder.lines), builder.problems


def _show_tag(tag: str) -> str:
    return tag.replace('tag:yaml.org,2002:', '!!')


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


_IMPLICIT = _PyLoader.yaml_implicit_resolvers  # the same rules as _CLoader's


def _plain(value: str) -> tuple[str, str]:
    """The tag pyyaml's resolver gives a plain (unquoted, untagged) scalar (`BaseResolver.resolve`
    for a ScalarNode with implicit[0] true, without its path resolvers: SafeLoader has none), and
    the value as one string object for every file that spells it (BATCH, CRON, dw: a plan holds
    tens of thousands of them)."""
    if len(value) > 64:
        return _resolve_plain(value)
    return _short_plain(value)


def _resolve_plain(value: str) -> tuple[str, str]:
    for tag, regexp in _IMPLICIT.get(value[0] if value else '', []) + _IMPLICIT.get(None, []):
        if regexp.match(value):
            return str(tag), value
    return _STR, value


# Cached for short values only: a long one (an inline script) would stay in memory.
_short_plain = functools.lru_cache(maxsize=8192)(_resolve_plain)


_ScalarEvent, _AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
_SequenceStart, _SequenceEnd, _MappingEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent, yaml.MappingEndEvent


class _Builder:
    """Turns one document's parser events into JSON values, with a line per JSON pointer.

    The loops are written for speed (issue 14: building is half of a definition's parse): the
    parser's method is bound once, a line is read off an event only where it is kept or said,
    and a plain scalar's tag is looked up in a cache."""

    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader, path: str, lines: bool = True) -> None:
        self._loader = loader
        self._get: Callable[[], Any] = loader.get_event
        self._path = path
        self._track = lines  # False: no pointers spelt, no lines kept (yamlio.parse `lines`)
        self._count = 0
        self.lines: dict[str, int] = {}
        self.problems: list[Diagnostic] = []

    def _next(self) -> Any:
        event = self._get()
        if event is None:  # the parser ends the stream with StreamEnd first; this would be its bug
            raise _Refused('the YAML stream ended early', None, 'check the end of the file')
        return event

    def document(self) -> Any:
        self._next()  # StreamStart
        if isinstance(self._next(), yaml.StreamEndEvent):  # else DocumentStart
            return None
        data = self._value(self._next(), '', 1)
        self._next()  # DocumentEnd
        event = self._next()
        if not isinstance(event, yaml.StreamEndEvent):
            raise _Refused('a definition file holds one YAML document, but a second one starts here',
                           _line(event), 'remove the `---` and what follows, or split the file')
        return data

    def _value(self, event: Any, pointer: str, depth: int) -> Any:
        if self._track:
            self.lines[pointer] = _line(event)
        self._count += 1
        if self._count > MAX_NODES:
            raise _Refused(f'more than {MAX_NODES:,} values in one document', _line(event), 'split the definition')
        kind = type(event)
        if kind is _ScalarEvent:
            if event.tag is None:
                value: str = event.value
                if not event.implicit[0]:  # quoted: a string
                    return value
                tag, same = _plain(value)
                if tag == _STR:
                    return same
                return self._typed(tag, value, event)
            return self._scalar(event)
        if kind is _AliasEvent:
            raise _Refused('YAML aliases are not allowed in definitions', _line(event),
                           'write the value out in full (a template generates repeated definitions)')
        if depth > MAX_DEPTH:
            raise _Refused(f'nested deeper than {MAX_DEPTH} levels', _line(event),
                           'definitions are shallow documents; flatten this structure')
        tag = event.tag
        if kind is _SequenceStart:
            if tag is not None:
                self._collection_tag(tag, _SEQ, event)
            return self._sequence(pointer, depth)
        if tag is not None:
            self._collection_tag(tag, _MAP, event)
        return self._mapping(pointer, depth)

    def _sequence(self, pointer: str, depth: int) -> list[Any]:
        out: list[Any] = []
        get, value, track, depth = self._get, self._value, self._track, depth + 1
        while True:
            event = get()
            if type(event) is _SequenceEnd:
                return out
            if event is None:
                self._next()  # raises: the stream ended early
            out.append(value(event, f'{pointer}/{len(out)}' if track else '', depth))

    def _mapping(self, pointer: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get, value, track, depth = self._get, self._value, self._track, depth + 1
        while True:
            event = get()
            kind = type(event)
            if kind is _MappingEnd:
                return out
            if kind is not _ScalarEvent or (event.value == '<<' and event.tag is None and event.implicit[0]):
                self._bad_key(event)
            key: str = intern(event.value)  # a few dozen field names, each spelt once in memory
            self._count += 1
            child = f'{pointer}/{escape_pointer(key)}' if track else ''
            if key in out:
                if not track:
                    raise _NeedsLines
                self.problems.append(Diagnostic(
                    'error', f'duplicate key {key!r}', f'{self._path}:{_line(event)}#{child}',
                    'a key may appear once per mapping; YAML would silently keep only the last one'))
            event = get()
            if event is None:
                self._next()  # raises: the stream ended early
            out[key] = value(event, child, depth)

    def _bad_key(self, event: Any) -> None:
        """Refuse a mapping key that is not plain text (a mapping key as its text: JSON keys are
        strings, so `on:` is the key 'on', not true)."""
        if event is None:
            self._next()  # raises: the stream ended early
        line = _line(event)
        if type(event) is _AliasEvent:
            raise _Refused('YAML aliases are not allowed in definitions', line, 'write the key out in full')
        if type(event) is not _ScalarEvent:
            raise _Refused('a mapping key must be text, not a list or mapping', line, 'use a plain name as the key')
        raise _Refused('YAML merge keys (<<) are not allowed in definitions', line, 'write the fields out in full')

    def _scalar(self, event: Any) -> Any:
        """A scalar with an explicit tag (`!!str 1`, `! x`)."""
        value: str = event.value
        tag = event.tag
        if tag == '!':
            tag = self._loader.resolve(yaml.ScalarNode, value, event.implicit)  # type: ignore[no-untyped-call]
        if tag == _STR:
            return value
        return self._typed(tag, value, event)

    def _typed(self, tag: str, value: str, event: Any) -> Any:
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return self._loader.bool_values[value.lower()]
        if tag in (_INT, _FLOAT):
            if len(value) > MAX_NUMBER_CHARS:
                raise _Refused(_long_number(value), _line(event), _LONG_NUMBER_HINT)
            node = yaml.ScalarNode(tag, value)
            if tag == _INT:
                return self._loader.construct_yaml_int(node)
            number = self._loader.construct_yaml_float(node)
            if not math.isfinite(number):
                raise _Refused(f'{value} is not a number JSON can carry', _line(event), _NOT_FINITE_HINT)
            return number
        raise _Refused(f'YAML tag {_show_tag(tag)} is not allowed in definitions', _line(event),
                       'values are JSON: text, numbers, true/false, null, lists and mappings')

    @staticmethod
    def _collection_tag(tag: str, expected: str, event: Any) -> None:
        if tag not in ('!', expected):
            raise _Refused(f'YAML tag {_show_tag(tag)} is not allowed in definitions', _line(event),
                           'values are JSON: text, numbers, true/false, null, lists and mappings')


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
