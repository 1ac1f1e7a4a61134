"""The console's batch operations: run, stop, delete, and CDM groups."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from jobsync import export, gitrepo, ops
from jobsync.cli.app import app
from jobsync.cli.common import EXIT_ERROR, Format, FormatOpt, Output, RepoOpt, TargetOpt, error_handler
from jobsync.config import Target
from jobsync.errors import JobsyncError, UsageError
from jobsync.load import load_config
from jobsync.model import ObjectKey, Spec
from jobsync.remap import remap_key
from jobsync.scope import in_scope
from jobsync.selection import JOB_KINDS
from jobsync.workspace.base import Workspace
from jobsync.workspace.connect import open_workspace

NamesArg = Annotated[list[str] | None, typer.Argument(
    help='Jobs by name (Factory or CDM), or objects by key (job/NAME, cdm-job/CLUSTER/NAME).', show_default=False)]
GroupOpt = Annotated[list[str] | None, typer.Option('--group', help='Every CDM job of this group. Repeatable.')]
ClusterOpt = Annotated[list[str] | None, typer.Option('--cluster', help='Only CDM jobs of this cluster. Repeatable.')]
YesOpt = Annotated[bool, typer.Option('--yes', '-y', help='Do not ask for confirmation (required without a terminal).')]


@contextmanager
def _workspace(repo: Path, target: str | None) -> Iterator[tuple[Workspace, gitrepo.Snapshot, Target]]:
    """The target's workspace (jobsync.yaml only is read: the definitions need not be valid)."""
    snapshot = gitrepo.read_snapshot(repo)
    the_target = load_config(snapshot).target(target)
    workspace = open_workspace(the_target, snapshot.root, os.environ)
    try:
        yield workspace, snapshot, the_target
    finally:
        workspace.close()


def _select(
    workspace: Workspace, the_target: Target, names: Sequence[str], groups: Sequence[str],
    clusters: Sequence[str], *, kinds: frozenset[str],
) -> dict[ObjectKey, Spec]:
    """The objects named or in the groups, with their live specs (for references and groups).

    Only objects inside the target's scope: a named object outside it is refused, a group's
    jobs outside it are left out (another team owns them).
    """
    if not names and not groups:
        raise UsageError('name the jobs to act on, or a --group', hint='e.g. `jobsync run daily_sales` or '
                                                                        '`jobsync run --group nightly --wait`')
    entries = workspace.list_objects()
    named = set(ops.resolve(entries, names, kinds=kinds, clusters=clusters))
    grouped: set[ObjectKey] = set()
    if groups:
        cdm = workspace.read({k: e for k, e in entries.items() if k.kind == 'cdm-job'})
        grouped = {k for k in ops.group_members(cdm, groups, clusters) if in_scope(k, cdm[k].spec, the_target.scope)}
        if not grouped:
            raise UsageError(f'no CDM job of group {", ".join(groups)} is inside the scope of target '
                             f'{the_target.name} ({the_target.scope.describe()})')
    specs = {k: o.spec for k, o in workspace.read({k: entries[k] for k in sorted(named | grouped)}).items()}
    outside = sorted(k for k in named if k in specs and not in_scope(k, specs[k], the_target.scope))
    if outside:
        raise UsageError(f'outside the scope of target {the_target.name} ({the_target.scope.describe()}): '
                         f'{", ".join(map(str, outside))}', hint='act on it with the target that owns it')
    return specs


def _confirm(question: str, yes: bool, output: Output) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise JobsyncError('refusing to delete without confirmation: there is no terminal to ask on',
                           hint='review the list above, then re-run with --yes')
    if not typer.confirm(question, default=False):
        output.err('Cancelled; nothing was deleted.\n')
        raise typer.Exit(EXIT_ERROR)


def _render(result: ops.OpsResult, verb: str, fmt: Format) -> str:
    if fmt is Format.JSON:
        doc = {'ok': result.ok, 'outcomes': [{'key': str(o.key), 'ok': o.ok, 'status': o.status,
                                              'message': o.message} for o in result.outcomes]}
        return json.dumps(doc, indent=2, ensure_ascii=False) + '\n'
    lines = [f'{"ok" if o.ok else "FAILED":6} {o.key}: {o.status}' + (f' ({o.message})' if o.message else '')
             for o in result.outcomes]
    lines.append(f'{verb}: {result.count(True)} ok, {result.count(False)} failed.')
    return '\n'.join(lines) + '\n'


def _progress(output: Output) -> ops.OnEvent:
    def on_event(event: ops.Event) -> None:
        output.err(f'  {event.key}: {event.message}\n')
    return on_event


@app.command()
def run(
    names: NamesArg = None,
    group: GroupOpt = None,
    cluster: ClusterOpt = None,
    wait: Annotated[bool, typer.Option('--wait', help='Follow the jobs to the end; exit 1 unless all '
                                                      'succeeded.')] = False,
    once: Annotated[bool, typer.Option('--once', help='Run Factory jobs once now (one instance), instead of '
                                                      'starting their schedule; CDM jobs run as always.')] = False,
    timeout: Annotated[float, typer.Option('--timeout', help='Seconds --wait follows the jobs.')] = ops.DEFAULT_TIMEOUT,
    interval: Annotated[float, typer.Option('--interval', help='Seconds between status polls.')] = ops.DEFAULT_INTERVAL,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Start jobs: a Factory job's schedule, a CDM job's run. With --wait, follow them with live status.

    With --once, Factory jobs run one instance now and --wait follows it to its end. A batch job
    scheduled EXECUTE_ONCE has no schedule to start: it is always run once.
    """
    output = Output()
    with error_handler(output), _workspace(repo, target) as (workspace, _snapshot, the_target):
        specs = _select(workspace, the_target, names or [], group or [], cluster or [], kinds=JOB_KINDS)
        run_once = {k for k, spec in specs.items()
                    if k.kind == 'job' and (once or ops.runs_once_by_default(k, spec))}
        result = ops.run_jobs(workspace, sorted(specs), wait=wait, sleep=time.sleep, clock=time.monotonic,
                              interval=interval, timeout=timeout, once=run_once, on_event=_progress(output))
        output.out(_render(result, 'Run', fmt))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


@app.command()
def stop(
    names: NamesArg = None,
    group: GroupOpt = None,
    cluster: ClusterOpt = None,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Stop jobs: a Factory job's schedule, a CDM job's running submission."""
    output = Output()
    with error_handler(output), _workspace(repo, target) as (workspace, _snapshot, the_target):
        keys = sorted(_select(workspace, the_target, names or [], group or [], cluster or [], kinds=JOB_KINDS))
        result = ops.stop_jobs(workspace, keys, on_event=_progress(output))
        output.out(_render(result, 'Stop', fmt))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


def _defined_in_git(snapshot: gitrepo.Snapshot, the_target: Target, keys: Sequence[ObjectKey]) -> dict[
        ObjectKey, str]:
    """Which of `keys` (workspace names) git defines for the target, and where."""
    desired, _ = export.load_for_target(snapshot, the_target.name, present=keys)
    if desired is not None:
        return {k: desired[k].source.label for k in keys if k in desired}
    index = export.index_repo(snapshot.files)
    back, _ = export.invert_remap(the_target.remap)
    return {k: index[remap_key(k, back)].path for k in keys if remap_key(k, back) in index}


def _delete(output: Output, workspace: Workspace, snapshot: gitrepo.Snapshot, the_target: Target,
            specs: dict[ObjectKey, Spec], yes: bool, fmt: Format, what: str) -> ops.OpsResult:
    order = ops.deletion_order(specs)
    output.err(f'To delete from {workspace.url} ({what}): {len(order)}\n' + ''.join(f'  - {k}\n' for k in order))
    defined = _defined_in_git(snapshot, the_target, order)
    if defined:
        output.err('Warning: still defined in git, so the next apply will create them again '
                   '(delete their files too):\n' + ''.join(f'  {k}  {where}\n' for k, where in defined.items()))
    _confirm(f'Delete these {len(order)} object(s)?', yes, output)
    result = ops.delete_objects(workspace, specs, on_event=_progress(output))
    output.out(_render(result, 'Delete', fmt))
    return result


@app.command()
def delete(
    names: NamesArg = None,
    group: GroupOpt = None,
    cluster: ClusterOpt = None,
    yes: YesOpt = False,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Delete objects from the workspace (users before what they use), after confirmation.

    Warns about objects still defined in git: the next apply would create them again.
    """
    output = Output()
    with error_handler(output), _workspace(repo, target) as (workspace, snapshot, the_target):
        specs = _select(workspace, the_target, names or [], group or [], cluster or [],
                        kinds=frozenset({'job', 'cdm-job', 'script', 'resource', 'connection', 'cdm-link'}))
        what = 'named' if not group else 'with the groups'
        result = _delete(output, workspace, snapshot, the_target, specs, yes, fmt, what)
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


groups_app = typer.Typer(help='CDM job groups: list them with their jobs, or delete a group and its jobs.',
                         invoke_without_command=True, no_args_is_help=False)
app.add_typer(groups_app, name='groups')


@groups_app.callback()
def groups_list(
    ctx: typer.Context,
    cluster: ClusterOpt = None,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """List the CDM groups of every cluster (or of --cluster) with their jobs (inside the target's scope)."""
    if ctx.invoked_subcommand is not None:
        return
    output = Output()
    with error_handler(output), _workspace(repo, target) as (workspace, _snapshot, the_target):
        entries = workspace.list_objects()
        cdm = workspace.read({k: e for k, e in entries.items() if k.kind == 'cdm-job'
                              and (not cluster or k.cluster in cluster)})
        groups = ops.cdm_groups({k: o for k, o in cdm.items() if in_scope(k, o.spec, the_target.scope)})
        if fmt is Format.JSON:
            doc = [{'cluster': c, 'group': g, 'jobs': [k.name for k in keys]} for (c, g), keys in groups.items()]
            output.out(json.dumps(doc, indent=2, ensure_ascii=False) + '\n')
            return
        lines: list[str] = []
        for (c, g), keys in groups.items():
            lines.append(f'{c}  {g}  ({len(keys)} job{"s" if len(keys) != 1 else ""}): '
                         f'{", ".join(k.name for k in keys)}')
        output.out('\n'.join(lines) + '\n' if lines else 'No CDM jobs.\n')


@groups_app.command('delete')
def groups_delete(
    group: Annotated[list[str], typer.Argument(help='The group(s) to delete, with all their jobs.')],
    cluster: ClusterOpt = None,
    yes: YesOpt = False,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Delete CDM groups: deleting a group deletes its jobs, as the console does."""
    output = Output()
    with error_handler(output), _workspace(repo, target) as (workspace, snapshot, the_target):
        specs = _select(workspace, the_target, [], group, cluster or [], kinds=JOB_KINDS)
        result = _delete(output, workspace, snapshot, the_target, specs, yes, fmt, f'group {", ".join(group)}')
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)
