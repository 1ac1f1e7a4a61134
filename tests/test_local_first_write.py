"""A `local:` workspace file is created by the first write, never by a command that reads or that
refuses (issue 12, item 10): no `.jobsync/` folder or database appears after `validate`, `plan`,
`drift`, `export`, `run`, `delete`, `groups delete`, `force-unlock` or an `apply` that refuses
(repo error, missing secret, saved plan edited or for another target). An apply that writes creates
it, and from its lock on, the file behaves as one that existed (two applies at once: test_lock.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from workspace_specs import job_spec

from jobsync.model import ObjectKey
from jobsync.workspace.local import LocalWorkspace


def _nothing_created(repo: Path) -> None:
    assert not (repo / '.jobsync').exists(), sorted(p.name for p in (repo / '.jobsync').iterdir())


@pytest.mark.parametrize('args', [
    pytest.param(('validate',), id='validate'),
    pytest.param(('validate', '--online'), id='validate-online'),
    pytest.param(('plan',), id='plan'),
    pytest.param(('plan', '--target', 'dev'), id='plan-dev'),
    pytest.param(('plan', '--target', 'nosuch'), id='plan-bad-target'),
    pytest.param(('drift',), id='drift'),
    pytest.param(('export', '--all', '--dry-run'), id='export'),
    pytest.param(('export', '--name', 'nosuch'), id='export-unknown'),
    pytest.param(('run', 'nosuch'), id='run-unknown'),
    pytest.param(('delete', '-y', 'nosuch'), id='delete-unknown'),
    pytest.param(('groups', 'delete', 'nosuch', '-y'), id='groups-delete-unknown'),
    pytest.param(('groups', 'delete', 'nosuch', '-y', '--target', 'dev'), id='groups-delete-dev'),
    pytest.param(('force-unlock', 'no-such-lock'), id='force-unlock'),
])
def test_a_command_that_reads_or_refuses_creates_no_workspace(example_repo: Path, args: tuple[str, ...]) -> None:
    result = run_jobsync(*args, '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code in (0, 1, 2, 64), result
    assert 'Traceback' not in result.stderr
    _nothing_created(example_repo)


def test_an_apply_refused_for_a_repo_error_creates_nothing(example_repo: Path) -> None:
    (example_repo / 'jobs' / 'broken.yaml').write_text('name: [\n', encoding='utf-8')
    result = run_jobsync('apply', '--auto-approve', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code == 1 and 'jobs/broken.yaml:' in result.stderr, result
    _nothing_created(example_repo)


def test_an_apply_refused_for_a_missing_secret_creates_nothing(example_repo: Path) -> None:
    secrets = {k: v for k, v in EXAMPLE_SECRETS.items() if k != 'DWS_PASSWORD'}
    result = run_jobsync('apply', '--auto-approve', '--repo', str(example_repo), env=secrets)
    assert result.code == 1 and 'DWS_PASSWORD' in result.stderr, result
    _nothing_created(example_repo)


def test_a_refused_saved_plan_creates_nothing_and_a_good_one_creates_the_file(example_repo: Path,
                                                                              tmp_path: Path) -> None:
    plan_file = tmp_path / 'plan.json'
    planned = run_jobsync('plan', '--out', str(plan_file), '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert planned.code in (0, 2), planned
    _nothing_created(example_repo)
    edited = tmp_path / 'edited.json'
    doc = json.loads(plan_file.read_text(encoding='utf-8'))
    doc['changes'][0]['reason'] = 'edited by hand'
    edited.write_text(json.dumps(doc), encoding='utf-8')
    for args in ((str(edited),), (str(plan_file), '--target', 'dev')):
        refused = run_jobsync('apply', *args, '--repo', str(example_repo), env=EXAMPLE_SECRETS)
        assert refused.code == 1, refused
        _nothing_created(example_repo)
    applied = run_jobsync('apply', str(plan_file), '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    assert (example_repo / '.jobsync' / 'workspace.db').is_file()
    again = run_jobsync('plan', '--detailed-exitcode', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert again.code == 0, again  # what the first write began is the workspace the next command sees


def test_the_first_write_creates_the_file_and_keeps_the_reads_counted(tmp_path: Path) -> None:
    where = tmp_path / 'sub' / 'ws.db'
    ws = LocalWorkspace(where, create=False)
    try:
        assert ws.list_objects() == {} and not where.parent.exists()
        listed = sum(ws.calls.values())
        ws.import_objects([(ObjectKey('job', 'daily'), job_spec('daily'))])
        assert where.is_file() and sum(ws.calls.values()) > listed
    finally:
        ws.close()
    other = LocalWorkspace(where)
    try:
        assert ObjectKey('job', 'daily') in other.list_objects()
    finally:
        other.close()


def test_a_file_that_appeared_meanwhile_is_used_not_replaced(tmp_path: Path) -> None:
    where = tmp_path / 'ws.db'
    late = LocalWorkspace(where, create=False)
    try:
        first = LocalWorkspace(where)
        first.import_objects([(ObjectKey('job', 'first'), job_spec('first'))])
        first.close()
        late.import_objects([(ObjectKey('job', 'late'), job_spec('late'))])
        names = {k.name for k in late.list_objects()}
    finally:
        late.close()
    assert names == {'first', 'late'}


def test_git_ignores_nothing_new(example_repo: Path) -> None:
    git_commit_all(example_repo, 'unchanged')
    result = run_jobsync('drift', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code in (0, 2), result
    _nothing_created(example_repo)


def _point_local_at(repo: Path, given: str) -> None:
    config = repo / 'jobsync.yaml'
    config.write_text(config.read_text(encoding='utf-8').replace('local:.jobsync/workspace.db', f'local:{given}'),
                      encoding='utf-8')


def test_a_local_path_that_is_a_folder_is_a_clear_error(example_repo: Path) -> None:
    (example_repo / 'ws-folder').mkdir()
    _point_local_at(example_repo, 'ws-folder')
    result = run_jobsync('plan', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code == 1, result
    assert 'ws-folder: the workspace path is not a file' in result.stderr and 'Internal error' not in result.stderr


def test_a_local_path_under_a_file_is_a_clear_error_at_the_first_write(example_repo: Path) -> None:
    _point_local_at(example_repo, 'README.md/ws.db')
    planned = run_jobsync('plan', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert planned.code == 0, planned  # reading: an empty workspace, nothing created
    applied = run_jobsync('apply', '--auto-approve', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert applied.code == 1, applied
    assert 'README.md/ws.db: the folder of the workspace file cannot be created' in applied.stderr
    assert 'Internal error' not in applied.stderr and (example_repo / 'README.md').is_file()
