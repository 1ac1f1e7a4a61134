"""The command line as a real process: what the in-process runner cannot show (a terminal, a signal,
kill -9), and proof that the in-process runner answers as the process does.

Every wait here is on what the process prints; a time bound is only a guard against a hang.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import PROCESS_TIMEOUT_S, cli_env, start_jobsync_process
from conftest import EXAMPLE_SECRETS, run_jobsync, run_jobsync_process
from records import sqlite_records

from jobsync.workspace.local import LocalWorkspace

MINUTE = 60_000


def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


@pytest.mark.parametrize('args', [
    pytest.param(('--help',), id='help'),
    pytest.param(('plan', '--no-such-option'), id='usage-error'),
    pytest.param(('plan', '--repo', '{repo}', '--detailed-exitcode'), id='plan'),
    pytest.param(('apply', '--repo', '{repo}'), id='apply-without-a-terminal'),
])
def test_in_process_runs_answer_as_the_process_does(args: tuple[str, ...], example_repo: Path) -> None:
    argv = [arg.format(repo=example_repo) for arg in args]
    real = run_jobsync_process(*argv, env=EXAMPLE_SECRETS)
    fast = run_jobsync(*argv, env=EXAMPLE_SECRETS)
    assert (fast.code, fast.stdout, fast.stderr) == (real.code, real.stdout, real.stderr)
    assert real.code in (0, 1, 2, 64), real  # never a traceback (3 is 'a bug in jobsync')
    assert 'Traceback' not in real.stderr


def test_the_readme_first_command_applies_then_plans_nothing(example_repo: Path) -> None:
    # README: `jobsync apply --repo examples/repo --auto-approve && jobsync plan ... --detailed-exitcode`
    applied = run_jobsync_process('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0 and 'Apply: 22 applied' in applied.stdout, applied
    again = run_jobsync_process('plan', '--repo', str(example_repo), '--detailed-exitcode', env=EXAMPLE_SECRETS)
    assert again.code == 0 and 'No changes.' in again.stdout, again


def test_sigint_while_waiting_for_the_lock_exits_130_and_writes_nothing(example_repo: Path) -> None:
    ws = LocalWorkspace(_db(example_repo))
    try:
        held = ws.acquire_lock('local', 'deploy-bot', '', 10 * MINUTE)
        proc = start_jobsync_process('apply', '--repo', str(example_repo), '--auto-approve', '--lock-timeout', '60s',
                                     env=EXAMPLE_SECRETS)
        try:
            proc.wait_for('waiting up to 60s')  # it is asleep in the lock wait: interrupt it there
            proc.proc.send_signal(signal.SIGINT)
        finally:
            interrupted = proc.finish()
        assert interrupted.code == 130, interrupted
        assert 'Interrupted.' in interrupted.stderr and 'Traceback' not in interrupted.stderr
        assert ws.read_state('local') is None  # nothing applied
        assert sqlite_records(ws.records).current_lock('local') == held  # the other's lock untouched
    finally:
        ws.close()


class _Terminal:
    """`python -m jobsync ARGS` on a pseudo-terminal (stdin, stdout and stderr), as a person runs it."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([sys.executable, '-m', 'jobsync', *args], stdin=slave, stdout=slave,
                                     stderr=slave, env=cli_env(env), close_fds=True)
        os.close(slave)
        self.screen = ''

    def wait_for(self, marker: str) -> str:
        """Read the terminal until `marker` shows; the process ending first fails the test."""
        guard = time.monotonic() + PROCESS_TIMEOUT_S  # a bound on a hang, never a synchronisation
        while marker not in self.screen:
            left = guard - time.monotonic()
            assert left > 0, f'no {marker!r} on the terminal:\n{self.screen}'
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the process closed the terminal (it exited)
                chunk = b''
            assert chunk, f'the process ended without showing {marker!r}:\n{self.screen}'
            self.screen += chunk.decode('utf-8', errors='replace')
        return self.screen

    def type(self, text: str) -> None:
        os.write(self.master, text.encode('utf-8'))

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=PROCESS_TIMEOUT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


def test_apply_on_a_terminal_asks_and_applies_on_yes(example_repo: Path) -> None:
    term = _Terminal('apply', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    try:
        term.wait_for('Apply these changes?')
        term.type('y\n')
        screen = term.wait_for('Apply: 22 applied')
    finally:
        code = term.close()
    assert code == 0, screen
    assert run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=EXAMPLE_SECRETS).code == 0


def test_kill_9_at_the_prompt_leaves_a_lock_that_force_unlock_frees(example_repo: Path) -> None:
    term = _Terminal('apply', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    try:
        term.wait_for('Apply these changes?')  # it holds the lock while it asks
        term.proc.kill()
    finally:
        code = term.close()
    assert code == -signal.SIGKILL

    refused = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert refused.code == 1 and f'(pid {term.proc.pid})' in refused.stderr, refused
    ws = LocalWorkspace(_db(example_repo))
    try:
        stale = sqlite_records(ws.records).current_lock('local')
        assert stale is not None and ws.read_state('local') is None  # killed before writing anything
    finally:
        ws.close()
    assert f'force-unlock {stale.id}' in refused.stderr
    assert run_jobsync('force-unlock', stale.id, '--repo', str(example_repo)).code == 0
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0 and 'Apply: 22 applied' in applied.stdout, applied
