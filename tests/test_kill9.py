"""Issue 13: `kill -9` in the middle of an apply (a real process, killed while the emulator holds
one named request unanswered, so the point is known, not raced) leaves a state that matches what
was written: after force-unlock and another change in git, the same objects plan as updates, never
as conflicts, and the next apply converges."""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cli_runner import PROCESS_TIMEOUT_S, start_jobsync_process
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, target_the_emulator

ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}
SCRIPTS = 12
HELD = 'kill_006'  # the update the emulator holds: kill_000..005 are written before it


def _write_scripts(repo: Path, version: str) -> None:
    for i in range(SCRIPTS):
        (repo / 'scripts' / f'kill_{i:03}.sh').write_text(f'#!/bin/bash\necho {version} {i}\n', encoding='utf-8')
        (repo / 'scripts' / f'kill_{i:03}.yaml').write_text(
            'type: Shell\ndirectory: /kill\nconnectionName: ecs_etl_host\n', encoding='utf-8')
    git_commit_all(repo, f'scripts {version}')


def _held_apply(repo: Path, running_emulator: Any, stop: Any) -> Any:
    """Run apply as a process until the emulator holds the update of HELD, `stop(proc)`, then let the
    held request drop; what the process printed and its exit status."""
    held, release = threading.Event(), threading.Event()

    def hold(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if op == 'update_script' and params.get('script_name') == HELD:
            held.set()
            release.wait(PROCESS_TIMEOUT_S)
            return True  # never served: the client died (or gave up) waiting for it
        return False

    running_emulator.emulator.hold = hold
    proc = start_jobsync_process('apply', '--repo', str(repo), '--auto-approve', env=ENV)
    try:
        assert held.wait(PROCESS_TIMEOUT_S), proc.printed()
        running_emulator.emulator.hold = None  # what the process does next is served
        stop(proc.proc)
    finally:
        ended = proc.finish()
        release.set()
        running_emulator.emulator.hold = None
    return ended


def test_sigterm_mid_call_records_the_state_releases_the_lock_and_exits_143(
        example_repo: Path, running_emulator: Any) -> None:
    target_the_emulator(example_repo, running_emulator.url, workspace_id='ws-kill', commit=False)
    _write_scripts(example_repo, 'v1')
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV).code == 0
    _write_scripts(example_repo, 'v2')
    ended = _held_apply(example_repo, running_emulator, lambda p: p.send_signal(signal.SIGTERM))
    assert ended.code == 143, ended
    assert 'Stopped by SIGTERM' in ended.stderr and 'the lock was released' in ended.stderr, ended.stderr
    assert 'Traceback' not in ended.stderr
    _write_scripts(example_repo, 'v3')
    plan = run_jobsync('plan', '--repo', str(example_repo), env=ENV)
    assert plan.code == 0 and 'conflict' not in plan.stdout.lower(), plan
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)  # no lock left
    assert applied.code == 0, applied


def test_kill_9_mid_batch_leaves_a_state_without_false_conflicts(example_repo: Path, running_emulator: Any) -> None:
    target_the_emulator(example_repo, running_emulator.url, workspace_id='ws-kill', commit=False)
    _write_scripts(example_repo, 'v1')
    first = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert first.code == 0, first
    _write_scripts(example_repo, 'v2')
    # SIGKILL: no handler, no finally, no state written on the way out.
    ended = _held_apply(example_repo, running_emulator, lambda p: p.kill())
    assert ended.code == -signal.SIGKILL, ended

    # The dead apply's lock stays until freed (README: after a crash).
    refused = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert refused.code == 1 and 'is locked by' in refused.stderr, refused
    lock_id = re.search(r'force-unlock ([0-9a-f]{32})', refused.stderr)
    assert lock_id is not None, refused.stderr
    freed = run_jobsync('force-unlock', lock_id.group(1), '--repo', str(example_repo), env=ENV)
    assert freed.code == 0, freed

    # git changes the same scripts again: those written before the kill and those not are updates.
    _write_scripts(example_repo, 'v3')
    plan = run_jobsync('plan', '--repo', str(example_repo), env=ENV)
    assert plan.code == 0, plan
    assert 'conflict' not in plan.stdout.lower(), plan.stdout
    assert f'{SCRIPTS} to update' in plan.stdout, plan.stdout
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert applied.code == 0, applied
    again = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ENV)
    assert again.code == 0, again
