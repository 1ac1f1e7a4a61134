"""DataArts Factory: jobs, job instances, scripts, resources and their versions.

Each public method is one Factory route (`list_jobs` is `GET /v1/{pid}/jobs`), takes and
returns API-form JSON and fails with Factory's codes (`DLF.*`, reference §4-§6). The rules
of the Factory service live here: a job needs nodes and a known process type, a running job
cannot be started again, a run-once job has no schedule to start, a locked script can only be
changed by its lock holder, every create/update/import of a job or script submits a version.

Where the reference is silent the choices made here are marked `[INF]` with the reason.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from jobsync import kinds
from jobsync.model import Spec
from jobsync.workspace.service.admin import check_locked_tags, check_review, without_review_fields
from jobsync.workspace.service.errors import EngineError, check_paging, dlf
from jobsync.workspace.service.store import Row, Space, dumps

# The fields of a ScriptInfo ([SDK] huaweicloudsdkdgc v1 `model/script_info.py` attribute_map): what a
# script list entry and a script show answer hold, no more (issue 11: the SDK model is the contract).
SCRIPT_FIELDS = ('name', 'id', 'type', 'directory', 'content', 'connectionName', 'database', 'queueName',
                 'configuration', 'description', 'owner', 'version', 'targetStatus', 'approvers')

JOB_RUNNING_STATES = kinds.JOB_SCHEDULE.running  # the service refuses to overwrite a job in these


def node_properties(node: Any) -> dict[str, Any]:
    """A node's `properties` (`[{name, value}]`, or already a mapping) as a mapping."""
    props = node.get('properties') if isinstance(node, dict) else None
    if isinstance(props, dict):
        return props
    out: dict[str, Any] = {}
    for item in props if isinstance(props, list) else []:
        if isinstance(item, dict) and isinstance(item.get('name'), str):
            out[item['name']] = item.get('value')
    return out


def job_nodes(spec: Spec) -> list[Any]:
    nodes = spec.get('nodes')
    return nodes if isinstance(nodes, list) else []


def job_connection_refs(spec: Spec) -> list[tuple[str, str]]:
    """(node name, connection name) for every node property `connectionName` of a job."""
    refs = []
    for node in job_nodes(spec):
        value = node_properties(node).get('connectionName')
        if isinstance(value, str) and value:
            refs.append((str(node.get('name', '?')), value))
    return refs


class Factory(Space):
    """The Factory routes of one (project, workspace)."""

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
            (*self._space, kind, name, version, dumps(spec), self._now(), self.user),
        )
        conn.execute(
            'UPDATE objects SET version=? WHERE project=? AND workspace=? AND kind=? AND scope=? AND name=?',
            (version, *self._space, kind, '', name),
        )
        return version

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
        return dlf('DLF.0100', f'The job does not exist: {name}.')

    def _require_job(self, conn: sqlite3.Connection, name: str) -> Row:
        row = self._get(conn, 'job', name)
        if row is None:
            raise self._job_missing(name)
        return row

    @staticmethod
    def _check_job(spec: Mapping[str, Any]) -> str:
        """Validate a job body as create/update/import do; return its process type."""
        if not isinstance(spec.get('name'), str) or not spec['name']:
            raise dlf('DLF.3004', 'The job name is empty.')
        if not job_nodes(dict(spec)):
            raise dlf('DLF.1006', f'The job node is empty: {spec["name"]}.')
        process = spec.get('processType', 'BATCH')
        if process not in ('BATCH', 'REAL_TIME'):
            raise dlf('DLF.3051', f'The request parameter is invalid: processType {process!r}.')
        return str(process)

    @staticmethod
    def _job_view(row: Row) -> Spec:
        spec = dict(row.spec)
        spec.update(id=int(row.id), lastUpdateUser=row.update_user, version=str(row.version))
        return spec

    @staticmethod
    def _job_entry(row: Row) -> dict[str, Any]:
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
        check_paging(limit, offset)
        if job_type not in ('BATCH', 'REAL_TIME'):
            raise dlf('DLF.3051', f'The request parameter is invalid: jobType {job_type!r}.')
        with self._store.read() as conn:
            total, rows = self._page(conn, 'job', "COALESCE(json_extract(spec, '$.processType'), 'BATCH') = ?",
                                     (job_type,), job_name, limit, offset)
        return {'total': total, 'jobs': [self._job_entry(r) for r in rows]}

    def show_job(self, name: str, version: int | None = None) -> Spec:
        """`GET /v1/{pid}/jobs/{job_name}`: the job as stored, plus `id`, `lastUpdateUser`, `version`;
        with `version` (ShowJobRequest, [SDK dgc]) that submitted version of it instead.

        A version never submitted answers `DLF.0100` [INF: the docs name no code for it].
        """
        with self._store.read() as conn:
            row = self._require_job(conn, name)
            if version is None:
                return self._job_view(row)
            found = conn.execute(
                'SELECT spec, user FROM versions WHERE project=? AND workspace=? AND kind=? AND name=? AND version=?',
                (*self._space, 'job', name, version)).fetchone()
        if found is None:
            raise dlf('DLF.0100', f'The job does not exist: {name} has no version {version}.')
        spec: Spec = json.loads(found['spec'])
        spec.update(id=int(row.id), lastUpdateUser=found['user'], version=str(version))
        return spec

    def create_job(self, spec: Spec) -> None:
        """`POST /v1/{pid}/jobs`: a new job, `STOPPED`, version 1."""
        self._check_job(spec)
        name = str(spec['name'])
        with self._store.write() as conn:
            if self._get(conn, 'job', name) is not None:
                raise dlf('DLF.0102', f'The job name already exists: {name}.')
            check_locked_tags(conn, self._space, name, spec)
            check_review(conn, self._space, 'job', name, spec, create=True)
            spec = without_review_fields(copy.deepcopy(spec))
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
            raise dlf('DLF.3051', f'The request parameter is invalid: cannot rename job {name} by update.')
        with self._store.write() as conn:
            row = self._require_job(conn, name)
            check_locked_tags(conn, self._space, name, row.spec, spec)
            check_review(conn, self._space, 'job', name, spec, create=False)
            spec = without_review_fields(spec)
            self._rewrite(conn, row, spec)
            self._submit_version(conn, 'job', name, spec)

    def delete_job(self, name: str, body: Mapping[str, Any] | None = None) -> None:
        """`DELETE /v1/{pid}/jobs/{job_name}` (the service does not ask for a stop first); `body` the
        optional DeleteReq (`approvers`, needed with the review switch on)."""
        with self._store.write() as conn:
            row = self._require_job(conn, name)
            check_review(conn, self._space, 'job', name, body or {}, create=False)
            self._delete(conn, row)

    def start_job(self, name: str) -> None:
        """`POST .../jobs/{job_name}/start`: batch → `SCHEDULING`, real-time → `NORMAL`.

        Starting a job that is already scheduling/running fails `DLF.3051` "... is running";
        so does starting a batch job scheduled `EXECUTE_ONCE` (reference §4.5).
        """
        with self._store.write() as conn:
            row = self._require_job(conn, name)
            if row.status in JOB_RUNNING_STATES:
                raise dlf('DLF.3051', f'The job {name} is running.')
            real_time = row.spec.get('processType') == 'REAL_TIME'
            schedule = row.spec.get('schedule')
            if not real_time and isinstance(schedule, dict) and schedule.get('type') == 'EXECUTE_ONCE':
                raise dlf('DLF.3051', f'The request parameter is invalid: job {name} runs once and has no'
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
                raise dlf('DLF.0136', 'This API can be called only for batch jobs.')
            instance = self._store.next_id(conn, 'instance', 1000001)
            conn.execute(
                'INSERT INTO instances (project, workspace, job, id, start_time, run_ms) VALUES (?,?,?,?,?,?)',
                (*self._space, name, instance, self._now(), self.instance_run_ms),
            )
        return instance

    def get_instance(self, name: str, instance_id: int) -> dict[str, Any]:
        """`GET .../jobs/{job_name}/instances/{instance_id}`: `running` until its run time passed, then
        `success` (`fail` for a job in `failing_jobs`; [SDK] `ShowJobInstanceResponse.status` values)."""
        with self._store.read() as conn:
            row = conn.execute(
                'SELECT * FROM instances WHERE project=? AND workspace=? AND job=? AND id=?',
                (*self._space, name, int(instance_id)),
            ).fetchone()
        if row is None:
            raise dlf('DLF.0137', f'The job instance does not exist: {name} {instance_id}.')
        end = row['start_time'] + row['run_ms']
        done = self._now() >= end
        return {
            'jobName': name, 'instanceId': row['id'], 'instanceType': 2,  # 2 = manual (reference §4.5)
            'status': ('fail' if name in self.failing_jobs else 'success') if done else 'running',
            'planTime': row['start_time'], 'startTime': row['start_time'], 'endTime': end if done else 0,
        }

    # --- scripts -----------------------------------------------------------------------------

    @staticmethod
    def _script_missing(name: str) -> EngineError:
        return dlf('DLF.6201', f'The script does not exist: {name}.')

    def _require_script(self, conn: sqlite3.Connection, name: str) -> Row:
        row = self._get(conn, 'script', name)
        if row is None:
            raise self._script_missing(name)
        return row

    @staticmethod
    def _script_view(row: Row) -> Spec:
        # ScriptInfo (huaweicloudsdkdgc v1 `model/script_info.py`): `id` is a str, `version` an int;
        # the model has no `createUser` and no update time (issue 11; notes/issue11-facts.md §1).
        spec = {k: v for k, v in row.spec.items() if k in SCRIPT_FIELDS}
        spec.setdefault('content', '')  # required in the model
        spec.update(id=str(row.id), version=row.version)
        return spec

    def list_scripts(self, *, script_name: str = '', limit: int = 10, offset: int = 0) -> dict[str, Any]:
        """`GET /v1/{pid}/scripts`: `{"total", "scripts": [...]}`, by name; entries are whole
        ScriptInfos, `content` included ([SDK] dgc `ScriptInfo.content` required; [DOC] v1 "Querying a
        Script List": content "Mandatory: Yes"), with no update time (the model has none)."""
        check_paging(limit, offset)
        with self._store.read() as conn:
            total, rows = self._page(conn, 'script', '1', (), script_name, limit, offset)
        return {'total': total, 'scripts': [self._script_view(row) for row in rows]}

    def show_script(self, name: str) -> Spec:
        """`GET /v1/{pid}/scripts/{script_name}`: the script with content, plus `id` and `version`
        (ShowScriptResponse, dgc: the ScriptInfo fields)."""
        with self._store.read() as conn:
            return self._script_view(self._require_script(conn, name))

    def create_script(self, spec: Spec) -> None:
        """`POST /v1/{pid}/scripts` (`DLF.0202` if the name is used)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise dlf('DLF.3051', 'The request parameter is invalid: the script name is empty.')
        if not spec.get('type'):
            raise dlf('DLF.6247', f'The script type is not specified: {name}.')
        with self._store.write() as conn:
            if self._get(conn, 'script', name) is not None:
                raise dlf('DLF.0202', f'The script name is already used: {name}.')
            check_review(conn, self._space, 'script', name, spec, create=True)
            spec = without_review_fields(copy.deepcopy(spec))
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
                raise dlf('DLF.3051', f'The request parameter is invalid: the name and type of script {name}'
                                       ' cannot change.')
            if row.lock_user and row.lock_user != self.user:
                raise dlf('DLF.0203', f'Failed to modify the script {name}: it is locked by {row.lock_user}.')
            check_review(conn, self._space, 'script', name, spec, create=False)
            spec = without_review_fields(spec)
            self._rewrite(conn, row, spec)
            self._submit_version(conn, 'script', name, spec)

    def delete_script(self, name: str, body: Mapping[str, Any] | None = None) -> None:
        """`DELETE /v1/{pid}/scripts/{script_name}`; `body` the optional DeleteReq (`approvers`)."""
        with self._store.write() as conn:
            row = self._require_script(conn, name)
            check_review(conn, self._space, 'script', name, body or {}, create=False)
            self._delete(conn, row)

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

    # --- resources ---------------------------------------------------------------------------

    def _require_resource(self, conn: sqlite3.Connection, resource_id: str) -> Row:
        row = self._get_by_id(conn, 'resource', resource_id)
        if row is None:
            raise dlf('DLF.6241', f'The resource does not exist: {resource_id}.')
        return row

    @staticmethod
    def _resource_view(row: Row) -> Spec:
        spec = dict(row.spec)
        spec['id'] = row.id
        return spec

    def list_resources(self, *, resource_name: str = '', limit: int = 10, offset: int = 0) -> dict[str, Any]:
        """`GET /v1/{pid}/resources`: `{"total", "resources": [...]}`, each the whole ResourceInfo
        with its `id` and no update time ([SDK] dgc `ResourceInfo` has none; issue 11 point 1)."""
        check_paging(limit, offset)
        with self._store.read() as conn:
            rows = [r for r in self._all(conn, 'resource') if resource_name in r.name]
        return {'total': len(rows),
                'resources': [self._resource_view(r) for r in rows[offset:offset + limit]]}

    def show_resource(self, resource_id: str) -> Spec:
        """`GET /v1/{pid}/resources/{resource_id}`."""
        with self._store.read() as conn:
            return self._resource_view(self._require_resource(conn, resource_id))

    def resource_id(self, name: str) -> str:
        """The id of the resource named `name` (`DLF.6241` if none)."""
        with self._store.read() as conn:
            row = self._get(conn, 'resource', name)
        if row is None:
            raise dlf('DLF.6241', f'The resource does not exist: {name}.')
        return row.id

    def create_resource(self, spec: Spec) -> str:
        """`POST /v1/{pid}/resources`: the new resource's UUID (the `resourceId` of the response)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise dlf('DLF.3051', 'The request parameter is invalid: the resource name is empty.')
        with self._store.write() as conn:
            if self._get(conn, 'resource', name) is not None:
                raise dlf('DLF.6259', f'A resource with the same name exists in the directory: {name}.')
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
                raise dlf('DLF.6259', f'A resource with the same name exists in the directory: {name}.')
            self._rewrite(conn, row, spec, name=name)

    def delete_resource(self, resource_id: str) -> None:
        """`DELETE /v1/{pid}/resources/{resource_id}`."""
        with self._store.write() as conn:
            self._delete(conn, self._require_resource(conn, resource_id))
