"""JSON text of jobsync's documents and hashes: one writer, at a C encoder's speed, with indentation.

The standard library's C encoder does not indent: `json.dumps(doc, indent=2)` runs the pure-Python
encoder, a quarter of a no-op plan's CPU at 10,000 jobs (the plan document carries every object).
orjson writes the same text for every value without a float (tests/test_jsontext.py checks it
against `json.dumps`: the same escapes, separators and key order). A float can be written another
way (`0.00001` for Python's `1e-05`), the same number: a state hash that an older jobsync wrote of a
definition holding such a float costs that object one read, and the plan says no change. It takes
secret references as they are (`SecretText` written back as its reference text), so no copy of a
document is made to print it. What orjson refuses (an integer past 64 bits, a key that is not
text) goes to the standard library's encoder, which writes it as before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from jobsync.secrets import SecretText, to_jsonable

_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _default(value: Any) -> str:
    if isinstance(value, SecretText):
        return str(value)  # the reference text, never a value: documents hold references only
    raise TypeError(f'{type(value).__name__} is not JSON')


def pretty(document: Any) -> str:
    """`json.dumps(document, indent=2, ensure_ascii=False)`, secret references as their text."""
    try:
        return orjson.dumps(document, default=_default, option=orjson.OPT_INDENT_2 | _PASSTHROUGH).decode()
    except orjson.JSONEncodeError:
        return json.dumps(to_jsonable(document), indent=2, ensure_ascii=False)


def canonical(document: Any) -> str:
    """Keys sorted, no spaces, `ensure_ascii=False`: the text jobsync hashes (state.py)."""
    try:
        return orjson.dumps(document, default=_default, option=orjson.OPT_SORT_KEYS | _PASSTHROUGH).decode()
    except orjson.JSONEncodeError:
        return json.dumps(to_jsonable(document), sort_keys=True, ensure_ascii=False, separators=(',', ':'))


def compact(document: Any) -> str:
    """No spaces, keys in their order, `ensure_ascii=False`: a JSON value kept as text (json.loads reads it back)."""
    try:
        return orjson.dumps(document, default=_default, option=_PASSTHROUGH).decode()
    except orjson.JSONEncodeError:
        return json.dumps(to_jsonable(document), ensure_ascii=False, separators=(',', ':'))


def loads(text: str | bytes) -> Any:
    """JSON text to values: orjson's speed, Python's answer where orjson refuses (NaN, an integer past
    64 bits), so a document reads as `json.loads` reads it."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text.decode('utf-8') if isinstance(text, bytes) else text)  # bytes: UTF-8, as orjson
