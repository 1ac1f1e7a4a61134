"""`${var:NAME}` and `${param:NAME}` placeholders: substitution into a parsed document. Pure.

* `${var:NAME}`: a variable of the target (jobsync.yaml `variables`, top level and per target);
* `${param:NAME}`: a parameter of one parameter set of a template (templates.py).

Only string values are looked at, anywhere in the document; mapping keys are not (they are
field names). A string that is exactly one placeholder takes the value's own YAML type
(`instanceTimeout: ${var:timeout}` with `timeout: 120` gives the integer 120, a list gives the
list); a placeholder inside other text is replaced by the value's text (`true`, `120`), and a
list or mapping cannot be. `${secret:...}` references are not placeholders here: they stay as
they are until apply (secrets.py).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobsync.secrets import escape_pointer

NAME_PATTERN = re.compile(r'[A-Za-z_][A-Za-z0-9_]*\Z')


@dataclass(frozen=True)
class Problem:
    """A placeholder that cannot be filled: undefined, malformed, or a list/mapping inside text."""

    pointer: str  # JSON pointer of the string holding it
    name: str  # the placeholder's name as written
    reason: str  # 'undefined' | 'malformed' | 'not-text'
    offset: int = 0  # where the placeholder starts in that string (for line numbers in sidecars)


@dataclass
class Result:
    value: Any
    problems: list[Problem] = field(default_factory=list)
    used: dict[str, list[str]] = field(default_factory=dict)  # pointer -> names used in that string


def placeholder_pattern(namespace: str) -> re.Pattern[str]:
    return re.compile(r'\$\{' + re.escape(namespace) + r':([^}]*)\}')


def substitute(value: Any, namespace: str, values: Mapping[str, Any], pointer: str = '') -> Result:
    """A copy of `value` with every `${<namespace>:NAME}` in its strings filled from `values`."""
    result = Result(None)
    result.value = _walk(value, placeholder_pattern(namespace), values, pointer, result)
    return result


def substitute_text(text: str, namespace: str, values: Mapping[str, Any]) -> Result:
    """Fill placeholders inside `text` (a script's content): the result is always a string."""
    result = Result(None)
    pattern = placeholder_pattern(namespace)
    result.value = _in_text(text, pattern, values, '', result)
    return result


def _walk(value: Any, pattern: re.Pattern[str], values: Mapping[str, Any], pointer: str, result: Result) -> Any:
    if isinstance(value, str):
        return _string(value, pattern, values, pointer, result)
    if isinstance(value, dict):
        return {k: _walk(v, pattern, values, f'{pointer}/{escape_pointer(str(k))}', result) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, pattern, values, f'{pointer}/{i}', result) for i, v in enumerate(value)]
    return value


def _string(text: str, pattern: re.Pattern[str], values: Mapping[str, Any], pointer: str, result: Result) -> Any:
    whole = pattern.fullmatch(text)
    if whole is not None:
        name = whole.group(1)
        if not NAME_PATTERN.match(name):
            result.problems.append(Problem(pointer, name, 'malformed'))
            return text
        if name not in values:
            result.problems.append(Problem(pointer, name, 'undefined'))
            return text
        result.used.setdefault(pointer, []).append(name)
        return copy.deepcopy(values[name])
    return _in_text(text, pattern, values, pointer, result)


def _in_text(text: str, pattern: re.Pattern[str], values: Mapping[str, Any], pointer: str, result: Result) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if not NAME_PATTERN.match(name):
            result.problems.append(Problem(pointer, name, 'malformed', match.start()))
            return match.group(0)
        if name not in values:
            result.problems.append(Problem(pointer, name, 'undefined', match.start()))
            return match.group(0)
        value = values[name]
        if isinstance(value, (dict, list)):
            result.problems.append(Problem(pointer, name, 'not-text', match.start()))
            return match.group(0)
        result.used.setdefault(pointer, []).append(name)
        return value if isinstance(value, str) else json.dumps(value)

    return pattern.sub(fill, text)


def may_hold_placeholders(raw: bytes) -> bool:
    """Whether a definition file's values can hold a `${var:...}` or a `${secret:...}` at all.

    A value holds `${` only where the file's text does, or where an escape (`\\x24`, `\\u0024`:
    a backslash) writes it; YAML folds a line break into a space, never into nothing. Most
    files hold neither, and the walks that look for placeholders and references skip them.
    """
    return b'${' in raw or b'\\' in raw
