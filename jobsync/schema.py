"""JSON Schema validation of repo documents and of jobsync.yaml, with messages a person understands.

The schemas in `schemas/*.json` (draft 2020-12) describe the REPO form of each kind (see
`codec.py`); they also accept the API form where the two differ (node `properties` and CDM
`configs` as lists), so a file exported from the console validates as is.

`validate()` is pure: it returns problems, it never prints or raises for bad input. Each
problem carries the RFC 6901 pointer of the offending value, so callers can say
`jobs/daily.yaml#/nodes/0/retryTimes`.

Besides the standard keywords the schemas use two that editors (VS Code's JSON and YAML
language servers) also understand: `patternErrorMessage` (says in words what a `pattern`
allows) and `errorMessage` (replaces the message of any failure of that subschema).
"""

from __future__ import annotations

import datetime
import difflib
import functools
import importlib.resources
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from jobsync.errors import Diagnostic
from jobsync.model import KINDS, SourceRef

# jsonschema is imported where it runs, to explain a failure the compiled check found (a tenth of a
# second saved on every command). It ships neither a py.typed marker nor inline types;
# `unused-ignore` keeps the lines valid once types-jsonschema is installed.
if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped, unused-ignore]

SchemaName = Literal['connection', 'resource', 'script', 'job', 'cdm-link', 'cdm-job', 'config', 'template', 'plan',
                     'state']
"""A kind, `config` for jobsync.yaml, `template` for a `*.template.yaml` file (templates.py), `plan` for
saved plans, `state` for the state and lock documents (state.py)."""

SCHEMA_NAMES: tuple[SchemaName, ...] = get_args(SchemaName)

SCHEMA_FILES: dict[SchemaName, str] = {
    **{kind: f'{kind}.schema.json' for kind in KINDS},
    'config': 'jobsync.schema.json',
    'template': 'template.schema.json',
    'plan': 'plan.schema.json',
    'state': 'state.schema.json',
}

PathElement = str | int


@dataclass(frozen=True)
class SchemaProblem:
    """One way a document breaks its schema.

    `pointer` is the RFC 6901 JSON pointer of the offending value ('' is the whole document).
    For an unknown field it points at that field; for a missing field, at the object that
    lacks it. `path` is the same location unescaped, for sorting and for code. `keyword` is
    the JSON Schema keyword that failed (`additionalProperties`, `enum`, ...): for tests and
    tooling, not for branching user-facing behaviour.
    """

    pointer: str
    message: str
    hint: str = ''
    keyword: str = ''
    path: tuple[PathElement, ...] = ()

    def diagnostic(self, source: SourceRef) -> Diagnostic:
        """This problem as an error `Diagnostic` located in `source`."""
        return Diagnostic('error', self.message, where=source.at(self.pointer), hint=self.hint)


def json_pointer(path: Iterable[PathElement]) -> str:
    """RFC 6901 pointer for a path: `('nodes', 0, 'a/b')` -> `/nodes/0/a~1b`; `()` -> ''."""
    return ''.join('/' + str(part).replace('~', '~0').replace('/', '~1') for part in path)


# --------------------------------------------------------------------------------------------------
# Loading


def schema_dir() -> Traversable:
    """The directory holding the schema files.

    An installed wheel carries them as `jobsync/schemas` (pyproject's hatch force-include); an
    editable install or a source checkout has them in `schemas/` next to the package directory.
    """
    packaged = importlib.resources.files('jobsync') / 'schemas'
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / 'schemas'
    if source.is_dir():
        return source
    raise FileNotFoundError(f'jobsync schemas not found in the package ({packaged}) nor at {source}')


@functools.cache
def load_schema(name: SchemaName) -> dict[str, Any]:
    """The parsed schema document for a kind or `config`. Cached; do not mutate the result."""
    if name not in SCHEMA_FILES:
        raise ValueError(f'no schema named {name!r} (expected one of {", ".join(SCHEMA_NAMES)})')
    schema: dict[str, Any] = json.loads((schema_dir() / SCHEMA_FILES[name]).read_text(encoding='utf-8'))
    return schema


@functools.cache
def validator(name: SchemaName) -> Any:
    """A cached `Draft202012Validator` for a kind or `config`.

    Raises `jsonschema.SchemaError` if the shipped schema itself is broken (a bug, not bad input).
    """
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]

    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@functools.cache
def _compiled(name: SchemaName) -> Any:
    """jsonschema-rs's validator for `name` (the Rust implementation: about 10 times faster than a
    check written in Python, 100 times faster than jsonschema), built once per process; None where
    it cannot take the schema, and jsonschema judges alone."""
    import jsonschema_rs

    try:
        return jsonschema_rs.Draft202012Validator(load_schema(name))
    except (ValueError, jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError):
        return None


def _valid_fast(name: SchemaName, document: Any) -> bool:
    """jsonschema-rs's yes (a no is explained by jsonschema, which may still find nothing wrong)."""
    check = _compiled(name)
    try:
        return check is not None and bool(check.is_valid(document))
    except (TypeError, ValueError, OverflowError, RecursionError):
        return False


def is_valid(name: SchemaName, document: Any) -> bool:
    """Whether `document` is valid against the schema of `name`.

    jsonschema-rs answers first; jsonschema (the judge of every message) decides whenever it says
    no, so a stricter answer of the Rust one (ECMA-262 regexes: no `$` before a final newline)
    costs time, never a wrong verdict. A value it cannot take (an integer past 64 bits) goes to
    jsonschema too."""
    return _valid_fast(name, document) or bool(validator(name).is_valid(document))


# --------------------------------------------------------------------------------------------------
# Validation


def validate(name: SchemaName, document: Any) -> list[SchemaProblem]:
    """Every problem of `document` against the schema of `name`, in document order; [] if valid.

    `document` is the parsed YAML/JSON (any value: a non-mapping is itself a problem). Messages
    are one line; hints say what to do. Identical problems are reported once.
    """
    if _valid_fast(name, document):  # nearly every document: jsonschema runs only to explain a failure
        return []
    problems: dict[tuple[str, str], SchemaProblem] = {}
    for error in validator(name).iter_errors(document):
        for problem in _explain(error):
            problems.setdefault((problem.pointer, problem.message), problem)
    # A value of the wrong type also fails its enum/pattern/range checks; the type is the news.
    # Likewise an empty string fails its pattern too; "must not be empty" says it all.
    mistyped = {p.pointer for p in problems.values() if p.keyword == 'type'}
    empty = {p.pointer for p in problems.values() if p.keyword == 'minLength'}
    kept = [
        p for p in problems.values()
        if (p.pointer not in mistyped or p.keyword in _ALWAYS_SHOWN)
        and not (p.pointer in empty and p.keyword == 'pattern')
    ]
    return sorted(kept, key=lambda p: (_path_sort_key(p.path), p.message))


_ALWAYS_SHOWN = frozenset({'type', 'additionalProperties', 'unevaluatedProperties', 'required'})


def _path_sort_key(path: tuple[PathElement, ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, '') if isinstance(part, int) else (1, 0, part) for part in path)


def _explain(error: ValidationError) -> Iterator[SchemaProblem]:
    """Turn one jsonschema error into the problem(s) a person should read."""
    path: tuple[PathElement, ...] = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    keyword: str = error.validator

    # propertyNames checks a key, but jsonschema reports it at the object: point at the key.
    if 'propertyNames' in error.absolute_schema_path and isinstance(error.instance, str):
        words = schema.get('patternErrorMessage') or error.message
        yield _problem((*path, error.instance), f'{_show(error.instance)} is not a valid name: {words}', '',
                       keyword)
        return

    # errorMessage words a value's constraints; a wrong type keeps its own message and hint.
    if isinstance(schema.get('errorMessage'), str) and keyword != 'type':
        yield _problem(path, f'{_field(path)} {_show(error.instance)}: {schema["errorMessage"]}', '', keyword)
        return

    if keyword in ('additionalProperties', 'unevaluatedProperties'):
        yield from _unknown_fields(error, path, schema)
    elif keyword in ('anyOf', 'oneOf'):
        yield from _alternatives(error, path)
    elif keyword == 'required':
        missing = _missing_field(error)
        yield _problem(path, f'missing required field {missing!r}',
                       f'add {missing!r}{_required_because(error, schema)}', keyword)
    elif keyword == 'enum':
        allowed = list(error.validator_value)
        yield _problem(path, f'{_field(path)} {_show(error.instance)} is not one of: {_list(allowed)}',
                       _did_you_mean(error.instance, allowed) or _meaning(schema), keyword)
    elif keyword == 'const':
        yield _problem(path, f'{_field(path)} must be {_show(error.validator_value)}, not '
                             f'{_show(error.instance)}', '', keyword)
    elif keyword == 'pattern':
        words = schema.get('patternErrorMessage') or f'must match the pattern {error.validator_value}'
        yield _problem(path, f'{_show(error.instance)} is not a valid {_field(path)}: {words}', '', keyword)
    elif keyword in ('minLength', 'maxLength'):
        yield _problem(path, _length_message(error, path, schema), '', keyword)
    elif keyword in ('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'):
        yield _problem(path, _range_message(error, path, schema), '', keyword)
    elif keyword == 'type':
        expected = error.validator_value
        yield _problem(path, f'{_field(path)} must be {_types(expected)}, not {_describe(error.instance)}',
                       _type_hint(error.instance, expected), keyword)
    elif keyword == 'minItems':
        n = error.validator_value
        items = 'item' if n == 1 else 'items'
        yield _problem(path, f'{_field(path)} must have at least {n} {items}', '', keyword)
    elif keyword == 'maxItems':
        yield _problem(path, f'{_field(path)} must have at most {error.validator_value} items', '', keyword)
    else:
        yield _problem(path, error.message, '', keyword)


def _problem(path: tuple[PathElement, ...], message: str, hint: str, keyword: str) -> SchemaProblem:
    return SchemaProblem(json_pointer(path), message, hint, keyword, path)


def _unknown_fields(error: ValidationError, path: tuple[PathElement, ...],
                    schema: Mapping[str, Any]) -> Iterator[SchemaProblem]:
    """One problem per unknown field, pointing at it, with the closest known field as a hint."""
    known = sorted(schema.get('properties', {}))
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    for field in sorted(str(k) for k in instance if k not in schema.get('properties', {})):
        close = difflib.get_close_matches(field, known, n=1, cutoff=0.6)
        if not close:
            close = [k for k in known if k.lower() == field.lower()]
        if close:
            hint = f'did you mean {close[0]!r}?'
        elif known:
            hint = f'known fields here: {_list(known, quote=False)}'
        else:
            hint = 'no fields are allowed here'
        yield _problem((*path, field), f'unknown field {field!r}', hint, error.validator)


def _alternatives(error: ValidationError, path: tuple[PathElement, ...]) -> Iterator[SchemaProblem]:
    """An anyOf/oneOf failure: explain the branch the value was meant for, not all of them.

    A branch whose only complaint is the value's type at this very spot was not what the author
    meant; among the others the one with the fewest (then deepest) errors wins. If every branch
    is a type mismatch, say which types would do.
    """
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = {
        index: subs for index, subs in branches.items()
        if not all(s.validator == 'type' and not s.relative_path for s in subs)
    }
    if meant:
        _, best = min(meant.items(), key=lambda item: (len(item[1]), -max(len(s.path) for s in item[1])))
        for sub in best:
            yield from _explain(sub)
        return
    types = [s.validator_value for subs in branches.values() for s in subs if s.validator == 'type']
    flat: list[str] = []
    for t in types:
        for one in [t] if isinstance(t, str) else t:
            if one not in flat:
                flat.append(one)
    yield _problem(path, f'{_field(path)} must be {_types(flat)}, not {_describe(error.instance)}',
                   _type_hint(error.instance, flat), 'type')


def _meaning(schema: Mapping[str, Any]) -> str:
    """The field's own description (what editors show on hover), as a hint: what the values mean."""
    description = schema.get('description')
    return description if isinstance(description, str) else ''


def _missing_field(error: ValidationError) -> str:
    """The field a `required` error is about: jsonschema emits one error per missing field,
    each with the message "'<name>' is a required property"."""
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    missing = [str(name) for name in error.validator_value if name not in instance]
    for name in missing:
        if error.message.startswith(repr(name)):
            return name
    return missing[0] if missing else str(error.message)


def _required_because(error: ValidationError, schema: Mapping[str, Any]) -> str:
    """For `then: {required: [...]}` (a field demanded by another's value), its description says why."""
    if 'then' in error.absolute_schema_path and isinstance(schema.get('description'), str):
        return f': {schema["description"]}'
    return ''


def _length_message(error: ValidationError, path: tuple[PathElement, ...], schema: Mapping[str, Any]) -> str:
    value = error.instance
    if error.validator == 'minLength' and error.validator_value == 1:
        return f'{_field(path)} must not be empty'
    low, high = schema.get('minLength'), schema.get('maxLength')
    size = len(value) if isinstance(value, str) else 0
    if error.validator == 'maxLength':
        span = f'between {low} and {high}' if low and low > 1 else f'at most {high}'
        return f'{_field(path)} is {size} characters long; {span} allowed'
    return f'{_field(path)} is {size} characters long; at least {low} required'


def _range_message(error: ValidationError, path: tuple[PathElement, ...], schema: Mapping[str, Any]) -> str:
    low, high = schema.get('minimum'), schema.get('maximum')
    if low is not None and high is not None:
        bounds = f'between {low} and {high}'
    elif low is not None:
        bounds = f'at least {low}'
    elif high is not None:
        bounds = f'at most {high}'
    else:
        return str(error.message)
    return f'{_field(path)} {_show(error.instance)} is out of range: must be {bounds}'


def _did_you_mean(value: Any, allowed: list[Any]) -> str:
    texts = [str(a) for a in allowed]
    if isinstance(value, str):
        same_case = [t for t in texts if t.lower() == value.lower()]
        close = same_case or difflib.get_close_matches(value, texts, n=1, cutoff=0.6)
        if close:
            return f'did you mean {close[0]!r}?'
    if isinstance(value, (int, float)) and str(value) in texts:
        return f'write it as a string: {str(value)!r}'
    if isinstance(value, bool) and str(value).lower() in texts:
        return f'write it as a string: {str(value).lower()!r} (quote it in YAML)'
    return ''


_TYPE_WORDS = {
    'string': 'a string', 'integer': 'an integer', 'number': 'a number', 'boolean': 'true or false',
    'object': 'a mapping', 'array': 'a list', 'null': 'empty',
}


def _types(expected: Any) -> str:
    names = [expected] if isinstance(expected, str) else list(expected)
    words = [_TYPE_WORDS.get(n, n) for n in names]
    return words[0] if len(words) == 1 else ', '.join(words[:-1]) + ' or ' + words[-1]


def _describe(value: Any) -> str:
    if value is None:
        return 'empty (null)'
    if isinstance(value, bool):
        return f'the boolean {str(value).lower()}'
    if isinstance(value, int):
        return f'the integer {value}'
    if isinstance(value, float):
        return f'the number {value}'
    if isinstance(value, str):
        return f'the string {_show(value)}'
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f'a date/time ({value.isoformat()})'
    if isinstance(value, Mapping):
        return 'a mapping'
    if isinstance(value, list):
        return 'a list'
    return type(value).__name__


def _type_hint(value: Any, expected: Any) -> str:
    names = {expected} if isinstance(expected, str) else set(expected)
    if isinstance(value, (datetime.date, datetime.datetime)) and 'string' in names:
        return 'YAML read this as a date/time: put it in quotes'
    scalar = {'integer', 'number', 'boolean'}
    if isinstance(value, (bool, int, float)) and 'string' in names and not names & scalar:
        return 'YAML read this as a number or boolean: put it in quotes to keep it a string'
    if value is None:
        return 'the value is empty: fill it in, or write "" for an empty string'
    if isinstance(value, str) and names & scalar:
        return 'remove the quotes around the value'
    return ''


def _field(path: tuple[PathElement, ...]) -> str:
    """How to name the value at `path` in a sentence: its field name, or 'item N'."""
    if not path:
        return 'the document'
    last = path[-1]
    if isinstance(last, int):
        return f'{path[-2]}[{last}]' if len(path) > 1 else f'item {last}'
    return str(last)


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + '...'


def _list(values: Iterable[Any], *, quote: bool = True) -> str:
    return ', '.join(repr(v) if quote and isinstance(v, str) else str(v) for v in values)
