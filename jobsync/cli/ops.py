"""The console's batch operations: run, stop, delete, and CDM groups."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from jobsync import ops
from jobsync.cli.app import app
from jobsync.cli.common import (
    EXIT_ERROR,
    EXIT_USAGE,
    TEXT_JSON,
    Format,
    Output,
    RepoOpt,
    TargetOpt,
    error_handler,
    read_env,
    require_format,
)
from jobsync.cli.progress import Reporter
from jobsync.cli.root import find_root
from jobsync.commands import console
from jobsync.errors import JobsyncError
from jobsync.events import Results
from jobsync.render.ops import (
    ops_line,
    render_delete_preview,
    render_groups_json,
    render_groups_text,
    render_ops_json,
    render_ops_summary,
)
from jobsync.selection import JOB_KINDS

NamesArg = Annotated[list[str] | None, typer.Argument(
    help='Jobs by name (Factory or CDM), or objects by key (job/NAME, cdm-job/CLUSTER/NAME).', show_default=False,
    metavar='NAME')]
GroupOpt = Annotated[list[str] | None, typer.Option(
    '--group', metavar='<group>', help='Every CDM job of this group. Repeatable.')]
ClusterOpt = Annotated[list[str] | None, typer.Option(
    '--cluster', metavar='<cluster>', help='Only CDM jobs of this cluster. Repeatable.')]
YesOpt = Annotated[bool, typer.Option('--yes', '-y', help='Do not ask for confirmation (required without a terminal).')]
# Text or JSON: a list of outcomes is no pull-request reading.
OpsFormatOpt = Annotated[Format | None, typer.Option('--format', help='Output format: text or json.',
                                                     metavar='<text|json>', show_default='text')]
# `groups` options, taken before or after the sub-command (`groups --target dev delete x`).
GroupsRepoOpt = Annotated[Path | None, typer.Option('--repo', help='Path to the definitions repo.', show_default='.')]


def _confirm(question: str, yes: bool, output: Output) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise JobsyncError('refusing to delete without confirmation: there is no terminal to ask on',
                           hint='review the list above, then re-run with --yes')
    if not typer.confirm(question, default=False):
        output.err('Cancelled; nothing was deleted.\n')
        raise typer.Exit(EXIT_ERROR)


def _render(result: Results, verb: str, fmt: Format, progress: Reporter) -> str:
    # Text: the object lines were printed as each object ended (the Reporter), the rest and the summary now.
    if fmt is Format.JSON:
        return render_ops_json(result)
    return progress.unsaid(result.outcomes) + render_ops_summary(result, verb)


def _progress(output: Output, fmt: Format, what: str) -> Reporter:
    return Reporter(output, read_env(), what=what, line=ops_line if fmt is Format.TEXT else None)


def _format(command: str, fmt: Format | None, output: Output) -> Format:
    chosen = fmt or Format.TEXT
    require_format(command, chosen, TEXT_JSON, output)
    return chosen


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
    fmt: OpsFormatOpt = None,
) -> None:
    """Start jobs: a Factory job's schedule, a CDM job's run. With --wait, follow them with live status.

    With --once, Factory jobs run one instance now and --wait follows it to its end. A batch job
    scheduled EXECUTE_ONCE has no schedule to start: it is always run once.
    """
    output = Output()
    with error_handler(output, fmt):
        chosen_fmt = _format('run', fmt, output)
        with console.open_target(find_root(repo), target, read_env()) as opened, \
                _progress(output, chosen_fmt, 'finished' if wait else 'started') as progress:
            result = console.run(opened, console.Selection(tuple(names or ()), tuple(group or ()),
                                                           tuple(cluster or ())),
                                 wait=wait, once=once, timeout=timeout, interval=interval, sleep=time.sleep,
                                 clock=time.monotonic, on_event=progress)
        output.out(_render(result, 'Run', chosen_fmt, progress))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


@app.command()
def stop(
    names: NamesArg = None,
    group: GroupOpt = None,
    cluster: ClusterOpt = None,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: OpsFormatOpt = None,
) -> None:
    """Stop jobs: a Factory job's schedule, a CDM job's running submission."""
    output = Output()
    with error_handler(output, fmt):
        chosen_fmt = _format('stop', fmt, output)
        with console.open_target(find_root(repo), target, read_env()) as opened, \
                _progress(output, chosen_fmt, 'stopped') as progress:
            result = console.stop(opened, console.Selection(tuple(names or ()), tuple(group or ()),
                                                            tuple(cluster or ())), on_event=progress)
        output.out(_render(result, 'Stop', chosen_fmt, progress))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


ForceOpt = Annotated[bool, typer.Option(
    '--force', help='Delete even objects other workspace objects still use (refused by default, naming the users).')]


def _delete(output: Output, opened: console.Opened, chosen: console.Selection, *, what: str, yes: bool,
            fmt: Format, kinds: frozenset[str] = console.DELETABLE, force: bool = False) -> Results:
    planned = console.plan_delete(opened, chosen, what=what, kinds=kinds, force=force)
    output.err(render_delete_preview(planned))
    _confirm(f'Delete these {len(planned.order)} object(s)?', yes, output)
    with _progress(output, fmt, 'deleted') as progress:
        progress.expect(len(planned.order))
        result = console.delete(opened, planned, on_event=progress)
    output.out(_render(result, 'Delete', fmt, progress))
    if planned.unchecked:  # the in-use check was not complete: say so in the exit code (issue 12)
        output.err(f'Error: {len(planned.unchecked)} object(s) were not checked for use of what was deleted '
                   '(named above).\n')
        raise typer.Exit(EXIT_ERROR)
    return result


@app.command()
def delete(
    names: NamesArg = None,
    group: GroupOpt = None,
    cluster: ClusterOpt = None,
    yes: YesOpt = False,
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    fmt: OpsFormatOpt = None,
    force: ForceOpt = False,
) -> None:
    """Delete objects from the workspace (users before what they use), after confirmation.

    Warns about objects still defined in git: the next apply would create them again. Refuses to
    delete an object another workspace object still uses (naming the users) unless --force.
    """
    output = Output()
    with error_handler(output, fmt):
        chosen_fmt = _format('delete', fmt, output)
        with console.open_target(find_root(repo), target, read_env()) as opened:
            chosen = console.Selection(tuple(names or ()), tuple(group or ()), tuple(cluster or ()))
            result = _delete(output, opened, chosen, what='named' if not group else 'with the groups', yes=yes,
                             fmt=chosen_fmt, force=force)
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


groups_app = typer.Typer(help='CDM job groups: list them with their jobs, or delete a group and its jobs. '
                              '--repo, --target, --cluster and --format may stand before or after `delete`.',
                         invoke_without_command=True, no_args_is_help=False)
app.add_typer(groups_app, name='groups')


@dataclass(frozen=True)
class _GroupsOptions:
    """The options given to `groups` itself, before a sub-command: the sub-command applies them too."""

    repo: Path | None
    target: str | None
    cluster: tuple[str, ...]
    fmt: Format | None


def _merged(ctx: typer.Context, output: Output, *, repo: Path | None, target: str | None,
            cluster: list[str] | None, fmt: Format | None) -> _GroupsOptions:
    """The sub-command's options over the group's: each given once, in either place; the same
    option given in both places with different values is a usage error (it is not guessed)."""
    parent = ctx.obj if isinstance(ctx.obj, _GroupsOptions) else _GroupsOptions(None, None, (), None)
    clash = [name for name, mine, theirs in (('--repo', repo, parent.repo), ('--target', target, parent.target),
                                             ('--format', fmt, parent.fmt))
             if mine is not None and theirs is not None and mine != theirs]
    if clash:
        output.err(f'Error: {", ".join(clash)} given twice with different values, before and after `delete`.\n')
        raise typer.Exit(EXIT_USAGE)
    return _GroupsOptions(repo if repo is not None else parent.repo,
                          target if target is not None else parent.target,
                          tuple(dict.fromkeys([*parent.cluster, *(cluster or ())])),
                          fmt if fmt is not None else parent.fmt)


@groups_app.callback()
def groups_list(
    ctx: typer.Context,
    cluster: ClusterOpt = None,
    repo: GroupsRepoOpt = None,
    target: TargetOpt = None,
    fmt: OpsFormatOpt = None,
) -> None:
    """List the CDM groups of every cluster (or of --cluster) with their jobs (inside the target's scope)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = _GroupsOptions(repo, target, tuple(cluster or ()), fmt)
        return
    output = Output()
    with error_handler(output, fmt):
        chosen_fmt = _format('groups', fmt, output)
        with console.open_target(find_root(repo or Path('.')), target, read_env()) as opened:
            found = console.groups(opened, tuple(cluster or ()))
        output.out(render_groups_json(found) if chosen_fmt is Format.JSON else render_groups_text(found))


@groups_app.command('delete')
def groups_delete(
    ctx: typer.Context,
    group: Annotated[list[str], typer.Argument(help='The group(s) to delete, with all their jobs.',
                                               metavar='GROUP')],
    cluster: ClusterOpt = None,
    yes: YesOpt = False,
    repo: GroupsRepoOpt = None,
    target: TargetOpt = None,
    fmt: OpsFormatOpt = None,
    force: ForceOpt = False,
) -> None:
    """Delete CDM groups: deleting a group deletes its jobs, as the console does (refused while a
    Factory job outside the groups still uses one of them, unless --force)."""
    output = Output()
    with error_handler(output, fmt or (ctx.obj.fmt if isinstance(ctx.obj, _GroupsOptions) else None)):
        options = _merged(ctx, output, repo=repo, target=target, cluster=cluster, fmt=fmt)
        chosen_fmt = _format('groups delete', options.fmt, output)
        with console.open_target(find_root(options.repo or Path('.')), options.target, read_env()) as opened:
            chosen = console.Selection((), tuple(group), options.cluster)
            result = _delete(output, opened, chosen, what=f'group {", ".join(group)}', yes=yes, fmt=chosen_fmt,
                             kinds=JOB_KINDS, force=force)
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)
