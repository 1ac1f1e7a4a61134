"""Factory packages: job export (single and batch), package import, system tasks.

`export_job`/`export_jobs` are `POST /v1/{pid}/jobs/{job_name}/export` and
`.../jobs/batch-export`; `import_package` is the job import (`POST /v1/{pid}/jobs/import`)
widened to every kind jobsync writes, and `get_task` its system task (reference §4.6-§4.7).
The zip format is `workspace/package.py`'s. The rules here: at most 100 jobs per batch
export, a package is at most 1 MiB, and an import is all or nothing: every reason to refuse
any object is collected first (missing connections and links, running jobs, locked scripts),
and only a package without one is written.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from jobsync.codec import NAME_FIELD
from jobsync.jobdefaults import with_export_defaults
from jobsync.model import CDM_KINDS, MAX_EXPORT_JOBS, MAX_PACKAGE_BYTES, ObjectKey, Spec
from jobsync.workspace import package
from jobsync.workspace.service.admin import check_locked_tags
from jobsync.workspace.service.cdm import CDM_RUNNING_STATES, Cdm, cdm_links
from jobsync.workspace.service.errors import EngineError, dlf
from jobsync.workspace.service.factory import (
    JOB_RUNNING_STATES,
    Factory,
    job_connection_refs,
    job_nodes,
    node_properties,
)
from jobsync.workspace.service.store import Row, dumps

SameNamePolicy = Literal['SKIP', 'OVERWRITE']


class Packages(Factory, Cdm):
    """Export, import and system tasks of one (project, workspace): they read and write every kind."""

    # --- export / import ---------------------------------------------------------------------

    def _dependencies(self, conn: sqlite3.Connection, job: Row) -> tuple[list[Spec], list[Spec]]:
        """Scripts (`scriptName`) and Factory resources (`resourceName`/`resourcePath` naming one)."""
        scripts: dict[str, Spec] = {}
        resources: dict[str, Spec] = {}
        for node in job_nodes(job.spec):
            props = node_properties(node)
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
                out.append((_as_exported(self._job_view(row)), scripts, resources))
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
            raise dlf('DLF.3051', 'The request parameter is invalid: jobList is empty.')
        if len(names) > MAX_EXPORT_JOBS:
            raise dlf('DLF.3051', f'The request parameter is invalid: jobList has {len(names)} jobs;'
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
            raise dlf('DLF.0810', f'The task does not exist: {task_id}.')
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
            raise dlf('DLF.3051', f'The request parameter is invalid: sameNamePolicy {same_name_policy!r}.')
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
                         (*self._space, task.id, dumps(body)))
        return body

    def _cluster_ids(self, conn: sqlite3.Connection) -> dict[str, str]:
        return {row.name: row.id for row in self._all(conn, 'cluster')}

    def _existing(self, conn: sqlite3.Connection, key: ObjectKey, clusters: Mapping[str, str]) -> Row | None:
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
                try:
                    check_locked_tags(conn, self._space, key.name, spec,
                                      *([existing.spec] if existing is not None else []))
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
                for link in cdm_links(spec):
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


def _as_exported(job: Spec) -> Spec:
    """A job as an export file holds it: the defaults the service fills where the definition left
    a field out (`jobdefaults.EXPORT_DEFAULTS`, each with its evidence), and `"value_is_sensitive":
    false` on every node property that does not say otherwise [3P: reference §4.8, a
    console-exported template; examples/repo `jobs/hive_dwd_daily.job`] (issue 11 facts §2).
    Show answers carry neither (ShowJobResponse, ModelProperty: shapes.py)."""
    job = with_export_defaults(job)
    nodes = job.get('nodes')
    if not isinstance(nodes, list):
        return job
    out_nodes = []
    for node in nodes:
        if isinstance(node, dict) and isinstance(node.get('properties'), list):
            node = {**node, 'properties': [{**p, 'value_is_sensitive': p.get('value_is_sensitive', False)}
                                           if isinstance(p, dict) else p for p in node['properties']]}
        out_nodes.append(node)
    return {**job, 'nodes': out_nodes}
