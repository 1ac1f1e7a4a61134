"""The SQLite store under the service model: schema, connections, scoping and the clock.

One SQLite file (WAL, busy timeout, a small connection pool), every object row partitioned
by (project, workspace); `Engine.scoped()` gives a view of another space in the same file.
Specs are stored verbatim, real secrets included (the service has them; `masking.py` keeps
them from every read).

Opening is safe under concurrency: several processes may open a new file at the same moment
(the switch to WAL and the schema are retried / taken under a write lock), and a file that is
damaged or is not a jobsync workspace is refused with a `StoreError` naming it.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobsync.model import Spec
from jobsync.workspace.service.errors import StoreError

# Stamped in the file's header (`PRAGMA application_id`) when jobsync creates the schema, so a
# foreign SQLite file is told apart from ours: 'JSYN'.
APPLICATION_ID = 0x4A53594E

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS objects (
    project TEXT NOT NULL, workspace TEXT NOT NULL, kind TEXT NOT NULL,
    scope TEXT NOT NULL,            -- CDM cluster id for cdm-link/cdm-job, '' otherwise
    name TEXT NOT NULL,
    id TEXT NOT NULL,               -- job id, script id, resource UUID, dw_id, cluster UUID
    spec TEXT NOT NULL,             -- the spec as written (real secrets included)
    status TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    lock_user TEXT,
    create_user TEXT NOT NULL, create_time INTEGER NOT NULL,
    update_user TEXT NOT NULL, update_time INTEGER NOT NULL,
    PRIMARY KEY (project, workspace, kind, scope, name)
)""",
    'CREATE INDEX IF NOT EXISTS objects_by_id ON objects (project, workspace, kind, scope, id)',
    # The job list's type filter, spelt exactly as `list_jobs` spells it (SQLite uses an index on an
    # expression only for that very expression): a page of 10,000 jobs then costs ~4 ms, not ~30.
    """CREATE INDEX IF NOT EXISTS objects_by_process_type ON objects
    (project, workspace, kind, scope, COALESCE(json_extract(spec, '$.processType'), 'BATCH'), name)""",
    """CREATE TABLE IF NOT EXISTS versions (
    project TEXT NOT NULL, workspace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    version INTEGER NOT NULL, spec TEXT NOT NULL, time INTEGER NOT NULL, user TEXT NOT NULL,
    PRIMARY KEY (project, workspace, kind, name, version)
)""",
    """CREATE TABLE IF NOT EXISTS instances (
    project TEXT NOT NULL, workspace TEXT NOT NULL, job TEXT NOT NULL, id INTEGER NOT NULL,
    start_time INTEGER NOT NULL, run_ms INTEGER NOT NULL,
    PRIMARY KEY (project, workspace, job, id)
)""",
    """CREATE TABLE IF NOT EXISTS submissions (
    project TEXT NOT NULL, workspace TEXT NOT NULL, scope TEXT NOT NULL, job TEXT NOT NULL,
    id INTEGER NOT NULL, user TEXT NOT NULL, start_time INTEGER NOT NULL, run_ms INTEGER NOT NULL,
    stop_time INTEGER,              -- set when stopped by the user: the submission FAILED then
    PRIMARY KEY (project, workspace, scope, job, id)
)""",
    """CREATE TABLE IF NOT EXISTS tasks (
    project TEXT NOT NULL, workspace TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (project, workspace, id)
)""",
    'CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL)',
    # The console's workspace settings no route reaches (admin.py): review switch, locked tags.
    """CREATE TABLE IF NOT EXISTS settings (
    project TEXT NOT NULL, workspace TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (project, workspace, name)
)""",
)
# Tables a jobsync workspace file may hold: the service's and jobsync's own records
# (statestore.py). A file made before APPLICATION_ID existed is ours if it holds only these.
JOBSYNC_TABLES = frozenset({'objects', 'versions', 'instances', 'submissions', 'tasks', 'sequences',
                            'settings', 'jobsync_state', 'jobsync_locks'})

_BUSY_TIMEOUT_MS = 30_000
_DAMAGED_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB
_DAMAGED_HINT = ('restore the file from a backup, or move it away to start an empty workspace there'
                 ' (everything in it is lost; `jobsync apply` writes the definitions again)')


def now_ms() -> int:
    """The wall clock in epoch milliseconds: the default clock of the service."""
    return time.time_ns() // 1_000_000


def dumps(spec: Any) -> str:
    return json.dumps(spec, ensure_ascii=False, separators=(',', ':'))


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, 'sqlite_errorcode', None)
    return code is not None and code & 0xFF in _DAMAGED_CODES


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, 'sqlite_errorcode', None)
    return (code is not None and code & 0xFF in (5, 6)) or 'locked' in str(exc)  # SQLITE_BUSY, SQLITE_LOCKED


def damaged(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    return StoreError(path, f'the workspace database is damaged or is not a database ({exc})', _DAMAGED_HINT)


class Store:
    """The SQLite file, shared by every scoped view: a small pool of connections.

    A call borrows a connection for the length of one transaction and gives it back, so a
    server that starts a thread per request does not open a connection per request. WAL
    lets readers run beside the one writer; the busy timeout makes writers queue (also
    across processes) instead of failing.
    """

    MAX_IDLE = 8

    def __init__(self, path: Path, clock: Callable[[], int]) -> None:
        self.path = path
        self.clock = clock
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._probe()  # before anything writes to it: a foreign file is left as it was
        with self._borrow() as conn:
            self._prepare(conn)

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.OperationalError as exc:  # a folder on the way is missing or unreadable
            raise StoreError(self.path, f'the workspace file cannot be opened ({exc})',
                             'point `local:` at a path where jobsync may create or open a file') from None
        try:
            conn.row_factory = sqlite3.Row
            # First, so that every later statement of this connection waits for locks.
            conn.execute(f'PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}')
            self._use_wal(conn)
            conn.execute('PRAGMA synchronous=NORMAL')
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and not _is_damage(exc):
                raise
            raise damaged(self.path, exc) from None
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL, waiting for the other openers.

        The switch needs an exclusive lock and SQLite answers `database is locked` at once,
        without calling the busy handler, when another connection holds any lock (two
        processes opening a new file do). The mode is persistent: once anyone has switched,
        the answer is `wal` without a lock. So: retry, backing off, until it is WAL.
        """
        deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
        delay = 0.001
        while True:
            try:
                mode = conn.execute('PRAGMA journal_mode=WAL').fetchone()[0]
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                mode = None
            if str(mode).lower() == 'wal':
                return
            if time.monotonic() >= deadline:
                raise StoreError(self.path, 'the workspace database stayed locked by another process for'
                                            f' {_BUSY_TIMEOUT_MS // 1000} s',
                                 'wait for the other jobsync (or sqlite3) using the file to finish, then retry')
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _identify(self, conn: sqlite3.Connection) -> int:
        """The file's application id; `StoreError` unless it is new or a jobsync workspace."""
        app_id = int(conn.execute('PRAGMA application_id').fetchone()[0])
        tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        foreign = tables - JOBSYNC_TABLES
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and foreign):
            what = f'tables {", ".join(sorted(foreign))}' if foreign else f'application id {app_id:#x}'
            raise StoreError(
                self.path, f'not a jobsync workspace database (it holds {what})',
                'point `local:` at a new file or at a workspace file jobsync made; jobsync does not'
                ' write into other databases')
        return app_id

    def _probe(self) -> None:
        """Identify the file read-only, in whatever journal mode it is in."""
        if self.path.exists() and not self.path.is_file():  # SQLite would say only "unable to open"
            raise StoreError(self.path, 'the workspace path is not a file (a directory, a device or a FIFO)',
                             'point `local:` at a workspace file, or at a path where jobsync may create one')
        if not self.path.exists() or self.path.stat().st_size == 0:
            return  # a new file: nothing to tell apart
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f'PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}')
            self._identify(conn)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _is_damage(exc):
                raise
            raise damaged(self.path, exc) from None
        finally:
            conn.close()

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Check the file is a jobsync workspace and create the schema, in one write transaction
        (so two processes creating it at once queue, and neither sees half a schema)."""
        try:
            conn.execute('BEGIN IMMEDIATE')
            with conn:
                app_id = self._identify(conn)
                for statement in _SCHEMA:
                    conn.execute(statement)
                if app_id == 0:
                    conn.execute(f'PRAGMA application_id={APPLICATION_ID}')
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not _is_damage(exc):
                raise
            raise damaged(self.path, exc) from None

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            if _is_damage(exc):  # found damaged mid-way (a torn page, say): still the user's file
                raise damaged(self.path, exc) from None
            raise
        finally:
            if conn.in_transaction:  # only after a failure inside the transaction handling itself
                conn.rollback()
            with self._lock:
                keep = len(self._idle) < self.MAX_IDLE
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front (BEGIN IMMEDIATE) so what a write validates
        cannot change under it, even with another process on the same file."""
        with self._borrow() as conn:
            conn.execute('BEGIN IMMEDIATE')
            with conn:  # commits on success, rolls back on any exception
                yield conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same snapshot."""
        with self._borrow() as conn:
            conn.execute('BEGIN')
            try:
                yield conn
            finally:
                conn.execute('COMMIT')

    def next_id(self, conn: sqlite3.Connection, name: str, start: int) -> int:
        """The next number of a sequence (inside a write transaction)."""
        conn.execute(
            'INSERT INTO sequences (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + 1',
            (name, start),
        )
        return int(conn.execute('SELECT value FROM sequences WHERE name=?', (name,)).fetchone()[0])

    def close(self) -> None:
        """Close the idle connections (all of them when no call is running)."""
        with self._lock:
            conns, self._idle = self._idle, []
        for conn in conns:
            conn.close()


@dataclass(frozen=True)
class Row:
    """One stored object: its spec as written and what the service keeps beside it."""

    kind: str
    scope: str
    name: str
    id: str
    spec: Spec
    status: str
    version: int
    lock_user: str | None
    create_user: str
    create_time: int
    update_user: str
    update_time: int

    @classmethod
    def of(cls, row: sqlite3.Row) -> Row:
        return cls(
            kind=row['kind'], scope=row['scope'], name=row['name'], id=row['id'], spec=json.loads(row['spec']),
            status=row['status'], version=row['version'], lock_user=row['lock_user'],
            create_user=row['create_user'], create_time=row['create_time'],
            update_user=row['update_user'], update_time=row['update_time'],
        )


class Space:
    """One (project, workspace) of the store, as `user`: the row operations every family uses.

    `clock` returns epoch milliseconds; CDM submissions and job instances advance with it: a
    CDM job runs `cdm_run_ms` and a job instance `instance_run_ms` after it starts (0: done
    by the next query); an instance of a job in `failing_jobs` then ends `fail`.
    """

    def __init__(
            self,
            path: str | Path,
            *,
            project: str = 'local',
            workspace: str = 'default',
            user: str = 'jobsync',
            clock: Callable[[], int] = now_ms,
            cdm_run_ms: int = 0,
            instance_run_ms: int = 0,
            failing_jobs: frozenset[str] | set[str] = frozenset(),
            _store: Store | None = None,
    ) -> None:
        self.path = Path(path)
        self.project = project
        self.workspace = workspace
        self.user = user
        self.cdm_run_ms = cdm_run_ms
        self.instance_run_ms = instance_run_ms
        self.failing_jobs = frozenset(failing_jobs)  # their instances end `fail` (test knob, off the wire)
        self._store = _store if _store is not None else Store(self.path, clock)

    def close(self) -> None:
        """Close every connection of the file (all scoped views share them)."""
        self._store.close()

    def _now(self) -> int:
        return self._store.clock()

    def now(self) -> int:
        """The engine's clock (epoch ms): what `lastUpdateTime`s are made of."""
        return self._store.clock()

    @property
    def _space(self) -> tuple[str, str]:
        return (self.project, self.workspace)

    def _get(self, conn: sqlite3.Connection, kind: str, name: str, scope: str = '') -> Row | None:
        row = conn.execute(
            'SELECT * FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (*self._space, kind, scope, name),
        ).fetchone()
        return Row.of(row) if row else None

    def _get_by_id(self, conn: sqlite3.Connection, kind: str, id_: str, scope: str = '') -> Row | None:
        row = conn.execute(
            'SELECT * FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? AND id=?',
            (*self._space, kind, scope, id_),
        ).fetchone()
        return Row.of(row) if row else None

    def _all(self, conn: sqlite3.Connection, kind: str, scope: str = '') -> list[Row]:
        rows = conn.execute(
            'SELECT * FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? ORDER BY name',
            (*self._space, kind, scope),
        ).fetchall()
        return [Row.of(row) for row in rows]

    def _page(
            self, conn: sqlite3.Connection, kind: str, condition: str, params: tuple[Any, ...], name_part: str,
            limit: int, offset: int,
    ) -> tuple[int, list[Row]]:
        """One page of a list call, by name, and the total matching: the page is cut in SQL, so
        listing N objects in pages costs O(N), not O(N) per page."""
        where = f'project=? AND workspace=? AND kind=? AND scope=? AND instr(name, ?) > 0 AND ({condition})'
        args = (*self._space, kind, '', name_part, *params)
        total = int(conn.execute(f'SELECT COUNT(*) FROM objects WHERE {where}', args).fetchone()[0])
        rows = conn.execute(f'SELECT * FROM objects WHERE {where} ORDER BY name LIMIT ? OFFSET ?',
                            (*args, limit, offset)).fetchall()
        return total, [Row.of(row) for row in rows]

    def _insert(
            self, conn: sqlite3.Connection, kind: str, name: str, spec: Spec, *,
            id_: str, scope: str = '', status: str = '',
    ) -> None:
        now = self._now()
        conn.execute(
            'INSERT INTO objects (project, workspace, kind, scope, name, id, spec, status, version, lock_user,'
            ' create_user, create_time, update_user, update_time) VALUES (?,?,?,?,?,?,?,?,0,NULL,?,?,?,?)',
            (*self._space, kind, scope, name, id_, dumps(spec), status, self.user, now, self.user, now),
        )

    def _rewrite(self, conn: sqlite3.Connection, row: Row, spec: Spec, *, name: str | None = None) -> None:
        """Replace a row's spec (and name): a write moves `lastUpdateTime` forward, always.

        Two writes in the same millisecond still give two different times, so a fingerprint
        of `lastUpdateTime` never misses a change [INF: local guarantee, not the service's].
        """
        now = max(self._now(), row.update_time + 1)
        conn.execute(
            'UPDATE objects SET name=?, spec=?, update_user=?, update_time=?'
            ' WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (name or row.name, dumps(spec), self.user, now, *self._space, row.kind, row.scope, row.name),
        )

    def _set_status(self, conn: sqlite3.Connection, row: Row, status: str) -> None:
        conn.execute(
            'UPDATE objects SET status=? WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (status, *self._space, row.kind, row.scope, row.name),
        )

    def _delete(self, conn: sqlite3.Connection, row: Row) -> None:
        """Delete a row; a job's or script's versions go with it."""
        conn.execute(
            'DELETE FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (*self._space, row.kind, row.scope, row.name),
        )
        if row.kind in ('job', 'script'):
            conn.execute(
                'DELETE FROM versions WHERE project=? AND workspace=? AND kind=? AND name=?',
                (*self._space, row.kind, row.name),
            )

    @staticmethod
    def _named(spec: Mapping[str, Any], field: str, name: str) -> Spec:
        out = copy.deepcopy(dict(spec))
        out[field] = name
        return out
