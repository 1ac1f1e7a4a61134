"""The pull direction: export (workspace -> git), import-bundle (console files -> git), drift."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from jobsync import bundle, commands, drift, export, gitrepo, selection
from jobsync.cli.app import app
from jobsync.cli.common import (
    EXIT_CHANGES,
    Format,
    FormatOpt,
    Output,
    RefOpt,
    RepoOpt,
    TargetOpt,
    diagnostics_text,
    error_handler,
)
from jobsync.errors import JobsyncError, UsageError
from jobsync.load import load_config
from jobsync.model import LiveObject
from jobsync.render.drift import render_drift
from jobsync.render.export import Written, commit_message, render_export_json, render_export_text
from jobsync.scope import in_scope, may_be_in_scope
from jobsync.state import is_reserved, state_key
from jobsync.workspace.connect import open_workspace

NamesOpt = Annotated[list[str] | None, typer.Option(
    '--name', help='A job (Factory or CDM) by name, or any object by key (script/NAME, cdm-link/CLUSTER/NAME). '
                   'Repeat for several.')]
GroupsOpt = Annotated[list[str] | None, typer.Option('--group', help='The CDM jobs of this group. Repeatable.')]
ClustersOpt = Annotated[list[str] | None, typer.Option(
    '--cluster', help='Only CDM objects of this cluster. Repeatable.')]
ForceOpt = Annotated[bool, typer.Option('--force', help='Overwrite files that have uncommitted edits.')]
DryRunOpt = Annotated[bool, typer.Option('--dry-run', help='Show what would be written; write nothing.')]


def _check_clean(repo: Path, paths: list[str], force: bool) -> None:
    """Refuse to overwrite uncommitted edits (staged, unstaged or untracked) unless --force."""
    if force or not paths:
        return
    dirty = sorted(gitrepo.dirty_paths(repo, paths))
    if dirty:
        raise UsageError(
            f'{len(dirty)} file(s) to be written have uncommitted edits: {", ".join(dirty)}; nothing was written',
            hint='commit or stash them first, or pass --force to overwrite them')


def _write(
    output: Output, repo: Path, result: export.ExportResult, *, source: str, scope_text: str,
    branch: str | None, commit: bool, force: bool, dry_run: bool,
) -> Written:
    """Write the result (after the safety checks), on a new branch and committed when asked."""
    if result.refused:
        output.err(diagnostics_text(result.refused))
        raise JobsyncError(f'{len(result.refused)} object(s) cannot be written to the repo; nothing was written')
    if (branch or commit) and not gitrepo.is_git_repo(repo):
        raise UsageError(f'{repo} is not inside a git repository, so --branch/--commit cannot be used',
                         hint='run `git init` first, or leave out --branch and --commit')
    paths = sorted(result.files)
    _check_clean(repo, paths, force)
    if dry_run:
        return Written(source, scope_text, tuple(paths), dry_run=True)
    if branch:
        gitrepo.create_branch(repo, branch)
    written = tuple(gitrepo.write_files(repo, result.files))
    sha = None
    if commit and written:
        sha = gitrepo.commit_paths(repo, written, commit_message(result, source, scope_text))
    return Written(source, scope_text, written, branch=branch, commit=sha)


def _report(output: Output, result: export.ExportResult, written: Written, fmt: Format) -> None:
    output.err(diagnostics_text(result.warnings))
    if fmt is Format.JSON:
        output.out(render_export_json(result, written))
    else:
        output.out(render_export_text(result, written))


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
    with error_handler(output):
        the_scope = selection.Scope(all=all_, jobs=jobs, links=links, names=tuple(name or ()),
                                groups=tuple(group or ()), clusters=tuple(cluster or ()), with_deps=with_deps)
        if the_scope.empty:
            raise UsageError('say what to export', hint='use --all, --jobs, --links, --name NAME or --group GROUP')
        snapshot = gitrepo.read_snapshot(repo)
        config = load_config(snapshot)
        the_target = config.target(target)
        workspace = open_workspace(the_target, snapshot.root, os.environ)
        try:
            entries = workspace.list_objects()
            live = selection.read_scope(workspace, the_scope, entries=entries, within=the_target.scope)
        finally:
            workspace.close()
        desired, notes = export.load_for_target(snapshot, the_target.name, present=entries.keys())
        output.err(diagnostics_text(notes))
        result = export.export_objects(
            live, export.index_repo(snapshot.files), desired=desired, remap=the_target.remap,
            in_scope=lambda key, spec: selection.selects(the_scope, key, spec), secret_fields=config.secret_fields)
        written = _write(output, snapshot.root, result, source=workspace.url, scope_text=the_scope.describe(),
                         branch=branch, commit=commit, force=force, dry_run=dry_run)
        _report(output, result, written, fmt)


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
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Turn what the console or the API exported into repo files (passwords become references)."""
    output = Output()
    with error_handler(output):
        try:
            size = file.stat().st_size
            if size > bundle.MAX_BUNDLE_BYTES:
                raise bundle.BundleError(f'refusing {file.name}: it is {size} bytes, more than the '
                                         f'{bundle.MAX_BUNDLE_BYTES}-byte limit; nothing was written')
            data = file.read_bytes()
        except OSError as err:
            raise UsageError(f'cannot read {file}: {err.strerror}') from None
        items = bundle.read_bundle(file.name, data, cluster=cluster)
        snapshot = gitrepo.read_snapshot(repo)
        config = load_config(snapshot)
        the_target = config.target(target)
        live = {key: LiveObject(key, spec, 0) for key, spec in items}
        desired, notes = export.load_for_target(snapshot, the_target.name, present=live.keys())
        output.err(diagnostics_text(notes))
        result = export.export_objects(live, export.index_repo(snapshot.files), desired=desired,
                                       remap=the_target.remap, secret_fields=config.secret_fields)
        written = _write(output, snapshot.root, result, source=file.name, scope_text=f'{len(items)} object(s)',
                         branch=branch, commit=commit, force=force, dry_run=dry_run)
        _report(output, result, written, fmt)


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
    with error_handler(output):
        loaded, workspace = commands.load_online(repo, ref, target)
        output.err(diagnostics_text(loaded.result.warnings))
        try:
            # As plan does: only the target's scope is looked at (objects git defines always).
            listing = loaded.listing if loaded.listing is not None else workspace.list_objects()
            desired, scope = loaded.result.desired, loaded.target.scope
            wanted = {k: e for k, e in listing.items() if k in desired or may_be_in_scope(k, scope)}
            live = {k: o for k, o in workspace.read(wanted).items()
                    if not is_reserved(k) and (k in desired or in_scope(k, o.spec, scope))}
            # With the target's state, a difference the workspace did not cause is not drift.
            state = workspace.read_state(state_key(loaded.target.name, scope))
            baseline = {k: e.fingerprint for k, e in state.objects.items()} if state is not None else None
            report = drift.detect_drift(
                loaded.result.desired, live, repo_rev=loaded.snapshot.rev, target=loaded.target.name,
                workspace=workspace.url, baseline=baseline, api_calls=dict(workspace.calls))
        finally:
            workspace.close()
        output.out(render_drift(report, fmt.value))
    if report.has_drift:
        raise typer.Exit(EXIT_CHANGES)
