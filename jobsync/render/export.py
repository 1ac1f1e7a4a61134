"""What an export or a bundle import wrote: text for people, JSON for machines, and the commit message. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobsync import secrets
from jobsync.export import ExportResult

_GLYPH = {'added': '+', 'changed': '~', 'unchanged': '='}


@dataclass(frozen=True)
class Written:
    """Where the result went: the files written, and the branch and commit when asked for."""

    source: str  # the workspace URL or the bundle file
    scope: str
    files: tuple[str, ...] = ()
    dry_run: bool = False
    branch: str | None = None
    commit: str | None = None


def summary(result: ExportResult) -> str:
    return (f'{result.count("added")} added, {result.count("changed")} changed, '
            f'{result.count("unchanged")} unchanged')


def render_export_text(result: ExportResult, written: Written) -> str:
    lines = [f'Export from {written.source} ({written.scope}): {summary(result)}.']
    for obj in result.objects:
        if obj.status == 'unchanged':
            continue
        detail = f' ({len(obj.fields)} field{"s" if len(obj.fields) != 1 else ""})' if obj.fields else ''
        lines.append(f'  {_GLYPH[obj.status]} {obj.key}  {", ".join(obj.paths)}{detail}')
    new = result.new_secrets
    if new:
        lines += ['', 'Secrets to set before apply (the workspace never returns passwords, so the export wrote '
                      'these references):']
        lines += [f'  {n.reference}  {n.path}#{n.pointer}' for n in new]
    if result.missing:
        lines += ['', f'In git but not in the workspace (left alone; delete the files if they should go): '
                      f'{len(result.missing)}']
        lines += [f'  {e.key}  {e.path}' for e in result.missing]
    lines.append('')
    if written.dry_run:
        lines.append(f'Dry run: {len(result.files)} file(s) would be written; nothing was.')
    elif not written.files:
        lines.append('Nothing to write: git already matches.')
    else:
        where = f' on branch {written.branch}' if written.branch else ''
        lines.append(f'Wrote {len(written.files)} file(s){where}.')
    if written.commit:
        lines.append(f'Committed {written.commit[:12]}.')
    return '\n'.join(lines) + '\n'


def render_export_json(result: ExportResult, written: Written) -> str:
    doc: dict[str, Any] = {
        'source': written.source,
        'scope': written.scope,
        'summary': {s: result.count(s) for s in ('added', 'changed', 'unchanged')},
        'objects': [
            {'key': str(o.key), 'status': o.status, 'paths': list(o.paths),
             'fields': [{'pointer': f.pointer, 'git': secrets.to_jsonable(f.before),
                         'workspace': secrets.to_jsonable(f.after)} for f in o.fields]}
            for o in result.objects
        ],
        'secrets': [{'key': str(n.key), 'path': n.path, 'pointer': n.pointer, 'reference': n.reference,
                     'new': n.new} for n in result.secrets],
        'missing': [{'key': str(e.key), 'path': e.path} for e in result.missing],
        'warnings': [str(w) for w in result.warnings],
        'written': list(written.files),
        'dry_run': written.dry_run,
        'branch': written.branch,
        'commit': written.commit,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + '\n'


def commit_message(result: ExportResult, source: str, scope: str) -> str:
    """`jobsync export: 2 added, 1 changed` and a body listing objects, changed fields and secrets to set."""
    added = [o for o in result.objects if o.status == 'added']
    changed = [o for o in result.objects if o.status == 'changed']
    lines = [f'jobsync export: {len(added)} added, {len(changed)} changed', '',
             f'Exported from {source} ({scope}).']
    if added:
        lines += ['', 'Added:'] + [f'  {o.key}' for o in added]
    if changed:
        lines += ['', 'Changed in the workspace:']
        for o in changed:
            pointers = _pointers(o.fields)
            lines.append(f'  {o.key}' + (f': {pointers}' if pointers else ''))
    new = result.new_secrets
    if new:
        lines += ['', 'Secrets to set before apply:'] + [f'  {n.reference}' for n in new]
    if result.missing:
        lines += ['', 'In git but not in the workspace (left as they are):'] + [f'  {e.key}' for e in result.missing]
    return '\n'.join(lines) + '\n'


def _pointers(fields: Sequence[Any], limit: int = 5) -> str:
    names = [f.pointer for f in fields]
    more = f' and {len(names) - limit} more' if len(names) > limit else ''
    return ', '.join(names[:limit]) + more
