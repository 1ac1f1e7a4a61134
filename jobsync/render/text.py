"""Plain-text plan and apply output for terminals and CI logs."""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

from jobsync import secrets
from jobsync.apply import ApplyResult
from jobsync.diff import FieldChange, comparable
from jobsync.events import Outcome, Status
from jobsync.plan import Action, Change, Plan, summary_counts
from jobsync.render import escape

GLYPH = {Action.CREATE: '+', Action.UPDATE: '~', Action.DELETE: '-', Action.EXPORT: '>', Action.CONFLICT: '!'}

if TYPE_CHECKING:
    from jobsync.commands.flow import Spent


def render_value(value: Any) -> str:
    return json.dumps(secrets.to_jsonable(value), ensure_ascii=False, sort_keys=False)


def _is_text_block(value: Any) -> bool:
    return isinstance(value, str) and '\n' in value


def text_diff(before: str, after: str, *, indent: str) -> list[str]:
    """Unified line diff of two texts (script content), workspace first."""
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), 'workspace', 'git', lineterm='', n=2)
    return [f'{indent}{line}' for line in lines]


def _field_lines(change: FieldChange, indent: str) -> list[str]:
    if _is_text_block(change.before) or _is_text_block(change.after):
        before = change.before if isinstance(change.before, str) else ''
        after = change.after if isinstance(change.after, str) else ''
        return [f'{indent}~ {change.pointer}:', *text_diff(before, after, indent=indent + '    ')]
    if change.before is None:
        return [f'{indent}+ {change.pointer}: {render_value(change.after)}']
    if change.after is None:
        return [f'{indent}- {change.pointer}: {render_value(change.before)}']
    return [f'{indent}~ {change.pointer}: {render_value(change.before)} -> {render_value(change.after)}']


def _flatten(value: Any, pointer: str = '') -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(v, f'{pointer}/{secrets.escape_pointer(str(k))}'))
        return out
    return [(pointer, value)]


def create_fields(change: Change) -> list[FieldChange]:
    """A new object's fields, in the same comparable form updates are shown in."""
    if change.desired is None:
        return []
    return [FieldChange(p, None, v) for p, v in _flatten(comparable(change.key.kind, change.desired))]


def change_lines(change: Change, plan: Plan | None = None) -> list[str]:
    mark = ''
    if plan is not None and plan.base_rev is not None:
        mark = '  [this branch]' if change.key in plan.branch_changes else '  [not from this branch]'
    lines = [f'{GLYPH[change.action]} {change.key}  ({change.reason}){mark}']
    fields = create_fields(change) if change.action is Action.CREATE else list(change.fields)
    for f in fields:
        lines.extend(_field_lines(f, '    '))
    lines.extend(f'    ! {ref}: the value changed since the last apply (not shown)' for ref in change.secrets_changed)
    return lines


def summary_line(plan: Plan) -> str:
    n = summary_counts(plan)
    line = (f'Plan: {n["create"]} to create, {n["update"]} to update, {n["delete"]} to delete, '
            f'{n["export"]} to export; {n["noop"]} unchanged.')
    if n['conflict']:
        line += f' {n["conflict"]} conflict(s).'
    if plan.skipped:
        line += f' {len(plan.skipped)} skipped (--same-name skip).'
    return line


def render_plan_text(plan: Plan) -> str:
    lines = [f'Target {plan.target} ({plan.workspace}), git {plan.repo_rev}', '']
    actionable = plan.actionable
    for note in plan.notes:
        lines.extend([f'Note: {note}', ''])
    for change in actionable:
        lines.extend(change_lines(change, plan))
        lines.append('')
    if not actionable:
        lines.extend(['No changes. The workspace matches git.', ''])
    if plan.base_rev is not None:
        own = sum(1 for c in actionable if c.key in plan.branch_changes)
        lines.append(f'This branch changes {len(plan.branch_changes)} definition(s) relative to {plan.base_rev}; '
                     f'{own} of the {len(actionable)} change(s) above come from it.')
        lines.append('')
    if plan.orphans:
        lines.append(f'Managed by jobsync, removed from git, left in place: {len(plan.orphans)}')
        lines.extend(f'    {o.key}  ({o.reason})' for o in plan.orphans)
        lines.append('')
    if plan.skipped:
        lines.append(f'Skipped: in the workspace already, left as they are (--same-name skip): {len(plan.skipped)}')
        lines.extend(f'    {key}' for key in plan.skipped)
        lines.append('')
    if plan.unmanaged:
        lines.append(f'Not managed by jobsync (in the workspace, not in git; left alone): {len(plan.unmanaged)}')
        lines.extend(f'    {key}' for key in plan.unmanaged)
        lines.append('')
    lines.append(summary_line(plan))
    if plan.api_calls:
        total = sum(plan.api_calls.values())
        routes = ', '.join(f'{route} x{n}' for route, n in sorted(plan.api_calls.items()))
        lines.append(f'API calls: {total} ({routes})')
    return escape.join_lines(lines)


def render_apply_text(result: ApplyResult, spent: Spent | None = None) -> str:
    return ''.join(apply_line(o) for o in result.outcomes) + render_apply_summary(result, spent)


def apply_line(outcome: Outcome) -> str:
    """One object's apply result: `applied  job/x`, `failed   script/y: why`."""
    return escape.join_lines([f'{outcome.status.value:8} {outcome.key}'
                              + (f': {outcome.message}' if outcome.message else '')])


def render_apply_summary(result: ApplyResult, spent: Spent | None = None) -> str:
    """The counts (after the object lines, printed as each object ended), and the API calls spent."""
    lines = [f'Apply: {result.count(Status.APPLIED)} applied, {result.count(Status.FAILED)} failed, '
             f'{result.count(Status.SKIPPED)} skipped.']
    if spent is not None and spent.calls:
        # What the service made it do (issue 13): a faulty or throttled service shows here.
        # Every call of the command, by route (listing, reads, writes, state and lock), on the same line.
        routes = ', '.join(f'{route} x{n}' for route, n in sorted(spent.by_route.items()))
        lines.append(f'API calls: {spent.calls} ({spent.retries} retries, {spent.throttle_waits} throttle waits)'
                     + (f': {routes}' if routes else ''))
    return escape.join_lines(lines)


_STATUS_ICON = {Status.APPLIED: '✅', Status.FAILED: '❌', Status.SKIPPED: '⏭️'}


def render_apply_markdown(result: ApplyResult) -> str:
    """The apply result for a pull request or a job summary: counts, then every object with its outcome."""
    lines = ['### jobsync apply', '', '| applied | failed | skipped |', '|---:|---:|---:|',
             f'| {result.count(Status.APPLIED)} | {result.count(Status.FAILED)} | {result.count(Status.SKIPPED)} |', '']
    for o in result.outcomes:
        why = f' — {escape.md_text(o.message)}' if o.message else ''
        lines.append(f'- {_STATUS_ICON[o.status]} **{o.status.value}** {escape.md_code(str(o.key))} ({o.action}){why}')
    if result.outcomes:
        lines.append('')
    return escape.text('\n'.join(lines) + '\n')
