"""The plan as a pull-request comment (GitHub or GitLab markdown). Pure.

Layout, in this order: a hidden marker (CI finds the comment by it and updates it in place), a
title, the summary table, the risk line, then one collapsible `<details>` diff per object, risky
objects first: conflicts, deletions, objects carrying secrets, schedule changes, then the rest.
Script content shows as a line diff.

The comment is always at most `budget` characters (GitHub refuses comments over 65,536; `size`
counts UTF-16 code units, never fewer than GitHub's characters). Past
the budget, objects are listed by name without their diff, and past that only counted; the
comment then says exactly how many objects lost their diff, how many are not even named, and
where the full plan is (`artifact`: a CI artifact URL, or the plan file's name).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jobsync import secrets
from jobsync.diff import FieldChange
from jobsync.plan import Action, Change, Plan, Side, summary_counts
from jobsync.render import escape
from jobsync.render.text import create_fields, render_value, text_diff

BUDGET = 65_000  # characters; GitHub's limit for a comment body is 65,536
MARKER = '<!-- jobsync-plan target={target} -->'
LIST_LIMIT = 20  # unmanaged and orphaned objects named in the comment (the rest are counted)
REASON_LIMIT = 160

_ACTION_ICON = {Action.CREATE: '➕', Action.UPDATE: '✏️', Action.DELETE: '🗑️', Action.EXPORT: '📥',
                Action.CONFLICT: '⛔', Action.NOOP: ''}
_COLUMNS = (Action.CREATE, Action.UPDATE, Action.DELETE, Action.CONFLICT, Action.EXPORT, Action.NOOP)
_COLUMN_TITLE = {Action.CREATE: 'create', Action.UPDATE: 'update', Action.DELETE: 'delete',
                 Action.CONFLICT: 'conflict', Action.EXPORT: 'export (adopt)', Action.NOOP: 'unchanged'}


# --- risk ---------------------------------------------------------------------------------------

def has_secrets(change: Change) -> bool:
    return bool(change.secrets_changed) or bool(secrets.refs_in(change.desired))


def changes_schedule(change: Change) -> bool:
    """A schedule field changes, or a new job comes with a schedule that will run it."""
    if change.key.kind not in ('job', 'cdm-job'):
        return False
    if change.action is Action.CREATE and change.key.kind == 'job' and isinstance(change.desired, dict):
        schedule = change.desired.get('schedule')
        return isinstance(schedule, dict) and schedule.get('type') in ('CRON', 'EVENT')
    return any('schedule' in f.pointer.lower() for f in change.fields)


def risk_rank(change: Change) -> int:
    """0 conflicts, 1 deletions, 2 secret-bearing, 3 schedule changes, 4 the rest, 5 exports."""
    if change.action is Action.CONFLICT:
        return 0
    if change.action is Action.DELETE:
        return 1
    if change.action is Action.EXPORT:
        return 5
    if has_secrets(change):
        return 2
    if changes_schedule(change):
        return 3
    return 4


def _tags(change: Change, plan: Plan) -> list[str]:
    tags = []
    if change.action is Action.DELETE:
        tags.append('⚠️ deletion')
    if has_secrets(change):
        tags.append('🔑 secret changed' if change.secrets_changed else '🔑 secrets')
    if changes_schedule(change):
        tags.append('⏰ schedule')
    if change.side is Side.WORKSPACE:
        tags.append('drift')
    if plan.base_rev is not None:
        tags.append('this branch' if change.key in plan.branch_changes else 'not from this branch')
    return tags


# --- pieces -------------------------------------------------------------------------------------

def _inline(text: str) -> str:
    """Reason text as HTML: escaped, `code` spans kept as <code>."""
    return escape.md_inline(text)


def _shorten(text: str, limit: int = REASON_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit - 1] + '…'


def _fence(lines: Sequence[str]) -> str:
    return escape.fence(lines)


def _field_lines(change: FieldChange) -> list[str]:
    before, after = change.before, change.after
    if (isinstance(before, str) and '\n' in before) or (isinstance(after, str) and '\n' in after):
        old = before if isinstance(before, str) else ''
        new = after if isinstance(after, str) else ''
        diff = text_diff(old, new, indent='')
        # Only the two file-header lines go: a deleted SQL comment line (`-- x`) shows as `--- x`.
        return [f'  {change.pointer}:', *diff[2:]]
    if before is None:
        return [f'+ {change.pointer}: {render_value(after)}']
    if after is None:
        return [f'- {change.pointer}: {render_value(before)}']
    return [f'- {change.pointer}: {render_value(before)}', f'+ {change.pointer}: {render_value(after)}']


def _create_lines(change: Change) -> list[str]:
    lines = []
    for f in create_fields(change):
        if isinstance(f.after, str) and '\n' in f.after:
            lines.append(f'+ {f.pointer}:')
            lines.extend(f'+     {line}' for line in f.after.splitlines())
        else:
            lines.append(f'+ {f.pointer}: {render_value(f.after)}')
    return lines


def diff_lines(change: Change) -> list[str]:
    """The lines of an object's diff block (workspace `-`, git `+`)."""
    if change.action is Action.CREATE:
        lines = _create_lines(change)
    elif change.action is Action.DELETE:
        lines = [f'- {change.key} (deleted from the workspace)']
    else:
        lines = [line for f in change.fields for line in _field_lines(f)]
    lines.extend(f'! {ref}: the value changed since the last apply (not shown)' for ref in change.secrets_changed)
    return [escape.line(line) for line in lines]


def _summary_html(change: Change, plan: Plan) -> str:
    tags = ''.join(f' · {t}' for t in _tags(change, plan))
    return (f'{_ACTION_ICON[change.action]} <b>{change.action.value}</b> {escape.html_code(str(change.key))}'
            f' — {_inline(_shorten(change.reason))}{tags}')


def full_block(change: Change, plan: Plan) -> str:
    """One object: a collapsible summary line and its diff."""
    lines = diff_lines(change)
    out = f'<details><summary>{_summary_html(change, plan)}</summary>\n\n'
    if lines:
        fence = _fence(lines)
        out += f'{fence}diff\n' + '\n'.join(lines) + f'\n{fence}\n\n'
    return out + '</details>\n'


def short_line(change: Change, plan: Plan) -> str:
    """One object without its diff."""
    tags = ''.join(f' · {t}' for t in _tags(change, plan))
    reason = escape.md_inline(_shorten(change.reason, 100))
    key = escape.md_code(str(change.key))
    return f'- {_ACTION_ICON[change.action]} **{change.action.value}** {key} — {reason}{tags}\n'


def _summary_table(plan: Plan) -> str:
    counts = summary_counts(plan)
    head = '| ' + ' | '.join(_COLUMN_TITLE[a] for a in _COLUMNS) + ' |\n'
    rule = '|' + '---:|' * len(_COLUMNS) + '\n'
    row = '| ' + ' | '.join(str(counts[a.value]) for a in _COLUMNS) + ' |\n'
    return head + rule + row


def _risk_line(changes: Sequence[Change]) -> str:
    parts = []
    conflicts = sum(1 for c in changes if c.action is Action.CONFLICT)
    deletions = sum(1 for c in changes if c.action is Action.DELETE)
    secret = sum(1 for c in changes if c.action not in (Action.DELETE, Action.EXPORT) and has_secrets(c))
    schedule = sum(1 for c in changes if changes_schedule(c))
    drift = sum(1 for c in changes if c.side is Side.WORKSPACE)
    if conflicts:
        parts.append(f'⛔ {conflicts} conflict{"s" * (conflicts != 1)} (apply refuses until settled with --take)')
    if deletions:
        parts.append(f'⚠️ {deletions} deletion{"s" * (deletions != 1)}')
    if secret:
        parts.append(f'🔑 {secret} carrying secrets')
    if schedule:
        parts.append(f'⏰ {schedule} schedule change{"s" * (schedule != 1)}')
    if drift:
        parts.append(f'{drift} drift (changed in the workspace; apply reverts)')
    return ('**Risks:** ' + ' · '.join(parts) + '\n') if parts else ''


def _named_list(title: str, keys: Sequence[str]) -> str:
    if not keys:
        return ''
    shown = ', '.join(escape.md_code(k) for k in keys[:LIST_LIMIT])
    more = f' and {len(keys) - LIST_LIMIT} more' if len(keys) > LIST_LIMIT else ''
    return f'{title} ({len(keys)}): {shown}{more}.\n\n'


def _head(plan: Plan, actionable: Sequence[Change]) -> str:
    short_rev = plan.repo_rev[:12]
    out = MARKER.format(target=html.escape(escape.line(plan.target)).replace('--', '&#45;&#45;')) + '\n'
    out += f'### jobsync plan for target {escape.md_code(plan.target)}\n\n'
    out += f'git {escape.md_code(short_rev)} against {escape.md_code(plan.workspace)}'
    if plan.base_rev is not None:
        out += f', base {escape.md_code(plan.base_rev[:12])}'
    out += '\n\n' + _summary_table(plan) + '\n'
    risks = _risk_line(actionable)
    if risks:
        out += risks + '\n'
    if plan.base_rev is not None:
        own = sum(1 for c in actionable if c.key in plan.branch_changes)
        base = escape.md_code(plan.base_rev[:12])
        out += (f'This branch changes {len(plan.branch_changes)} definition(s) relative to {base}; '
                f'{own} of the {len(actionable)} change(s) below come from it, and {len(actionable) - own} '
                'were already pending in the workspace (drift or changes not yet applied).\n\n')
    for note in plan.notes:
        out += f'> {_inline(note)}\n\n'
    if not actionable:
        out += '**No changes.** The workspace matches git.\n\n'
    return out


def _tail(plan: Plan) -> str:
    out = _named_list('Managed by jobsync, removed from git, left in place', [str(o.key) for o in plan.orphans])
    out += _named_list('Not managed by jobsync (in the workspace only; left alone)', [str(k) for k in plan.unmanaged])
    out += _named_list('Skipped: in the workspace already, left as they are (--same-name skip)',
                       [str(k) for k in plan.skipped])
    if plan.api_calls:
        total = sum(plan.api_calls.values())
        out += f'<sub>API calls for this plan: {total}.</sub>\n'
    return out


def _cut_note(cut: int, unnamed: int, budget: int, artifact: str | None) -> str:
    if not cut:
        return ''
    where = f'[the full plan]({artifact})' if artifact and '://' in artifact else (
        f'the full plan, {escape.md_code(artifact)}' if artifact else 'the full plan (`jobsync plan --out plan.json`)')
    named = f'; {unnamed} of them are not named either' if unnamed else ''
    return (f'> **Left out to keep this comment under {budget:,} characters:** the diffs of {cut} '
            f'object{"s" * (cut != 1)}{named}. Every change is in {where}.\n\n')


@dataclass(frozen=True)
class _Layout:
    full: frozenset[int]  # indices shown with their diff
    named: int  # how many of the others are listed by name (in order)


def _render(plan: Plan, items: Sequence[Change], fulls: Sequence[str], shorts: Sequence[str], layout: _Layout,
            head: str, tail: str, budget: int, artifact: str | None) -> str:
    body = [fulls[i] for i in range(len(items)) if i in layout.full]
    rest = [i for i in range(len(items)) if i not in layout.full]
    listed = [shorts[i] for i in rest[:layout.named]]
    unnamed = len(rest) - layout.named
    out = head + _cut_note(len(rest), unnamed, budget, artifact) + ''.join(body)
    if listed or unnamed:
        out += f'\n#### Without diffs ({len(rest)})\n\n' + ''.join(listed)
        if unnamed:
            out += f'- … and {unnamed} more object{"s" * (unnamed != 1)}, not named here\n'
    return out + ('\n' if tail else '') + tail


def size(text: str) -> int:
    """Characters as the strictest reader counts them: UTF-16 code units (an emoji counts 2).

    GitHub counts characters; counting UTF-16 units is never less, so a comment within budget by
    this measure is within budget by any.
    """
    return len(text.encode('utf-16-le')) // 2


def _fit(sizes_full: Sequence[int], sizes_short: Sequence[int], room: int) -> _Layout:
    """Most diffs (in order) and names that fit in `room`: names of all first if they fit, else half for diffs."""
    n = len(sizes_full)
    total_short = sum(sizes_short)
    full: set[int] = set()
    if total_short <= room:
        left = room - total_short
        for i in range(n):
            extra = sizes_full[i] - sizes_short[i]
            if extra <= left:
                full.add(i)
                left -= extra
        return _Layout(frozenset(full), n - len(full))
    diff_room = room // 2
    for i in range(n):
        if sizes_full[i] <= diff_room:
            full.add(i)
            diff_room -= sizes_full[i]
    left = room - sum(sizes_full[i] for i in full)
    named = 0
    for i in (i for i in range(n) if i not in full):
        if sizes_short[i] > left:
            break
        left -= sizes_short[i]
        named += 1
    return _Layout(frozenset(full), named)


def ordered(changes: Iterable[Change]) -> list[Change]:
    """Risky first (see `risk_rank`), then by key."""
    return sorted(changes, key=lambda c: (risk_rank(c), c.key))


def render_plan_markdown(plan: Plan, *, artifact: str | None = None, budget: int = BUDGET) -> str:
    """The plan as a comment of at most `budget` characters (see the module docstring)."""
    items = ordered(plan.actionable)
    head, tail = _head(plan, items), _tail(plan)
    fulls = [full_block(c, plan) for c in items]
    shorts = [short_line(c, plan) for c in items]
    reserve = size(_cut_note(len(items), len(items), budget, artifact)) + 64  # the cut note and the list heading
    room = budget - size(head) - size(tail) - reserve
    layout = _fit([size(f) for f in fulls], [size(s) for s in shorts], max(room, 0))
    text = _render(plan, items, fulls, shorts, layout, head, tail, budget, artifact)
    while size(text) > budget:  # the estimate was short (it never is by much): drop the last shown piece
        if layout.named:
            layout = _Layout(layout.full, layout.named - 1)
        elif layout.full:
            last = max(layout.full)
            layout = _Layout(layout.full - {last}, 0)
        else:
            raise ValueError(f'the head of the plan comment alone is over {budget} characters')
        text = _render(plan, items, fulls, shorts, layout, head, tail, budget, artifact)
    return text
