"""The DataArts service's own rules over SQLite, in API form.

This is the workspace behind `local:PATH` (see `local.py`) and behind the HTTP emulator: its
methods map one to one onto service routes (`list_jobs` is `GET /v1/{pid}/jobs`,
`start_cdm_job` is `PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start`), take and
return API-form JSON, and fail with the service's own error codes (`EngineError.code`,
reference §11). It knows nothing of jobsync's repo form, plans or keys beyond `ObjectKey`.

Storage: one SQLite file (WAL, busy timeout, a small connection pool), every object row
partitioned by (project, workspace); `Engine.scoped()` gives a view of another space in the
same file. Specs are stored verbatim (unknown fields are echoed back); server-managed fields
(`SERVER_MANAGED`) are added on read, secrets are masked on read (`mask_link`,
`mask_connection`) and never returned.

Where the reference is silent the choices made here are marked `[INF]` with the reason.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from jobsync.codec import NAME_FIELD
from jobsync.errors import WorkspaceError
from jobsync.model import CDM_KINDS, ObjectKey, Spec
from jobsync.workspace import package
from jobsync.workspace.base import MAX_EXPORT_JOBS, MAX_PACKAGE_BYTES

Family = Literal['dlf', 'dayu', 'cdm']
SameNamePolicy = Literal['SKIP', 'OVERWRITE']

# --- secrets -------------------------------------------------------------------------------

LINK_SECRET_SUFFIXES = ('.password', '.securityKey', '.sk', '.keytab')  # reference §9.3
LINK_PASSWORD_PLACEHOLDER = 'Add password here'  # what CDM GET and console export return
CONNECTION_PASSWORD_MASK = '*********'  # what connection GET returns (reference §7.1)

# --- states ----------------------------------------------------------------------------------

JOB_RUNNING_STATES = frozenset({'SCHEDULING', 'STARTING', 'NORMAL'})
CDM_RUNNING_STATES = frozenset({'BOOTING', 'RUNNING'})
DEFAULT_CDM_GROUP = 'DEFAULT'
CDM_JOB_TYPES = ('NORMAL_JOB', 'BATCH_JOB', 'SCENARIO_JOB')

# Fields the engine adds on read (the service manages them; writes may carry them, reads
# overwrite them). Listed here so the diff rules can be checked against what the engine does.
SERVER_MANAGED: dict[str, tuple[str, ...]] = {
    'job': ('id', 'lastUpdateUser', 'version'),
    'script': ('id', 'version', 'createUser'),
    'resource': ('id',),
    'connection': ('dw_id', 'create_user', 'create_time', 'dw_config.update_time'),
    'cdm-link': ('creation-user', 'creation-date', 'update-user', 'update-date'),
    'cdm-job': ('status', 'creation-user', 'creation-date', 'update-user', 'update-date', 'group_name'),
    # and `lastUpdateTime` (epoch ms) on every list entry of every kind.
}

# --- errors ----------------------------------------------------------------------------------

_NOT_FOUND = frozenset({
    'DLF.0100', 'DLF.0137', 'DLF.0810', 'DLF.6201', 'DLF.6241', 'DLF.6322', 'DAYU.1005',
    'Cdm.0001', 'Cdm.0054', 'Cdm.0100', 'Cdm.0101',
})


class EngineError(WorkspaceError):
    """The service refused a call: `code` as the service spells it, `status` its HTTP status.

    `family` says which error body the emulator writes: `dlf` `{"error_code","error_msg"}`,
    `dayu` `{"errors":[{"error_code","error_msg"}]}`, `cdm` `{"code","errCode","message",
    "externalMessage"}` (reference §3.1). `not_found` is set for the not-found codes.
    """

    def __init__(self, code: str, message: str, *, family: Family | None = None, status: int = 400) -> None:
        super().__init__(message, code=code, status=status, not_found=code in _NOT_FOUND)
        if family is None:
            family = 'cdm' if code.startswith('Cdm.') else 'dayu' if code.startswith('DAYU.') else 'dlf'
        self.family: Family = family


def _dlf(code: str, message: str) -> EngineError:
    return EngineError(code, message, family='dlf')


def _dayu(code: str, message: str) -> EngineError:
    return EngineError(code, message, family='dayu')


def _cdm(code: str, message: str) -> EngineError:
    return EngineError(code, message, family='cdm')


# --- masking ---------------------------------------------------------------------------------

def is_link_secret(input_name: str) -> bool:
    """CDM link inputs the service never returns (`linkConfig.password`, `.securityKey`, ...)."""
    return input_name.endswith(LINK_SECRET_SUFFIXES)


def is_connection_secret(config_key: str) -> bool:
    """Data-connection `dw_config` keys the service masks: `password` in any case, `*Password`."""
    return config_key.lower().endswith('password')


def mask_link(spec: Spec) -> Spec:
    """A copy of a CDM link with every secret input's value replaced by `Add password here`."""
    out = copy.deepcopy(spec)
    values = out.get('link-config-values')
    if isinstance(values, dict):
        for config in values.get('configs') or []:
            inputs = config.get('inputs') if isinstance(config, dict) else None
            for item in inputs if isinstance(inputs, list) else []:
                if isinstance(item, dict) and isinstance(item.get('name'), str) and is_link_secret(item['name']):
                    item['value'] = LINK_PASSWORD_PLACEHOLDER
    return out


def mask_connection(spec: Spec) -> Spec:
    """A copy of a DataSourceVo with every password-like `dw_config` value replaced by `*********`."""
    out = copy.deepcopy(spec)
    config = out.get('dw_config')
    if isinstance(config, dict):
        for key in config:
            if is_connection_secret(key):
                config[key] = CONNECTION_PASSWORD_MASK
    return out


# --- spec helpers ----------------------------------------------------------------------------

def _properties(node: Any) -> dict[str, Any]:
    """A node's `properties` (`[{name, value}]`, or already a mapping) as a mapping."""
    props = node.get('properties') if isinstance(node, dict) else None
    if isinstance(props, dict):
        return props
    out: dict[str, Any] = {}
    for item in props if isinstance(props, list) else []:
        if isinstance(item, dict) and isinstance(item.get('name'), str):
            out[item['name']] = item.get('value')
    return out


def _nodes(spec: Spec) -> list[Any]:
    nodes = spec.get('nodes')
    return nodes if isinstance(nodes, list) else []


def job_connection_refs(spec: Spec) -> list[tuple[str, str]]:
    """(node name, connection name) for every node property `connectionName` of a job."""
    refs = []
    for node in _nodes(spec):
        value = _properties(node).get('connectionName')
        if isinstance(value, str) and value:
            refs.append((str(node.get('name', '?')), value))
    return refs


def cdm_group(spec: Spec) -> str:
    """The group of a CDM job: `driver-config-values` → `groupJobConfig.groupName`, else `DEFAULT`."""
    driver = spec.get('driver-config-values')
    configs = driver.get('configs') if isinstance(driver, dict) else None
    for config in configs if isinstance(configs, list) else []:
        if not (isinstance(config, dict) and config.get('name') == 'groupJobConfig'):
            continue
        inputs = config.get('inputs')
        for item in inputs if isinstance(inputs, list) else []:
            if isinstance(item, dict) and item.get('name') == 'groupJobConfig.groupName' and item.get('value'):
                return str(item['value'])
    return DEFAULT_CDM_GROUP


def _cdm_links(spec: Spec) -> list[str]:
    return [str(spec[f]) for f in ('from-link-name', 'to-link-name') if spec.get(f)]


def _paging(limit: int, offset: int, *, maximum: int = 100) -> None:
    if not 1 <= limit <= maximum:
        raise _dlf('DLF.3051', f'The request parameter is invalid: limit must be 1 to {maximum}, not {limit}.')
    if offset < 0:
        raise _dlf('DLF.3051', f'The request parameter is invalid: offset must be 0 or more, not {offset}.')


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- storage ---------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
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
);
CREATE INDEX IF NOT EXISTS objects_by_id ON objects (project, workspace, kind, scope, id);
-- The job list's type filter, spelt exactly as `list_jobs` spells it (SQLite uses an index on an
-- expression only for that very expression): a page of 10,000 jobs then costs ~4 ms, not ~30.
CREATE INDEX IF NOT EXISTS objects_by_process_type ON objects
    (project, workspace, kind, scope, COALESCE(json_extract(spec, '$.processType'), 'BATCH'), name);
CREATE TABLE IF NOT EXISTS versions (
    project TEXT NOT NULL, workspace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    version INTEGER NOT NULL, spec TEXT NOT NULL, time INTEGER NOT NULL, user TEXT NOT NULL,
    PRIMARY KEY (project, workspace, kind, name, version)
);
CREATE TABLE IF NOT EXISTS instances (
    project TEXT NOT NULL, workspace TEXT NOT NULL, job TEXT NOT NULL, id INTEGER NOT NULL,
    start_time INTEGER NOT NULL, run_ms INTEGER NOT NULL,
    PRIMARY KEY (project, workspace, job, id)
);
CREATE TABLE IF NOT EXISTS submissions (
    project TEXT NOT NULL, workspace TEXT NOT NULL, scope TEXT NOT NULL, job TEXT NOT NULL,
    id INTEGER NOT NULL, user TEXT NOT NULL, start_time INTEGER NOT NULL, run_ms INTEGER NOT NULL,
    stop_time INTEGER,              -- set when stopped by the user: the submission FAILED then
    PRIMARY KEY (project, workspace, scope, job, id)
);
CREATE TABLE IF NOT EXISTS tasks (
    project TEXT NOT NULL, workspace TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (project, workspace, id)
);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class _Store:
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
        with self._borrow() as conn:
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute('PRAGMA busy_timeout=30000')
        conn.execute('PRAGMA journal_mode=WAL')
        conn.execute('PRAGMA synchronous=NORMAL')
        return conn

    @contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
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
class _Row:
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
    def of(cls, row: sqlite3.Row) -> _Row:
        return cls(
            kind=row['kind'], scope=row['scope'], name=row['name'], id=row['id'], spec=json.loads(row['spec']),
            status=row['status'], version=row['version'], lock_user=row['lock_user'],
            create_user=row['create_user'], create_time=row['create_time'],
            update_user=row['update_user'], update_time=row['update_time'],
        )


def _dumps(spec: Any) -> str:
    return json.dumps(spec, ensure_ascii=False, separators=(',', ':'))


# --- the engine ------------------------------------------------------------------------------

class Engine:
    """One (project, workspace) of a DataArts service, stored in a SQLite file.

    Thread-safe (each call borrows a pooled connection); several processes may share the file. Every
    write is one transaction. `clock` returns epoch milliseconds; CDM submissions and job
    instances advance with it: a CDM job runs `cdm_run_ms` and a job instance
    `instance_run_ms` after it starts (0: done by the next query).
    """

    def __init__(
            self,
            path: str | Path,
            *,
            project: str = 'local',
            workspace: str = 'default',
            user: str = 'jobsync',
            clock: Callable[[], int] = _now_ms,
            cdm_run_ms: int = 0,
            instance_run_ms: int = 0,
            _store: _Store | None = None,
    ) -> None:
        self.path = Path(path)
        self.project = project
        self.workspace = workspace
        self.user = user
        self.cdm_run_ms = cdm_run_ms
        self.instance_run_ms = instance_run_ms
        self._store = _store if _store is not None else _Store(self.path, clock)

    def scoped(self, project: str, workspace: str, *, user: str | None = None) -> Engine:
        """A view of another (project, workspace) in the same database (same clock and run times)."""
        return Engine(
            self.path, project=project, workspace=workspace, user=user or self.user,
            cdm_run_ms=self.cdm_run_ms, instance_run_ms=self.instance_run_ms, _store=self._store,
        )

    def close(self) -> None:
        """Close every connection of the file (all scoped views share them)."""
        self._store.close()

    # --- internals ---------------------------------------------------------------------------

    def _now(self) -> int:
        return self._store.clock()

    def now(self) -> int:
        """The engine's clock (epoch ms): what `lastUpdateTime`s are made of."""
        return self._store.clock()

    @property
    def _space(self) -> tuple[str, str]:
        return (self.project, self.workspace)

    def _get(self, conn: sqlite3.Connection, kind: str, name: str, scope: str = '') -> _Row | None:
        row = conn.execute(
            'SELECT * FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (*self._space, kind, scope, name),
        ).fetchone()
        return _Row.of(row) if row else None

    def _get_by_id(self, conn: sqlite3.Connection, kind: str, id_: str, scope: str = '') -> _Row | None:
        row = conn.execute(
            'SELECT * FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? AND id=?',
            (*self._space, kind, scope, id_),
        ).fetchone()
        return _Row.of(row) if row else None

    def _all(self, conn: sqlite3.Connection, kind: str, scope: str = '') -> list[_Row]:
        rows = conn.execute(
            'SELECT * FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? ORDER BY name',
            (*self._space, kind, scope),
        ).fetchall()
        return [_Row.of(row) for row in rows]

    def _page(
            self, conn: sqlite3.Connection, kind: str, condition: str, params: tuple[Any, ...], name_part: str,
            limit: int, offset: int,
    ) -> tuple[int, list[_Row]]:
        """One page of a list call, by name, and the total matching: the page is cut in SQL, so
        listing N objects in pages costs O(N), not O(N) per page."""
        where = f'project=? AND workspace=? AND kind=? AND scope=? AND instr(name, ?) > 0 AND ({condition})'
        args = (*self._space, kind, '', name_part, *params)
        total = int(conn.execute(f'SELECT COUNT(*) FROM objects WHERE {where}', args).fetchone()[0])
        rows = conn.execute(f'SELECT * FROM objects WHERE {where} ORDER BY name LIMIT ? OFFSET ?',
                            (*args, limit, offset)).fetchall()
        return total, [_Row.of(row) for row in rows]

    def _insert(
            self, conn: sqlite3.Connection, kind: str, name: str, spec: Spec, *,
            id_: str, scope: str = '', status: str = '',
    ) -> None:
        now = self._now()
        conn.execute(
            'INSERT INTO objects (project, workspace, kind, scope, name, id, spec, status, version, lock_user,'
            ' create_user, create_time, update_user, update_time) VALUES (?,?,?,?,?,?,?,?,0,NULL,?,?,?,?)',
            (*self._space, kind, scope, name, id_, _dumps(spec), status, self.user, now, self.user, now),
        )

    def _rewrite(self, conn: sqlite3.Connection, row: _Row, spec: Spec, *, name: str | None = None) -> None:
        """Replace a row's spec (and name): a write moves `lastUpdateTime` forward, always.

        Two writes in the same millisecond still give two different times, so a fingerprint
        of `lastUpdateTime` never misses a change [INF: local guarantee, not the service's].
        """
        now = max(self._now(), row.update_time + 1)
        conn.execute(
            'UPDATE objects SET name=?, spec=?, update_user=?, update_time=?'
            ' WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (name or row.name, _dumps(spec), self.user, now, *self._space, row.kind, row.scope, row.name),
        )

    def _set_status(self, conn: sqlite3.Connection, row: _Row, status: str) -> None:
        conn.execute(
            'UPDATE objects SET status=? WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (status, *self._space, row.kind, row.scope, row.name),
        )

    def _delete(self, conn: sqlite3.Connection, row: _Row) -> None:
        conn.execute(
            'DELETE FROM objects WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (*self._space, row.kind, row.scope, row.name),
        )
        if row.kind in ('job', 'script'):
            conn.execute(
                'DELETE FROM versions WHERE project=? AND workspace=? AND kind=? AND name=?',
                (*self._space, row.kind, row.name),
            )

    def _submit_version(self, conn: sqlite3.Connection, kind: str, name: str, spec: Spec) -> int:
        """Submit a new version of a job or script: the object's `version` becomes it."""
        row = conn.execute(
            'SELECT COALESCE(MAX(version), 0) FROM versions WHERE project=? AND workspace=? AND kind=? AND name=?',
            (*self._space, kind, name),
        ).fetchone()
        version = int(row[0]) + 1
        conn.execute(
            'INSERT INTO versions (project, workspace, kind, name, version, spec, time, user)'
            ' VALUES (?,?,?,?,?,?,?,?)',
            (*self._space, kind, name, version, _dumps(spec), self._now(), self.user),
        )
        conn.execute(
            'UPDATE objects SET version=? WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (version, *self._space, kind, '', name),
        )
        return version

    @staticmethod
    def _named(spec: Mapping[str, Any], field: str, name: str) -> Spec:
        out = copy.deepcopy(dict(spec))
        out[field] = name
        return out

    # --- versions ----------------------------------------------------------------------------

    def versions(self, kind: Literal['job', 'script'], name: str) -> list[dict[str, Any]]:
        """Submitted versions of a job or script, oldest first: `{version, spec, time, user}`.

        Every create, update and import submits one; the object's `version` is the last.
        """
        with self._store.read() as conn:
            if self._get(conn, kind, name) is None:
                raise (self._job_missing(name) if kind == 'job' else self._script_missing(name))
            rows = conn.execute(
                'SELECT version, spec, time, user FROM versions'
                ' WHERE project=? AND workspace=? AND kind=? AND name=? ORDER BY version',
                (*self._space, kind, name),
            ).fetchall()
        return [{'version': r['version'], 'spec': json.loads(r['spec']), 'time': r['time'], 'user': r['user']}
                for r in rows]

    # --- Factory jobs ------------------------------------------------------------------------

    @staticmethod
    def _job_missing(name: str) -> EngineError:
        return _dlf('DLF.0100', f'The job does not exist: {name}.')

    def _require_job(self, conn: sqlite3.Connection, name: str) -> _Row:
        row = self._get(conn, 'job', name)
        if row is None:
            raise self._job_missing(name)
        return row

    @staticmethod
    def _check_job(spec: Mapping[str, Any]) -> str:
        """Validate a job body as create/update/import do; return its process type."""
        if not isinstance(spec.get('name'), str) or not spec['name']:
            raise _dlf('DLF.3004', 'The job name is empty.')
        if not _nodes(dict(spec)):
            raise _dlf('DLF.1006', f'The job node is empty: {spec["name"]}.')
        process = spec.get('processType', 'BATCH')
        if process not in ('BATCH', 'REAL_TIME'):
            raise _dlf('DLF.3051', f'The request parameter is invalid: processType {process!r}.')
        return str(process)

    @staticmethod
    def _job_view(row: _Row) -> Spec:
        spec = dict(row.spec)
        spec.update(id=int(row.id), lastUpdateUser=row.update_user, version=str(row.version))
        return spec

    @staticmethod
    def _job_entry(row: _Row) -> dict[str, Any]:
        """A JobResult, as the job list returns it (reference §4.3)."""
        basic = row.spec.get('basicConfig')
        if not isinstance(basic, dict):
            basic = {}
        return {
            'name': row.name,
            'jobType': row.spec.get('processType', 'BATCH'),
            'status': row.status,
            'owner': basic.get('owner') or row.create_user,
            'priority': basic.get('priority', 0),
            'createUser': row.create_user,
            'createTime': row.create_time,
            'lastUpdateTime': row.update_time,
            'lastUpdateUser': row.update_user,
            'path': row.spec.get('directory') or '/',
            'singleNodeJobFlag': bool(row.spec.get('singleNodeJobFlag', False)),
        }

    def list_jobs(
            self, *, job_type: str = 'BATCH', job_name: str = '', limit: int = 10, offset: int = 0,
    ) -> dict[str, Any]:
        """`GET /v1/{pid}/jobs`: `{"total", "jobs": [JobResult]}`, sorted by name.

        Only jobs of `job_type` (real-time jobs only with `REAL_TIME`, as the service does);
        `job_name` is a substring filter; `offset` counts records.
        """
        _paging(limit, offset)
        if job_type not in ('BATCH', 'REAL_TIME'):
            raise _dlf('DLF.3051', f'The request parameter is invalid: jobType {job_type!r}.')
        with self._store.read() as conn:
            total, rows = self._page(conn, 'job', "COALESCE(json_extract(spec, '$.processType'), 'BATCH') = ?",
                                     (job_type,), job_name, limit, offset)
        return {'total': total, 'jobs': [self._job_entry(r) for r in rows]}

    def show_job(self, name: str) -> Spec:
        """`GET /v1/{pid}/jobs/{job_name}`: the job as stored, plus `id`, `lastUpdateUser`, `version`."""
        with self._store.read() as conn:
            return self._job_view(self._require_job(conn, name))

    def create_job(self, spec: Spec) -> None:
        """`POST /v1/{pid}/jobs`: a new job, `STOPPED`, version 1."""
        self._check_job(spec)
        name = str(spec['name'])
        with self._store.write() as conn:
            if self._get(conn, 'job', name) is not None:
                raise _dlf('DLF.0102', f'The job name already exists: {name}.')
            spec = copy.deepcopy(spec)
            self._insert(conn, 'job', name, spec, id_=str(self._store.next_id(conn, 'job', 100001)),
                         status='STOPPED')
            self._submit_version(conn, 'job', name, spec)

    def update_job(self, name: str, spec: Spec) -> None:
        """`PUT /v1/{pid}/jobs/{job_name}`: replace the whole job and submit a new version.

        The body's `name` must be the job's [INF: renames go through v2 rename, §4.4].
        """
        spec = self._named(spec, 'name', name) if 'name' not in spec else copy.deepcopy(spec)
        self._check_job(spec)
        if spec['name'] != name:
            raise _dlf('DLF.3051', f'The request parameter is invalid: cannot rename job {name} by update.')
        with self._store.write() as conn:
            row = self._require_job(conn, name)
            self._rewrite(conn, row, spec)
            self._submit_version(conn, 'job', name, spec)

    def delete_job(self, name: str) -> None:
        """`DELETE /v1/{pid}/jobs/{job_name}` (the service does not ask for a stop first)."""
        with self._store.write() as conn:
            self._delete(conn, self._require_job(conn, name))

    def start_job(self, name: str) -> None:
        """`POST .../jobs/{job_name}/start`: batch → `SCHEDULING`, real-time → `NORMAL`.

        Starting a job that is already scheduling/running fails `DLF.3051` "... is running";
        so does starting a batch job scheduled `EXECUTE_ONCE` (reference §4.5).
        """
        with self._store.write() as conn:
            row = self._require_job(conn, name)
            if row.status in JOB_RUNNING_STATES:
                raise _dlf('DLF.3051', f'The job {name} is running.')
            real_time = row.spec.get('processType') == 'REAL_TIME'
            schedule = row.spec.get('schedule')
            if not real_time and isinstance(schedule, dict) and schedule.get('type') == 'EXECUTE_ONCE':
                raise _dlf('DLF.3051', f'The request parameter is invalid: job {name} runs once and has no'
                                       ' schedule to start.')
            self._set_status(conn, row, 'NORMAL' if real_time else 'SCHEDULING')

    def stop_job(self, name: str) -> None:
        """`POST .../jobs/{job_name}/stop`: → `STOPPED` (stopping a stopped job is a no-op)."""
        with self._store.write() as conn:
            self._set_status(conn, self._require_job(conn, name), 'STOPPED')

    def job_status(self, name: str) -> str:
        """The job's schedule status, as the job list reports it."""
        with self._store.read() as conn:
            return self._require_job(conn, name).status

    def run_immediate(self, name: str) -> int:
        """`POST .../jobs/{job_name}/run-immediate`: a new instance id; batch jobs only (`DLF.0136`)."""
        with self._store.write() as conn:
            row = self._require_job(conn, name)
            if row.spec.get('processType') == 'REAL_TIME':
                raise _dlf('DLF.0136', 'This API can be called only for batch jobs.')
            instance = self._store.next_id(conn, 'instance', 1000001)
            conn.execute(
                'INSERT INTO instances (project, workspace, job, id, start_time, run_ms) VALUES (?,?,?,?,?,?)',
                (*self._space, name, instance, self._now(), self.instance_run_ms),
            )
        return instance

    def get_instance(self, name: str, instance_id: int) -> dict[str, Any]:
        """`GET .../jobs/{job_name}/instances/{instance_id}`: `running` until its run time passed, then `success`."""
        with self._store.read() as conn:
            row = conn.execute(
                'SELECT * FROM instances WHERE project=? AND workspace=? AND job=? AND id=?',
                (*self._space, name, int(instance_id)),
            ).fetchone()
        if row is None:
            raise _dlf('DLF.0137', f'The job instance does not exist: {name} {instance_id}.')
        end = row['start_time'] + row['run_ms']
        done = self._now() >= end
        return {
            'jobName': name, 'instanceId': row['id'], 'instanceType': 2,  # 2 = manual (reference §4.5)
            'status': 'success' if done else 'running',
            'planTime': row['start_time'], 'startTime': row['start_time'], 'endTime': end if done else 0,
        }

    # --- export / import ---------------------------------------------------------------------

    def _dependencies(self, conn: sqlite3.Connection, job: _Row) -> tuple[list[Spec], list[Spec]]:
        """Scripts (`scriptName`) and Factory resources (`resourceName`/`resourcePath` naming one)."""
        scripts: dict[str, Spec] = {}
        resources: dict[str, Spec] = {}
        for node in _nodes(job.spec):
            props = _properties(node)
            script = props.get('scriptName')
            if isinstance(script, str) and script and script not in scripts:
                row = self._get(conn, 'script', script)
                if row is not None:
                    scripts[script] = self._script_view(row)
            for field in ('resourceName', 'resourcePath'):
                resource = props.get(field)
                if isinstance(resource, str) and resource and resource not in resources:
                    row = self._get(conn, 'resource', resource)
                    if row is not None:
                        resources[resource] = self._resource_view(row)
        return list(scripts.values()), list(resources.values())

    def _export(self, names: Sequence[str], export_depend: bool) -> list[tuple[Spec, list[Spec], list[Spec]]]:
        out = []
        with self._store.read() as conn:
            for name in names:
                row = self._require_job(conn, name)
                scripts, resources = self._dependencies(conn, row) if export_depend else ([], [])
                out.append((self._job_view(row), scripts, resources))
        return out

    def export_job(self, name: str, export_depend: bool = True) -> bytes:
        """`POST /v1/{pid}/jobs/{job_name}/export`: zip `jobs/<job>.job`, `scripts/`, `resources/`."""
        return package.build_job_export(self._export([name], export_depend), layout='single')

    def export_jobs(self, names: Sequence[str], export_depend: bool = True) -> bytes:
        """`POST /v1/{pid}/jobs/batch-export`: zip `jobs/<job>/<job>.job` with its scripts/resources.

        At most 100 names (`DLF.3051`); an unknown name fails the call (`DLF.0100`).
        """
        if isinstance(names, str):
            raise TypeError('export_jobs takes a sequence of job names, not one name')
        if not names:
            raise _dlf('DLF.3051', 'The request parameter is invalid: jobList is empty.')
        if len(names) > MAX_EXPORT_JOBS:
            raise _dlf('DLF.3051', f'The request parameter is invalid: jobList has {len(names)} jobs;'
                                   f' at most {MAX_EXPORT_JOBS} jobs can be exported per call.')
        unique = list(dict.fromkeys(names))
        return package.build_job_export(self._export(unique, export_depend), layout='batch')

    def get_task(self, task_id: str) -> dict[str, Any]:
        """`GET /v1/{pid}/system-tasks/{task_id}`: an import's outcome (`DLF.0810` if unknown)."""
        with self._store.read() as conn:
            row = conn.execute(
                'SELECT body FROM tasks WHERE project=? AND workspace=? AND id=?', (*self._space, task_id),
            ).fetchone()
        if row is None:
            raise _dlf('DLF.0810', f'The task does not exist: {task_id}.')
        body: dict[str, Any] = json.loads(row['body'])
        return body

    def import_package(
            self,
            package_bytes: bytes,
            same_name_policy: SameNamePolicy = 'SKIP',
            *,
            max_bytes: int = MAX_PACKAGE_BYTES,
    ) -> dict[str, Any]:
        """Import a package (`package.py` layout or a job export), all or nothing.

        Returns the system task (reference §4.7), also kept for `get_task`. `FAILED` means
        nothing was written: each offending object has a `FAILED` subtask saying why, the
        others `CANCELLED`. On `SUCCESSFUL` every object is `SUCCESSFUL` (written; jobs and
        scripts get a new version) or `SKIPPED` (same name exists, policy `SKIP`). Subtasks
        carry `object`, the object's key (`job/daily`, `cdm-link/<cluster name>/<link>`)
        [INF: an engine extension so callers need not parse the subtask name].
        """
        if same_name_policy not in ('SKIP', 'OVERWRITE'):
            raise _dlf('DLF.3051', f'The request parameter is invalid: sameNamePolicy {same_name_policy!r}.')
        task = _Task(self.project, self._now())
        items: list[tuple[ObjectKey, Spec]] | None = None
        try:
            items = package.read_package(package_bytes)
        except package.PackageError as exc:
            task.fail_package(f'The package cannot be read: {exc.message}')
        if len(package_bytes) > max_bytes:
            message = (f'The package is {len(package_bytes)} bytes ({len(package_bytes) / 2**20:.2f} MiB); an import'
                       f' package may be at most {max_bytes} bytes ({max_bytes / 2**20:.2f} MiB). Nothing was'
                       ' imported: split it into smaller packages.')
            if items:
                for key, _ in items:
                    task.subtask(key, 'FAILED', message)
            else:
                task.subtasks.clear()
                task.fail_package(message)
            items = None
        with self._store.write() as conn:
            if items is not None:
                failures = self._validate_import(conn, items, same_name_policy)
                if failures:
                    for key, _ in items:
                        if key in failures:
                            task.subtask(key, 'FAILED', '; '.join(failures[key]))
                        else:
                            task.subtask(key, 'CANCELLED', 'Not imported: other objects in the package were'
                                                           ' refused, and a package is imported whole or not at all.')
                else:
                    for key, spec in items:
                        status, message = self._import_one(conn, key, spec, same_name_policy)
                        task.subtask(key, status, message)
            body = task.finish(self._now())
            conn.execute('INSERT INTO tasks (project, workspace, id, body) VALUES (?,?,?,?)',
                         (*self._space, task.id, _dumps(body)))
        return body

    def _cluster_ids(self, conn: sqlite3.Connection) -> dict[str, str]:
        return {row.name: row.id for row in self._all(conn, 'cluster')}

    def _existing(self, conn: sqlite3.Connection, key: ObjectKey, clusters: Mapping[str, str]) -> _Row | None:
        scope = clusters[key.cluster] if key.kind in CDM_KINDS else ''
        return self._get(conn, key.kind, key.name, scope)

    def _validate_import(
            self, conn: sqlite3.Connection, items: Sequence[tuple[ObjectKey, Spec]], policy: SameNamePolicy,
    ) -> dict[ObjectKey, list[str]]:
        """Every reason to refuse the package, per object. Empty: the package can be written."""
        failures: dict[ObjectKey, list[str]] = {}
        clusters = self._cluster_ids(conn)
        connections = {row.name for row in self._all(conn, 'connection')}
        connections |= {key.name for key, _ in items if key.kind == 'connection'}
        package_links = {(key.cluster, key.name) for key, _ in items if key.kind == 'cdm-link'}

        def missing_connection(name: str) -> bool:
            return name not in connections

        for key, spec in items:
            problems = failures.setdefault(key, [])
            if key.kind in CDM_KINDS and key.cluster not in clusters:
                problems.append(f'Cdm.0001: the CDM cluster {key.cluster} does not exist.')
                continue
            existing = self._existing(conn, key, clusters)
            if existing is not None and policy == 'SKIP':
                continue  # left untouched: nothing of it is written, nothing to check
            if key.kind == 'job':
                try:
                    self._check_job(spec)
                except EngineError as exc:
                    problems.append(f'{exc.code}: {exc.message}')
                if existing is not None and existing.status in JOB_RUNNING_STATES:
                    problems.append(f'The job {key.name} is {existing.status}: a same-named job must be stopped'
                                    ' before it is overwritten.')
                for node, name in job_connection_refs(spec):
                    if missing_connection(name):
                        problems.append(f'Node {node} uses data connection {name}, which exists neither in the'
                                        ' workspace nor in the package.')
            elif key.kind == 'script':
                if existing is not None and existing.lock_user and existing.lock_user != self.user:
                    problems.append(f'The script {key.name} is locked by {existing.lock_user}; only the lock'
                                    f' holder can overwrite it (importing as {self.user}).')
                used = spec.get('connectionName')
                if isinstance(used, str) and used and missing_connection(used):
                    problems.append(f'The script uses data connection {used}, which exists neither in the'
                                    ' workspace nor in the package.')
            elif key.kind == 'cdm-job':
                scope = clusters[key.cluster]
                for link in _cdm_links(spec):
                    if (key.cluster, link) not in package_links and self._get(conn, 'cdm-link', link, scope) is None:
                        problems.append(f'Cdm.0101: the link {link} does not exist in cluster {key.cluster}'
                                        ' nor in the package.')
                if existing is not None and self._cdm_status(conn, scope, key.name) in CDM_RUNNING_STATES:
                    problems.append(f'Cdm.0052: the CDM job {key.name} is running; stop it before it is'
                                    ' overwritten.')
        return {key: problems for key, problems in failures.items() if problems}

    def _import_one(
            self, conn: sqlite3.Connection, key: ObjectKey, spec: Spec, policy: SameNamePolicy,
    ) -> tuple[str, str]:
        clusters = self._cluster_ids(conn)
        existing = self._existing(conn, key, clusters)
        if existing is not None and policy == 'SKIP':
            return 'SKIPPED', f'A {key.kind} named {key.name} exists; skipped (sameNamePolicy SKIP).'
        spec = self._named(spec, NAME_FIELD[key.kind], key.name)
        scope = clusters[key.cluster] if key.kind in CDM_KINDS else ''
        if existing is not None:
            self._rewrite(conn, existing, spec)
        else:
            status = 'STOPPED' if key.kind == 'job' else ''
            if key.kind in ('job', 'script'):
                id_ = str(self._store.next_id(conn, key.kind, 100001 if key.kind == 'job' else 1))
            elif key.kind == 'connection':
                id_ = uuid.uuid4().hex  # dw_id: 32 hex digits
            else:
                id_ = str(uuid.uuid4())
            self._insert(conn, key.kind, key.name, spec, id_=id_, scope=scope, status=status)
        if key.kind in ('job', 'script'):
            version = self._submit_version(conn, key.kind, key.name, spec)
            return 'SUCCESSFUL', f'Imported; version {version} submitted.'
        return 'SUCCESSFUL', 'Imported.'

    # --- scripts -----------------------------------------------------------------------------

    @staticmethod
    def _script_missing(name: str) -> EngineError:
        return _dlf('DLF.6201', f'The script does not exist: {name}.')

    def _require_script(self, conn: sqlite3.Connection, name: str) -> _Row:
        row = self._get(conn, 'script', name)
        if row is None:
            raise self._script_missing(name)
        return row

    @staticmethod
    def _script_view(row: _Row) -> Spec:
        spec = dict(row.spec)
        spec.update(id=int(row.id), version=row.version, createUser=row.create_user)
        return spec

    def list_scripts(self, *, script_name: str = '', limit: int = 10, offset: int = 0) -> dict[str, Any]:
        """`GET /v1/{pid}/scripts`: `{"total", "scripts": [...]}`, by name; entries omit `content`
        [INF: keeps lists light; content comes from show] and carry `lastUpdateTime`."""
        _paging(limit, offset)
        with self._store.read() as conn:
            total, rows = self._page(conn, 'script', '1', (), script_name, limit, offset)
        entries = []
        for row in rows:
            entry = self._script_view(row)
            entry.pop('content', None)
            entry['lastUpdateTime'] = row.update_time
            entries.append(entry)
        return {'total': total, 'scripts': entries}

    def show_script(self, name: str) -> Spec:
        """`GET /v1/{pid}/scripts/{script_name}`: the script with content, plus `id`, `version`, `createUser`."""
        with self._store.read() as conn:
            return self._script_view(self._require_script(conn, name))

    def create_script(self, spec: Spec) -> None:
        """`POST /v1/{pid}/scripts` (`DLF.0202` if the name is used)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise _dlf('DLF.3051', 'The request parameter is invalid: the script name is empty.')
        if not spec.get('type'):
            raise _dlf('DLF.6247', f'The script type is not specified: {name}.')
        with self._store.write() as conn:
            if self._get(conn, 'script', name) is not None:
                raise _dlf('DLF.0202', f'The script name is already used: {name}.')
            spec = copy.deepcopy(spec)
            self._insert(conn, 'script', name, spec, id_=str(self._store.next_id(conn, 'script', 1)))
            self._submit_version(conn, 'script', name, spec)

    def update_script(self, name: str, spec: Spec) -> None:
        """`PUT /v1/{pid}/scripts/{script_name}`: name and type cannot change; a new version.

        A script locked by another user cannot be changed (`DLF.0203`) [INF: same rule as import].
        """
        spec = self._named(spec, 'name', name) if 'name' not in spec else copy.deepcopy(spec)
        with self._store.write() as conn:
            row = self._require_script(conn, name)
            if spec['name'] != name or ('type' in spec and spec['type'] != row.spec.get('type')):
                raise _dlf('DLF.3051', f'The request parameter is invalid: the name and type of script {name}'
                                       ' cannot change.')
            if row.lock_user and row.lock_user != self.user:
                raise _dlf('DLF.0203', f'Failed to modify the script {name}: it is locked by {row.lock_user}.')
            self._rewrite(conn, row, spec)
            self._submit_version(conn, 'script', name, spec)

    def delete_script(self, name: str) -> None:
        """`DELETE /v1/{pid}/scripts/{script_name}`."""
        with self._store.write() as conn:
            self._delete(conn, self._require_script(conn, name))

    def lock_script(self, name: str, user: str) -> None:
        """Take the script's lock for `user` (as opening it for edit in the console does)."""
        with self._store.write() as conn:
            row = self._require_script(conn, name)
            conn.execute(
                'UPDATE objects SET lock_user=? WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
                (user, *self._space, 'script', '', row.name),
            )

    def unlock_script(self, name: str) -> None:
        """Release the script's lock, whoever holds it."""
        with self._store.write() as conn:
            row = self._require_script(conn, name)
            conn.execute(
                'UPDATE objects SET lock_user=NULL WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
                (*self._space, 'script', '', row.name),
            )

    def script_lock(self, name: str) -> str | None:
        """Who holds the script's lock, or None."""
        with self._store.read() as conn:
            return self._require_script(conn, name).lock_user

    # --- resources ---------------------------------------------------------------------------

    def _require_resource(self, conn: sqlite3.Connection, resource_id: str) -> _Row:
        row = self._get_by_id(conn, 'resource', resource_id)
        if row is None:
            raise _dlf('DLF.6241', f'The resource does not exist: {resource_id}.')
        return row

    @staticmethod
    def _resource_view(row: _Row) -> Spec:
        spec = dict(row.spec)
        spec['id'] = row.id
        return spec

    def list_resources(self, *, resource_name: str = '', limit: int = 10, offset: int = 0) -> dict[str, Any]:
        """`GET /v1/{pid}/resources`: `{"total", "resources": [...]}` with `id` and `lastUpdateTime`."""
        _paging(limit, offset)
        with self._store.read() as conn:
            rows = [r for r in self._all(conn, 'resource') if resource_name in r.name]
        return {'total': len(rows),
                'resources': [{**self._resource_view(r), 'lastUpdateTime': r.update_time}
                              for r in rows[offset:offset + limit]]}

    def show_resource(self, resource_id: str) -> Spec:
        """`GET /v1/{pid}/resources/{resource_id}`."""
        with self._store.read() as conn:
            return self._resource_view(self._require_resource(conn, resource_id))

    def resource_id(self, name: str) -> str:
        """The id of the resource named `name` (`DLF.6241` if none)."""
        with self._store.read() as conn:
            row = self._get(conn, 'resource', name)
        if row is None:
            raise _dlf('DLF.6241', f'The resource does not exist: {name}.')
        return row.id

    def create_resource(self, spec: Spec) -> str:
        """`POST /v1/{pid}/resources`: the new resource's UUID (the `resourceId` of the response)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise _dlf('DLF.3051', 'The request parameter is invalid: the resource name is empty.')
        with self._store.write() as conn:
            if self._get(conn, 'resource', name) is not None:
                raise _dlf('DLF.6259', f'A resource with the same name exists in the directory: {name}.')
            id_ = str(uuid.uuid4())
            self._insert(conn, 'resource', name, copy.deepcopy(spec), id_=id_)
        return id_

    def update_resource(self, resource_id: str, spec: Spec) -> None:
        """`PUT /v1/{pid}/resources/{resource_id}`: the whole resource; it may be renamed."""
        with self._store.write() as conn:
            row = self._require_resource(conn, resource_id)
            spec = self._named(spec, 'name', row.name) if 'name' not in spec else copy.deepcopy(spec)
            name = str(spec['name'])
            if name != row.name and self._get(conn, 'resource', name) is not None:
                raise _dlf('DLF.6259', f'A resource with the same name exists in the directory: {name}.')
            self._rewrite(conn, row, spec, name=name)

    def delete_resource(self, resource_id: str) -> None:
        """`DELETE /v1/{pid}/resources/{resource_id}`."""
        with self._store.write() as conn:
            self._delete(conn, self._require_resource(conn, resource_id))

    # --- data connections (Management Center) -----------------------------------------------

    def _require_connection(self, conn: sqlite3.Connection, dw_id: str) -> _Row:
        row = self._get_by_id(conn, 'connection', dw_id)
        if row is None:
            raise _dayu('DAYU.1005', f'The data connection does not exist: {dw_id}.')
        return row

    @staticmethod
    def _connection_view(row: _Row) -> Spec:
        spec = mask_connection(row.spec)
        if isinstance(spec.get('dw_config'), dict):
            spec['dw_config']['update_time'] = row.update_time  # the service adds it on every write
        spec.update(dw_id=row.id, create_user=row.create_user, create_time=row.create_time)
        return spec

    def list_connections(self, *, name: str = '', limit: int = 10, offset: int = 0) -> dict[str, Any]:
        """`GET /v1/{pid}/data-connections`: `{"count", "max_records", "total_size",
        "data_connection_lists": [...]}`; entries carry no `dw_config`, but `lastUpdateTime`."""
        _paging(limit, offset)
        with self._store.read() as conn:
            rows = [r for r in self._all(conn, 'connection') if name in r.name]
        page = rows[offset:offset + limit]
        entries = [{
            'dw_name': r.name, 'dw_type': r.spec.get('dw_type', ''), 'dw_id': r.id,
            'create_user': r.create_user, 'create_time': r.create_time,
            'agent_id': r.spec.get('agent_id', ''), 'agent_name': r.spec.get('agent_name', ''),
            'qualified_name': r.name, 'description': r.spec.get('description', ''),
            'lastUpdateTime': r.update_time,
        } for r in page]
        return {'count': len(entries), 'max_records': 50, 'total_size': len(rows), 'data_connection_lists': entries}

    def show_connection(self, dw_id: str) -> Spec:
        """`GET /v1/{pid}/data-connections/{id}`: passwords read back as `*********`."""
        with self._store.read() as conn:
            return self._connection_view(self._require_connection(conn, dw_id))

    def connection_id(self, name: str) -> str:
        """The `dw_id` of the connection named `name` (`DAYU.1005` if none)."""
        with self._store.read() as conn:
            row = self._get(conn, 'connection', name)
        if row is None:
            raise _dayu('DAYU.1005', f'The data connection does not exist: {name}.')
        return row.id

    def create_connection(self, spec: Spec) -> str:
        """`POST /v1/{pid}/data-connections` (one DataSourceVo): its new 32-hex `dw_id`."""
        name = spec.get('dw_name')
        if not isinstance(name, str) or not name or not spec.get('dw_type'):
            raise _dayu('DLF.3051', 'The request parameter is invalid: dw_name and dw_type are required.')
        with self._store.write() as conn:
            if self._get(conn, 'connection', name) is not None:
                raise _dayu('DLF.6309', f'The connection name is in use: {name}.')
            id_ = uuid.uuid4().hex
            self._insert(conn, 'connection', name, copy.deepcopy(spec), id_=id_)
        return id_

    def update_connection(self, dw_id: str, spec: Spec) -> None:
        """`PUT /v1/{pid}/data-connections/{id}`: the whole DataSourceVo; it may be renamed."""
        with self._store.write() as conn:
            row = self._require_connection(conn, dw_id)
            spec = self._named(spec, 'dw_name', row.name) if 'dw_name' not in spec else copy.deepcopy(spec)
            name = str(spec['dw_name'])
            if name != row.name and self._get(conn, 'connection', name) is not None:
                raise _dayu('DLF.6309', f'The connection name is in use: {name}.')
            self._rewrite(conn, row, spec, name=name)

    def delete_connection(self, dw_id: str) -> None:
        """`DELETE /v1/{pid}/data-connections/{id}`."""
        with self._store.write() as conn:
            self._delete(conn, self._require_connection(conn, dw_id))

    # --- CDM clusters ------------------------------------------------------------------------

    def create_cluster(self, name: str, id: str | None = None) -> str:
        """Create a CDM cluster (status `200`, normal); its id (a new UUID unless given)."""
        with self._store.write() as conn:
            if self._get(conn, 'cluster', name) is not None:
                raise _cdm('Cdm.0004', f'The request parameter is invalid: cluster name {name} exists.')
            id_ = id or str(uuid.uuid4())
            if self._get_by_id(conn, 'cluster', id_) is not None:
                raise _cdm('Cdm.0004', f'The request parameter is invalid: cluster id {id_} exists.')
            self._insert(conn, 'cluster', name, {'name': name}, id_=id_)
        return id_

    @staticmethod
    def _cluster_view(row: _Row) -> dict[str, Any]:
        def iso(ms: int) -> str:
            return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms / 1000))
        return {'id': row.id, 'name': row.name, 'status': '200', 'statusDetail': 'Normal', 'isFrozen': '0',
                'created': iso(row.create_time), 'updated': iso(row.update_time), 'actionProgress': {},
                'lastUpdateTime': row.update_time}

    def list_clusters(self) -> dict[str, Any]:
        """`GET /v1.1/{pid}/clusters`: `{"clusters": [...]}`, by name."""
        with self._store.read() as conn:
            return {'clusters': [self._cluster_view(r) for r in self._all(conn, 'cluster')]}

    def _require_cluster(self, conn: sqlite3.Connection, cluster_id: str) -> _Row:
        row = self._get_by_id(conn, 'cluster', cluster_id)
        if row is None:
            raise _cdm('Cdm.0001', f'The CDM cluster does not exist: {cluster_id}.')
        return row

    def show_cluster(self, cluster_id: str) -> dict[str, Any]:
        """`GET /v1.1/{pid}/clusters/{cluster_id}` (`Cdm.0001` if unknown)."""
        with self._store.read() as conn:
            return self._cluster_view(self._require_cluster(conn, cluster_id))

    def cluster_id(self, name: str) -> str:
        """The id of the cluster named `name` (`Cdm.0001` if none)."""
        with self._store.read() as conn:
            row = self._get(conn, 'cluster', name)
        if row is None:
            raise _cdm('Cdm.0001', f'The CDM cluster does not exist: {name}.')
        return row.id

    # --- CDM links ---------------------------------------------------------------------------

    def _require_link(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> _Row:
        self._require_cluster(conn, cluster_id)
        row = self._get(conn, 'cdm-link', name, cluster_id)
        if row is None:
            raise _cdm('Cdm.0101', f'The link does not exist: {name}.')
        return row

    @staticmethod
    def _link_view(row: _Row) -> Spec:
        spec = mask_link(row.spec)
        spec.update({'creation-user': row.create_user, 'creation-date': row.create_time,
                     'update-user': row.update_user, 'update-date': row.update_time})
        return spec

    def list_links(self, cluster_id: str) -> dict[str, Any]:
        """`GET .../cdm/link/all`: `{"links": [...]}`, masked, each with `lastUpdateTime`."""
        with self._store.read() as conn:
            self._require_cluster(conn, cluster_id)
            rows = self._all(conn, 'cdm-link', cluster_id)
        return {'links': [{**self._link_view(r), 'lastUpdateTime': r.update_time} for r in rows]}

    def show_link(self, cluster_id: str, name: str) -> Spec:
        """`GET .../cdm/link/{link_name}`: the link (the route wraps it in `{"links": [...]}`),
        secret inputs read back as `Add password here`."""
        with self._store.read() as conn:
            return self._link_view(self._require_link(conn, cluster_id, name))

    def create_link(self, cluster_id: str, spec: Spec) -> None:
        """`POST .../cdm/link` with one link (`Cdm.0315` if the name exists)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise _cdm('Cdm.0004', 'The request parameter is invalid: the link name is empty.')
        with self._store.write() as conn:
            self._require_cluster(conn, cluster_id)
            if self._get(conn, 'cdm-link', name, cluster_id) is not None:
                raise _cdm('Cdm.0315', f'Link name [{name}] already exist or created by other user.')
            self._insert(conn, 'cdm-link', name, copy.deepcopy(spec), id_=str(uuid.uuid4()), scope=cluster_id)

    def update_link(self, cluster_id: str, name: str, spec: Spec) -> None:
        """`PUT .../cdm/link/{link_name}` with the whole link; the body may rename it, unless a
        job uses it (`Cdm.0321`) [INF: the jobs would lose their link].

        The body is stored as given: a `Add password here` sent back is stored literally, as
        the reference assumes the service does (§9.3).
        """
        with self._store.write() as conn:
            row = self._require_link(conn, cluster_id, name)
            spec = self._named(spec, 'name', name) if 'name' not in spec else copy.deepcopy(spec)
            new = str(spec['name'])
            if new != name and self._get(conn, 'cdm-link', new, cluster_id) is not None:
                raise _cdm('Cdm.0315', f'Link name [{new}] already exist or created by other user.')
            if new != name:
                self._require_unused(conn, cluster_id, name)
            self._rewrite(conn, row, spec, name=new)

    def _require_unused(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> None:
        users = [r.name for r in self._all(conn, 'cdm-job', cluster_id) if name in _cdm_links(r.spec)]
        if users:
            raise _cdm('Cdm.0321', f'Link {name} has been used by job(s) {", ".join(users)}.')

    def delete_link(self, cluster_id: str, name: str) -> None:
        """`DELETE .../cdm/link/{link_name}`; a link a job uses cannot go (`Cdm.0321`)."""
        with self._store.write() as conn:
            row = self._require_link(conn, cluster_id, name)
            self._require_unused(conn, cluster_id, name)
            self._delete(conn, row)

    # --- CDM jobs ----------------------------------------------------------------------------

    def _require_cdm_job(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> _Row:
        self._require_cluster(conn, cluster_id)
        row = self._get(conn, 'cdm-job', name, cluster_id)
        if row is None:
            raise _cdm('Cdm.0100', f'Job[{name}] doesn\'t exist.')
        return row

    def _last_submission(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            'SELECT * FROM submissions WHERE project=? AND workspace=? AND scope=? AND job=?'
            ' ORDER BY id DESC LIMIT 1',
            (*self._space, cluster_id, name),
        ).fetchone()
        return row

    def _submission_status(self, sub: sqlite3.Row) -> str:
        """BOOTING at its start, RUNNING while its run time lasts, SUCCEEDED after; a stopped
        submission is FAILED [INF: CDM has no STOPPED submission status]."""
        if sub['stop_time'] is not None:
            return 'FAILED'
        now = self._now()
        if now >= sub['start_time'] + sub['run_ms']:
            return 'SUCCEEDED'
        return 'RUNNING' if now > sub['start_time'] else 'BOOTING'

    def _cdm_status(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> str:
        sub = self._last_submission(conn, cluster_id, name)
        return 'NEW' if sub is None else self._submission_status(sub)

    def _submission_view(self, sub: sqlite3.Row, status: str | None = None) -> dict[str, Any]:
        status = status or self._submission_status(sub)
        view: dict[str, Any] = {
            'job-name': sub['job'], 'submission-id': sub['id'], 'status': status,
            'creation-user': sub['user'], 'creation-date': sub['start_time'],
            'last-update-user': sub['user'],
            'last-update-date': sub['stop_time'] or sub['start_time'],
            'progress': {'SUCCEEDED': 100, 'FAILED': -1}.get(status, 0),
            'isIncrementing': False, 'is-execute-auto': False, 'isDeleteJob': False,
            'delete_rows': 0, 'update_rows': 0, 'write_rows': 0,
        }
        if status == 'FAILED':
            view['error-summary'] = 'The job was stopped by the user.'
        return view

    def _cdm_job_view(self, conn: sqlite3.Connection, row: _Row) -> Spec:
        spec = dict(row.spec)
        spec.update({
            'status': self._cdm_status(conn, row.scope, row.name),
            'creation-user': row.create_user, 'creation-date': row.create_time,
            'update-user': row.update_user, 'update-date': row.update_time,
            'group_name': cdm_group(row.spec),
        })
        return spec

    def _check_links(self, conn: sqlite3.Connection, cluster_id: str, spec: Spec) -> None:
        for link in _cdm_links(spec):
            if self._get(conn, 'cdm-link', link, cluster_id) is None:
                raise _cdm('Cdm.0101', f'The link does not exist: {link}.')

    def list_cdm_jobs(
            self, cluster_id: str, *, filter: str = '', job_type: str = 'NORMAL_JOB',
            page_no: int = 1, page_size: int = 10,
    ) -> dict[str, Any]:
        """`GET .../cdm/job/all`: `{"total", "jobs", "page_no", "page_size"}` of one `jobType`
        (a job without `job_type` is a `NORMAL_JOB`); `filter` matches names by substring."""
        if page_no < 1 or not 1 <= page_size <= 100:
            raise _cdm('Cdm.0004', f'The request parameter is invalid: page_no {page_no}, page_size {page_size}.')
        with self._store.read() as conn:
            self._require_cluster(conn, cluster_id)
            rows = [r for r in self._all(conn, 'cdm-job', cluster_id)
                    if filter in r.name and r.spec.get('job_type', 'NORMAL_JOB') == job_type]
            start = (page_no - 1) * page_size
            jobs = [{**self._cdm_job_view(conn, r), 'lastUpdateTime': r.update_time}
                    for r in rows[start:start + page_size]]
        return {'total': len(rows), 'jobs': jobs, 'page_no': page_no, 'page_size': page_size}

    def show_cdm_job(self, cluster_id: str, name: str) -> Spec:
        """`GET .../cdm/job/{job_name}`: the job (the route wraps it in `{"jobs": [...]}`)."""
        with self._store.read() as conn:
            return self._cdm_job_view(conn, self._require_cdm_job(conn, cluster_id, name))

    def create_cdm_job(self, cluster_id: str, spec: Spec) -> None:
        """`POST .../cdm/job` with one job; its links must exist (`Cdm.0101`), its name not (`Cdm.0104`)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise _cdm('Cdm.0004', 'The request parameter is invalid: the job name is empty.')
        with self._store.write() as conn:
            self._require_cluster(conn, cluster_id)
            if self._get(conn, 'cdm-job', name, cluster_id) is not None:
                raise _cdm('Cdm.0104', 'Job name already exist or created by other.')
            self._check_links(conn, cluster_id, spec)
            self._insert(conn, 'cdm-job', name, copy.deepcopy(spec), id_=str(uuid.uuid4()), scope=cluster_id)

    def _require_idle(self, conn: sqlite3.Connection, row: _Row) -> None:
        if self._cdm_status(conn, row.scope, row.name) in CDM_RUNNING_STATES:
            raise _cdm('Cdm.0052', f'Job {row.name} is running.')

    def update_cdm_job(self, cluster_id: str, name: str, spec: Spec) -> None:
        """`PUT .../cdm/job/{job_name}` with the whole job; refused while it runs (`Cdm.0052`)."""
        with self._store.write() as conn:
            row = self._require_cdm_job(conn, cluster_id, name)
            self._require_idle(conn, row)
            spec = self._named(spec, 'name', name) if 'name' not in spec else copy.deepcopy(spec)
            new = str(spec['name'])
            if new != name and self._get(conn, 'cdm-job', new, cluster_id) is not None:
                raise _cdm('Cdm.0104', 'Job name already exist or created by other.')
            self._check_links(conn, cluster_id, spec)
            self._rewrite(conn, row, spec, name=new)
            if new != name:
                conn.execute('UPDATE submissions SET job=? WHERE project=? AND workspace=? AND scope=? AND job=?',
                             (new, *self._space, cluster_id, name))

    def _delete_cdm_job(self, conn: sqlite3.Connection, row: _Row) -> None:
        self._delete(conn, row)
        conn.execute('DELETE FROM submissions WHERE project=? AND workspace=? AND scope=? AND job=?',
                     (*self._space, row.scope, row.name))

    def delete_cdm_job(self, cluster_id: str, name: str) -> None:
        """`DELETE .../cdm/job/{job_name}`; refused while it runs (`Cdm.0052`)."""
        with self._store.write() as conn:
            row = self._require_cdm_job(conn, cluster_id, name)
            self._require_idle(conn, row)
            self._delete_cdm_job(conn, row)

    def start_cdm_job(self, cluster_id: str, name: str) -> dict[str, Any]:
        """`PUT .../cdm/job/{job_name}/start`: `{"submissions": [...]}` with status `BOOTING`."""
        with self._store.write() as conn:
            row = self._require_cdm_job(conn, cluster_id, name)
            self._require_idle(conn, row)
            sub_id = self._store.next_id(conn, 'submission', 1)
            conn.execute(
                'INSERT INTO submissions (project, workspace, scope, job, id, user, start_time, run_ms, stop_time)'
                ' VALUES (?,?,?,?,?,?,?,?,NULL)',
                (*self._space, cluster_id, name, sub_id, self.user, self._now(), self.cdm_run_ms),
            )
            sub = self._last_submission(conn, cluster_id, name)
            assert sub is not None
            return {'submissions': [self._submission_view(sub, 'BOOTING')]}

    def stop_cdm_job(self, cluster_id: str, name: str) -> None:
        """`PUT .../cdm/job/{job_name}/stop`: the running submission ends `FAILED` (`Cdm.0053` if idle)."""
        with self._store.write() as conn:
            row = self._require_cdm_job(conn, cluster_id, name)
            sub = self._last_submission(conn, cluster_id, name)
            if sub is None or self._submission_status(sub) not in CDM_RUNNING_STATES:
                raise _cdm('Cdm.0053', f'Job {row.name} is not running.')
            conn.execute('UPDATE submissions SET stop_time=? WHERE project=? AND workspace=? AND scope=?'
                         ' AND job=? AND id=?', (self._now(), *self._space, cluster_id, name, sub['id']))

    def cdm_job_status(self, cluster_id: str, name: str) -> dict[str, Any]:
        """`GET .../cdm/job/{job_name}/status`: `{"submissions": [last submission]}`, empty if never run."""
        with self._store.read() as conn:
            self._require_cdm_job(conn, cluster_id, name)
            sub = self._last_submission(conn, cluster_id, name)
            return {'submissions': [] if sub is None else [self._submission_view(sub)]}

    def list_groups(self, cluster_id: str) -> dict[str, list[str]]:
        """CDM job groups of a cluster: group name → its job names (sorted)."""
        with self._store.read() as conn:
            self._require_cluster(conn, cluster_id)
            groups: dict[str, list[str]] = {}
            for row in self._all(conn, 'cdm-job', cluster_id):
                groups.setdefault(cdm_group(row.spec), []).append(row.name)
        return dict(sorted(groups.items()))

    def delete_group(self, cluster_id: str, group: str) -> list[str]:
        """Delete a group and its jobs, as the console does; the deleted job names.

        All or nothing: a running job in the group refuses the whole call (`Cdm.0052`); a
        group without jobs does not exist (`Cdm.0001`) [INF].
        """
        with self._store.write() as conn:
            self._require_cluster(conn, cluster_id)
            rows = [r for r in self._all(conn, 'cdm-job', cluster_id) if cdm_group(r.spec) == group]
            if not rows:
                raise _cdm('Cdm.0001', f'The job group does not exist: {group}.')
            for row in rows:
                self._require_idle(conn, row)
            for row in rows:
                self._delete_cdm_job(conn, row)
        return [row.name for row in rows]


class _Task:
    """A system task being built (reference §4.7)."""

    def __init__(self, project: str, start: int) -> None:
        self.id = uuid.uuid4().hex
        self.project = project
        self.start = start
        self.subtasks: list[dict[str, Any]] = []

    def subtask(self, key: ObjectKey, status: str, message: str) -> None:
        what = {'cdm-link': 'CDM link', 'cdm-job': 'CDM job', 'connection': 'data connection'}.get(key.kind, key.kind)
        where = f' in cluster {key.cluster}' if key.cluster else ''
        self.subtasks.append({
            'id': uuid.uuid4().hex, 'name': f'Import the {what} {key.name}{where}.', 'status': status,
            'message': message, 'object': str(key), 'taskId': self.id,
        })

    def fail_package(self, message: str) -> None:
        self.subtasks.append({'id': uuid.uuid4().hex, 'name': 'Read the package.', 'status': 'FAILED',
                              'message': message, 'object': '', 'taskId': self.id})

    def finish(self, end: int) -> dict[str, Any]:
        failed = any(s['status'] == 'FAILED' for s in self.subtasks)
        for sub in self.subtasks:
            sub['lastUpdate'] = end
        return {
            'id': self.id, 'name': 'Import the package.', 'projectId': self.project,
            'status': 'FAILED' if failed else 'SUCCESSFUL',
            'startTime': self.start, 'endTime': end, 'lastUpdate': end, 'subtasks': self.subtasks,
        }
