"""The console operations (run, stop, delete, groups) as text and JSON. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jobsync import jsontext
from jobsync.events import Outcome, Results
from jobsync.model import ObjectKey
from jobsync.ops import DeletePlan
from jobsync.render import escape


def render_ops_text(result: Results, verb: str) -> str:
    """One line per object (`ok`/`FAILED`, key, what happened), then `Run: 2 ok, 0 failed.`"""
    return ''.join(ops_line(o) for o in result.outcomes) + render_ops_summary(result, verb)


def ops_line(o: Outcome) -> str:
    return escape.join_lines([f'{"ok" if o.ok else "FAILED":6} {o.key}: {o.state or o.status.value}'
                              + (f' ({o.message})' if o.message else '')])


def render_ops_summary(result: Results, verb: str) -> str:
    return escape.join_lines([f'{verb}: {result.count(True)} ok, {result.count(False)} failed.'])


def render_ops_json(result: Results) -> str:
    doc = {'ok': result.ok, 'outcomes': [
        {'key': str(o.key), 'ok': o.ok, 'status': o.state or o.status.value, 'message': o.message}
        for o in result.outcomes]}
    return escape.json_text(jsontext.pretty(doc)) + '\n'


def render_delete_preview(planned: DeletePlan) -> str:
    """What will be deleted (before the confirmation), and which of it git still defines."""
    lines = [f'To delete from {planned.workspace} ({planned.what}): {len(planned.order)}',
             *(f'  - {k}' for k in planned.order)]
    if planned.defined_in_git:
        lines.append('Warning: still defined in git, so the next apply will create them again '
                     '(delete their files too):')
        lines.extend(f'  {k}  {where}' for k, where in planned.defined_in_git.items())
    if planned.skipped:
        lines.append('Not deleted: their names cannot be file names (rename them in the console):')
        lines.extend(f'  {o.key}' for o in planned.skipped)
    if planned.unchecked:
        lines.append('Warning: not checked for use of what is deleted, their names cannot be file names '
                     '(rename them in the console):')
        lines.extend(f'  {k}' for k in planned.unchecked)
    return escape.join_lines(lines)


def render_groups_text(groups: Mapping[tuple[str, str], Sequence[ObjectKey]]) -> str:
    lines = [f'{c}  {g}  ({len(keys)} job{"s" if len(keys) != 1 else ""}): {", ".join(k.name for k in keys)}'
             for (c, g), keys in groups.items()]
    return escape.join_lines(lines) if lines else 'No CDM jobs.\n'


def render_groups_json(groups: Mapping[tuple[str, str], Sequence[ObjectKey]]) -> str:
    doc = [{'cluster': c, 'group': g, 'jobs': [k.name for k in keys]} for (c, g), keys in groups.items()]
    return escape.json_text(jsontext.pretty(doc)) + '\n'
