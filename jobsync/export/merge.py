"""Merging what the workspace holds into what git has: per value, git's text wherever the workspace
agrees with git, the workspace's value where it does not; secrets always as references. Pure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jobsync import codec, secrets
from jobsync.errors import Diagnostic
from jobsync.kinds import FIELD_RULES, is_secret_field, matches
from jobsync.model import Kind, ObjectKey, Spec
from jobsync.remap import Remap, apply_remap
from jobsync.secrets import suggested_secret_name


@dataclass(frozen=True)
class SecretNote:
    """A secret field written as a reference. `new`: suggested by this export, so it must be set."""

    key: ObjectKey
    path: str
    pointer: str  # repo-form JSON pointer in `path`
    reference: str
    new: bool
    literal: bool = False  # the source held a real value (a bundle), which was not written



def pointer_of(path: tuple[str, ...]) -> str:
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


def place_secrets(
    key: ObjectKey, doc: Any, old: Any, path_in_repo: str, extra: Sequence[str] = (),
) -> tuple[Any, list[SecretNote]]:
    """Replace every secret value in a repo-form `doc` by a reference; `old` is git's repo-form doc,
    `extra` the fields jobsync.yaml marks secret for this kind (`secret_fields`).

    * a secret field (write-only per kinds.py) or a masked placeholder: git's reference for that
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
                notes.append(SecretNote(key, path_in_repo, pointer_of(path), value, new=False))
                return value
            if _holds_ref(before):
                notes.append(SecretNote(key, path_in_repo, pointer_of(path), str(before), new=False))
                return before
            ref = _suggested(key, path[-1] if path else 'secret')
            notes.append(SecretNote(key, path_in_repo, pointer_of(path), ref, new=True,
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
            notes.append(SecretNote(key, path_in_repo, pointer_of(path), text, new=False))
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


def _named_items(value: Any) -> dict[str, Any] | None:
    if isinstance(value, list) and all(isinstance(i, dict) and isinstance(i.get('name'), str) for i in value):
        names = [i['name'] for i in value]
        if len(set(names)) == len(names):
            return {i['name']: i for i in value}
    return None


ABSENT: Any = object()


def same(a: Any, b: Any) -> bool:
    """Deep equality where key order does not matter and `True` is not `1`."""
    if a is ABSENT or b is ABSENT:
        return a is b
    return json.dumps(a, sort_keys=True, ensure_ascii=False) == json.dumps(b, sort_keys=True, ensure_ascii=False)


def _is_default(kind: Kind, path: tuple[str, ...], value: Any) -> bool:
    """Whether `value` at `path` is the default the field rules fold there (`*`: any segment)."""
    for pattern, (default, _reason) in FIELD_RULES[kind].defaults.items():
        if matches(path, pattern) and same(value, default):
            return True
    return False


def without_defaults(kind: Kind, doc: Any, path: tuple[str, ...] = ()) -> Any:
    """A repo-form document without the fields that hold their default (kinds.FIELD_RULES): what a
    new file needs to say, the service filling the rest (jobdefaults.py)."""
    if isinstance(doc, dict):
        return {k: without_defaults(kind, v, (*path, str(k))) for k, v in doc.items()
                if not _is_default(kind, (*path, str(k)), v)}
    if isinstance(doc, list):
        return [without_defaults(kind, v, (*path, str(i))) for i, v in enumerate(doc)]
    return doc


def templated(value: Any) -> bool:
    return isinstance(value, str) and ('${var:' in value or '${param:' in value)


def merge_values(
    raw: Any, filled: Any, live: Any, kind: Kind, path: tuple[str, ...], warn: Callable[[str, str], None],
) -> Any:
    """Git's text wherever the workspace agrees with git; the workspace's value where it does not.

    `raw` is git's document as written (`${var:...}`, absent fields the target fills in), `filled`
    the same document as the target sees it (variables filled, time zone set), `live` the
    workspace's; `filled` and `live` use git's names (remapping undone). Where `live` equals
    `filled` the result is `raw` (`ABSENT`: leave the field out, as git does). Dictionaries
    keep git's key order (new keys last); lists of named items that the diff compares by name
    (nodes, params) keep git's order. `warn(pointer, text)` hears of every `${var:...}` the
    workspace's value replaces.
    """
    if same(live, filled):
        return raw
    if isinstance(live, dict):
        r = raw if isinstance(raw, dict) else {}
        f = filled if isinstance(filled, dict) else {}
        out: dict[str, Any] = {}
        for k in [k for k in r if k in live] + [k for k in live if k not in r]:
            if k not in r and _is_default(kind, (*path, str(k)), live[k]):
                continue  # the service filled what git leaves out (jobdefaults.py): keep it out
            value = merge_values(r.get(k, ABSENT), f.get(k, ABSENT), live[k], kind, (*path, str(k)), warn)
            if value is not ABSENT:
                out[k] = value
        return out
    if isinstance(live, list):
        raw_list = raw if isinstance(raw, list) else []
        filled_list = filled if isinstance(filled, list) else []
        live_named, raw_named, filled_named = _named_items(live), _named_items(raw_list), _named_items(filled_list)
        if live_named is not None and raw_named is not None and filled_named is not None:
            items = list(live)
            if pointer_of(path) in FIELD_RULES[kind].name_keyed:
                rank = {name: i for i, name in enumerate(raw_named)}
                items.sort(key=lambda i: rank.get(i['name'], len(rank)))
            where = {name: str(n) for n, name in enumerate(raw_named)}
            return [merge_values(raw_named.get(i['name'], ABSENT), filled_named.get(i['name'], ABSENT), i, kind,
                                 (*path, where.get(i['name'], str(n))), warn) for n, i in enumerate(items)]
        if len(raw_list) == len(filled_list) == len(live):
            return [merge_values(raw_list[i], filled_list[i], v, kind, (*path, str(i)), warn)
                    for i, v in enumerate(live)]
        return live
    if templated(raw):
        warn(pointer_of(path), str(raw))
    return live


def in_git(git_key: ObjectKey, key: ObjectKey, api: Spec, back: Remap) -> Spec:
    """A workspace spec with git's names: the remapped references undone, the name git's."""
    spec = apply_remap(key, api, back).spec if any(back.values()) else dict(api)
    name_field = codec.NAME_FIELD[key.kind]
    return {name_field: git_key.name, **{k: v for k, v in spec.items() if k != name_field}}


def invert_remap(remap: Remap) -> tuple[dict[str, dict[str, str]], list[Diagnostic]]:
    """The target's remapping undone: {section: {name in the target: name in git}}.

    Two git names mapped to one target name cannot be undone; those entries are left out, with a warning.
    """
    out: dict[str, dict[str, str]] = {}
    problems: list[Diagnostic] = []
    for section, names in remap.items():
        back: dict[str, str] = {}
        for old, new in names.items():
            if new in back or list(names.values()).count(new) > 1:
                if new not in back:
                    problems.append(Diagnostic(
                        'warning', f'remap {section}: several names in git become {new!r}; objects named {new!r} '
                                   'in the workspace are exported under that name', 'jobsync.yaml'))
                back[new] = new
                continue
            back[new] = old
        out[section] = {new: old for new, old in back.items() if new != old}
    return out, problems
