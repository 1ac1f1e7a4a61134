"""Rewrite a YAML definition so that only what changed changes: ruamel.yaml's round-trip mode. Pure.

The file git has is loaded as a tree that remembers its comments, quoting, flow style, key order
and indentation; the values that differ from what must be written are replaced in that tree, node
by node, and the tree is written back. Everything the change did not touch keeps its bytes.

Two habits of ruamel.yaml are corrected on the way:

* it keeps a comment on its own line as the *tail* of the entry before it (the comment above
  `- name: b` belongs to the last field of `- name: a`), so removing `a` would remove the
  comment about `b`, and appending after the last entry would slip the new one in above a
  comment about what follows. `_comments_before_entries` moves such lines in front of the entry
  they precede, where they travel with it;
* it reads YAML 1.2 while jobsync reads YAML 1.1 (yamlio.py, PyYAML): `yes`, `on` or `010` are
  strings to one and not to the other. Values are therefore compared with what PyYAML reads,
  a new string is quoted whenever PyYAML would quote it, and the result is read back with
  PyYAML and must equal what was asked for; when it does not (an alias, a duplicate key, a
  construct the two read differently), `patch_yaml` returns None and the caller writes the
  file whole, in the house style.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.error import YAMLError as RoundTripError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from jobsync import secrets, yamlio
from jobsync.export.merge import same

_WIDTH = 1 << 20  # never fold a long line: folding would rewrite lines nobody changed
_PRE = 1  # in ruamel's comment slots, for map and sequence entries alike: the comments before the entry


@dataclass(frozen=True)
class HouseStyle:
    """How new values are written into an existing file (examples/repo's style, or the file's own)."""

    double_quotes: bool = True  # a string that must be quoted gets `"` (else `'`)
    inline: Callable[[str, Any], bool] = lambda _pointer, _value: False  # new collections written on one line


def patch_yaml(raw: bytes, old: Any, new: Any, style: HouseStyle) -> str | None:
    """`raw` (a YAML file whose content PyYAML reads as `old`) rewritten to hold `new`, changing only
    the nodes whose value differs. None when the file cannot be patched faithfully (see the module
    docstring): the caller then writes `new` whole.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        return None
    if text.startswith('\ufeff') or '\r' in text:  # ruamel writes neither a BOM nor CRLF back
        return None
    rt = _round_trip(text)
    try:
        tree = rt.load(text)
        if not isinstance(tree, CommentedMap):
            return None
        _comments_before_entries(tree)
        patched = _patch(tree, old, new, '', style)
        out = io.StringIO()
        rt.dump(patched, out)
    except (RoundTripError, ValueError, TypeError, RecursionError):
        return None
    result = out.getvalue()
    doc, problems = yamlio.parse('patched.yaml', result.encode('utf-8'))
    try:
        faithful = doc is not None and not problems and same(doc.data, new)
    except (TypeError, ValueError):  # a value JSON cannot compare: do not guess
        return None
    return result if faithful else None


# --- the file's indentation ---------------------------------------------------------------------

def _round_trip(text: str) -> YAML:
    """A round-trip loader and dumper set to the file's own indentation (ruamel takes one setting a file)."""
    rt = YAML(typ='rt')
    rt.preserve_quotes = True
    rt.width = _WIDTH
    mapping, sequence, offset = _indentation(text)
    rt.indent(mapping=mapping, sequence=sequence, offset=offset)
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith('#')), '')
    rt.explicit_start = first.startswith('---')
    return rt


def _indentation(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) of the first nested block mapping and sequence.

    Defaults are the house style: `  key:` under a key, `  - item` under a key.
    """
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    stack = [root] if root is not None else []
    while stack and (mapping is None or sequence is None):
        node = stack.pop(0)
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            for key, value in node.value:
                column = key.start_mark.column
                if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value and mapping is None:
                    mapping = value.value[0][0].start_mark.column - column
                if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value and sequence is None:
                    dash = value.start_mark.column
                    sequence = (value.value[0].start_mark.column - column, dash - column)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
            stack.extend(node.value)
    mapping = mapping if mapping and mapping > 0 else 2
    seq_indent, offset = sequence if sequence and sequence[0] > sequence[1] >= 0 else (mapping + 2, mapping)
    return mapping, seq_indent, offset


# --- comments -----------------------------------------------------------------------------------

def _walk(node: Any) -> Iterator[tuple[str, Any, Any]]:
    """The block collections' entries in document order: ('entry', c, key), its children, ('tail', c, key);
    ('end', c, None) after a collection's last entry. Flow collections are one line: not entered."""
    if isinstance(node, (CommentedMap, CommentedSeq)) and not node.fa.flow_style():
        keys = list(node.keys()) if isinstance(node, CommentedMap) else list(range(len(node)))
        for key in keys:
            yield 'entry', node, key
            yield from _walk(node[key])
            yield 'tail', node, key
        yield 'end', node, None


def _tail_slot(container: Any) -> int:
    return 2 if isinstance(container, CommentedMap) else 0  # map: after the value; sequence: after the item


def _comments_before_entries(root: CommentedMap) -> None:
    """Move comment lines that ruamel keeps after an entry in front of the entry they precede.

    A tail token holds the end of its entry's line (an end-of-line comment, or nothing) and then
    whole lines; the whole lines are the ones moved. Lines after the last entry go to the file's end.
    """
    pending: list[Callable[[], None]] = []  # how to take each pending text away from where it is
    texts: list[str] = []
    for event, container, key in _walk(root):
        if event == 'entry' and texts:
            slots = container.ca.items.setdefault(key, [None, None, None, None])
            before = list(slots[_PRE] or [])
            slots[_PRE] = [CommentToken(''.join(texts), CommentMark(0)), *before]
            for take in pending:
                take()
            pending, texts = [], []
        elif event == 'tail':
            slots = container.ca.items.get(key)
            token = slots[_tail_slot(container)] if slots else None
            if isinstance(token, CommentToken) and '\n' in token.value:
                first, rest = token.value.split('\n', 1)
                if rest:
                    texts.append(rest)
                    pending.append(_trimmer(slots, _tail_slot(container), token, first + '\n'))
        elif event == 'end' and container.ca.end and container is not root:
            tokens = list(container.ca.end)
            texts.extend(t.value for t in tokens if isinstance(t, CommentToken))
            pending.append(container.ca.end.clear)
    if texts:  # after the last entry: the file's end, where an entry appended at the end goes before them
        for take in pending:
            take()
        root.ca.end = [CommentToken(''.join(texts), CommentMark(0)), *(root.ca.end or [])]


def _trimmer(slots: list[Any], index: int, token: CommentToken, first: str) -> Callable[[], None]:
    def take() -> None:
        if first == '\n':  # nothing but the line's end was left: no comment there any more
            slots[index] = None
        else:
            token.value = first
    return take


# --- values -------------------------------------------------------------------------------------

def _names(items: list[Any]) -> list[str] | None:
    if all(isinstance(i, dict) and isinstance(i.get('name'), str) for i in items):
        names = [i['name'] for i in items]
        if len(set(names)) == len(names):
            return names
    return None


def _patch(node: Any, old: Any, new: Any, pointer: str, style: HouseStyle) -> Any:
    """`node` (ruamel's, reading as `old` in PyYAML) changed to hold `new`; unchanged parts untouched."""
    if same(old, new):
        return node
    if isinstance(node, CommentedMap) and isinstance(old, dict) and isinstance(new, dict):
        keys = list(node.keys())
        if len(keys) != len(old) or any(str(a) != str(b) for a, b in zip(keys, old, strict=True)):
            return _fresh(new, pointer, style)  # the two readings disagree on the keys: rewrite this mapping
        by_text = {str(k): (k, o) for k, o in zip(keys, old, strict=True)}
        for text, (key, _o) in by_text.items():
            if text not in new:
                del node[key]
        for text, value in new.items():
            child = f'{pointer}/{secrets.escape_pointer(str(text))}'
            if str(text) in by_text:
                key, old_key = by_text[str(text)]
                node[key] = _patch(node[key], old[old_key], value, child, style)
            else:
                node[text] = _fresh(value, child, style)
        return node
    if isinstance(node, CommentedSeq) and isinstance(old, list) and isinstance(new, list) and len(node) == len(old):
        old_names, new_names = _names(old), _names(new)
        if old_names is not None and new_names is not None:  # nodes, params: the same item is the same name
            where = {name: i for i, name in enumerate(old_names)}
            sources: list[int | None] = [where.get(name) for name in new_names]
        else:
            sources = [i if i < len(old) else None for i in range(len(new))]
        items: list[Any] = []
        comments: dict[int, Any] = {}
        for j, (i, value) in enumerate(zip(sources, new, strict=True)):
            child = f'{pointer}/{j}'
            if i is None:
                items.append(_fresh(value, child, style))
                continue
            items.append(_patch(node[i], old[i], value, child, style))
            if i in node.ca.items:
                comments[j] = node.ca.items[i]
        list.__delitem__(node, slice(None))  # plain list operations: ruamel's would renumber the comments
        list.extend(node, items)
        node.ca.items.clear()
        node.ca.items.update(comments)
        return node
    return _fresh(new, pointer, style, like=node)


def _fresh(value: Any, pointer: str, style: HouseStyle, like: Any = None) -> Any:
    """A new node for `value`, in the house style; a string keeps the quotes of the one it replaces."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for k, v in value.items():
            mapping[k] = _fresh(v, f'{pointer}/{secrets.escape_pointer(str(k))}', style)
        if value and style.inline(pointer, value):
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        seq = CommentedSeq(_fresh(v, f'{pointer}/{i}', style) for i, v in enumerate(value))
        if value and style.inline(pointer, value):
            seq.fa.set_flow_style()
        return seq
    if not isinstance(value, str):
        return value
    if '\n' in value:
        return LiteralScalarString(value)
    if isinstance(like, (DoubleQuotedScalarString, SingleQuotedScalarString)):
        return type(like)(value)
    if _pyyaml_quotes(value):
        return DoubleQuotedScalarString(value) if style.double_quotes else SingleQuotedScalarString(value)
    return value


def _pyyaml_quotes(value: str) -> bool:
    """Whether PyYAML (which reads the repo: YAML 1.1) needs `value` quoted to read it back as this string."""
    return yamlio.dump_yaml({'k': value}).startswith(("k: '", 'k: "'))
