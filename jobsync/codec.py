"""Repo form <-> API form: the one place the two shapes meet.

Definitions in git use the API's own field names, with two shapes made friendlier for review:

* lists of `{name, value}` pairs (node `properties`, CDM config `inputs`) and CDM config lists
  of `{name, inputs}` are written as mappings keyed by name;
* script `content` sits in a sidecar file (`scripts/<name>.sql`) so a pull request shows a
  line diff.

The conversion is exact both ways: a list converts to a mapping only when every element has
exactly those two keys and the names are unique; otherwise it stays a list, untouched. So
`from_repo(to_repo(api)) == api` for every spec, and `to_repo(from_repo(doc)) == doc` for every
doc already in canonical repo form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# NAME_FIELD and CDM_CONFIG_VALUES are registry facts (kinds.py), re-exported for the callers of codec.
from jobsync.kinds import CDM_CONFIG_VALUES as CDM_CONFIG_VALUES
from jobsync.kinds import NAME_FIELD as NAME_FIELD
from jobsync.kinds import config_values
from jobsync.model import Kind, Spec

_SIDECAR_SUFFIX = {'Shell': '.sh', 'PYTHON': '.py', 'SparkPython': '.py'}


def sidecar_suffix(script_type: str) -> str:
    """File suffix for a script's content: `.sh` for Shell, `.py` for Python, `.sql` otherwise."""
    return _SIDECAR_SUFFIX.get(script_type, '.sql')


def pairs_to_mapping(items: Any, value_key: str) -> Any:
    """`[{name: a, <value_key>: 1}]` -> `{a: 1}` when exact; anything else is returned as is."""
    if not isinstance(items, list):
        return items
    names: list[str] = []
    for item in items:
        if isinstance(item, dict) and value_key == 'value' and item.get('value_is_sensitive', True) is False:
            # Real exports add `"value_is_sensitive": false` to every node property (issue 11 facts §2,
            # [3P] reference §4.8): read it as the plain pair. A true flag keeps the list as it is.
            item = {k: v for k, v in item.items() if k != 'value_is_sensitive'}
        if not (isinstance(item, dict) and set(item) == {'name', value_key} and isinstance(item['name'], str)):
            return items
        names.append(item['name'])
    if len(set(names)) != len(names):
        return items
    return {item['name']: item[value_key] for item in items if isinstance(item, dict)}


def mapping_to_pairs(mapping: Any, value_key: str) -> Any:
    """`{a: 1}` -> `[{name: a, <value_key>: 1}]`; a list is returned as is."""
    if not isinstance(mapping, dict):
        return mapping
    return [{'name': name, value_key: value} for name, value in mapping.items()]


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars; other objects shared): 10x faster than deepcopy."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def _convert(spec: Spec, kind: Kind, pairs: Callable[[Any, str], Any], *, to_repo: bool, copy: bool = True) -> Spec:
    out: Spec = json_copy(spec) if copy else spec
    if kind == 'job':
        for node in out.get('nodes') or []:
            if isinstance(node, dict) and 'properties' in node:
                node['properties'] = pairs(node['properties'], 'value')
    for values in config_values(kind, out):
        if 'configs' not in values:
            continue
        configs = values['configs']
        if to_repo:
            # Inputs first (inside each config), then the config list itself.
            if isinstance(configs, list):
                for config in configs:
                    if isinstance(config, dict) and 'inputs' in config:
                        inputs = config['inputs']
                        config['inputs'] = {} if inputs == {} else pairs(inputs, 'value')
            values['configs'] = pairs(configs, 'inputs')
        else:
            configs = pairs(configs, 'inputs')
            if isinstance(configs, list):
                for config in configs:
                    if isinstance(config, dict) and 'inputs' in config:
                        config['inputs'] = pairs(config['inputs'], 'value')
            values['configs'] = configs
    return out


def to_repo(kind: Kind, api_spec: Spec, *, copy: bool = True) -> tuple[Spec, str | None]:
    """API form -> (repo document, sidecar content or None). Scripts give their content back apart.

    With `copy=False` the caller hands over `api_spec`, which is converted in place (faster).
    """
    doc = _convert(api_spec, kind, pairs_to_mapping, to_repo=True, copy=copy)
    content: str | None = None
    if kind == 'script' and isinstance(doc.get('content'), str):
        content = doc.pop('content')
    return doc, content


def from_repo(kind: Kind, doc: Spec, content: str | None = None, *, copy: bool = True) -> Spec:
    """Repo document (+ sidecar content for scripts) -> API form.

    With `copy=False` the caller hands over `doc` (a parse's own result), converted in place."""
    spec = _convert(doc, kind, mapping_to_pairs, to_repo=False, copy=copy)
    if content is not None:
        spec['content'] = content
    return spec
