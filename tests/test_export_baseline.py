"""Export never undoes git (issue 16): with the target's state, only what the workspace changed since
the last apply is written; a change only in git keeps git's version; a change on both sides is a
conflict, reported and left alone.

A real git copy of examples/repo applied to its real local workspace; console changes through the
local workspace's import.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SECRETS, git_commit_all
from typer.testing import CliRunner

from jobsync import commands, export, gitrepo, load, safewrite, selection
from jobsync.cli import app
from jobsync.model import ObjectKey
from jobsync.secrets import Redactor, default_resolver
from jobsync.state import state_key
from jobsync.workspace.local import LocalWorkspace

KPI = ObjectKey('script', 'kpi_refresh')
KPI_SQL = 'scripts/kpi_refresh.sql'
DAILY = ObjectKey('job', 'mysql_to_dws_daily')
DAILY_FILE = 'jobs/mysql_to_dws_daily.yaml'


@pytest.fixture
def ws(example_repo: Path) -> Iterator[LocalWorkspace]:
    """examples/repo applied to its workspace (the state records it)."""
    workspace = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    loaded = commands.load(example_repo, None, None)
    plan = commands.plan_command(loaded, workspace, options=commands.plan_options(loaded.target))
    applied = commands.apply_command(plan, workspace, default_resolver(Redactor(), EXAMPLE_SECRETS), lambda _e: None)
    assert applied.result.ok and applied.state is not None
    yield workspace
    workspace.close()


def _merge_in_git(repo: Path) -> str:
    """A change merged in git but not applied yet: `-- pending` added to the KPI script."""
    path = repo / KPI_SQL
    path.write_text(path.read_text() + '-- pending\n')
    git_commit_all(repo, 'pending change')
    return path.read_text()


def _console(ws: LocalWorkspace, key: ObjectKey, edit: Any) -> None:
    spec = ws.read([key])[key].spec
    edit(spec)
    ws.import_objects([(key, spec)])


def _export_all(repo: Path, ws: LocalWorkspace) -> export.ExportResult:
    """`jobsync export --all`'s pipeline in process, with the target's state as the baseline."""
    snapshot = gitrepo.read_snapshot(repo)
    config = load.load_config(snapshot)
    target = config.target(None)
    scope = selection.Scope(all=True)
    entries = ws.list_objects()
    live = selection.read_scope(ws, scope, entries=entries, within=target.scope)
    state = ws.read_state(state_key(target.name, target.scope))
    assert state is not None
    desired, _ = export.load_for_target(snapshot, target.name, present=entries.keys())
    result = export.export_objects(live, export.index_repo(snapshot.files), desired=desired, remap=target.remap,
                                   in_scope=lambda k, s: selection.selects(scope, k, s),
                                   secret_fields=config.secret_fields, baseline=state.objects)
    safewrite.write_files(repo, result.files)
    return result


def _status(result: export.ExportResult) -> dict[str, str]:
    return {str(o.key): o.status for o in result.objects if o.status != 'unchanged'}


def test_a_change_merged_in_git_but_not_applied_survives_export_all(example_repo: Path, ws: LocalWorkspace) -> None:
    merged = _merge_in_git(example_repo)
    result = _export_all(example_repo, ws)
    assert _status(result) == {'script/kpi_refresh': 'pending'}
    assert result.files == {}
    assert (example_repo / KPI_SQL).read_text() == merged


def test_a_workspace_change_is_still_exported_next_to_a_pending_git_change(example_repo: Path,
                                                                           ws: LocalWorkspace) -> None:
    merged = _merge_in_git(example_repo)
    _console(ws, DAILY, lambda s: s['schedule']['cron'].update(expression='0 30 1 * * ?'))
    result = _export_all(example_repo, ws)
    assert _status(result) == {'script/kpi_refresh': 'pending', 'job/mysql_to_dws_daily': 'changed'}
    assert list(result.files) == [DAILY_FILE]
    assert 'expression: "0 30 1 * * ?"' in (example_repo / DAILY_FILE).read_text()
    assert (example_repo / KPI_SQL).read_text() == merged


def test_a_change_on_both_sides_is_a_conflict_left_for_a_person(example_repo: Path, ws: LocalWorkspace) -> None:
    merged = _merge_in_git(example_repo)
    _console(ws, KPI, lambda s: s.update(content=s['content'] + '-- from the console\n'))
    result = _export_all(example_repo, ws)
    assert _status(result) == {'script/kpi_refresh': 'conflict'}
    assert result.files == {} and (example_repo / KPI_SQL).read_text() == merged
    [conflict] = [o for o in result.objects if o.status == 'conflict']
    assert [f.pointer for f in conflict.fields] == ['/content']
    assert any('script/kpi_refresh changed in git and in the workspace' in w.summary for w in result.warnings)


def test_the_command_keeps_git_and_says_so(example_repo: Path, ws: LocalWorkspace) -> None:
    merged = _merge_in_git(example_repo)
    ws.close()  # the command opens the workspace itself
    outcome = CliRunner().invoke(app, ['export', '--all', '--repo', str(example_repo), '--commit'])
    assert outcome.exit_code == 0, outcome.output
    assert '1 changed in git only (git kept; apply carries it)' in outcome.output
    assert 'Nothing to write: git already matches.' in outcome.output
    assert (example_repo / KPI_SQL).read_text() == merged


def _export_json(repo: Path) -> dict[str, Any]:
    outcome = CliRunner().invoke(app, ['export', '--all', '--repo', str(repo), '--format', 'json'])
    assert outcome.exit_code == 0, outcome.output
    doc: dict[str, Any] = json.loads(outcome.stdout)
    return doc


def test_export_all_reads_only_what_moved_since_the_last_apply(example_repo: Path, ws: LocalWorkspace) -> None:
    ws.close()  # the commands open the workspace themselves
    planned = CliRunner().invoke(app, ['plan', '--repo', str(example_repo), '--format', 'json'])
    assert planned.exit_code == 0, planned.output
    in_sync = _export_json(example_repo)
    # In sync: the calls of a no-op plan (the listing round and the state), no content read.
    assert in_sync['api_calls'] == json.loads(planned.stdout)['api_calls']
    assert in_sync['written'] == [] and in_sync['summary']['unchanged'] == len(in_sync['objects'])
    assert {o['key'] for o in in_sync['objects']} >= {str(DAILY), str(KPI)}

    again = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    _console(again, DAILY, lambda s: s['schedule']['cron'].update(expression='0 30 1 * * ?'))
    again.close()
    moved = _export_json(example_repo)
    extra = {route: n - in_sync['api_calls'].get(route, 0) for route, n in moved['api_calls'].items()
             if n != in_sync['api_calls'].get(route, 0)}
    assert extra == {'POST /v1/{pid}/jobs/batch-export': 1}, extra  # the one job that moved, read
    assert moved['written'] == [DAILY_FILE]
    assert 'expression: "0 30 1 * * ?"' in (example_repo / DAILY_FILE).read_text()
