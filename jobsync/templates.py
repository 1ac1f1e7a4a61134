"""Templates: one file generating many definitions of its kind from a list of parameter sets. Pure.

The declarative form of the console guide's batch creation (export one job, copy its JSON, edit,
import; reference §4.8). A template sits in its kind's folder with `.template` before the suffix,
`cdm/<cluster>/jobs/<anything>.template.yaml` for CDM jobs, `jobs/<anything>.template.yaml` for
Factory jobs, and so on (schema: `schemas/template.schema.json`):

    params:                          # one parameter set per generated object
      - {table: customers, group: master_data}
      - {table: products, group: master_data}
    name: ${param:table}             # the generated object's name, unique per template
    template:                        # a definition of the folder's kind, in repo form
      from-config-values: {configs: {fromJobConfig: {fromJobConfig.tableName: ${param:table}}}}
      ...

`${param:NAME}` works anywhere in `name` and `template`, with the same typing rules as
`${var:NAME}` (subst.py); target variables are filled first, so a parameter value may itself
hold `${var:...}`. Each generated object is an ordinary definition with its own key; its
problems are reported against the template file and the parameter set that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobsync import subst

TEMPLATE_MARK = '.template'


def is_template(stem: str) -> bool:
    """Whether a definition file's stem (`master_data.template`) marks a template."""
    return stem.endswith(TEMPLATE_MARK) and len(stem) > len(TEMPLATE_MARK)


@dataclass(frozen=True)
class Instance:
    """One generated definition: parameter set `index`, its name, its repo-form document."""

    index: int
    name: Any  # a non-empty string unless the template is wrong (reported by the caller)
    data: dict[str, Any]
    params: Mapping[str, Any]
    used: Mapping[str, tuple[str, ...]]  # template pointer (/name, /template/...) -> parameters used there


@dataclass(frozen=True)
class TemplateProblem:
    pointer: str  # in the template file
    summary: str
    hint: str = ''


def expand(document: Mapping[str, Any]) -> tuple[list[Instance], list[TemplateProblem]]:
    """One instance per parameter set of a schema-valid template document, and every problem.

    An instance whose parameters do not fill its placeholders is left out (its problems say
    why); duplicate generated names are problems, reported at the later parameter set.
    """
    instances: list[Instance] = []
    problems: list[TemplateProblem] = []
    seen: dict[Any, int] = {}
    for index, params in enumerate(document['params']):
        filled = subst.substitute({'name': document['name'], 'template': document['template']}, 'param', params)
        if filled.problems:
            problems.extend(_explain(index, params, p) for p in filled.problems)
            continue
        name = filled.value['name']
        if not isinstance(name, str) or not name:
            problems.append(TemplateProblem(f'/params/{index}', f'parameter set {index} generates the name {name!r}',
                                            'the name must be a non-empty string'))
            continue
        if name in seen:
            problems.append(TemplateProblem(
                f'/params/{index}', f'parameter sets {seen[name]} and {index} both generate the name {name!r}',
                'each parameter set must produce a different name; check `name` and the parameter values'))
            continue
        seen[name] = index
        used = {pointer: tuple(names) for pointer, names in filled.used.items()}
        instances.append(Instance(index, name, filled.value['template'], params, used))
    return instances, problems


def _explain(index: int, params: Mapping[str, Any], problem: subst.Problem) -> TemplateProblem:
    if problem.reason == 'undefined':
        have = ', '.join(sorted(params)) or 'none'
        return TemplateProblem(f'/params/{index}',
                               f'parameter set {index} has no parameter {problem.name!r} (used at {problem.pointer})',
                               f'add {problem.name} to this parameter set (it has: {have})')
    if problem.reason == 'malformed':
        return TemplateProblem(problem.pointer, f'${{param:{problem.name}}} is not a valid parameter reference',
                               'parameter names start with a letter or _ and hold letters, digits and _')
    return TemplateProblem(f'/params/{index}/{problem.name}',
                           f'parameter {problem.name!r} is a list or mapping and cannot go inside text at '
                           f'{problem.pointer}', 'use it as a whole value, or make it a string')
