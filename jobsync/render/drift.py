"""The drift report as text (terminals, CI logs), markdown (a pull request body) and JSON. Pure."""

from __future__ import annotations

import difflib
import json
from typing import Any

from jobsync import jsontext, secrets
from jobsync.diff import FieldChange
from jobsync.drift import DriftItem, DriftKind, DriftReport
from jobsync.render import escape

GLYPH = {DriftKind.CHANGED: '~', DriftKind.ADDED: '+', DriftKind.MISSING: '-', DriftKind.PENDING: '>'}
FORMAT_VERSION = 1


def _value(value: Any) -> str:
    return json.dumps(secrets.to_jsonable(value), ensure_ascii=False)


def _text_block(value: Any) -> bool:
    return isinstance(value, str) and '\n' in value


def _content_diff(before: Any, after: Any) -> list[str]:
    """Line diff of a text field (script content): git first, then the workspace."""
    old = before if isinstance(before, str) else ''
    new = after if isinstance(after, str) else ''
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), 'git', 'workspace', lineterm='', n=2))


def _field_lines(change: FieldChange, indent: str) -> list[str]:
    if _text_block(change.before) or _text_block(change.after):
        return [f'{indent}~ {change.pointer}:', *(f'{indent}    {line}' for line in
                                                  _content_diff(change.before, change.after))]
    if change.before is None:
        return [f'{indent}+ {change.pointer}: {_value(change.after)}']
    if change.after is None:
        return [f'{indent}- {change.pointer}: {_value(change.before)}']
    return [f'{indent}~ {change.pointer}: {_value(change.before)} -> {_value(change.after)}']


def summary_line(report: DriftReport) -> str:
    line = (f'Drift: {report.count(DriftKind.CHANGED)} changed in the workspace, '
            f'{report.count(DriftKind.ADDED)} only in the workspace, '
            f'{report.count(DriftKind.MISSING)} missing from the workspace; {report.in_sync} in sync.')
    pending = report.count(DriftKind.PENDING)
    if pending:
        line += f' {pending} pending apply (not drift).'
    return line


def render_drift_text(report: DriftReport) -> str:
    lines = [f'Target {report.target} ({report.workspace}), git {report.repo_rev}', '']
    for item in report.items:
        lines.append(f'{GLYPH[item.kind]} {item.key}  ({item.reason})')
        for change in item.fields:
            lines.extend(_field_lines(change, '    '))
        lines.append('')
    if not report.has_drift:
        lines.extend(['No drift. The workspace matches git.', ''])
    if report.skipped:
        lines.append(f'{_SKIPPED}: {len(report.skipped)}')
        lines.extend(f'    {key}  ({why})' for key, why in report.skipped)
        lines.append('')
    lines.append(summary_line(report))
    return escape.join_lines(lines)


_SKIPPED = 'Not compared, their names cannot be file names (rename them in the console)'


def _md_item(item: DriftItem) -> list[str]:
    where = f' ({escape.html_code(item.source)})' if item.source else ''
    diff = [escape.line(line) for change in item.fields for line in _field_lines(change, '')]
    fence = escape.fence(diff)
    return [f'<details><summary>{escape.html_code(str(item.key))}: {escape.md_inline(item.reason)}{where}</summary>',
            '', f'{fence}diff', *diff, fence, '', '</details>', '']


def render_drift_markdown(report: DriftReport) -> str:
    """A pull request body: a summary table, then each changed object's fields in a fold."""
    lines = [f'### Drift in target {escape.md_code(report.target)}', '',
             f'Workspace {escape.md_code(report.workspace)} compared with git {escape.md_code(report.repo_rev)}.', '']
    if not report.has_drift:
        lines += ['No drift: the workspace matches git.', '']
    else:
        lines += ['| | object | what | file |', '|---|---|---|---|']
        for item in report.items:
            source = escape.md_code(item.source, table=True) if item.source else ''
            lines.append(f'| {GLYPH[item.kind]} | {escape.md_code(str(item.key), table=True)} | '
                         f'{escape.md_inline(item.reason)} | {source} |')
        lines.append('')
        for item in report.items:
            if item.fields:
                lines.extend(_md_item(item))
    if report.skipped:
        lines += [f'{_SKIPPED}:', '']
        lines += [f'- {escape.md_code(str(key))}: {escape.md_inline(why)}' for key, why in report.skipped]
        lines.append('')
    lines += [summary_line(report), '']
    return escape.text('\n'.join(lines))


def drift_to_dict(report: DriftReport) -> dict[str, Any]:
    return {
        'format_version': FORMAT_VERSION,
        'repo_rev': report.repo_rev,
        'target': report.target,
        'workspace': report.workspace,
        'has_drift': report.has_drift,
        'summary': {**{k.value: report.count(k) for k in DriftKind}, 'in_sync': report.in_sync},
        'items': [
            {'key': str(i.key), 'kind': i.kind.value, 'reason': i.reason, 'source': i.source,
             'live_updated': i.live_updated,
             'fields': [{'pointer': f.pointer, 'git': secrets.to_jsonable(f.before),
                         'workspace': secrets.to_jsonable(f.after)} for f in i.fields]}
            for i in report.items
        ],
        'api_calls': dict(sorted(report.api_calls.items())),
        'skipped': [{'key': str(key), 'why': why} for key, why in report.skipped],
    }


def render_drift_json(report: DriftReport) -> str:
    return escape.json_text(jsontext.pretty(drift_to_dict(report))) + '\n'


def render_drift(report: DriftReport, fmt: str) -> str:
    """`fmt` is `text`, `markdown` or `json`."""
    if fmt == 'json':
        return render_drift_json(report)
    if fmt == 'markdown':
        return render_drift_markdown(report)
    return render_drift_text(report)
