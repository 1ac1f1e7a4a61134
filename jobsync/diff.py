"""Normalise both sides with the field rules, then compare: the field changes of one object.

Pure. The comparable form is the repo form (pair lists as mappings) with name-keyed lists as
mappings keyed by name, server-managed and ignored fields dropped, defaults folded, write-only
fields removed, and empty values (None, '', [], {}) treated as absent, since the service echoes
empty values for fields nobody set.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jobsync import codec
from jobsync.fields import FIELD_RULES, is_secret_field
from jobsync.model import Kind, Spec
from jobsync.secrets import SecretText, escape_pointer


@dataclass(frozen=True)
class FieldChange:
    """One changed field: JSON pointer in comparable form, before (live) and after (desired).

    Secret fields never appear here with values: only references (desired side) or nothing.
    """

    pointer: str
    before: Any
    after: Any


_ABSENT: Any = object()


@functools.lru_cache(maxsize=1024)
def _split(pattern: str) -> tuple[str, ...]:
    return tuple(p.replace('~1', '/').replace('~0', '~') for p in pattern.split('/')[1:])


def _matches(value: Any, segments: tuple[str, ...]) -> list[tuple[Any, str | int]]:
    """(container, key) pairs addressed by a pattern with `*` wildcards.

    Level by level rather than recursively: every match sits at the pattern's depth, so the
    order does not matter to the callers, and a plan calls this a few hundred thousand times.
    """
    if not segments:
        return []
    level: list[Any] = [value]
    last = len(segments) - 1
    for depth, head in enumerate(segments):
        found: list[tuple[Any, str | int]] = []
        for current in level:
            if isinstance(current, dict):
                if head == '*':
                    found.extend((current, key) for key in current)
                elif head in current:
                    found.append((current, head))
            elif isinstance(current, list):
                if head == '*':
                    found.extend((current, index) for index in range(len(current)))
                elif head.isdigit() and int(head) < len(current):
                    found.append((current, int(head)))
        if depth == last or not found:
            return found
        level = [container[key] for container, key in found]
    return []


def _drop(value: Any, pattern: str) -> None:
    for container, key in _matches(value, _split(pattern)):
        if isinstance(container, dict):
            container.pop(key, None)
        # list items are never dropped by pattern: indices would shift under the other matches


def _fold_default(value: Any, pattern: str, default: Any) -> None:
    for container, key in _matches(value, _split(pattern)):
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
    applying them one after the other (in order) is what the rules mean, and the caller does."""
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
    """Apply a tree: drop (`fold` False) or fold-if-default (`fold` True) every leaf it addresses
    in a dict; lists are walked into but never lose items (indices would shift)."""
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


_UNBUILT: Any = object()


def _drop_all(value: Any, patterns: tuple[str, ...], tree: _Node | None = _UNBUILT) -> None:
    """Drop what every pattern addresses (one walk when they do not overlap)."""
    if tree is _UNBUILT:
        tree = _tree(tuple((p, None) for p in patterns))
    if tree is None:
        for pattern in patterns:
            _drop(value, pattern)
    else:
        _walk(value, tree, fold=False)


def _fold_defaults(value: Any, defaults: tuple[tuple[str, Any], ...], tree: _Node | None = _UNBUILT) -> None:
    """Fold every (pattern, default) (one walk when the patterns do not overlap)."""
    if tree is _UNBUILT:
        tree = _tree(defaults)
    if tree is None:
        for pattern, default in defaults:
            _fold_default(value, pattern, default)
    else:
        _walk(value, tree, fold=True)


@functools.lru_cache(maxsize=16)
def _rule_trees(kind: Kind) -> tuple[tuple[str, ...], _Node | None, _Node | None]:
    """A kind's drop patterns with their tree, and its defaults' tree (built once)."""
    rules = FIELD_RULES[kind]
    drops = (*rules.server_managed, *rules.ignored)
    return drops, _tree(tuple((p, None) for p in drops)), _tree(_defaults(kind))


def _same(a: Any, b: Any) -> bool:
    """Equality where `True` is not `1`: a boolean only equals a boolean."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _key_by_name(value: Any, pattern: str) -> None:
    for container, key in _matches(value, _split(pattern)):
        items = container[key]
        if isinstance(items, list) and all(isinstance(i, dict) and isinstance(i.get('name'), str) for i in items):
            names = [i['name'] for i in items]
            if len(set(names)) == len(names):
                container[key] = {i['name']: {k: v for k, v in i.items() if k != 'name'} for i in items}


def _stringify_scalars(value: Any) -> Any:
    """Property and input values compare as text: the service returns `22` for `"22"` (reference §9.3)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _pair_maps(kind: Kind, spec: Spec) -> Iterator[dict[str, Any]]:
    if kind == 'job':
        for node in (spec.get('nodes') or {}).values() if isinstance(spec.get('nodes'), dict) else []:
            if isinstance(node, dict) and isinstance(node.get('properties'), dict):
                yield node['properties']
    for field in codec.CDM_CONFIG_VALUES.get(kind, ()):
        configs = (spec.get(field) or {}).get('configs') if isinstance(spec.get(field), dict) else None
        if isinstance(configs, dict):
            yield from (inputs for inputs in configs.values() if isinstance(inputs, dict))


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


@functools.lru_cache(maxsize=16)
def _defaults(kind: Kind) -> tuple[tuple[str, Any], ...]:
    return tuple((pattern, _stringify_scalars(default) if '/properties/' in pattern else default)
                 for pattern, (default, _reason) in FIELD_RULES[kind].defaults.items())


def comparable(kind: Kind, spec: Spec, *, desired: Spec | None = None) -> dict[str, Any]:
    """The normalised form both sides are compared in. `desired` tells which fields hold secrets."""
    rules = FIELD_RULES[kind]
    work = codec.copy_json(spec)
    drops, drop_tree, default_tree = _rule_trees(kind)
    _drop_all(work, drops, drop_tree)
    work, content = codec.to_repo(kind, work, copy=False)  # `work` is ours already
    if content is not None:
        work['content'] = content
    for pattern in rules.name_keyed:
        _key_by_name(work, pattern)
    for pairs in _pair_maps(kind, work):
        for name in list(pairs):
            pairs[name] = _stringify_scalars(pairs[name])
    _fold_defaults(work, _defaults(kind), default_tree)
    if desired is not None:
        work = _drop_secrets(kind, work, desired)
    pruned = _prune(work)
    return {} if pruned is _ABSENT else pruned


_SECRET_KINDS = frozenset({'connection', 'cdm-link', 'cdm-job'})  # kinds with write-only fields (fields.py)


def _holds_secret(value: Any) -> bool:
    if isinstance(value, SecretText):
        return True
    if isinstance(value, dict):
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def diff_specs(kind: Kind, desired: Spec, live: Spec) -> list[FieldChange]:
    """Field changes that would turn `live` into `desired`, sorted by pointer."""
    want = comparable(kind, desired, desired=None)
    if kind in _SECRET_KINDS or _holds_secret(want):
        desired_cmp = _drop_secrets(kind, want, want)
        live_cmp = _drop_secrets(kind, comparable(kind, live), want)
    else:  # nothing write-only on either side: the secret pass would only copy
        desired_cmp, live_cmp = want, comparable(kind, live)
    return sorted(_compare(live_cmp, desired_cmp, ''), key=lambda c: c.pointer)


def _compare(before: Any, after: Any, pointer: str) -> Iterator[FieldChange]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after), key=str):
            child = f'{pointer}/{escape_pointer(str(key))}'
            if key not in before:
                yield FieldChange(child, None, after[key])
            elif key not in after:
                yield FieldChange(child, before[key], None)
            else:
                yield from _compare(before[key], after[key], child)
    elif not _same(before, after):
        yield FieldChange(pointer, before, after)
