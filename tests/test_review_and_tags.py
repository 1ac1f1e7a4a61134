"""Job tags and locked tags, locked scripts and review mode, on `local:` and through the emulator
(issue 16 items 8 and 9).

The console settings no API reaches (a locked tag, the review switch, a script opened for edit
by a named user) are set off the wire: on `local:` through the `Engine`, on the emulator through
its `/_emulator/{pid}/...` admin routes over HTTP, signed like every other call.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_ENV, RunningEmulator, point_at_emulator

from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.routes import route
from jobsync.workspace.service import Engine

REVIEW = '    review: {approvers: [alice, bob], target_status: SUBMITTED}\n'


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding='utf-8')
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding='utf-8')


def _tag(repo: Path, *tags: str) -> None:
    job = repo / 'jobs' / 'doc1.yaml'
    text = job.read_text(encoding='utf-8')
    if '  tags:' in text:
        text = '\n'.join(line for line in text.splitlines() if not line.startswith('  tags:')) + '\n'
    job.write_text(text.replace('  owner: bi_team\n', f'  owner: bi_team\n  tags: [{", ".join(tags)}]\n', 1),
                   encoding='utf-8')


def _change_doc1_and_its_script(repo: Path) -> None:
    _edit(repo / 'jobs' / 'doc1.yaml', '  priority: 2\n', '  priority: 1\n')
    (repo / 'scripts' / 'doc1_sql.sql').write_text('SELECT 42;\n', encoding='utf-8')


def _engine(repo: Path) -> Engine:
    (repo / '.jobsync').mkdir(exist_ok=True)
    return Engine(repo / '.jobsync' / 'workspace.db')


def _apply(repo: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_jobsync('apply', '--repo', str(repo), '--auto-approve', *args, env={**EXAMPLE_SECRETS, **(env or {})})


# --- local: -------------------------------------------------------------------------------------------

def test_job_tags_are_written_and_a_tag_change_is_planned(example_repo: Path) -> None:
    _tag(example_repo, 'finance')
    assert _apply(example_repo).code == 0
    engine = _engine(example_repo)
    try:
        assert engine.show_job('doc1')['basicConfig']['tags'] == ['finance']
    finally:
        engine.close()
    _tag(example_repo, 'finance', 'monthly')
    planned = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    assert planned.code == 0, planned
    assert '"/basicConfig/tags' in planned.stdout and '"monthly"' in planned.stdout


def test_a_job_holding_a_locked_tag_is_refused_alone_on_local(example_repo: Path) -> None:
    _tag(example_repo, 'finance')
    assert _apply(example_repo).code == 0
    engine = _engine(example_repo)
    try:
        engine.lock_tag('finance')
        _change_doc1_and_its_script(example_repo)
        applied = _apply(example_repo)
        assert applied.code == 1, applied
        assert 'DLF.3051' in applied.stdout and 'locked tag finance' in applied.stdout
        assert engine.show_job('doc1')['basicConfig']['priority'] == 2  # left as it was
        assert engine.show_script('doc1_sql')['content'] == 'SELECT 42;\n'  # the rest went on
        engine.unlock_tag('finance')
        assert _apply(example_repo).code == 0
        assert engine.show_job('doc1')['basicConfig']['priority'] == 1
    finally:
        engine.close()


def test_a_job_carrying_a_locked_tag_is_not_created_either(example_repo: Path) -> None:
    engine = _engine(example_repo)
    try:
        engine.lock_tag('finance')
        _tag(example_repo, 'finance')
        applied = _apply(example_repo)
        assert applied.code == 1 and 'job/doc1' in applied.stdout and 'locked tag finance' in applied.stdout, applied
        assert 'doc1' not in {j['name'] for j in engine.list_jobs(limit=100)['jobs']}
        assert 'mysql_to_dws_daily' in {j['name'] for j in engine.list_jobs(limit=100)['jobs']}
    finally:
        engine.close()


def test_review_mode_on_local_needs_the_targets_approvers(example_repo: Path) -> None:
    engine = _engine(example_repo)
    try:
        engine.set_review(True)
        refused = _apply(example_repo)
        assert refused.code == 1 and 'needs approvers' in refused.stdout, refused
        assert not engine.list_jobs(limit=100)['jobs']
        _edit(example_repo / 'jobsync.yaml', '    workspace: local:.jobsync/workspace.db\n',
              '    workspace: local:.jobsync/workspace.db\n' + REVIEW)
        assert _apply(example_repo).code == 0
        assert {j['name'] for j in engine.list_jobs(limit=100)['jobs']} >= {'doc1', 'mysql_to_dws_daily'}
        assert 'approvers' not in engine.show_script('doc1_sql')  # a request parameter, not stored
        deleted = run_jobsync('delete', 'job/doc1', '--repo', str(example_repo), '--yes')
        assert deleted.code == 0, deleted  # the delete carried the approvers (DeleteReq)
    finally:
        engine.close()


def test_a_review_block_is_checked_by_the_schema(example_repo: Path) -> None:
    _edit(example_repo / 'jobsync.yaml', '    workspace: local:.jobsync/workspace.db\n',
          '    workspace: local:.jobsync/workspace.db\n    review: {approvers: [], target_status: LIVE}\n')
    checked = run_jobsync('validate', '--repo', str(example_repo))
    assert checked.code == 1 and 'review' in checked.stderr and 'Traceback' not in checked.stderr, checked


# --- through the emulator -------------------------------------------------------------------------

@pytest.fixture
def emulated(example_repo: Path, running_emulator: RunningEmulator) -> Iterator[tuple[Path, DataArtsClient]]:
    """The example repo with its `emulator` target on a fresh project of the test emulator, and an
    HTTP client on that project for the admin routes."""
    project = point_at_emulator(example_repo, running_emulator)
    client = running_emulator.workspace(project, workspace_id='ws-example')
    yield example_repo, client
    client.close()


EMU = EMULATOR_ENV


def _admin(client: DataArtsClient, op: str, body: Any = None, **params: str) -> Any:
    pid = client.http.settings.project_id  # type: ignore[attr-defined]
    answer = client.http.call(route(op), {'pid': pid, **params}, body=body)
    return answer.json() if answer.status == 200 else None


def _show(client: DataArtsClient, op: str, **params: str) -> Any:
    pid = client.http.settings.project_id  # type: ignore[attr-defined]
    return client.http.call(route(op), {'pid': pid, **params}).json()


def test_a_locked_tag_set_through_the_admin_route_refuses_that_job_alone(
        emulated: tuple[Path, DataArtsClient]) -> None:
    repo, client = emulated
    _tag(repo, 'finance')
    assert _apply(repo, '--target', 'emulator', env=EMU).code == 0
    assert _admin(client, 'admin_settings', {'locked_tags': ['finance']}) == {'review': False,
                                                                               'locked_tags': ['finance']}
    _change_doc1_and_its_script(repo)
    applied = _apply(repo, '--target', 'emulator', env=EMU)
    assert applied.code == 1 and 'locked tag finance' in applied.stdout, applied
    assert _show(client, 'show_script', script_name='doc1_sql')['content'] == 'SELECT 42;\n'
    assert _show(client, 'show_job', job_name='doc1')['basicConfig']['priority'] == 2


def test_a_script_locked_for_a_named_user_through_the_admin_route(emulated: tuple[Path, DataArtsClient]) -> None:
    repo, client = emulated
    assert _apply(repo, '--target', 'emulator', env=EMU).code == 0
    _admin(client, 'admin_lock_script', {'user': 'alice'}, script_name='doc1_sql')
    _change_doc1_and_its_script(repo)
    _edit(repo / 'jobs' / 'mysql_to_dws_daily.yaml', '  priority: 0\n', '  priority: 1\n')
    applied = _apply(repo, '--target', 'emulator', env=EMU)
    assert applied.code == 1 and 'DLF.0203' in applied.stdout and 'locked by alice' in applied.stdout, applied
    assert _show(client, 'show_job', job_name='doc1')['basicConfig']['priority'] == 2  # it runs the script: skipped
    assert _show(client, 'show_job', job_name='mysql_to_dws_daily')['basicConfig']['priority'] == 1  # went on
    _admin(client, 'admin_unlock_script', script_name='doc1_sql')
    assert _apply(repo, '--target', 'emulator', env=EMU).code == 0
    assert _show(client, 'show_script', script_name='doc1_sql')['content'] == 'SELECT 42;\n'


def test_review_mode_through_the_emulator(emulated: tuple[Path, DataArtsClient]) -> None:
    repo, client = emulated
    _admin(client, 'admin_settings', {'review': True})
    refused = _apply(repo, '--target', 'emulator', env=EMU)
    # Even the target's lock (a reserved script on the service) is a script write: refused first.
    assert refused.code == 1 and 'jobsync_lock_emulator needs approvers' in refused.stderr, refused
    _edit(repo / 'jobsync.yaml', '    workspace: dataarts\n', '    workspace: dataarts\n' + REVIEW)
    assert _apply(repo, '--target', 'emulator', env=EMU).code == 0
    assert _show(client, 'show_job', job_name='doc1')['name'] == 'doc1'
    deleted = run_jobsync('delete', 'job/doc1', '--target', 'emulator', '--repo', str(repo), '--yes', env=EMU)
    assert deleted.code == 0, deleted


def test_the_admin_routes_are_off_the_services_wire() -> None:
    for op in ('admin_settings', 'admin_show_settings', 'admin_lock_script', 'admin_unlock_script'):
        assert route(op).emulator_only and route(op).template.startswith('/_emulator/')
