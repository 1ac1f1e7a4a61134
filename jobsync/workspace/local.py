"""`local:PATH`: the embedded workspace, a SQLite file that behaves like DataArts.

`LocalWorkspace` drives `engine.Engine` exactly the way the HTTP backend drives the service:
the same list calls, batch exports of at most 100 jobs, one show call per script, resource
and connection, `all` listings for CDM, and writes through import packages. Each engine call
is counted in `calls` under the route the real API would use, so a plan made against the local
workspace reports the calls it would spend against DataArts.

Embedded conveniences, which the service does not offer (documented, deliberate):

* CDM clusters are addressed by name in keys and packages; `import_objects` creates a cluster
  that does not exist yet (the service needs one bought and running first).
* Data connections and CDM links and jobs travel in the same import package as jobs, scripts
  and resources (the service imports them through separate APIs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from jobsync.errors import ImportRefused, UsageError, WorkspaceError
from jobsync.model import CDM_KINDS, LiveObject, ObjectKey, Spec
from jobsync.workspace import package
from jobsync.workspace.base import MAX_EXPORT_JOBS, MAX_PACKAGE_BYTES, KeepsRecords, ListEntry
from jobsync.workspace.service import CDM_JOB_TYPES, Engine, EngineError
from jobsync.workspace.statestore import SqliteStateStore

URL_SCHEME = 'local:'
DEFAULT_PATH = '.jobsync/workspace.db'
PAGE = 100  # the largest page every list route accepts

_T = TypeVar('_T')

# The routes the real API would use, by operation (reference §4, §5, §6, §7.2, §9).
LIST_JOBS = 'GET /v1/{pid}/jobs'
EXPORT_JOBS = 'POST /v1/{pid}/jobs/batch-export'
IMPORT_JOBS = 'POST /v1/{pid}/jobs/import'
SHOW_TASK = 'GET /v1/{pid}/system-tasks/{task_id}'
DELETE_JOB = 'DELETE /v1/{pid}/jobs/{job_name}'
START_JOB = 'POST /v1/{pid}/jobs/{job_name}/start'
STOP_JOB = 'POST /v1/{pid}/jobs/{job_name}/stop'
RUN_ONCE = 'POST /v1/{pid}/jobs/{job_name}/run-immediate'
SHOW_INSTANCE = 'GET /v1/{pid}/jobs/{job_name}/instances/{instance_id}'
LIST_SCRIPTS = 'GET /v1/{pid}/scripts'
SHOW_SCRIPT = 'GET /v1/{pid}/scripts/{name}'
DELETE_SCRIPT = 'DELETE /v1/{pid}/scripts/{name}'
LIST_RESOURCES = 'GET /v1/{pid}/resources'
SHOW_RESOURCE = 'GET /v1/{pid}/resources/{resource_id}'
DELETE_RESOURCE = 'DELETE /v1/{pid}/resources/{resource_id}'
LIST_CONNECTIONS = 'GET /v1/{pid}/data-connections'
SHOW_CONNECTION = 'GET /v1/{pid}/data-connections/{id}'
DELETE_CONNECTION = 'DELETE /v1/{pid}/data-connections/{id}'
LIST_CLUSTERS = 'GET /v1.1/{pid}/clusters'
CREATE_CLUSTER = 'POST /v1.1/{pid}/clusters'
LIST_LINKS = 'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all'
DELETE_LINK = 'DELETE /v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}'
LIST_CDM_JOBS = 'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all'
DELETE_CDM_JOB = 'DELETE /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}'
START_CDM_JOB = 'PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start'
STOP_CDM_JOB = 'PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop'
CDM_JOB_STATUS = 'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/status'


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class LocalWorkspace(KeepsRecords):
    """The embedded workspace in the SQLite file at `path` (created if missing).

    Implements `jobsync.workspace.base.Workspace`. Errors are `EngineError`s (a
    `WorkspaceError` carrying the service's code); refused imports raise `ImportRefused`.
    """

    def __init__(
            self,
            path: str | Path,
            *,
            project: str = 'local',
            workspace: str = 'default',
            user: str = 'jobsync',
            max_package_bytes: int = MAX_PACKAGE_BYTES,
            **engine_options: Any,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.url = f'{URL_SCHEME}{path}'
        self.calls: Counter[str] = Counter()
        self.max_package_bytes = max_package_bytes
        self.engine = Engine(self.path, project=project, workspace=workspace, user=user, **engine_options)
        # jobsync's state and locks: tables of the same file, beside the engine's (statestore.py).
        self.records = SqliteStateStore(self.path, project=project, workspace=workspace, where=self.url,
                                        clock=self.engine.now)
        # name -> id, as last listed: the API addresses these by id, jobsync by name.
        self._resource_ids: dict[str, str] = {}
        self._connection_ids: dict[str, str] = {}
        self._cluster_ids: dict[str, str] = {}
        # CDM list entries carry the whole link/job: what `list_objects` saw, `read` may reuse.
        self._cdm_seen: dict[ObjectKey, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f'LocalWorkspace({str(self.path)!r})'

    def _call(self, route: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        self.calls[route] += 1  # counted even when it fails: the call was made
        return fn(*args, **kwargs)

    def _paged(self, route: str, fetch: Callable[[int], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """Every record of a record-offset paged list: pages of 100 until a short page."""
        out: list[dict[str, Any]] = []
        while True:
            page = self._call(route, fetch, len(out))
            out.extend(page)
            if len(page) < PAGE:
                return out

    # --- listing -----------------------------------------------------------------------------

    def _list_jobs(self) -> dict[ObjectKey, ListEntry]:
        out: dict[ObjectKey, ListEntry] = {}
        for job_type in ('BATCH', 'REAL_TIME'):  # real-time jobs are only listed when asked for
            def fetch(offset: int, job_type: str = job_type) -> list[dict[str, Any]]:
                jobs: list[dict[str, Any]] = self.engine.list_jobs(
                    job_type=job_type, limit=PAGE, offset=offset)['jobs']
                return jobs
            for job in self._paged(LIST_JOBS, fetch):
                key = ObjectKey('job', job['name'])
                out[key] = ListEntry(key, job['lastUpdateTime'], job['status'], job.get('path') or '/')
        return out

    def _list_scripts(self) -> dict[ObjectKey, ListEntry]:
        scripts = self._paged(LIST_SCRIPTS, lambda offset: self.engine.list_scripts(
            limit=PAGE, offset=offset)['scripts'])
        return {ObjectKey('script', s['name']): ListEntry(ObjectKey('script', s['name']), s['lastUpdateTime'],
                                                          directory=s.get('directory') or '/')
                for s in scripts}

    def _list_resources(self) -> dict[ObjectKey, ListEntry]:
        resources = self._paged(LIST_RESOURCES, lambda offset: self.engine.list_resources(
            limit=PAGE, offset=offset)['resources'])
        self._resource_ids = {r['name']: r['id'] for r in resources}
        return {ObjectKey('resource', r['name']): ListEntry(ObjectKey('resource', r['name']), r['lastUpdateTime'],
                                                            directory=r.get('directory') or '/')
                for r in resources}

    def _list_connections(self) -> dict[ObjectKey, ListEntry]:
        conns = self._paged(LIST_CONNECTIONS, lambda offset: self.engine.list_connections(
            limit=PAGE, offset=offset)['data_connection_lists'])
        self._connection_ids = {c['dw_name']: c['dw_id'] for c in conns}
        return {ObjectKey('connection', c['dw_name']): ListEntry(ObjectKey('connection', c['dw_name']),
                                                                 c['lastUpdateTime'])
                for c in conns}

    def _list_clusters(self) -> dict[str, str]:
        clusters = self._call(LIST_CLUSTERS, self.engine.list_clusters)['clusters']
        self._cluster_ids = {c['name']: c['id'] for c in clusters}
        return dict(self._cluster_ids)

    def _cdm_links(self, cluster_id: str) -> list[dict[str, Any]]:
        links: list[dict[str, Any]] = self._call(LIST_LINKS, self.engine.list_links, cluster_id)['links']
        return links

    def _cdm_jobs(self, cluster_id: str) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        for job_type in CDM_JOB_TYPES:  # `all` lists NORMAL_JOB only unless told otherwise
            page_no = 1
            while True:
                page = self._call(LIST_CDM_JOBS, self.engine.list_cdm_jobs, cluster_id, job_type=job_type,
                                  page_no=page_no, page_size=PAGE)['jobs']
                jobs.extend(page)
                if len(page) < PAGE:
                    break
                page_no += 1
        return jobs

    def _list_cdm(self) -> dict[ObjectKey, ListEntry]:
        out: dict[ObjectKey, ListEntry] = {}
        self._cdm_seen = {}
        for cluster, cluster_id in self._list_clusters().items():
            for link in self._cdm_links(cluster_id):
                key = ObjectKey('cdm-link', link['name'], cluster)
                out[key] = ListEntry(key, link['lastUpdateTime'])
                self._cdm_seen[key] = link
            for job in self._cdm_jobs(cluster_id):
                key = ObjectKey('cdm-job', job['name'], cluster)
                out[key] = ListEntry(key, job['lastUpdateTime'], job['status'])
                self._cdm_seen[key] = job
        return out

    def list_objects(self) -> dict[ObjectKey, ListEntry]:
        """Every object in the workspace, from list calls only (pages of 100), sorted by key."""
        out: dict[ObjectKey, ListEntry] = {}
        for lister in (self._list_jobs, self._list_scripts, self._list_resources, self._list_connections,
                       self._list_cdm):
            out.update(lister())
        return dict(sorted(out.items()))

    # --- reading -----------------------------------------------------------------------------

    def read(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, LiveObject]:
        """Content for `keys`, as the service returns it (masked; server-managed fields kept).

        Pass the mapping `list_objects()` returned to reuse its `lastUpdateTime`s; given bare
        keys, the list calls of the kinds asked for are made first. Keys that do not exist are
        absent. Jobs come from batch exports of at most 100 (without dependencies), scripts,
        resources and connections from one show call each, CDM links and jobs from the `all`
        listings of their cluster (reused from `list_objects` when the entries passed in are
        the ones it saw: the listing already carried the content). For CDM the list entry's
        `lastUpdateTime` is moved out of the spec into `LiveObject.updated`.
        """
        wanted = sorted(set(keys))
        entries: dict[ObjectKey, ListEntry] = {}
        if isinstance(keys, Mapping):
            entries.update({k: v for k, v in keys.items() if isinstance(v, ListEntry)})
        missing_kinds = {k.kind for k in wanted if k not in entries and k.kind not in CDM_KINDS}
        listers: dict[str, Callable[[], dict[ObjectKey, ListEntry]]] = {
            'job': self._list_jobs, 'script': self._list_scripts,
            'resource': self._list_resources, 'connection': self._list_connections,
        }
        for kind in sorted(missing_kinds):
            entries.update(listers[kind]())
        out: dict[ObjectKey, LiveObject] = {}
        out.update(self._read_jobs([k for k in wanted if k.kind == 'job' and k in entries], entries))
        for key in wanted:
            if key.kind in ('script', 'resource', 'connection') and key in entries:
                spec = self._show(key)
                if spec is not None:
                    out[key] = LiveObject(key, spec, entries[key].updated, entries[key].status)
        cdm = [k for k in wanted if k.kind in CDM_KINDS]
        seen = [k for k in cdm if k in entries and k in self._cdm_seen
                and self._cdm_seen[k]['lastUpdateTime'] == entries[k].updated]
        for key in seen:
            out[key] = self._cdm_live(key, self._cdm_seen[key])
        out.update(self._read_cdm([k for k in cdm if k not in seen]))
        return dict(sorted(out.items()))

    @staticmethod
    def _cdm_live(key: ObjectKey, item: Mapping[str, Any]) -> LiveObject:
        spec = dict(item)
        updated = spec.pop('lastUpdateTime')
        return LiveObject(key, spec, updated, spec.get('status') if key.kind == 'cdm-job' else None)

    def _read_jobs(self, keys: Sequence[ObjectKey], entries: Mapping[ObjectKey, ListEntry]) -> dict[
            ObjectKey, LiveObject]:
        out: dict[ObjectKey, LiveObject] = {}
        for chunk in _chunks(keys, MAX_EXPORT_JOBS):
            names = [k.name for k in chunk]
            try:
                data = self._call(EXPORT_JOBS, self.engine.export_jobs, names, export_depend=False)
            except EngineError as exc:
                if not exc.not_found:
                    raise
                # A job went away since it was listed: export the ones still there.
                present = self._list_jobs()
                names = [n for n in names if ObjectKey('job', n) in present]
                if not names:
                    continue
                data = self._call(EXPORT_JOBS, self.engine.export_jobs, names, export_depend=False)
            for key, spec in package.read_package(data):
                if key.kind == 'job' and key in entries:
                    out[key] = LiveObject(key, spec, entries[key].updated, entries[key].status)
        return out

    def _resolve_id(self, key: ObjectKey) -> str | None:
        """The id the API addresses a resource or connection by; None if it does not exist."""
        ids, lister = ((self._resource_ids, self._list_resources) if key.kind == 'resource'
                       else (self._connection_ids, self._list_connections))
        if key.name not in ids:
            lister()
            ids = self._resource_ids if key.kind == 'resource' else self._connection_ids
        return ids.get(key.name)

    def _show(self, key: ObjectKey) -> Spec | None:
        try:
            if key.kind == 'script':
                return self._call(SHOW_SCRIPT, self.engine.show_script, key.name)
            id_ = self._resolve_id(key)
            if id_ is None:
                return None
            if key.kind == 'resource':
                return self._call(SHOW_RESOURCE, self.engine.show_resource, id_)
            return self._call(SHOW_CONNECTION, self.engine.show_connection, id_)
        except EngineError as exc:
            if exc.not_found:
                return None
            raise

    def _read_cdm(self, keys: Sequence[ObjectKey]) -> dict[ObjectKey, LiveObject]:
        out: dict[ObjectKey, LiveObject] = {}
        if not keys:
            return out
        clusters = self._list_clusters()
        for cluster in sorted({k.cluster for k in keys}):
            if cluster not in clusters:
                continue
            wanted = {k for k in keys if k.cluster == cluster}
            listings: list[tuple[str, list[dict[str, Any]]]] = []
            if any(k.kind == 'cdm-link' for k in wanted):
                listings.append(('cdm-link', self._cdm_links(clusters[cluster])))
            if any(k.kind == 'cdm-job' for k in wanted):
                listings.append(('cdm-job', self._cdm_jobs(clusters[cluster])))
            for kind, items in listings:
                for item in items:
                    key = ObjectKey(kind, item['name'], cluster)  # type: ignore[arg-type]
                    if key in wanted:
                        out[key] = self._cdm_live(key, item)
        return out

    # --- writing -----------------------------------------------------------------------------

    def import_objects(self, items: Sequence[tuple[ObjectKey, Spec]]) -> None:
        """Import `items` as one package with `sameNamePolicy` OVERWRITE, all or nothing.

        Creates the CDM clusters the items name that do not exist yet. Raises
        `ImportRefused` with a reason per refused object (by key string; `package` for the
        package as a whole); nothing was written then.
        """
        if not items:
            return
        needed = sorted({key.cluster for key, _ in items if key.kind in CDM_KINDS})
        if needed:
            clusters = self._list_clusters()
            for cluster in needed:
                if cluster not in clusters:
                    self._cluster_ids[cluster] = self._call(CREATE_CLUSTER, self.engine.create_cluster, cluster)
        data = package.build_package(items)
        task = self._call(IMPORT_JOBS, self.engine.import_package, data, 'OVERWRITE',
                          max_bytes=self.max_package_bytes)
        task = self._call(SHOW_TASK, self.engine.get_task, task['id'])
        if task['status'] != 'SUCCESSFUL':
            reasons = {sub.get('object') or 'package': sub['message']
                       for sub in task['subtasks'] if sub['status'] == 'FAILED'}
            raise ImportRefused(
                f'{self.url} refused the import of {len(items)} object(s) ({len(reasons)} with problems);'
                ' nothing was written', reasons)

    def _cluster(self, key: ObjectKey) -> str:
        if key.cluster not in self._cluster_ids:
            self._list_clusters()
        if key.cluster not in self._cluster_ids:
            raise EngineError('Cdm.0001', f'The CDM cluster does not exist: {key.cluster}.')
        return self._cluster_ids[key.cluster]

    def delete(self, key: ObjectKey) -> None:
        """Delete one object; `EngineError` with `not_found` if it is absent."""
        if key.kind == 'job':
            self._call(DELETE_JOB, self.engine.delete_job, key.name)
        elif key.kind == 'script':
            self._call(DELETE_SCRIPT, self.engine.delete_script, key.name)
        elif key.kind in ('resource', 'connection'):
            id_ = self._resolve_id(key)
            if key.kind == 'resource':
                if id_ is None:
                    raise EngineError('DLF.6241', f'The resource does not exist: {key.name}.')
                self._call(DELETE_RESOURCE, self.engine.delete_resource, id_)
                self._resource_ids.pop(key.name, None)
            else:
                if id_ is None:
                    raise EngineError('DAYU.1005', f'The data connection does not exist: {key.name}.',
                                      family='dayu')
                self._call(DELETE_CONNECTION, self.engine.delete_connection, id_)
                self._connection_ids.pop(key.name, None)
        elif key.kind == 'cdm-link':
            self._call(DELETE_LINK, self.engine.delete_link, self._cluster(key), key.name)
        else:
            self._call(DELETE_CDM_JOB, self.engine.delete_cdm_job, self._cluster(key), key.name)

    @staticmethod
    def _runnable(key: ObjectKey) -> None:
        if key.kind not in ('job', 'cdm-job'):
            raise WorkspaceError(f'{key} cannot be started, stopped or asked its status: only jobs run')

    def job_status(self, key: ObjectKey) -> str:
        """A Factory job's schedule status, or a CDM job's last submission status (`NEW` if never run)."""
        self._runnable(key)
        if key.kind == 'job':
            return self._call(LIST_JOBS, self.engine.job_status, key.name)
        subs = self._call(CDM_JOB_STATUS, self.engine.cdm_job_status, self._cluster(key), key.name)['submissions']
        return str(subs[0]['status']) if subs else 'NEW'

    def start_job(self, key: ObjectKey) -> None:
        self._runnable(key)
        if key.kind == 'job':
            self._call(START_JOB, self.engine.start_job, key.name)
        else:
            self._call(START_CDM_JOB, self.engine.start_cdm_job, self._cluster(key), key.name)

    def stop_job(self, key: ObjectKey) -> None:
        self._runnable(key)
        if key.kind == 'job':
            self._call(STOP_JOB, self.engine.stop_job, key.name)
        else:
            self._call(STOP_CDM_JOB, self.engine.stop_cdm_job, self._cluster(key), key.name)

    @staticmethod
    def _factory_job(key: ObjectKey) -> None:
        if key.kind != 'job':
            raise WorkspaceError(f'{key} cannot be run once: only Factory jobs have instances',
                                 hint='a CDM job runs once each time it is started')

    def run_once(self, key: ObjectKey) -> str:
        self._factory_job(key)
        return str(self._call(RUN_ONCE, self.engine.run_immediate, key.name))

    def instance_status(self, key: ObjectKey, instance_id: str) -> str:
        self._factory_job(key)
        if not instance_id.isdigit():  # the service's ids are numbers (reference §4.5)
            raise EngineError('DLF.0137', f'The job instance does not exist: {key.name} {instance_id}.')
        return str(self._call(SHOW_INSTANCE, self.engine.get_instance, key.name, int(instance_id))['status'])

    def close(self) -> None:
        self.engine.close()


def open_local(url: str, **options: Any) -> LocalWorkspace:
    """The workspace for a `local:PATH` URL (`local:` alone: `.jobsync/workspace.db`)."""
    if not url.startswith(URL_SCHEME):
        raise UsageError(f'not a local workspace URL: {url!r}', hint='write local:PATH, e.g. local:.jobsync/ws.db')
    return LocalWorkspace(url[len(URL_SCHEME):] or DEFAULT_PATH, **options)
