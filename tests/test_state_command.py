"""Issue 13: `jobsync state list|show|rm|reset`, on `local:` and through the emulator (a
`dataarts` target over HTTP): what the state holds, forgetting objects without touching the
workspace, dropping a state that cannot be read (the hint names the command), under the lock."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, target_the_emulator

from jobsync.workspace.local import LocalWorkspace

MINUTE = 60_000
FINGERPRINT = {'JOBSYNC_FINGERPRINT_KEY': 'state-command-test-key-0123456789'}
HTTP_ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}


def _cloud(repo: Path, url: str) -> str:
    """Point the example repo's default target at the emulator (committed: plan reads git); its project."""
    return target_the_emulator(repo, url, workspace_id='ws-state')


def _state(repo: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_jobsync('state', *args, '--repo', str(repo), env=env or EXAMPLE_SECRETS)


@pytest.fixture(params=['local', 'http'])
def applied(request: pytest.FixtureRequest, example_repo: Path) -> tuple[Path, dict[str, str], str]:
    """The example repo applied once, to `local:` or to the emulator: (repo, env, target name)."""
    env = {**EXAMPLE_SECRETS, **FINGERPRINT}
    target = 'local'
    if request.param == 'http':
        running = request.getfixturevalue('running_emulator')
        _cloud(example_repo, running.url)
        env, target = {**HTTP_ENV, **FINGERPRINT}, 'cloud'
    done = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=env)
    assert done.code == 0, done
    return example_repo, env, target


def test_list_show_rm_in_text_and_json(applied: tuple[Path, dict[str, str], str]) -> None:
    repo, env, target = applied
    listed = _state(repo, 'list', env=env)
    assert listed.code == 0, listed
    keys = listed.stdout.split()
    assert 'job/job_batch' in keys and 'script/cleanup_tmp' in keys and len(keys) == 22
    doc = json.loads(_state(repo, 'list', '--format', 'json', env=env).stdout)
    assert doc['target'] == target and doc['objects'] == keys and doc['serial'] >= 1
    shown = json.loads(_state(repo, 'show', 'connection/rds_mysql', '--format', 'json', env=env).stdout)
    assert shown['key'] == 'connection/rds_mysql' and shown['content_hash'].startswith('sha256:')
    assert shown['secrets'] == ['${secret:env:MYSQL_PASSWORD}'], shown  # which references, never a value or MAC
    text = _state(repo, 'show', 'job/job_batch', env=env)
    assert text.code == 0 and 'live_hash' in text.stdout, text
    assert EXAMPLE_SECRETS['MYSQL_PASSWORD'] not in listed.stdout + text.stdout + json.dumps(shown)

    missing = _state(repo, 'rm', 'script/cleanup_tmp', 'job/no_such_job', env=env)
    assert missing.code == 1 and 'no object job/no_such_job; nothing was written' in missing.stderr, missing
    assert json.loads(_state(repo, 'list', '--format', 'json', env=env).stdout)['serial'] == doc['serial']
    bad = _state(repo, 'show', 'nonsense', env=env)
    assert bad.code == 1 and 'not an object key' in bad.stderr, bad

    removed = _state(repo, 'rm', 'script/cleanup_tmp', '--format', 'json', env=env)
    assert removed.code == 0, removed
    assert json.loads(removed.stdout) == {'target': target, 'removed': ['script/cleanup_tmp'],
                                          'serial': doc['serial'] + 1}
    assert 'script/cleanup_tmp' not in _state(repo, 'list', env=env).stdout.split()
    # The workspace was not touched: the object is still there, matches git, and is adopted again.
    plan = run_jobsync('plan', '--repo', str(repo), '--detailed-exitcode', env=env)
    assert plan.code == 0, plan
    again = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=env)
    assert again.code == 0, again
    assert 'script/cleanup_tmp' in _state(repo, 'list', env=env).stdout.split()


def _damage(repo: Path, target: str, running: Any | None) -> None:
    if running is None:
        conn = sqlite3.connect(repo / '.jobsync' / 'workspace.db')
        with conn:
            conn.execute("UPDATE jobsync_state SET body='not json' WHERE target=?", (target,))
        conn.close()
        return
    project = yaml.safe_load((repo / 'jobsync.yaml').read_text(encoding='utf-8'))['targets'][target]['dataarts'][
        'project_id']
    engine = running.emulator.engine.scoped(project, 'ws-state')
    script = engine.show_script(f'jobsync_state_{target}')
    for field in ('id', 'version', 'createUser'):
        script.pop(field, None)
    engine.update_script(f'jobsync_state_{target}', {**script, 'content': '{"kind": "something else"}'})


def test_a_damaged_state_names_state_reset_which_drops_it(applied: tuple[Path, dict[str, str], str],
                                                          request: pytest.FixtureRequest) -> None:
    repo, env, target = applied
    running = request.getfixturevalue('running_emulator') if target == 'cloud' else None
    _damage(repo, target, running)
    plan = run_jobsync('plan', '--repo', str(repo), env=env)
    assert plan.code == 1 and 'cannot be read' in plan.stderr, plan
    assert f'`jobsync state reset --target {target}`' in plan.stderr
    assert (f'jobsync_state_{target}' if running else 'table jobsync_state') in plan.stderr
    assert 'Internal error' not in plan.stderr
    rm = _state(repo, 'rm', 'job/job_batch', env=env)
    assert rm.code == 1 and 'state reset' in rm.stderr, rm  # rm needs a readable state
    reset = _state(repo, 'reset', '--format', 'json', env=env)
    assert reset.code == 0 and json.loads(reset.stdout)['dropped'] is True, reset
    assert _state(repo, 'list', '--format', 'json', env=env).stdout.count('"serial": null') == 1
    # Two-way from here: the workspace matches git, so nothing to do, and apply records a new state.
    assert run_jobsync('plan', '--repo', str(repo), '--detailed-exitcode', env=env).code == 0
    assert run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=env).code == 0
    assert len(_state(repo, 'list', env=env).stdout.split()) == 22
    assert json.loads(_state(repo, 'reset', '--format', 'json', env=env).stdout)['dropped'] is True
    assert json.loads(_state(repo, 'reset', '--format', 'json', env=env).stdout)['dropped'] is False


def test_rm_and_reset_wait_for_the_apply_lock(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    ws = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    try:
        held = ws.acquire_lock('local', 'deploy-bot', '', 10 * MINUTE)
        for args in (('rm', 'job/job_batch'), ('reset',)):
            refused = _state(example_repo, *args)
            assert refused.code == 1 and 'locked by deploy-bot' in refused.stderr, refused
            assert f'force-unlock {held.id}' in refused.stderr
        assert len(_state(example_repo, 'list').stdout.split()) == 22  # reads need no lock; nothing dropped
        ws.release_lock(held)
        assert _state(example_repo, 'rm', 'job/job_batch').code == 0
        assert ws.records.read_state('local') is not None
        assert sorted(str(k) for k in ws.list_objects()).count('job/job_batch') == 1  # the workspace keeps it
    finally:
        ws.close()


def _damage_lock(repo: Path, target: str, running: Any | None) -> None:
    """Leave `target` locked by a lock document no jobsync can read (a crash mid-write, a hand edit)."""
    if running is None:
        conn = sqlite3.connect(repo / '.jobsync' / 'workspace.db')
        with conn:
            project, workspace = conn.execute('SELECT project, workspace FROM jobsync_state WHERE target=?',
                                              (target,)).fetchone()
            conn.execute('INSERT INTO jobsync_locks (project, workspace, target, id, expires_at, body)'
                         " VALUES (?, ?, ?, 'x', 0, 'not json')", (project, workspace, target))
        conn.close()
        return
    project = yaml.safe_load((repo / 'jobsync.yaml').read_text(encoding='utf-8'))['targets'][target]['dataarts'][
        'project_id']
    engine = running.emulator.engine.scoped(project, 'ws-state')
    script = engine.show_script(f'jobsync_state_{target}')
    for field in ('id', 'version', 'createUser'):
        script.pop(field, None)
    engine.create_script({**script, 'name': f'jobsync_lock_{target}', 'content': '{"kind": "garbled'})


def test_an_unreadable_lock_is_freed_by_the_force_unlock_its_error_names(
        applied: tuple[Path, dict[str, str], str], request: pytest.FixtureRequest) -> None:
    repo, env, target = applied
    running = request.getfixturevalue('running_emulator') if target == 'cloud' else None
    _damage_lock(repo, target, running)
    refused = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=env)
    assert refused.code == 1 and 'cannot be read' in refused.stderr, refused
    assert f'`jobsync force-unlock unreadable:{target}`' in refused.stderr
    assert 'Internal error' not in refused.stderr
    freed = run_jobsync('force-unlock', f'unreadable:{target}', '--repo', str(repo), env=env)
    assert freed.code == 0 and f'unreadable:{target}' in freed.stdout, freed
    again = run_jobsync('force-unlock', f'unreadable:{target}', '--repo', str(repo), env=env)
    assert again.code == 1 and 'not locked' in again.stderr, again
    assert run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=env).code == 0


def test_force_unlock_unreadable_refuses_a_readable_lock(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    ws = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    try:
        held = ws.acquire_lock('local', 'deploy-bot', '', 10 * MINUTE)
        refused = run_jobsync('force-unlock', 'unreadable:local', '--repo', str(example_repo))
        assert refused.code == 1 and f'force-unlock {held.id}' in refused.stderr, refused
        assert ws.force_unlock(held.id) == held  # it was still held
    finally:
        ws.close()
