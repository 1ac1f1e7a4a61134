"""Normalise both sides with the field rules, then compare: the field changes of one object.

Pure. The comparable form is the repo form (pair lists as mappings) with name-keyed lists as
mappings keyed by name, server-managed and ignored fields dropped, defaults folded, write-only
fields removed, and empty values (None, '', [], {}) treated as absent, since the service echoes
empty values for fields nobody set.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jobsync import codec
from jobsync.kinds import FIELD_RULES, SECRET_KINDS, TEXT_VALUES, as_text, compared_as_text, is_secret_field
from jobsync.model import Kind, Spec
from jobsync.secrets import SecretText, escape_pointer


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field: JSON pointer in comparable form, before (live) and after (desired).

    Secret fields never appear here with values: only references (desired side) or nothing.
    """

    pointer: str
    before: Any
    after: Any


_ABSENT: Any = object()


@functools.cache
def _split(pattern: str) -> tuple[str, ...]:
    return tuple(p.replace('~1', '/').replace('~0', '~') for p in pattern.split('/')[1:])


def _matches(value: Any, segments: tuple[str, ...]) -> Iterator[tuple[Any, str | int]]:
    """(container, key) pairs addressed by a pattern with `*` wildcards."""
    if not segments:
        return
    head, rest = segments[0], segments[1:]
    if isinstance(value, dict):
        keys: list[str | int] = list(value) if head == '*' else ([head] if head in value else [])
    elif isinstance(value, list):
        if head == '*':
            keys = list(range(len(value)))
        else:
            keys = [int(head)] if head.isdigit() and int(head) < len(value) else []
    else:
        return
    for key in keys:
        if rest:
            yield from _matches(value[key], rest)
        else:
            yield value, key


def _drop(value: Any, pattern: str) -> None:
    segments = _split(pattern)
    if len(segments) == 1:  # most rules name a top-level field: skip the generic walk
        if isinstance(value, dict):
            value.pop(segments[0], None)
        return
    for container, key in list(_matches(value, segments)):
        if isinstance(container, dict):
            container.pop(key, None)
        # list items are never dropped by pattern: indices would shift under the other matches


def _fold_default(value: Any, pattern: str, default: Any) -> None:
    segments = _split(pattern)
    if len(segments) == 1:
        if isinstance(value, dict) and segments[0] in value and _same(value[segments[0]], default):
            del value[segments[0]]
        return
    for container, key in list(_matches(value, segments)):
        if isinstance(container, dict) and _same(container.get(key), default):
            del container[key]


@dataclass
class _Node:
    """Patterns sharing a prefix, as a tree: one walk applies them all."""

    leaves: dict[str, Any] = dataclasses.field(default_factory=dict)  # last segment -> default (drops: None)
    children: dict[str, _Node] = dataclasses.field(default_factory=dict)


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether one pattern could address something inside (or at) what the other addresses."""
    return all(x == y or '*' in (x, y) for x, y in zip(a, b, strict=False))


def _tree(patterns: tuple[tuple[str, Any], ...]) -> _Node | None:
    """The patterns (with their defaults) as one tree, or None when two of them overlap: then
    applying them one after the other, in order, is what the rules mean."""
    split = [(_split(p), d) for p, d in patterns]
    for i, (a, _) in enumerate(split):
        if not a or any(_overlap(a, b) for b, _ in split[i + 1:]):
            return None
    root = _Node()
    for segments, default in split:
        node = root
        for segment in segments[:-1]:
            node = node.children.setdefault(segment, _Node())
        node.leaves[segments[-1]] = default
    return root


def _walk(value: Any, node: _Node, fold: bool) -> None:
    """Apply a tree in one walk: drop (`fold` False) or fold-if-default (`fold` True) every leaf it
    addresses in a dict; lists are walked into but never lose items (indices would shift)."""
    if isinstance(value, dict):
        for segment, default in node.leaves.items():
            keys = list(value) if segment == '*' else [segment] if segment in value else []
            for key in keys:
                if not fold or _same(value[key], default):
                    del value[key]
        for segment, child in node.children.items():
            if segment == '*':
                for item in value.values():
                    _walk(item, child, fold)
            elif segment in value:
                _walk(value[segment], child, fold)
    elif isinstance(value, list):
        for segment, child in node.children.items():
            if segment == '*':
                for item in value:
                    _walk(item, child, fold)
            elif segment.isdigit() and int(segment) < len(value):
                _walk(value[int(segment)], child, fold)


def _copy_dropping(value: Any, node: _Node) -> Any:
    """`json_copy(value)` then `_walk(copy, node, fold=False)`, in one walk: what the drop tree
    addresses is never copied. The normalisation's first step for every object, so it counts."""
    if isinstance(value, dict):
        if '*' in node.leaves:
            return {}
        star = node.children.get('*')
        out = {}
        for key, item in value.items():
            if key in node.leaves:
                continue
            out[key] = _copy_child(item, node.children.get(key), star)
        return out
    if isinstance(value, list):
        star = node.children.get('*')
        return [_copy_child(item, node.children.get(str(i)), star) for i, item in enumerate(value)]
    return value


def _copy_child(item: Any, named: _Node | None, star: _Node | None) -> Any:
    if named is None and star is None:
        return codec.json_copy(item)
    copied = _copy_dropping(item, named if named is not None else star)  # type: ignore[arg-type]
    if named is not None and star is not None:  # both address it, as in `_walk`
        _walk(copied, star, fold=False)
    return copied


@functools.cache
def _rules(kind: Kind) -> tuple[tuple[str, ...], _Node | None, tuple[tuple[str, Any], ...], _Node | None]:
    """A kind's drop patterns and (pattern, default) pairs, each with its tree (None: they overlap)."""
    rules = FIELD_RULES[kind]
    drops = (*rules.server_managed, *rules.ignored)
    defaults = tuple((pattern, as_text(default) if compared_as_text(kind, pattern) else default)
                     for pattern, (default, _reason) in rules.defaults.items())
    return drops, _tree(tuple((p, None) for p in drops)), defaults, _tree(defaults)


def _same(a: Any, b: Any) -> bool:
    """Equality where `True` is not `1`: a boolean only equals a boolean."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _key_by_name(value: Any, pattern: str) -> None:
    for container, key in list(_matches(value, _split(pattern))):
        items = container[key]
        if isinstance(items, list) and all(isinstance(i, dict) and isinstance(i.get('name'), str) for i in items):
            names = [i['name'] for i in items]
            if len(set(names)) == len(names):
                container[key] = {i['name']: {k: v for k, v in i.items() if k != 'name'} for i in items}


def _text_maps(kind: Kind, spec: Spec) -> Iterator[dict[str, Any]]:
    """The mappings whose values compare as text (kinds.TEXT_VALUES), in comparable form."""
    for pattern in TEXT_VALUES.get(kind, ()):
        for container, key in list(_matches(spec, _split(pattern))):
            if isinstance(container[key], dict):
                yield container[key]


def _prune(value: Any) -> Any:
    """Drop empty values recursively: absent, None, '', [] and {} all mean 'not set'."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _ABSENT}  or _ABSENT
    if isinstance(value, list):
        items = [_prune(v) for v in value]
        return [v if v is not _ABSENT else None for v in items] or _ABSENT
    if value is None or value == '':
        return _ABSENT
    return value


def _drop_secrets(kind: Kind, value: Any, desired: Any, path: tuple[str, ...] = ()) -> Any:
    """Remove write-only fields, and any field whose desired value holds a secret reference."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            sub_desired = desired.get(k) if isinstance(desired, dict) else None
            if is_secret_field(kind, (*path, k)) or isinstance(sub_desired, SecretText):
                continue
            out[k] = _drop_secrets(kind, v, sub_desired, (*path, k))
        return out
    return value


def comparable(kind: Kind, spec: Spec, *, desired: Spec | None = None) -> dict[str, Any]:
    """The normalised form both sides are compared in. `desired` tells which fields hold secrets."""
    rules = FIELD_RULES[kind]
    drops, drop_tree, defaults, default_tree = _rules(kind)
    if drop_tree is not None:
        work = _copy_dropping(spec, drop_tree)
    else:
        work = codec.json_copy(spec)
        for pattern in drops:
            _drop(work, pattern)
    work, content = codec.to_repo(kind, work, copy=False)
    if content is not None:
        work['content'] = content
    for pattern in rules.name_keyed:
        _key_by_name(work, pattern)
    for pairs in _text_maps(kind, work):
        for name in list(pairs):
            pairs[name] = as_text(pairs[name])
    if default_tree is not None:
        _walk(work, default_tree, fold=True)
    else:
        for pattern, default in defaults:
            _fold_default(work, pattern, default)
    if desired is not None:
        work = _drop_secrets(kind, work, desired)
    pruned = _prune(work)
    return {} if pruned is _ABSENT else pruned


def compared_forms(kind: Kind, desired: Spec, live: Spec | None = None) -> tuple[Any, Any]:
    """The two values `diff_specs` compares: (desired, live), secret fields dropped from both.

    The desired form is what the workspace reads back as once the object is applied; it is what
    the state records (as a hash) to tell later whether the workspace changed (state.py). The live
    form is None when `live` is None.
    """
    want = comparable(kind, desired, desired=None)
    have = None if live is None else comparable(kind, live)
    if kind in SECRET_KINDS or _holds_secret(want):
        return _drop_secrets(kind, want, want), None if have is None else _drop_secrets(kind, have, want)
    return want, have  # nothing write-only on either side: skip two walks (most Factory jobs)


def diff_specs(kind: Kind, desired: Spec, live: Spec) -> list[FieldChange]:
    """Field changes that would turn `live` into `desired`, sorted by pointer."""
    desired_cmp, live_cmp = compared_forms(kind, desired, live)
    return sorted(_compare(live_cmp, desired_cmp, ()), key=lambda c: c.pointer)


def _compare(before: Any, after: Any, path: tuple[Any, ...]) -> Iterator[FieldChange]:
    """Changes between two comparable forms, in no particular order (the caller sorts by pointer).

    The pointer of a field is spelt only when it changed: most fields of most objects do not.
    """
    if isinstance(before, dict) and isinstance(after, dict):  # comparable forms are plain dicts
        for key in before.keys() | after.keys():
            if key not in before:
                yield FieldChange(_pointer((*path, key)), None, after[key])
            elif key not in after:
                yield FieldChange(_pointer((*path, key)), before[key], None)
            else:
                yield from _compare(before[key], after[key], (*path, key))
    elif not _same(before, after):
        yield FieldChange(_pointer(path), before, after)


def _pointer(path: tuple[Any, ...]) -> str:
    return ''.join(f'/{escape_pointer(str(key))}' for key in path)


def _holds_secret(value: Any) -> bool:
    """Whether a secret reference sits anywhere in `value` (what `iter_secrets` would find)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, SecretText):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def without_server_managed(kind: Kind, spec: Spec) -> Spec:
    """A copy of an API-form spec without the fields the service manages (FIELD_RULES.server_managed).

    Ignored fields (canvas positions) are kept: they are the user's, only the comparison skips them.
    """
    work: Spec = codec.json_copy(spec)
    for pattern in FIELD_RULES[kind].server_managed:
        _drop(work, pattern)
    return work
