"""The service's SQLite file: concurrent first opens, damaged and foreign files."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest
from conftest import run_jobsync
from workspace_specs import job_spec

from jobsync.errors import WorkspaceError
from jobsync.workspace.service import Engine, StoreError

PROCESSES = 8
ROUNDS = 3


def _open_at_once(directory: str, who: int, barrier: Barrier, errors: Any) -> None:
    """Each round: wait for every process, then all open the same new file and write to it."""
    for round_ in range(ROUNDS):
        barrier.wait()
        try:
            engine = Engine(Path(directory) / f'round{round_}.db')
            engine.create_job(job_spec(f'p{who}'))
            engine.close()
        except BaseException as exc:  # reported to the test, which fails on any
            errors.put(f'process {who}, round {round_}: {type(exc).__name__}: {exc}')


def test_many_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context('spawn')
    barrier = ctx.Barrier(PROCESSES)
    errors = ctx.Queue()
    procs = [ctx.Process(target=_open_at_once, args=(str(tmp_path), i, barrier, errors)) for i in range(PROCESSES)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    assert [proc.exitcode for proc in procs] == [0] * PROCESSES
    for round_ in range(ROUNDS):
        engine = Engine(tmp_path / f'round{round_}.db')
        assert engine.list_jobs(limit=100)['total'] == PROCESSES
        engine.close()


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _torn_database(path: Path) -> None:
    """A jobsync file whose pages after the header were overwritten."""
    engine = Engine(path)
    for i in range(50):
        engine.create_job(job_spec(f'j{i}'))
    engine.close()
    with sqlite3.connect(path) as conn:
        conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    data = bytearray(path.read_bytes())
    data[100:] = os.urandom(len(data) - 100)
    path.write_bytes(bytes(data))


def _unrelated_database(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)')
        conn.execute("INSERT INTO customers (name) VALUES ('ada')")


@pytest.mark.parametrize(('make', 'says'), [
    (_random_bytes, 'damaged or is not a database'),
    (_torn_database, 'damaged'),
    (_unrelated_database, 'not a jobsync workspace database (it holds tables customers)'),
], ids=['random-bytes', 'torn', 'unrelated-sqlite'])
def test_an_unusable_file_is_a_clear_workspace_error(tmp_path: Path, make: Any, says: str) -> None:
    path = tmp_path / 'workspace.db'
    make(path)
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        engine = Engine(path)
        engine.list_jobs()  # damage may only show when the pages are read
    err = caught.value
    assert isinstance(err, WorkspaceError)
    assert str(path) in err.message and says in err.message
    assert err.hint
    if make is _unrelated_database:
        assert path.read_bytes() == before  # a foreign file is left exactly as it was
        with sqlite3.connect(path) as conn:
            assert conn.execute('PRAGMA journal_mode').fetchone()[0] == 'delete'


def test_a_file_made_before_the_application_id_is_still_ours(tmp_path: Path) -> None:
    path = tmp_path / 'old.db'
    Engine(path).create_job(job_spec('j'))
    with sqlite3.connect(path) as conn:
        conn.execute('PRAGMA application_id=0')
    assert Engine(path).show_job('j')['name'] == 'j'


@pytest.mark.parametrize('make', [_random_bytes, _unrelated_database], ids=['random-bytes', 'unrelated-sqlite'])
def test_the_cli_names_the_file_and_exits_1(example_repo: Path, make: Any) -> None:
    path = example_repo / '.jobsync' / 'workspace.db'
    path.parent.mkdir(exist_ok=True)
    make(path)
    result = run_jobsync('plan', '--repo', str(example_repo))
    assert result.code == 1, result
    output = result.stdout + result.stderr
    assert str(path.name) in output
    assert 'Traceback' not in output
    assert 'bug in jobsync' not in output.lower() and 'internal error' not in output.lower()
