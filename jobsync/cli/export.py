"""The pull direction: export (workspace -> git), import-bundle (console files -> git), drift."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from jobsync import selection
from jobsync.cli.app import app
from jobsync.cli.common import (
    ALL_FORMATS,
    EXIT_CHANGES,
    EXIT_ERROR,
    TEXT_JSON,
    Format,
    FormatOpt,
    Output,
    RefOpt,
    RepoOpt,
    TargetOpt,
    TextJsonFormatOpt,
    diagnostics_text,
    error_handler,
    read_env,
    require_format,
)
from jobsync.cli.progress import Reporter
from jobsync.cli.root import find_root

if TYPE_CHECKING:  # the export machinery (ruamel, bundles, drift) is imported by its commands only
    from jobsync.commands import pull

NamesOpt = Annotated[list[str] | None, typer.Option(
    '--name', metavar='<name>',
    help='A job (Factory or CDM) by name, or any object by key (script/NAME, cdm-link/CLUSTER/NAME). '
         'Repeat for several.')]
GroupsOpt = Annotated[list[str] | None, typer.Option(
    '--group', metavar='<group>', help='The CDM jobs of this group. Repeatable.')]
ClustersOpt = Annotated[list[str] | None, typer.Option(
    '--cluster', metavar='<cluster>', help='Only CDM objects of this cluster. Repeatable.')]
ForceOpt = Annotated[bool, typer.Option('--force', help='Overwrite files that have uncommitted edits.')]
DryRunOpt = Annotated[bool, typer.Option('--dry-run', help='Show what would be written; write nothing.')]


def _report(output: Output, exported: pull.Exported, fmt: Format) -> None:
    from jobsync.render.export import render_export_json, render_export_markdown, render_export_text

    output.err(diagnostics_text(exported.result.warnings))
    if fmt is Format.JSON:
        output.out(render_export_json(exported.result, exported.written))
    elif fmt is Format.MARKDOWN:
        output.out(render_export_markdown(exported.result, exported.written))
    else:
        output.out(render_export_text(exported.result, exported.written))


@app.command('export')
def export_command(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    all_: Annotated[bool, typer.Option('--all', help='Everything: jobs, scripts, resources, connections, '
                                                     'CDM links and jobs.')] = False,
    jobs: Annotated[bool, typer.Option('--jobs', help='Factory jobs and CDM jobs.')] = False,
    links: Annotated[bool, typer.Option('--links', help='CDM links and data connections.')] = False,
    name: NamesOpt = None,
    group: GroupsOpt = None,
    cluster: ClustersOpt = None,
    with_deps: Annotated[bool, typer.Option(
        '--with-deps/--jobs-only',
        help='Also export what the selected objects reference (scripts, resources, connections, CDM jobs '
             'and links, upstream jobs), so the repo validates.')] = True,
    branch: Annotated[str | None, typer.Option('--branch', help='Write on this new branch (created at HEAD).')] = None,
    commit: Annotated[bool, typer.Option('--commit', help='Commit the written files.')] = False,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Pull definitions from the workspace into the repo, as the console's export scopes do.

    Service-managed fields are dropped, passwords become ${secret:...} references, script content
    goes to its own file. Objects git already matches are left byte for byte; nothing is deleted.
    """
    output = Output()
    with error_handler(output, fmt):
        require_format('export', fmt, ALL_FORMATS, output)
        from jobsync.commands import pull

        the_scope = selection.Scope(all=all_, jobs=jobs, links=links, names=tuple(name or ()),
                                    groups=tuple(group or ()), clusters=tuple(cluster or ()), with_deps=with_deps)
        with Reporter(output, read_env(), what='export', steps=True, interrupted=False) as progress:
            exported = pull.export_workspace(find_root(repo), target, read_env(), the_scope,
                                             pull.Writing(branch, commit, force, dry_run), on_event=progress)
        output.err(diagnostics_text(exported.notes))
        _report(output, exported, fmt)
    _exit_if_refused(output, exported)


def _exit_if_refused(output: Output, exported: pull.Exported) -> None:
    """Objects export set aside (a name that cannot be a file name): named, exit 1 (issue 12)."""
    refused = exported.result.refused
    if refused:
        output.err(diagnostics_text(refused))
        output.err(f'Error: {len(refused)} object(s) were not exported (named above); the others were.\n')
        raise typer.Exit(EXIT_ERROR)


@app.command('import-bundle')
def import_bundle(
    file: Annotated[Path, typer.Argument(help='A job export zip (DLF_<job>.zip, jobs.zip), a CDM JSON export, '
                                              'or a .job file.', show_default=False)],
    repo: RepoOpt = Path('.'),
    target: Annotated[str | None, typer.Option(
        '--target', help='The target the bundle was exported from: its remapping is undone (default: the '
                         "config's default_target).")] = None,
    cluster: Annotated[str | None, typer.Option(
        '--cluster', help='The CDM cluster a CDM JSON export came from (the file does not say).')] = None,
    branch: Annotated[str | None, typer.Option('--branch', help='Write on this new branch (created at HEAD).')] = None,
    commit: Annotated[bool, typer.Option('--commit', help='Commit the written files.')] = False,
    force: ForceOpt = False,
    dry_run: DryRunOpt = False,
    fmt: TextJsonFormatOpt = Format.TEXT,
) -> None:
    """Turn what the console or the API exported into repo files (passwords become references)."""
    output = Output()
    with error_handler(output, fmt):
        require_format('import-bundle', fmt, TEXT_JSON, output)
        from jobsync.commands import pull

        exported = pull.import_bundle(file, find_root(repo, lenient=True), target,
                                      pull.Writing(branch, commit, force, dry_run), cluster=cluster)
        output.err(diagnostics_text(exported.notes))
        _report(output, exported, fmt)


@app.command('drift')
def drift_command(
    repo: RepoOpt = Path('.'),
    target: TargetOpt = None,
    ref: RefOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """What changed in the workspace that git does not have. Exit 0: none, 2: drift, 1: error.

    Meant for a nightly CI job that opens an export pull request when there is drift.
    """
    output = Output()
    with error_handler(output, fmt):
        require_format('drift', fmt, ALL_FORMATS, output)
        from jobsync.commands import pull
        from jobsync.render.drift import render_drift

        with Reporter(output, read_env(), what='drift', steps=True, interrupted=False) as progress:
            drifted = pull.detect(find_root(repo), ref, target, read_env(), on_event=progress)
        output.err(diagnostics_text(drifted.warnings))
        report = drifted.report
        output.out(render_drift(report, fmt.value))
    if drifted.skipped:  # listed in the report: the rest was compared (issue 12)
        output.err(f'Error: {len(drifted.skipped)} workspace object(s) were not compared (listed in the report): '
                   'their names cannot be file names; rename them in the console.\n')
        raise typer.Exit(EXIT_ERROR)
    if report.has_drift:
        raise typer.Exit(EXIT_CHANGES)
