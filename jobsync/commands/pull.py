"""The pull direction as commands: export (workspace -> git), import-bundle (console files -> git), drift.

Each returns what it found and wrote; nothing is printed. The notes and warnings a command met on
the way (a definition that does not load, a field left alone) come back in its result, for the
CLI to show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from jobsync import bundle, drift, export, gitrepo, safewrite, selection, unfit
from jobsync.commands import load_online
from jobsync.errors import ConfigError, Diagnostic, UsageError
from jobsync.events import Event, EventKind, OnEvent, ignore
from jobsync.load import load_config
from jobsync.model import Definition, LiveObject, ObjectKey
from jobsync.plan import settled_since_apply
from jobsync.render.export import Written, commit_message
from jobsync.scope import in_scope, may_be_in_scope
from jobsync.state import State, is_reserved, state_key
from jobsync.workspace.base import ListEntry
from jobsync.workspace.connect import open_workspace


class WriteRefused(ConfigError):
    """Objects that cannot be written to the repo (a name that is no file name); nothing was written."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...]) -> None:
        super().__init__(diagnostics)
        self.message = f'{len(diagnostics)} object(s) cannot be written to the repo; nothing was written'
        self.args = (self.message,)


@dataclass(frozen=True)
class Writing:
    """How the result is written: on a new branch, committed, over uncommitted edits, or not at all."""

    branch: str | None = None
    commit: bool = False
    force: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class Exported:
    """An export's or bundle import's result, where it went, and the notes met while reading git."""

    result: export.ExportResult
    written: Written
    notes: tuple[Diagnostic, ...] = ()


def _check_clean(repo: Path, paths: list[str], force: bool) -> None:
    """Refuse to overwrite uncommitted edits (staged, unstaged or untracked) unless `force`."""
    if force or not paths:
        return
    dirty = sorted(gitrepo.dirty_paths(repo, paths))
    if dirty:
        raise UsageError(
            f'{len(dirty)} file(s) to be written have uncommitted edits: {", ".join(dirty)}; nothing was written',
            hint='commit or stash them first, or pass --force to overwrite them')


def write_result(repo: Path, result: export.ExportResult, *, source: str, scope_text: str,
                 how: Writing, from_bundle: bool = False) -> Written:
    """Write the result (after the safety checks), on a new branch and committed when asked.

    An export writes what it can and reports the objects it refused (the caller exits 1); a
    bundle, a file the user gives, is refused whole when any of its objects is."""
    if result.refused and from_bundle:
        raise WriteRefused(result.refused)
    if (how.branch or how.commit) and not gitrepo.is_git_repo(repo):
        raise UsageError(f'{repo} is not inside a git repository, so --branch/--commit cannot be used',
                         hint='run `git init` first, or leave out --branch and --commit')
    paths = sorted(result.files)
    _check_clean(repo, paths, how.force)
    if how.dry_run:
        return Written(source, scope_text, tuple(paths), dry_run=True, bundle=from_bundle)
    if not paths:  # nothing to write: no empty branch (the next run would find it "already exists")
        return Written(source, scope_text, (), bundle=from_bundle)
    if how.branch:
        gitrepo.create_branch(repo, how.branch)
    written = tuple(safewrite.write_files(repo, result.files))
    sha = None
    if how.commit and written:
        sha = gitrepo.commit_paths(repo, written, commit_message(result, source, scope_text, bundle=from_bundle))
    return Written(source, scope_text, written, branch=how.branch, commit=sha, bundle=from_bundle)


def _step(on_event: OnEvent, message: str) -> None:
    on_event(Event(EventKind.STATUS, message=message))


def _without(scope: selection.Scope, skipped: tuple[unfit.Skipped, ...],
             fit: Iterable[ObjectKey]) -> selection.Scope:
    """`scope` less the names that address only objects set aside (they are reported, not unknown)."""
    keys = list(fit)
    names = tuple(n for n in scope.names if any(selection.name_matches(n, k) for k in keys)
                  or not any(selection.name_matches(n, s.key) for s in skipped))
    return dataclasses.replace(scope, names=names)


def _settled(scope: selection.Scope, desired: Mapping[ObjectKey, Definition] | None,
             entries: Mapping[ObjectKey, ListEntry], state: State | None) -> frozenset[ObjectKey]:
    """What `export --all` need not read: the objects neither git nor the workspace changed since
    the last apply (their list fingerprints and definitions are the state's), as a no-op plan reads
    none. Only for --all: a narrower scope follows references from the content it reads."""
    if not scope.all or desired is None or state is None:
        return frozenset()
    fingerprints = {key: entry.updated for key, entry in entries.items()}
    return frozenset(key for key in settled_since_apply(desired, fingerprints, state) if selection.selects(scope, key))


def export_workspace(
    repo: Path, target: str | None, env: Mapping[str, str], scope: selection.Scope, how: Writing,
    on_event: OnEvent = ignore,
) -> Exported:
    """`jobsync export`: pull the objects `scope` selects from the target's workspace into the repo.
    `on_event` hears of each step (listing, reading, writing) for a progress display."""
    if scope.empty:
        raise UsageError('say what to export', hint='use --all, --jobs, --links, --name NAME or --group GROUP')
    snapshot = gitrepo.read_snapshot(repo)
    config = load_config(snapshot)
    the_target = config.target(target)
    workspace = open_workspace(the_target, snapshot.root, env)
    try:
        _step(on_event, f'listing {workspace.url}')
        entries = workspace.list_objects()
        # Objects whose names cannot be file names are set aside before anything is read (issue 12).
        fit, skipped = unfit.split(entries)
        # A group's CDM jobs are known by their content, which the cluster listings carry (no call
        # names them): read so, a member set aside is named too, not silently left out.
        grouped = workspace.read({s.key: entries[s.key] for s in skipped if s.key.kind == 'cdm-job'}) \
            if scope.groups else {}
        skipped = tuple(s for s in skipped if may_be_in_scope(s.key, the_target.scope) and selection.selects(
            scope, s.key, grouped[s.key].spec if s.key in grouped else None))
        # What jobsync last applied: export then writes only what the workspace changed since (issue 16),
        # and reads nothing that neither side changed since.
        state = workspace.read_state(state_key(the_target.name, the_target.scope))
        desired, notes = export.load_for_target(snapshot, the_target.name, present=entries.keys())
        settled = _settled(scope, desired, fit, state)
        _step(on_event, f'reading what {scope.describe()} selects of {len(fit)} object(s)')
        live = selection.read_scope(workspace, _without(scope, skipped, fit), entries=fit,
                                    within=the_target.scope, unread=settled)
    finally:
        workspace.close()
    result = export.export_objects(
        live, export.index_repo(snapshot.files), desired=desired, remap=the_target.remap,
        in_scope=lambda key, spec: selection.selects(scope, key, spec), secret_fields=config.secret_fields,
        baseline=state.objects if state is not None else None, settled=settled)
    result = dataclasses.replace(result, refused=unfit.diagnostics(skipped) + result.refused)
    _step(on_event, f'writing the files of {len(live)} object(s)')
    written = write_result(snapshot.root, result, source=workspace.url, scope_text=scope.describe(), how=how)
    return Exported(dataclasses.replace(result, api_calls=dict(sorted(workspace.calls.items()))), written, tuple(notes))


def import_bundle(
    file: Path, repo: Path, target: str | None, how: Writing, *, cluster: str | None = None,
) -> Exported:
    """`jobsync import-bundle`: turn what the console or the API exported into repo files."""
    data = bundle.read_bundle_file(file)  # a regular file only, bounded (issue 12, item 11)
    items = bundle.read_bundle(file.name, data, cluster=cluster)
    snapshot = gitrepo.read_snapshot(repo)
    config = load_config(snapshot)
    the_target = config.target(target)
    live = {key: LiveObject(key, spec, 0) for key, spec in items}
    desired, notes = export.load_for_target(snapshot, the_target.name, present=live.keys())
    result = export.export_objects(live, export.index_repo(snapshot.files), desired=desired,
                                   remap=the_target.remap, secret_fields=config.secret_fields)
    # import-bundle has no --with-deps: a reference it does not carry is for the bundle or `export`.
    result = dataclasses.replace(result, warnings=tuple(
        dataclasses.replace(w, hint='add it to the bundle, or `jobsync export --name` it, or validate will '
                                    'report it') if '--with-deps' in w.hint else w for w in result.warnings))
    written = write_result(snapshot.root, result, source=file.name, scope_text=f'{len(items)} object(s)', how=how,
                           from_bundle=True)
    return Exported(result, written, tuple(notes))


@dataclass(frozen=True)
class Drifted:
    report: drift.DriftReport
    warnings: tuple[Diagnostic, ...] = ()
    skipped: tuple[unfit.Skipped, ...] = ()  # not compared: their names cannot be file names


def detect(repo: Path, ref: str | None, target: str | None, env: Mapping[str, str],
           on_event: OnEvent = ignore) -> Drifted:
    """`jobsync drift`: what changed in the workspace that git does not have (only the target's scope).
    `on_event` hears of each step (listing, reading) for a progress display."""
    _step(on_event, 'reading git and listing the workspace')
    loaded, workspace = load_online(repo, ref, target, env)
    try:
        # As plan does: only the target's scope is looked at (objects git defines always).
        listing = loaded.listing if loaded.listing is not None else workspace.list_objects()
        desired, scope = loaded.result.desired, loaded.target.scope
        wanted = {k: e for k, e in listing.items() if k in desired or may_be_in_scope(k, scope)}
        wanted, skipped = unfit.split(wanted)  # names no file can carry: set aside, not read (issue 12)
        _step(on_event, f'reading {len(wanted)} object(s) of {workspace.url}')
        live = {k: o for k, o in workspace.read(wanted).items()
                if not is_reserved(k) and (k in desired or in_scope(k, o.spec, scope))}
        # With the target's state, a difference the workspace did not cause is not drift.
        state = workspace.read_state(state_key(loaded.target.name, scope))
        baseline = {k: e.fingerprint for k, e in state.objects.items()} if state is not None else None
        report = drift.detect_drift(
            desired, live, repo_rev=loaded.snapshot.rev, target=loaded.target.name,
            workspace=workspace.url, baseline=baseline, api_calls=dict(workspace.calls))
    finally:
        workspace.close()
    report = dataclasses.replace(report, skipped=tuple((s.key, s.why) for s in skipped))
    return Drifted(report, tuple(loaded.result.warnings), skipped)


__all__ = ['Drifted', 'Exported', 'WriteRefused', 'Writing', 'detect', 'export_workspace',
           'import_bundle', 'write_result']
