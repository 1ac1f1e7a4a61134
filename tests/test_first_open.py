"""Issue 13: 40 synchronized first opens of a new `local:` workspace file (what every jobsync
command opens: the engine and the state store), 0 errors. A barrier releases all processes of a
round together, so they race the file's creation and its switch to WAL on every round; no timer."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from jobsync.errors import LockError
from jobsync.workspace.local import LocalWorkspace

PROCESSES = 8
ROUNDS = 5  # 8 x 5 = 40 first opens


def _open_at_once(directory: str, who: int, barrier: Barrier, errors: Any, locked: Any) -> None:
    for round_ in range(ROUNDS):
        barrier.wait()
        try:
            ws = LocalWorkspace(Path(directory) / f'round{round_}' / 'workspace.db')
            try:
                ws.list_objects()
                try:
                    lock = ws.acquire_lock('local', f'p{who}', '', 60_000)
                    locked.put(round_)
                    ws.release_lock(lock)
                except LockError:
                    pass  # another process holds it: expected, and said clearly
            finally:
                ws.close()
        except BaseException as exc:  # any other error fails the test
            errors.put(f'process {who}, round {round_}: {type(exc).__name__}: {exc}')


def test_40_synchronized_first_opens_of_a_local_workspace(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context('spawn')
    barrier = ctx.Barrier(PROCESSES)
    errors, locked = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_open_at_once, args=(str(tmp_path), i, barrier, errors, locked))
             for i in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    assert [proc.exitcode for proc in procs] == [0] * PROCESSES
    rounds = set()
    while not locked.empty():
        rounds.add(locked.get())
    assert rounds == set(range(ROUNDS))  # every round, someone got the lock
