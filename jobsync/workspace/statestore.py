"""jobsync's own records for `local:` workspaces: the state and lock of each target, in the SQLite file.

The records are the JSON documents of `jobsync.state` (one per target), the same documents the
DataArts backend keeps in reserved scripts, stored in two tables of the workspace's own file so
that everyone using that file sees them. They are not objects of the emulated service: the engine
never lists them, so plans never see them.

Every write is one `BEGIN IMMEDIATE` transaction: SQLite then lets one writer in at a time, also
across processes, so the state's serial check and the lock's "held and unexpired?" check cannot
race with another writer.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from jobsync.errors import LockError, StateError
from jobsync.state import (
    UNREADABLE_LOCK,
    Lock,
    State,
    lock_from_json,
    lock_to_json,
    state_from_json,
    state_to_json,
    unreadable_lock,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobsync_state (
    project TEXT NOT NULL, workspace TEXT NOT NULL, target TEXT NOT NULL,
    serial INTEGER NOT NULL, body TEXT NOT NULL,      -- state.state_to_json
    PRIMARY KEY (project, workspace, target)
);
CREATE TABLE IF NOT EXISTS jobsync_locks (
    project TEXT NOT NULL, workspace TEXT NOT NULL, target TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE, expires_at INTEGER NOT NULL, body TEXT NOT NULL,   -- state.lock_to_json
    PRIMARY KEY (project, workspace, target)
);
"""


class SqliteStateStore:
    """State and locks of the targets applied to one (project, workspace) of a `local:` file."""

    def __init__(self, path: Path, *, project: str, workspace: str, where: str, clock: Callable[[], int]) -> None:
        self.path = path
        self.space = (project, workspace)
        self.where = where  # the workspace URL, for messages
        self.clock = clock
        with self._write() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.execute('PRAGMA busy_timeout=30000')
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute('BEGIN IMMEDIATE')
            with conn:  # commits on success, rolls back on any exception
                yield conn
        finally:
            conn.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    # --- state ---------------------------------------------------------------------------------

    def read_state(self, target: str) -> State | None:
        with self._read() as conn:
            row = conn.execute('SELECT body FROM jobsync_state WHERE project=? AND workspace=? AND target=?',
                               (*self.space, target)).fetchone()
        return state_from_json(row[0], where=f'target {target} in {self.where}', key=target,
                               kept_in=f'the row of table jobsync_state for {target} in {self.path}') if row else None

    def drop_state(self, target: str) -> bool:
        """Forget the target's state, readable or not; False if there was none."""
        with self._write() as conn:
            gone = conn.execute('DELETE FROM jobsync_state WHERE project=? AND workspace=? AND target=?',
                                (*self.space, target)).rowcount
        return gone > 0

    def write_state(self, state: State) -> None:
        with self._write() as conn:
            row = conn.execute('SELECT serial FROM jobsync_state WHERE project=? AND workspace=? AND target=?',
                               (*self.space, state.target)).fetchone()
            stored = int(row[0]) if row else 0
            if stored != state.serial - 1:
                raise StateError(
                    f'the state of target {state.target} in {self.where} changed while this apply ran '
                    f'(serial {stored}, expected {state.serial - 1}); it was not overwritten',
                    hint='another apply ran without the lock (or took over an expired one); run plan again')
            conn.execute(
                'INSERT INTO jobsync_state (project, workspace, target, serial, body) VALUES (?,?,?,?,?)'
                ' ON CONFLICT (project, workspace, target) DO UPDATE SET serial=excluded.serial, body=excluded.body',
                (*self.space, state.target, state.serial, state_to_json(state)))

    # --- locks ---------------------------------------------------------------------------------

    def _current(self, conn: sqlite3.Connection, target: str) -> Lock | None:
        row = conn.execute('SELECT body FROM jobsync_locks WHERE project=? AND workspace=? AND target=?',
                           (*self.space, target)).fetchone()
        return lock_from_json(row[0], where=f'target {target} in {self.where}', target=target) if row else None

    def _store(self, conn: sqlite3.Connection, lock: Lock) -> None:
        conn.execute('DELETE FROM jobsync_locks WHERE project=? AND workspace=? AND target=?',
                     (*self.space, lock.target))
        conn.execute('INSERT INTO jobsync_locks (project, workspace, target, id, expires_at, body)'
                     ' VALUES (?,?,?,?,?,?)', (*self.space, lock.target, lock.id, lock.expires_at, lock_to_json(lock)))

    def acquire_lock(self, target: str, owner: str, run_url: str, ttl_ms: int) -> Lock:
        with self._write() as conn:
            now = self.clock()
            held = self._current(conn, target)
            if held is not None and not held.expired(now):
                raise LockError(f'target {target} is locked by {held.describe()}', holder=held,
                                hint=f'wait for that apply to finish; if it died, run `jobsync force-unlock {held.id}`')
            lock = Lock(uuid.uuid4().hex, target, owner, now, now + ttl_ms, run_url)
            self._store(conn, lock)
            return lock

    def renew_lock(self, lock: Lock, ttl_ms: int) -> Lock:
        with self._write() as conn:
            held = self._current(conn, lock.target)
            if held is None or held.id != lock.id:
                who = f'now held by {held.describe()}' if held is not None else 'it was freed (force-unlock)'
                raise LockError(f'lost the lock on target {lock.target}: {who}', holder=held,
                                hint='another apply may be writing; run plan again once it is done')
            now = self.clock()
            renewed = Lock(lock.id, lock.target, lock.owner, lock.acquired_at, max(lock.expires_at, now + ttl_ms),
                           lock.run_url)
            self._store(conn, renewed)
            return renewed

    def release_lock(self, lock: Lock) -> None:
        with self._write() as conn:
            conn.execute('DELETE FROM jobsync_locks WHERE project=? AND workspace=? AND target=? AND id=?',
                         (*self.space, lock.target, lock.id))

    def force_unlock(self, lock_id: str) -> Lock:
        if lock_id.startswith(UNREADABLE_LOCK):
            return self._drop_unreadable(lock_id.removeprefix(UNREADABLE_LOCK))
        with self._write() as conn:
            row = conn.execute('SELECT body FROM jobsync_locks WHERE project=? AND workspace=? AND id=?',
                               (*self.space, lock_id)).fetchone()
            if row is None:
                held = [lock_from_json(r[0], where=self.where) for r in conn.execute(
                    'SELECT body FROM jobsync_locks WHERE project=? AND workspace=?', self.space)]
                current = '; '.join(f'{h.target}: {h.describe()}' for h in held) or 'no target is locked'
                raise LockError(f'no lock with id {lock_id} in {self.where} ({current})',
                                hint='copy the lock id from the error of the apply that is waiting')
            lock = lock_from_json(row[0], where=self.where)
            conn.execute('DELETE FROM jobsync_locks WHERE project=? AND workspace=? AND id=?', (*self.space, lock_id))
            return lock

    def _drop_unreadable(self, target: str) -> Lock:
        """Delete `target`'s lock row if its document cannot be read (a readable one needs its id)."""
        with self._write() as conn:
            row = conn.execute('SELECT body FROM jobsync_locks WHERE project=? AND workspace=? AND target=?',
                               (*self.space, target)).fetchone()
            if row is None:
                raise LockError(f'target {target} is not locked in {self.where}', hint='nothing to free')
            try:
                held = lock_from_json(row[0], where=self.where)
            except StateError:
                conn.execute('DELETE FROM jobsync_locks WHERE project=? AND workspace=? AND target=?',
                             (*self.space, target))
                return unreadable_lock(target)
        raise LockError(f'the lock of target {target} can be read: it is held by {held.describe()}',
                        hint=f'free it by its id: `jobsync force-unlock {held.id}`')

    def current_lock(self, target: str) -> Lock | None:
        with self._read() as conn:
            return self._current(conn, target)
