"""A compiled yes/no check of a document against one of jobsync's schemas (issue 14).

jsonschema interprets the schema again for every document: looking up each keyword's function,
resolving each `$ref`, building error objects. On a large repo that was 14% of a plan's CPU for
documents that are, nearly always, valid. `compile_schema` turns a schema into nested closures
once; `schema.validate` asks it first and runs jsonschema only for a document that fails, to
explain why. So jsonschema stays the judge of every message, and this module only has to be
right about valid or not: a test holds the two to the same answer over every schema test case
and over generated documents.

Only the keywords jobsync's schemas use are compiled, with draft 2020-12's meaning. A schema
using any other keyword (or a `$ref` outside its own document) raises `Unsupported`, and the
caller keeps using jsonschema for it: a new keyword can never be silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

# Keywords that never affect validity (annotations and the schemas' own message keywords).
_ANNOTATIONS = frozenset({
    '$schema', '$id', '$comment', '$defs', 'title', 'description', 'default', 'examples',
    'errorMessage', 'patternErrorMessage', 'then', 'else',  # then/else are compiled with `if`
})


class Unsupported(Exception):
    """The schema uses something this compiler does not implement; validate with jsonschema."""


def compile_schema(root: Mapping[str, Any] | bool) -> Check:
    """A function telling whether a JSON value is valid against `root` (draft 2020-12)."""
    return _Compiler(root).compile(root, '#')


def _is_integer(value: Any) -> bool:
    # Draft 2020-12: 1.0 is an integer; a bool is never a number.
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    'boolean': lambda v: isinstance(v, bool),
    'null': lambda v: v is None,
    'integer': _is_integer,
    'number': _is_number,
}


def equal(one: Any, two: Any) -> bool:
    """JSON equality, as jsonschema's `enum` and `const` use it: true is not 1, 1 is 1.0."""
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return bool(one == two)


class _Compiler:
    def __init__(self, root: Mapping[str, Any] | bool) -> None:
        self._root = root
        self._refs: dict[str, Check] = {}

    def compile(self, schema: Any, where: str) -> Check:
        if schema is True:
            return lambda _v: True
        if schema is False:
            return lambda _v: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f'{where}: a schema must be an object or a boolean')
        unknown = set(schema) - _ANNOTATIONS - set(_KEYWORDS)
        if unknown:
            raise Unsupported(f'{where}: keywords {sorted(unknown)} are not compiled')
        built = [_KEYWORDS[k](self, schema, f'{where}/{k}') for k in schema if k in _KEYWORDS]
        checks = [c for c in built if c is not None]
        if not checks:
            return lambda _v: True
        return _every(checks)

    def ref(self, pointer: str) -> Check:
        """A local `$ref` (`#/$defs/x`), compiled once; recursion goes through the lookup."""
        if not pointer.startswith('#'):
            raise Unsupported(f'$ref {pointer!r} leaves the schema document')
        if pointer not in self._refs:
            self._refs[pointer] = lambda v: self._refs[pointer](v)  # placeholder while compiling a cycle
            self._refs[pointer] = self.compile(self._resolve(pointer), pointer)
        compiled = self._refs
        return lambda v: compiled[pointer](v)

    def _resolve(self, pointer: str) -> Any:
        target: Any = self._root
        for part in pointer[1:].split('/')[1:]:
            part = part.replace('~1', '/').replace('~0', '~')
            if isinstance(target, Mapping) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise Unsupported(f'$ref {pointer!r} points nowhere')
        return target


Keyword = Callable[[_Compiler, Mapping[str, Any], str], Check | None]


def _every(checks: list[Check]) -> Check:
    """All of `checks`, as a loop rather than `all()` over a generator (the most called closure)."""
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)

    def check(v: Any) -> bool:
        for one in checks:  # noqa: SIM110  (all() over a generator is the slower form here)
            if not one(v):
                return False
        return True
    return check


def _type(_c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    names = schema['type'] if isinstance(schema['type'], list) else [schema['type']]
    if any(n not in _TYPES for n in names):
        raise Unsupported(f'{where}: unknown type in {names}')
    tests = [_TYPES[n] for n in names]
    return tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests))


def _enum(_c: _Compiler, schema: Mapping[str, Any], _where: str) -> Check:
    allowed = list(schema['enum'])
    if all(isinstance(a, str) for a in allowed):
        texts = frozenset(allowed)
        return lambda v: isinstance(v, str) and v in texts
    return lambda v: any(equal(v, a) for a in allowed)


def _const(_c: _Compiler, schema: Mapping[str, Any], _where: str) -> Check:
    value = schema['const']
    return lambda v: equal(v, value)


def _pattern(_c: _Compiler, schema: Mapping[str, Any], _where: str) -> Check:
    search = re.compile(schema['pattern']).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _bound(kind: Callable[[Any], bool], measure: Callable[[Any], Any], ok: Callable[[Any, Any], bool],
           keyword: str) -> Keyword:
    def build(_c: _Compiler, schema: Mapping[str, Any], _where: str) -> Check:
        limit = schema[keyword]
        return lambda v: not kind(v) or ok(measure(v), limit)
    return build


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_list(v: Any) -> bool:
    return isinstance(v, list)


def _is_dict(v: Any) -> bool:
    return isinstance(v, dict)


def _same(v: Any) -> Any:
    return v


def _at_least(a: Any, b: Any) -> bool:
    return bool(a >= b)


def _at_most(a: Any, b: Any) -> bool:
    return bool(a <= b)


def _above(a: Any, b: Any) -> bool:
    return bool(a > b)


def _required(_c: _Compiler, schema: Mapping[str, Any], _where: str) -> Check:
    names = frozenset(schema['required'])
    return lambda v: not isinstance(v, dict) or v.keys() >= names


def _properties(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    checks = {name: c.compile(sub, f'{where}/{name}') for name, sub in schema['properties'].items()}

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for name, value in v.items():
            sub = checks.get(name)
            if sub is not None and not sub(value):
                return False
        return True
    return check


def _additional(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    known = frozenset(schema.get('properties', {}))
    extra = schema['additionalProperties']
    if extra is False:
        return lambda v: not isinstance(v, dict) or known.issuperset(v)
    sub = c.compile(extra, where)
    return lambda v: not isinstance(v, dict) or all(k in known or sub(x) for k, x in v.items())


def _items(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    sub = c.compile(schema['items'], where)

    def check(v: Any) -> bool:
        if isinstance(v, list):
            for x in v:
                if not sub(x):
                    return False
        return True
    return check


def _property_names(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    sub = c.compile(schema['propertyNames'], where)
    return lambda v: not isinstance(v, dict) or all(sub(k) for k in v)


def _ref(c: _Compiler, schema: Mapping[str, Any], _where: str) -> Check:
    return c.ref(schema['$ref'])


def _all_of(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    return _every([c.compile(s, f'{where}/{i}') for i, s in enumerate(schema['allOf'])])


def _any_of(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    subs = [c.compile(s, f'{where}/{i}') for i, s in enumerate(schema['anyOf'])]
    return lambda v: any(s(v) for s in subs)


def _one_of(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    subs = [c.compile(s, f'{where}/{i}') for i, s in enumerate(schema['oneOf'])]
    return lambda v: sum(1 for s in subs if s(v)) == 1


def _if(c: _Compiler, schema: Mapping[str, Any], where: str) -> Check:
    test = c.compile(schema['if'], where)
    then = c.compile(schema.get('then', True), f'{where}/../then')
    otherwise = c.compile(schema.get('else', True), f'{where}/../else')
    return lambda v: then(v) if test(v) else otherwise(v)


_KEYWORDS: dict[str, Keyword] = {
    'type': _type, 'enum': _enum, 'const': _const, 'pattern': _pattern,
    'minLength': _bound(_is_str, len, _at_least, 'minLength'),
    'maxLength': _bound(_is_str, len, _at_most, 'maxLength'),
    'minimum': _bound(_is_number, _same, _at_least, 'minimum'),
    'maximum': _bound(_is_number, _same, _at_most, 'maximum'),
    'exclusiveMinimum': _bound(_is_number, _same, _above, 'exclusiveMinimum'),
    'minItems': _bound(_is_list, len, _at_least, 'minItems'),
    'maxItems': _bound(_is_list, len, _at_most, 'maxItems'),
    'minProperties': _bound(_is_dict, len, _at_least, 'minProperties'),
    'required': _required, 'properties': _properties, 'additionalProperties': _additional,
    'items': _items, 'propertyNames': _property_names, '$ref': _ref,
    'allOf': _all_of, 'anyOf': _any_of, 'oneOf': _one_of, 'if': _if,
}
