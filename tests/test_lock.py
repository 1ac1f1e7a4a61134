"""The lease lock on a target: one apply at a time, a clear holder, waits, take-overs and force-unlock."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import start_jobsync_process
from conftest import EXAMPLE_SECRETS, FakeClock, run_jobsync
from records import sqlite_records

from jobsync import commands
from jobsync.errors import LockError
from jobsync.state import Lock
from jobsync.workspace.local import LocalWorkspace

MINUTE = 60_000


def test_a_held_lock_names_its_holder(local_workspace: LocalWorkspace) -> None:
    held = local_workspace.acquire_lock('prod', 'alice@runner-1 (pid 7)', 'https://ci.example/runs/42', MINUTE)
    with pytest.raises(LockError) as err:
        local_workspace.acquire_lock('prod', 'bob@runner-2 (pid 9)', '', MINUTE)
    assert 'target prod is locked by alice@runner-1 (pid 7)' in err.value.message
    assert 'https://ci.example/runs/42' in err.value.message and held.id in err.value.message
    assert err.value.holder == held
    # another target is another lock
    assert local_workspace.acquire_lock('dev', 'bob', '', MINUTE).target == 'dev'


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew(
        local_workspace: LocalWorkspace, fake_clock: FakeClock) -> None:
    old = local_workspace.acquire_lock('prod', 'alice', '', MINUTE)
    fake_clock.advance(MINUTE - 1)
    with pytest.raises(LockError):
        local_workspace.acquire_lock('prod', 'bob', '', MINUTE)
    fake_clock.advance(1)
    new = local_workspace.acquire_lock('prod', 'bob', '', MINUTE)
    assert new.owner == 'bob' and new.id != old.id
    with pytest.raises(LockError, match='lost the lock on target prod: now held by bob'):
        local_workspace.renew_lock(old, MINUTE)
    local_workspace.release_lock(old)  # releasing a lock that is no longer ours frees nothing
    with pytest.raises(LockError, match='locked by bob'):
        local_workspace.acquire_lock('prod', 'carol', '', MINUTE)


def test_renewal_extends_the_lease(local_workspace: LocalWorkspace, fake_clock: FakeClock) -> None:
    lock = local_workspace.acquire_lock('prod', 'alice', '', MINUTE)
    fake_clock.advance(MINUTE - 10)
    lock = local_workspace.renew_lock(lock, MINUTE)
    fake_clock.advance(MINUTE - 10)
    with pytest.raises(LockError):
        local_workspace.acquire_lock('prod', 'bob', '', MINUTE)


def test_force_unlock_frees_by_id_and_names_what_is_locked_when_the_id_is_wrong(
        local_workspace: LocalWorkspace) -> None:
    lock = local_workspace.acquire_lock('prod', 'alice', '', MINUTE)
    with pytest.raises(LockError, match=f'no lock with id nope .*prod: alice .*lock id {lock.id}'):
        local_workspace.force_unlock('nope')
    assert local_workspace.force_unlock(lock.id) == lock
    with pytest.raises(LockError, match='lost the lock on target prod: it was freed'):
        local_workspace.renew_lock(lock, MINUTE)
    assert local_workspace.acquire_lock('prod', 'bob', '', MINUTE).owner == 'bob'


class _Time:
    """monotonic and sleep that move together, and can do something while 'asleep'."""

    def __init__(self) -> None:
        self.now = 0.0
        self.on_sleep: list[object] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for action in self.on_sleep:
            action()  # type: ignore[operator]
        self.on_sleep.clear()


def test_acquire_waits_up_to_the_timeout_then_names_the_holder(local_workspace: LocalWorkspace) -> None:
    holder = local_workspace.acquire_lock('prod', 'alice', 'https://ci.example/runs/42', 10 * MINUTE)
    clock = _Time()
    told: list[Lock] = []
    with pytest.raises(LockError) as err:
        commands.acquire_lease(local_workspace, 'prod', owner='bob', timeout_s=5, sleep=clock.sleep,
                               monotonic=clock.monotonic, on_wait=told.append)
    assert told == [holder] and clock.now == 5
    assert 'locked by alice' in err.value.message and 'gave up after waiting 5s' in err.value.message
    assert f'jobsync force-unlock {holder.id} --target prod' in err.value.hint


def test_acquire_gets_the_lock_once_the_holder_releases(local_workspace: LocalWorkspace) -> None:
    holder = local_workspace.acquire_lock('prod', 'alice', '', 10 * MINUTE)
    clock = _Time()
    clock.on_sleep.append(lambda: local_workspace.release_lock(holder))
    lease = commands.acquire_lease(local_workspace, 'prod', owner='bob', timeout_s=30, sleep=clock.sleep,
                                   monotonic=clock.monotonic)
    assert lease.lock.owner == 'bob' and clock.now == 1


# --- through the command line ----------------------------------------------------------------

def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


def test_apply_refuses_while_another_holds_the_lock_then_force_unlock_frees_it(example_repo: Path) -> None:
    ws = LocalWorkspace(_db(example_repo))
    try:
        held = ws.acquire_lock('local', 'deploy-bot@runner-1 (pid 4242)', 'https://ci.example/runs/42', 10 * MINUTE)
    finally:
        ws.close()
    refused = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert refused.code == 1, refused
    assert 'target local is locked by deploy-bot@runner-1 (pid 4242)' in refused.stderr
    assert 'https://ci.example/runs/42' in refused.stderr and f'force-unlock {held.id}' in refused.stderr
    assert 'applied' not in refused.stdout

    wrong = run_jobsync('force-unlock', 'not-the-id', '--repo', str(example_repo))
    assert wrong.code == 1 and held.id in wrong.stderr
    freed = run_jobsync('force-unlock', held.id, '--repo', str(example_repo))
    assert freed.code == 0 and f'Freed the lock {held.id} on target local, held by deploy-bot' in freed.stdout
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0 and 'Apply: 22 applied' in applied.stdout, applied


def test_apply_waits_for_the_lock_with_lock_timeout(example_repo: Path) -> None:
    # A real process, so the lock can be freed while it waits; freed only once it says it waits,
    # so no timer races the process (under load a start can take longer than any fixed delay).
    ws = LocalWorkspace(_db(example_repo))
    try:
        held = ws.acquire_lock('local', 'deploy-bot', '', 10 * MINUTE)
        proc = start_jobsync_process('apply', '--repo', str(example_repo), '--auto-approve', '--lock-timeout', '60s',
                                     env=EXAMPLE_SECRETS)
        try:
            said = proc.wait_for('waiting up to 60s')
            ws.release_lock(held)
        finally:
            waited = proc.finish()
    finally:
        ws.close()
    assert waited.code == 0, waited
    assert 'Target local is locked by deploy-bot' in said
    assert 'Apply: 22 applied' in waited.stdout


def test_two_applies_at_once_one_applies_the_workspace_ends_consistent(example_repo: Path) -> None:
    def race(timeout: str, done: str) -> dict[str, tuple[int, str, str]]:
        procs = {owner: start_jobsync_process('apply', '--repo', str(example_repo), '--auto-approve',
                                              '--lock-timeout', timeout,
                                              env={**EXAMPLE_SECRETS, 'JOBSYNC_LOCK_OWNER': owner})
                 for owner in (f'first-{timeout}', f'second-{timeout}')}
        results: dict[str, tuple[int, str, str]] = {}
        for owner, p in procs.items():
            ended = p.finish()
            results[owner] = (ended.code, ended.stdout, ended.stderr)
        wrote = [owner for owner, (_, out, _) in results.items() if done in out]
        assert len(wrote) == 1, results  # exactly one applied; the other waited, or found nothing left
        for owner, (code, _out, err) in results.items():
            if code != 0:  # refused: it names the other apply as the holder, and wrote nothing
                other = next(o for o in procs if o != owner)
                assert f'target local is locked by {other}' in err, results
        return results

    waited = race('120s', 'Apply: 22 applied')
    assert sorted(code for code, _, _ in waited.values()) == [0, 0], waited

    job = example_repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', '"0 30 2 * * ?"'))
    race('0', 'applied  job/job_batch')

    final = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode')
    assert final.code == 0 and 'No changes.' in final.stdout, final
    ws = LocalWorkspace(_db(example_repo))
    try:
        state = ws.read_state('local')
        assert state is not None and len(state.objects) == 22
        assert sqlite_records(ws.records).current_lock('local') is None  # both released
    finally:
        ws.close()
