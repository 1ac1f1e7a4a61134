"""Issue 13: an interrupted apply records the state of what it wrote and releases the lock, so a
re-run after git changes plans updates, not conflicts; SIGTERM and SIGHUP end like SIGINT, with
their own exit statuses (real processes, each signalled only once it says where it is)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import yaml
from cli_runner import start_jobsync_process
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from records import sqlite_records

from jobsync.commands import flow
from jobsync.events import Event, EventKind, Status
from jobsync.secrets import Redactor, default_resolver
from jobsync.workspace.local import LocalWorkspace

MINUTE = 60_000


def _db(repo: Path) -> Path:
    return repo / '.jobsync' / 'workspace.db'


def test_an_apply_interrupted_between_batches_records_what_it_wrote(example_repo: Path) -> None:
    resolver = default_resolver(Redactor(), dict(EXAMPLE_SECRETS))
    written: list[str] = []

    def interrupt_after_first_batch(event: Event) -> None:
        if event.kind is EventKind.OUTCOME and event.outcome is not None and event.outcome.status is Status.APPLIED:
            written.append(str(event.key))
        if event.kind is EventKind.BATCH and event.batch is not None and event.batch[0] == 2:
            raise KeyboardInterrupt  # as a signal would, between two batches

    with pytest.raises(KeyboardInterrupt):
        flow.apply(example_repo, None, None, {}, resolver=resolver, locking=flow.Locking('tests'),
                   confirm=lambda _: None, on_event=interrupt_after_first_batch)
    assert written and flow.interrupted_written[-1] == len(written)
    ws = LocalWorkspace(_db(example_repo))
    try:
        state = ws.read_state('local')
        assert state is not None and sorted(str(k) for k in state.objects) == sorted(written)
        assert sqlite_records(ws.records).current_lock('local') is None  # released
    finally:
        ws.close()
    # git changes an object that was written: planned as an update, never a conflict.
    first = written[0]
    kind, name = first.split('/', 1)
    changed = next(p for p in (example_repo / f'{kind}s').glob(f'{name}.yaml'))
    spec = yaml.safe_load(changed.read_text(encoding='utf-8'))
    spec['description'] = 'changed after the interrupt'
    changed.write_text(yaml.safe_dump(spec), encoding='utf-8')
    git_commit_all(example_repo, 'change after the interrupt')
    plan = run_jobsync('plan', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert plan.code == 0, plan
    assert '1 to update' in plan.stdout and 'changed both in git and in the workspace' not in plan.stdout, plan.stdout
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied


@pytest.mark.parametrize(('sig', 'code'), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_sigterm_and_sighup_end_like_sigint(example_repo: Path, sig: signal.Signals, code: int) -> None:
    ws = LocalWorkspace(_db(example_repo))
    try:
        held = ws.acquire_lock('local', 'deploy-bot', '', 10 * MINUTE)
        proc = start_jobsync_process('apply', '--repo', str(example_repo), '--auto-approve', '--lock-timeout', '60s',
                                     env=EXAMPLE_SECRETS)
        try:
            proc.wait_for('waiting up to 60s')  # asleep in the lock wait: signal it there
            proc.proc.send_signal(sig)
        finally:
            ended = proc.finish()
        assert ended.code == code, ended
        assert 'Traceback' not in ended.stderr
        assert ws.read_state('local') is None  # nothing applied
        assert sqlite_records(ws.records).current_lock('local') == held  # the other's lock untouched
    finally:
        ws.close()
