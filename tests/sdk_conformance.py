"""Is a JSON answer exactly what an official Huawei Cloud SDK response model describes?

The SDK's model classes (huaweicloudsdkdgc, huaweicloudsdkcdm, huaweicloudsdkdataartsstudio)
are generated from the service's API definitions. Each has `openapi_types` (attribute → type
string such as `'str'`, `'list[ScriptInfo]'`, `'dict(str, object)'`) and `attribute_map`
(attribute → JSON key). Nested model names resolve in the model's own package
(`huaweicloudsdkdgc.v1.model`).

`check(model, answer)` walks the answer recursively and reports, as readable lines such as
`/scripts/0/lastUpdateTime: not in ScriptInfo`:

* **extra** — a key the model does not define;
* **missing** — a key the model *requires* that the answer lacks;
* **type** — a value of the wrong JSON type (a string where the model says `int`, ...).

How the SDK marks "required": the generator (huaweicloud-sdk-python-v3) writes, in each model's
`__init__`, a plain `self.x = x` for a parameter the API definition marks mandatory and
`if x is not None: self.x = x` for an optional one. The docs' "Mandatory: Yes" column is the
same source, so reading the unguarded assignments out of `__init__` gives the docs' verdict
without a hand-kept list. Response tables in the docs have no mandatory column (the generator
makes every top-level response field optional); "required" bites on nested models that the
service shares with request bodies (`ScriptInfo.content`, `Node.properties`, CDM `Input.value`,
...), which is exactly where an answer must hold what a client could send back.

A model whose only attribute is `body` (e.g. dgc `CreateResourceResponse`) describes the whole
answer as that type, as the SDK's deserialiser reads it. A model with no attributes describes
an answer without a body: `None` (no body) and `{}` conform. JSON `null` counts as present and
of any type: the docs do not say which fields may be null, so flagging them would be guessing.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import textwrap
from collections.abc import Collection
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

Kind = Literal['extra', 'missing', 'type']

_LIST = re.compile(r'^list\[(?P<inner>.+)\]$')
_DICT = re.compile(r'^dict\((?P<key>[^,]+),\s*(?P<inner>.+)\)$')
# JSON types the SDK's primitive type strings accept. `float` takes integers: JSON has one number.
_PRIMITIVES: dict[str, tuple[type, ...]] = {
    'str': (str,), 'int': (int,), 'float': (int, float), 'bool': (bool,),
    'date': (str,), 'datetime': (str,),
}


@dataclass(frozen=True)
class Problem:
    """One deviation of an answer from a model: where (JSON pointer), what kind, which model."""

    path: str
    kind: Kind
    model: str
    detail: str = ''

    def __str__(self) -> str:
        where = self.path or '/'
        if self.kind == 'extra':
            return f'{where}: not in {self.model}'
        if self.kind == 'missing':
            return f'{where}: required by {self.model}, missing'
        return f'{where}: {self.detail} ({self.model})'


def _package(model: type) -> ModuleType:
    """The module that exports a model's siblings (`huaweicloudsdkdgc.v1.model`)."""
    return importlib.import_module(model.__module__.rsplit('.', 1)[0])


@functools.cache
def required_attributes(model: type) -> frozenset[str]:
    """Attributes the model's `__init__` assigns unconditionally: the mandatory ones."""
    try:
        source = textwrap.dedent(inspect.getsource(model.__init__))  # type: ignore[misc]
    except (OSError, TypeError):
        return frozenset()
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    found: set[str] = set()
    for statement in function.body:  # top level only: guarded (`if x is not None`) ones are optional
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target = statement.targets[0]
        if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == 'self'
                and isinstance(statement.value, ast.Name) and statement.value.id == target.attr
                and target.attr in model.openapi_types):  # type: ignore[attr-defined]
            found.add(target.attr)
    return frozenset(found)


def json_fields(model: type) -> dict[str, str]:
    """JSON key → SDK type string, for a model class."""
    types: dict[str, str] = model.openapi_types  # type: ignore[attr-defined]
    names: dict[str, str] = model.attribute_map  # type: ignore[attr-defined]
    return {names[attribute]: type_ for attribute, type_ in types.items()}


def required_fields(model: type) -> frozenset[str]:
    """JSON keys the model requires."""
    names: dict[str, str] = model.attribute_map  # type: ignore[attr-defined]
    return frozenset(names[attribute] for attribute in required_attributes(model))


def resolve_model(name: str, package: ModuleType) -> type | None:
    """The model class a type string names, or None for a primitive/`object`."""
    found = getattr(package, name, None)
    return found if inspect.isclass(found) and hasattr(found, 'openapi_types') else None


def check_detailed(model: type, answer: Any, path: str = '') -> list[Problem]:
    """Every deviation of `answer` (decoded JSON) from `model`, in document order."""
    fields = json_fields(model)
    if list(fields) == ['body']:  # the whole answer is of that type
        return _check_value(fields['body'], answer, path, model.__name__, _package(model))
    if not fields and answer in (None, {}):
        return []
    if not isinstance(answer, dict):
        return [Problem(path, 'type', model.__name__, f'expected an object, got {_json_type(answer)}')]
    problems: list[Problem] = []
    package = _package(model)
    for key, value in answer.items():
        where = f'{path}/{_escape(key)}'
        if key not in fields:
            problems.append(Problem(where, 'extra', model.__name__))
        elif value is not None:
            problems.extend(_check_value(fields[key], value, where, model.__name__, package))
    problems.extend(Problem(f'{path}/{_escape(key)}', 'missing', model.__name__)
                    for key in sorted(required_fields(model)) if key not in answer)
    return problems


def check(model: type, answer: Any, allow: Collection[str] = ()) -> list[str]:
    """The deviations of `answer` from `model`, as readable lines (empty: it conforms).

    `allow`: JSON pointers (`*` for any list position or key) where a deviation is known and
    documented (the docs or the provider say otherwise than the SDK model); not reported.
    """
    return [str(problem) for problem in check_detailed(model, answer) if not allowed(problem.path, allow)]


def allowed(path: str, patterns: Collection[str]) -> bool:
    """Whether a JSON pointer matches one of `patterns` (segment by segment, `*` any segment)."""
    parts = path.split('/')
    for pattern in patterns:
        wanted = pattern.split('/')
        if len(wanted) == len(parts) and all(want in ('*', got) for want, got in zip(wanted, parts, strict=True)):
            return True
    return False


def _check_value(type_: str, value: Any, path: str, owner: str, package: ModuleType) -> list[Problem]:
    if value is None or type_ == 'object':
        return []
    listed = _LIST.match(type_)
    if listed:
        if not isinstance(value, list):
            return [Problem(path, 'type', owner, f'expected {type_}, got {_json_type(value)}')]
        return [p for i, item in enumerate(value)
                for p in _check_value(listed['inner'], item, f'{path}/{i}', owner, package)]
    mapping = _DICT.match(type_)
    if mapping:
        if not isinstance(value, dict):
            return [Problem(path, 'type', owner, f'expected {type_}, got {_json_type(value)}')]
        return [p for key, item in value.items()
                for p in _check_value(mapping['inner'], item, f'{path}/{_escape(str(key))}', owner, package)]
    accepted = _PRIMITIVES.get(type_)
    if accepted is not None:
        # bool is an int in Python, not in JSON: a true where the model says int is a deviation.
        if (isinstance(value, bool) and bool not in accepted) or not isinstance(value, accepted):
            return [Problem(path, 'type', owner, f'expected {type_}, got {_json_type(value)}')]
        return []
    nested = resolve_model(type_, package)
    if nested is None:  # a type string this checker does not know: say so rather than pass it
        return [Problem(path, 'type', owner, f'unknown SDK type {type_!r}')]
    return check_detailed(nested, value, path)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, list):
        return 'array'
    if isinstance(value, dict):
        return 'object'
    return type(value).__name__


def _escape(key: str) -> str:
    """A JSON-pointer token (RFC 6901)."""
    return key.replace('~', '~0').replace('/', '~1')


__all__ = ['Problem', 'allowed', 'check', 'check_detailed', 'json_fields', 'required_attributes', 'required_fields',
           'resolve_model']
