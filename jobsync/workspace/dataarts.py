"""`workspace: dataarts`: the real DataArts Studio service (or `jobsync emulator`) over HTTPS.

Implements `jobsync.workspace.base.Workspace` on the routes of reference §4–§9, through
`dataarts_http.Transport` (auth, rate limits, retries, error mapping):

Reading, in batches (design §5):

* `list_objects` spends list calls only: Factory jobs of both types (`jobType=BATCH` and
  `REAL_TIME`: real-time jobs are listed only when asked for, §3.3), scripts, resources,
  Management-Center data connections, and for each CDM cluster its links and jobs (`all`, every
  `jobType`). Factory lists page by record offset, 100 a page: the first page gives `total`,
  the rest are fetched concurrently; a short page ends the list and the names collected must
  match `total` (§3.3, §13.1: the docs call `offset` a page number, terraform uses records).
* `read` fetches job content by batch export, at most 100 jobs a call, with `exportDepend`
  so that the scripts and resources those jobs use come in the same zip and need no call of
  their own. Scripts, resources and connections nobody's job brought are shown one call each;
  CDM content comes from the `all` listings already made. Calls run `concurrency` at a time.
  CDM input values come back URL-encoded (§9.3) and are decoded.

Writing: the service has no usable atomic import here (`jobs/import` reads a zip from OBS,
§4.7, and covers neither connections nor CDM), so `import_objects` writes each object through
its REST route, in the given order, with its full body (`full_body`: explicit empty lists,
since omitted fields are not cleared, §4.4): update when it exists, create otherwise. Not
all or nothing: `ImportRefused` names each object that failed, and `written` says which went
through. A create whose answer was lost (dropped connection, 5xx) is checked before it is
repeated, so a retried write never duplicates an object.

Configuration (`jobsync.yaml`, target `dataarts:` section; credentials only from the
environment) is read by `open_dataarts`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote

from jobsync import codec
from jobsync.codec import NAME_FIELD
from jobsync.config import Target
from jobsync.errors import ImportRefused, UsageError, WorkspaceError
from jobsync.model import CDM_KINDS, LiveObject, ObjectKey, Spec
from jobsync.state import is_reserved
from jobsync.workspace import package
from jobsync.workspace.base import MAX_EXPORT_JOBS, KeepsRecords, ListEntry
from jobsync.workspace.dataarts_http import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE_LIMITS,
    DEFAULT_TIMEOUT,
    SERVICES,
    ApiError,
    HttpSettings,
    Route,
    Service,
    Transport,
    credentials_from_env,
    default_endpoints,
)
from jobsync.workspace.dataarts_records import ScriptRecordStore, now_ms

PAGE = 100  # the largest page every list route accepts (reference §3.3)
DEFAULT_CONCURRENCY = 4
CDM_JOB_TYPES = ('NORMAL_JOB', 'BATCH_JOB', 'SCENARIO_JOB')  # `all` lists NORMAL_JOB only unless asked
RUNNING = frozenset({'SCHEDULING', 'STARTING', 'NORMAL', 'BOOTING', 'RUNNING'})

_T = TypeVar('_T')
_R = TypeVar('_R')

# --- routes (reference §4.1, §5, §6, §7.2, §9.1) ------------------------------------------------

LIST_JOBS = Route('factory', 'GET', '/v1/{pid}/jobs')
SHOW_JOB = Route('factory', 'GET', '/v1/{pid}/jobs/{job_name}')
CREATE_JOB = Route('factory', 'POST', '/v1/{pid}/jobs')
UPDATE_JOB = Route('factory', 'PUT', '/v1/{pid}/jobs/{job_name}')
DELETE_JOB = Route('factory', 'DELETE', '/v1/{pid}/jobs/{job_name}')
START_JOB = Route('factory', 'POST', '/v1/{pid}/jobs/{job_name}/start')
STOP_JOB = Route('factory', 'POST', '/v1/{pid}/jobs/{job_name}/stop', idempotent=True)
EXPORT_JOBS = Route('factory', 'POST', '/v1/{pid}/jobs/batch-export', idempotent=True)  # a read
# Not safe to repeat: every call makes one more instance (reference §4.5).
RUN_ONCE = Route('factory', 'POST', '/v1/{pid}/jobs/{job_name}/run-immediate', idempotent=False)
SHOW_INSTANCE = Route('factory', 'GET', '/v1/{pid}/jobs/{job_name}/instances/{instance_id}')
LIST_SCRIPTS = Route('factory', 'GET', '/v1/{pid}/scripts')
SHOW_SCRIPT = Route('factory', 'GET', '/v1/{pid}/scripts/{script_name}')
CREATE_SCRIPT = Route('factory', 'POST', '/v1/{pid}/scripts')
UPDATE_SCRIPT = Route('factory', 'PUT', '/v1/{pid}/scripts/{script_name}')
DELETE_SCRIPT = Route('factory', 'DELETE', '/v1/{pid}/scripts/{script_name}')
LIST_RESOURCES = Route('factory', 'GET', '/v1/{pid}/resources')
SHOW_RESOURCE = Route('factory', 'GET', '/v1/{pid}/resources/{resource_id}')
CREATE_RESOURCE = Route('factory', 'POST', '/v1/{pid}/resources')
UPDATE_RESOURCE = Route('factory', 'PUT', '/v1/{pid}/resources/{resource_id}')
DELETE_RESOURCE = Route('factory', 'DELETE', '/v1/{pid}/resources/{resource_id}')
LIST_CONNECTIONS = Route('management', 'GET', '/v1/{pid}/data-connections')
SHOW_CONNECTION = Route('management', 'GET', '/v1/{pid}/data-connections/{data_connection_id}')
CREATE_CONNECTION = Route('management', 'POST', '/v1/{pid}/data-connections')
UPDATE_CONNECTION = Route('management', 'PUT', '/v1/{pid}/data-connections/{data_connection_id}')
DELETE_CONNECTION = Route('management', 'DELETE', '/v1/{pid}/data-connections/{data_connection_id}')
LIST_CLUSTERS = Route('cdm', 'GET', '/v1.1/{pid}/clusters')
LIST_LINKS = Route('cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/all')
SHOW_LINK = Route('cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}')
CREATE_LINK = Route('cdm', 'POST', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link')
UPDATE_LINK = Route('cdm', 'PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}')
DELETE_LINK = Route('cdm', 'DELETE', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}')
LIST_CDM_JOBS = Route('cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/all')
SHOW_CDM_JOB = Route('cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}')
CREATE_CDM_JOB = Route('cdm', 'POST', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job')
UPDATE_CDM_JOB = Route('cdm', 'PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}')
DELETE_CDM_JOB = Route('cdm', 'DELETE', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}')
# A PUT, but not safe to repeat: every start makes a submission; the caller checks the status.
START_CDM_JOB = Route('cdm', 'PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start', idempotent=False)
STOP_CDM_JOB = Route('cdm', 'PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop', idempotent=False)
CDM_JOB_STATUS = Route('cdm', 'GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/status')

# The codes a create answers when the name is taken (reference §4.8, §5, §6, §7, §9).
ALREADY_EXISTS = frozenset({'DLF.0102', 'DLF.0202', 'DLF.6259', 'DLF.6309', 'Cdm.0104', 'Cdm.0315', 'Cdm.0318'})
# Answers that mean every further call would fail the same way: stop writing.
_FATAL_CODES = frozenset({'APIGW.0101', 'APIGW.0301', 'APIGW.0302', 'DLF.0819', 'DLF.20819', 'DAYU.3601'})
_CREATE_ROUNDS = 3
_POOL_PREFIX = 'jobsync-dataarts'


# --- configuration -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataArtsConfig:
    """A `dataarts` target, from jobsync.yaml (credentials excluded: they come from the environment)."""

    project_id: str
    region: str = ''
    workspace_id: str = ''
    endpoints: Mapping[Service, str] | None = None
    cdm_clusters: Mapping[str, str] | None = None  # CDM cluster name -> id
    rate_limits: Mapping[Service, float] | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    timeout: float = DEFAULT_TIMEOUT
    verify_tls: bool = True

    @classmethod
    def from_target(cls, target: Target) -> DataArtsConfig:
        """Read the target's `dataarts:` mapping (schema-validated by `load`); `UsageError` if unusable."""
        where = f'target {target.name!r}'
        raw = target.settings.get('dataarts')
        if not isinstance(raw, Mapping):
            raise UsageError(f'{where}: workspace dataarts needs a `dataarts:` section',
                             hint='give at least region and project_id (see README, "Using a dataarts target")')
        project_id = str(raw.get('project_id') or '')
        region = str(raw.get('region') or '')
        endpoints = dict(raw.get('endpoints') or {})
        if not project_id:
            raise UsageError(f'{where}: dataarts.project_id is not set', hint='the project id of the region')
        unknown = sorted(set(endpoints) - set(SERVICES))
        if unknown:
            raise UsageError(f'{where}: unknown endpoint(s) {", ".join(unknown)}',
                             hint=f'endpoints are given per service: {", ".join(SERVICES)}')
        if not region and set(endpoints) != set(SERVICES):
            raise UsageError(f'{where}: dataarts.region is not set',
                             hint='give the region (cn-north-4, ...), or an endpoint for every service')
        limits = raw.get('rate_limits') or {}
        return cls(
            project_id=project_id, region=region, workspace_id=str(raw.get('workspace_id') or ''),
            endpoints={**(default_endpoints(region) if region else {}), **endpoints},
            cdm_clusters={str(k): str(v) for k, v in (raw.get('cdm_clusters') or {}).items()} or None,
            rate_limits={**DEFAULT_RATE_LIMITS, **{k: float(v) for k, v in limits.items()}},
            concurrency=int(raw.get('concurrency', DEFAULT_CONCURRENCY)),
            max_attempts=int(raw.get('max_attempts', DEFAULT_MAX_ATTEMPTS)),
            backoff_base=float(raw.get('backoff_seconds', DEFAULT_BACKOFF_BASE)),
            timeout=float(raw.get('timeout_seconds', DEFAULT_TIMEOUT)),
            verify_tls=bool(raw.get('verify_tls', True)),
        )


def open_dataarts(target: Target, env: Mapping[str, str]) -> DataArtsWorkspace:
    """The workspace of a `workspace: dataarts` target, with credentials from `env`."""
    config = DataArtsConfig.from_target(target)
    credentials = credentials_from_env(env, f'target {target.name!r}')
    settings = HttpSettings(
        project_id=config.project_id, endpoints=dict(config.endpoints or {}), credentials=credentials,
        workspace_id=config.workspace_id, rate_limits=dict(config.rate_limits or DEFAULT_RATE_LIMITS),
        max_attempts=config.max_attempts, backoff_base=config.backoff_base, timeout=config.timeout,
        verify_tls=config.verify_tls,
    )
    return DataArtsWorkspace(Transport(settings), cdm_clusters=config.cdm_clusters,
                             concurrency=config.concurrency, region=config.region)


# --- helpers -------------------------------------------------------------------------------------

def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def decode_cdm_values(spec: Spec) -> Spec:
    """A CDM link or job with every string input value URL-decoded (reference §9.3: GET returns
    them encoded; terraform decodes each with `url.PathUnescape`, which keeps `+`)."""
    out = dict(spec)
    for field in ('link-config-values', 'from-config-values', 'to-config-values', 'driver-config-values'):
        values = out.get(field)
        if not isinstance(values, dict) or not isinstance(values.get('configs'), list):
            continue
        configs = []
        for config in values['configs']:
            if isinstance(config, dict) and isinstance(config.get('inputs'), list):
                inputs = [{**item, 'value': unquote(item['value'])}
                          if isinstance(item, dict) and isinstance(item.get('value'), str) else item
                          for item in config['inputs']]
                config = {**config, 'inputs': inputs}
            configs.append(config)
        out[field] = {**values, 'configs': configs}
    return out


def full_body(kind: str, spec: Spec) -> Spec:
    """The body to send for a create or update: `spec` with the lists that clear state made explicit.

    The service merges an update with what it has: a list left out is kept, not emptied (§4.4;
    terraform had to always send `dependJobs.jobs` to remove a dependency, PR #5262). A
    definition in git that has no dependencies, parameters or upstream nodes must therefore
    say so with empty lists: job `params`, each node's `preNodeName`, a cron schedule's and each
    node cron trigger's `dependJobs.jobs`, and a resource's `dependFiles`. Reading back `[]`
    where git has nothing is no change (diff.py treats empty as absent).
    """
    out: Spec = codec.json_copy(spec)
    if kind == 'job':
        out.setdefault('params', [])
        schedule = out.get('schedule')
        crons = [schedule.get('cron')] if isinstance(schedule, dict) else []
        for node in out.get('nodes') or []:
            if isinstance(node, dict):
                node.setdefault('preNodeName', [])
                crons.append(node.get('cronTrigger'))
        for cron in crons:
            if isinstance(cron, dict):
                depend = cron.setdefault('dependJobs', {})
                if isinstance(depend, dict):
                    depend.setdefault('jobs', [])
    elif kind == 'resource':
        out.setdefault('dependFiles', [])
    return out


def _updated(entry: Mapping[str, Any], *fallbacks: str) -> int:
    """An entry's `lastUpdateTime` (epoch ms), or the first fallback field the service fills."""
    for name in ('lastUpdateTime', *fallbacks):
        value = entry.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return 0


class DataArtsWorkspace(KeepsRecords):
    """The DataArts service behind a `Transport`. Implements `jobsync.workspace.base.Workspace`.

    Errors are `ApiError`s (`WorkspaceError` with status, code, request id, hint, `not_found`).
    Not thread-safe itself (one command at a time); it runs its own calls concurrently.
    """

    def __init__(
            self, transport: Transport, *, cdm_clusters: Mapping[str, str] | None = None,
            concurrency: int = DEFAULT_CONCURRENCY, region: str = '', clock: Callable[[], int] = now_ms,
    ) -> None:
        self.http = transport
        self.calls: Counter[str] = transport.calls
        settings = transport.settings
        self.url = f'dataarts:{region or settings.endpoints["factory"]}/{settings.project_id}/' \
                   f'{settings.workspace_id or "default"}'
        # jobsync's state and locks: reserved scripts of the workspace (dataarts_records.py).
        self.records = ScriptRecordStore(transport, where=self.url, clock=clock)
        self._configured_clusters = dict(cdm_clusters) if cdm_clusters else None
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=_POOL_PREFIX)
        self._lock = threading.Lock()
        # What the last listing saw: the API addresses resources, connections and CDM clusters
        # by id, jobsync by name; existence decides between create and update.
        self._ids: dict[ObjectKey, str] = {}
        self._listed_kinds: set[str] = set()
        self._job_types: dict[str, str] = {}
        self._cluster_ids: dict[str, str] | None = None
        # CDM listings carry whole links and jobs: what `list_objects` saw, `read` reuses.
        self._cdm_seen: dict[ObjectKey, dict[str, Any]] = {}
        # Script list entries that carry their content (then no show call is needed).
        self._script_entries: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f'DataArtsWorkspace({self.url!r})'

    def _map(self, fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        """`fn` over `items`, `concurrency` at a time, results in order. Called from one of the
        pool's own threads it runs in that thread: a pool waiting on itself would deadlock."""
        items = list(items)
        if len(items) <= 1 or threading.current_thread().name.startswith(_POOL_PREFIX):
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    # --- listing -----------------------------------------------------------------------------

    def _paged(self, route: Route, query: Sequence[tuple[str, Any]], items_field: str, total_field: str,
               name_field: str, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every record of a record-offset list (reference §3.3, §13.1): pages of 100; the first
        gives `total`, the others are fetched concurrently; names de-duplicated; the count must
        match `total` (one fresh attempt if the list moved while being read)."""
        def page(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            body = self.http.call(route, params, query=[*query, ('limit', PAGE), ('offset', offset)]).json() or {}
            items = body.get(items_field) or []
            total = body.get(total_field)
            return list(items), int(total) if isinstance(total, (int, str)) and str(total).isdigit() else None

        for attempt in (1, 2):
            first, total = page(0)
            pages = [first]
            if len(first) >= PAGE and total is not None:
                pages += self._map(lambda off: page(off)[0], range(PAGE, total, PAGE))
            # Keep going while pages are full and the total is not reached (it may have grown
            # while we read, or the service may not report one).
            while len(pages[-1]) >= PAGE and (total is None or sum(map(len, pages)) < total):
                pages.append(page(PAGE * len(pages))[0])
            seen: dict[str, dict[str, Any]] = {}
            for items in pages:
                for item in items:
                    if isinstance(item, dict) and isinstance(item.get(name_field), str):
                        seen.setdefault(item[name_field], item)
            if total is None or len(seen) == total:
                return list(seen.values())
            if attempt == 2:
                raise ApiError(
                    f'{route.name} listed {len(seen)} distinct objects but reports a total of {total}',
                    code='PAGING', route=route.name,
                    hint='the service may page by page number rather than by record offset (reference §13.1);'
                         ' please report this with the request ids',
                )
        raise AssertionError('unreachable')

    def _list_jobs(self) -> dict[ObjectKey, ListEntry]:
        out: dict[ObjectKey, ListEntry] = {}
        types: dict[str, str] = {}
        for job_type in ('BATCH', 'REAL_TIME'):  # real-time jobs are listed only when asked for
            for job in self._paged(LIST_JOBS, [('jobType', job_type)], 'jobs', 'total', 'name'):
                key = ObjectKey('job', job['name'])
                out[key] = ListEntry(key, _updated(job, 'createTime'), job.get('status'), job.get('path') or '/')
                types[job['name']] = job_type
        self._job_types = types
        self._forget('job', {k: '' for k in out})
        return out

    def _list_scripts(self) -> dict[ObjectKey, ListEntry]:
        # jobsync's own state and lock scripts are not objects of the workspace (state.py).
        scripts = [s for s in self._paged(LIST_SCRIPTS, [], 'scripts', 'total', 'name')
                   if not is_reserved(ObjectKey('script', s['name']))]
        self._script_entries = {s['name']: s for s in scripts if 'content' in s}
        out = {ObjectKey('script', s['name']): ListEntry(ObjectKey('script', s['name']), _updated(s),
                                                         directory=s.get('directory') or '/')
               for s in scripts}
        self._forget('script', {k: '' for k in out})
        return out

    def _list_resources(self) -> dict[ObjectKey, ListEntry]:
        resources = self._paged(LIST_RESOURCES, [], 'resources', 'total', 'name')
        out = {ObjectKey('resource', r['name']): ListEntry(ObjectKey('resource', r['name']), _updated(r),
                                                           directory=r.get('directory') or '/')
               for r in resources}
        self._forget('resource', {ObjectKey('resource', r['name']): str(r.get('id', '')) for r in resources})
        return out

    def _list_connections(self) -> dict[ObjectKey, ListEntry]:
        conns = self._paged(LIST_CONNECTIONS, [], 'data_connection_lists', 'total_size', 'dw_name')
        out = {ObjectKey('connection', c['dw_name']): ListEntry(ObjectKey('connection', c['dw_name']),
                                                                _updated(c, 'create_time'))
               for c in conns}
        self._forget('connection', {ObjectKey('connection', c['dw_name']): str(c.get('dw_id', '')) for c in conns})
        return out

    def _forget(self, kind: str, ids: Mapping[ObjectKey, str]) -> None:
        """Replace what is known to exist of `kind` (and its ids) with a fresh listing."""
        with self._lock:
            for key in [k for k in self._ids if k.kind == kind]:
                del self._ids[key]
            self._ids.update(ids)
            self._listed_kinds.add(kind)

    def clusters(self) -> dict[str, str]:
        """CDM cluster name -> id: from the target's `cdm_clusters` when given (jobsync then sees
        only those clusters), else from `GET /v1.1/{pid}/clusters`."""
        if self._configured_clusters is not None:
            return dict(self._configured_clusters)
        if self._cluster_ids is None:
            body = self.http.call(LIST_CLUSTERS).json() or {}
            self._cluster_ids = {str(c['name']): str(c['id']) for c in body.get('clusters') or []
                                 if isinstance(c, dict) and c.get('name') and c.get('id')}
        return dict(self._cluster_ids)

    def _cdm_links(self, cluster_id: str) -> list[dict[str, Any]]:
        body = self.http.call(LIST_LINKS, {'cluster_id': cluster_id}).json() or {}
        return [link for link in body.get('links') or [] if isinstance(link, dict) and link.get('name')]

    def _cdm_jobs(self, cluster_id: str) -> list[dict[str, Any]]:
        def of_type(job_type: str) -> list[dict[str, Any]]:
            jobs: list[dict[str, Any]] = []
            page_no = 1
            while True:  # CDM pages by page number, 1-based (reference §3.3)
                body = self.http.call(LIST_CDM_JOBS, {'cluster_id': cluster_id}, query=[
                    ('jobType', job_type), ('page_no', page_no), ('page_size', PAGE)]).json() or {}
                page = [j for j in body.get('jobs') or [] if isinstance(j, dict) and j.get('name')]
                jobs.extend(page)
                total = body.get('total')
                if len(page) < PAGE or (isinstance(total, int) and len(jobs) >= total):
                    return jobs
                page_no += 1
        return [job for job_type in CDM_JOB_TYPES for job in of_type(job_type)]

    def _list_cdm(self) -> dict[ObjectKey, ListEntry]:
        out: dict[ObjectKey, ListEntry] = {}
        seen: dict[ObjectKey, dict[str, Any]] = {}

        def cluster_listing(item: tuple[str, str]) -> list[tuple[ObjectKey, dict[str, Any]]]:
            cluster, cluster_id = item
            found: list[tuple[ObjectKey, dict[str, Any]]] = []
            try:
                links, jobs = self._cdm_links(cluster_id), self._cdm_jobs(cluster_id)
            except ApiError as err:
                if err.code == 'Cdm.0001' or err.not_found:
                    raise ApiError(f'CDM cluster {cluster} ({cluster_id}) does not exist', code=err.code,
                                   status=err.status, request_id=err.request_id,
                                   hint='check `cdm_clusters` for the target') from None
                raise
            found += [(ObjectKey('cdm-link', link['name'], cluster), link) for link in links]
            found += [(ObjectKey('cdm-job', job['name'], cluster), job) for job in jobs]
            return found

        for items in self._map(cluster_listing, sorted(self.clusters().items())):
            for key, item in items:
                spec = decode_cdm_values(item)
                seen[key] = spec
                status = spec.get('status') if key.kind == 'cdm-job' else None
                out[key] = ListEntry(key, _updated(spec, 'update-date', 'creation-date'),
                                     str(status) if status else None)
        self._cdm_seen = seen
        self._forget('cdm-link', {k: '' for k in out if k.kind == 'cdm-link'})
        self._forget('cdm-job', {k: '' for k in out if k.kind == 'cdm-job'})
        return out

    def _listers(self) -> dict[str, Callable[[], dict[ObjectKey, ListEntry]]]:
        return {'job': self._list_jobs, 'script': self._list_scripts, 'resource': self._list_resources,
                'connection': self._list_connections, 'cdm': self._list_cdm}

    def list_objects(self) -> dict[ObjectKey, ListEntry]:
        """Every object in the workspace, from list calls only, sorted by key."""
        out: dict[ObjectKey, ListEntry] = {}
        for lister in self._listers().values():
            out.update(lister())
        return dict(sorted(out.items()))

    # --- reading -----------------------------------------------------------------------------

    def read(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, LiveObject]:
        """Content for `keys`, as the service returns it (masked; server-managed fields kept).

        Pass what `list_objects()` returned to reuse its `lastUpdateTime`s; for bare keys the
        list calls of their kinds are made first. Keys that do not exist are absent. Jobs come
        from batch exports (≤ 100 a call, with their scripts and resources); the other scripts,
        resources and connections from one show call each; CDM from the cluster listings.
        """
        wanted = sorted(set(keys))
        entries: dict[ObjectKey, ListEntry] = {}
        if isinstance(keys, Mapping):
            entries.update({k: v for k, v in keys.items() if isinstance(v, ListEntry)})
        listers = self._listers()
        kinds = {('cdm' if k.kind in CDM_KINDS else k.kind) for k in wanted if k not in entries}
        for kind in sorted(kinds):
            if kind == 'cdm' and all(k in self._cdm_seen for k in wanted if k.kind in CDM_KINDS):
                continue
            entries.update(listers[kind]())
        out: dict[ObjectKey, LiveObject] = {}

        # Jobs, with the scripts and resources they use, by batch export.
        brought: dict[ObjectKey, Spec] = {}
        jobs = [k.name for k in wanted if k.kind == 'job' and k in entries]
        for found in self._map(self._export, list(_chunks(jobs, MAX_EXPORT_JOBS))):
            for key, spec in found:
                if key.kind == 'job':
                    if key in entries:
                        out[key] = LiveObject(key, spec, entries[key].updated, entries[key].status)
                else:
                    brought.setdefault(key, spec)

        # Scripts, resources and connections nobody's export brought: one show each.
        def show(key: ObjectKey) -> tuple[ObjectKey, Spec | None]:
            if key in brought:
                return key, brought[key]
            if key.kind == 'script' and key.name in self._script_entries:
                entry = dict(self._script_entries[key.name])
                entry.pop('lastUpdateTime', None)
                return key, entry
            return key, self._show(key)

        singles = [k for k in wanted if k.kind in ('script', 'resource', 'connection') and k in entries]
        for key, shown in self._map(show, singles):
            if shown is not None:
                out[key] = LiveObject(key, shown, entries[key].updated, entries[key].status)

        # CDM: the cluster listings carry the content.
        for key in (k for k in wanted if k.kind in CDM_KINDS):
            if key in self._cdm_seen and key in entries:
                cdm = dict(self._cdm_seen[key])
                cdm.pop('lastUpdateTime', None)
                status = cdm.get('status') if key.kind == 'cdm-job' else None
                out[key] = LiveObject(key, cdm, entries[key].updated, str(status) if status else None)
        return dict(sorted(out.items()))

    def _export(self, names: Sequence[str]) -> list[tuple[ObjectKey, Spec]]:
        """Batch-export `names` (≤ 100) with dependencies; a job deleted since it was listed is
        found by halving the batch (a handful of calls instead of one show per job)."""
        try:
            response = self.http.call(EXPORT_JOBS, body={'jobList': list(names), 'exportDepend': True})
        except ApiError as err:
            if not err.not_found:
                raise
            if len(names) == 1:
                return []
            middle = len(names) // 2
            return self._export(names[:middle]) + self._export(names[middle:])
        try:
            return package.read_package(response.content)
        except package.PackageError as exc:
            raise ApiError(f'{EXPORT_JOBS.name}: the export of {len(names)} job(s) cannot be read: {exc.message}',
                           request_id=response.request_id, route=EXPORT_JOBS.name) from None

    def _show(self, key: ObjectKey) -> Spec | None:
        try:
            if key.kind == 'script':
                return dict(self.http.call(SHOW_SCRIPT, {'script_name': key.name}).json())
            id_ = self._id(key)
            if id_ is None:
                return None
            if key.kind == 'resource':
                return dict(self.http.call(SHOW_RESOURCE, {'resource_id': id_}).json())
            return dict(self.http.call(SHOW_CONNECTION, {'data_connection_id': id_}).json())
        except ApiError as err:
            if err.not_found:
                return None
            raise

    def _id(self, key: ObjectKey, *, refresh: bool = False) -> str | None:
        """The id a resource or connection is addressed by (None: it does not exist). Looked up
        by name with the list route's filter when the last listing did not see it."""
        with self._lock:
            known = self._ids.get(key)
        if known and not refresh:
            return known
        if key.kind == 'resource':
            body = self.http.call(LIST_RESOURCES, query=[('limit', PAGE), ('offset', 0), ('resourceName', key.name)])
            items, name_field, id_field = (body.json() or {}).get('resources') or [], 'name', 'id'
        else:
            body = self.http.call(LIST_CONNECTIONS, query=[('limit', PAGE), ('name', key.name), ('offset', 0)])
            items, name_field, id_field = (body.json() or {}).get('data_connection_lists') or [], 'dw_name', 'dw_id'
        # The name filter matches substrings: pick the exact name.
        match = next((str(i[id_field]) for i in items if isinstance(i, dict) and i.get(name_field) == key.name), None)
        with self._lock:
            if match:
                self._ids[key] = match
            else:
                self._ids.pop(key, None)
        return match

    # --- writing -----------------------------------------------------------------------------

    def import_objects(self, items: Sequence[tuple[ObjectKey, Spec]]) -> None:
        """Write each object through its REST route, in order: update if it exists, else create.

        Not all or nothing over HTTP (the service has no usable atomic import for these kinds):
        objects before a failure stay written. Raises `ImportRefused` with a reason per failed
        object and `written` naming the ones that went through; after an answer that every
        call would get (bad credentials, wrong endpoint or workspace), the rest are not tried.
        """
        reasons: dict[str, str] = {}
        written: list[str] = []
        fatal: ApiError | None = None
        for key, spec in items:
            if fatal is not None:
                reasons[str(key)] = f'not attempted: {fatal}'
                continue
            try:
                body = full_body(key.kind, {**spec, NAME_FIELD[key.kind]: spec.get(NAME_FIELD[key.kind], key.name)})
                self._upsert(key, body)
                written.append(str(key))
            except ApiError as err:
                reasons[str(key)] = str(err) + (f' (hint: {err.hint})' if err.hint else '')
                if err.code in _FATAL_CODES or err.status in (401, 403) or (err.status == 0 and not err.ambiguous):
                    fatal = err
        if reasons:
            raise ImportRefused(
                f'{self.url}: {len(reasons)} of {len(items)} object(s) could not be written'
                f' ({len(written)} were; writes over HTTP are one object at a time, not all or nothing)',
                reasons, written=written,
            )

    def _cluster(self, key: ObjectKey) -> str:
        clusters = self.clusters()
        if key.cluster not in clusters and self._configured_clusters is None:
            self._cluster_ids = None  # maybe created since: look again
            clusters = self.clusters()
        if key.cluster not in clusters:
            raise ApiError(f'{key}: CDM cluster {key.cluster} does not exist in the project', code='Cdm.0001',
                           not_found=False, hint='create the cluster first, or map its name to its id in'
                                                 ' `cdm_clusters` for the target')
        return clusters[key.cluster]

    def _exists(self, key: ObjectKey) -> bool:
        """Whether the object exists, as far as the last listing knows, else by asking."""
        with self._lock:
            if key in self._ids:
                return True
            known_kind = key.kind in self._listed_kinds
        if known_kind:
            return False
        return self._lookup(key)

    def _lookup(self, key: ObjectKey) -> bool:
        """Ask the service whether the object exists (one call)."""
        try:
            if key.kind == 'job':
                self.http.call(SHOW_JOB, {'job_name': key.name})
            elif key.kind == 'script':
                self.http.call(SHOW_SCRIPT, {'script_name': key.name})
            elif key.kind in ('resource', 'connection'):
                return self._id(key, refresh=True) is not None
            elif key.kind == 'cdm-link':
                self.http.call(SHOW_LINK, {'cluster_id': self._cluster(key), 'link_name': key.name})
            else:
                self.http.call(SHOW_CDM_JOB, {'cluster_id': self._cluster(key), 'job_name': key.name})
        except ApiError as err:
            if err.not_found:
                return False
            raise
        return True

    def _upsert(self, key: ObjectKey, spec: Spec) -> None:
        exists = self._exists(key)
        for _ in range(_CREATE_ROUNDS):
            if exists:
                try:
                    self._update(key, spec)
                    break
                except ApiError as err:
                    if not err.not_found:
                        raise
                    exists = False  # gone since it was listed: create it
                    continue
            try:
                self._create(key, spec)
                break
            except ApiError as err:
                if err.code in ALREADY_EXISTS:
                    exists = True  # created by someone (or by our own lost attempt): update it
                    if key.kind in ('resource', 'connection'):
                        self._id(key, refresh=True)
                    continue
                if not err.ambiguous:
                    raise
                # The answer was lost after the request went out: look before writing again.
                exists = self._lookup(key)
                if exists:
                    continue  # it was created: make sure it holds exactly this body
        else:
            raise ApiError(f'{key}: could not be written after {_CREATE_ROUNDS} rounds of create and update',
                           hint='the object kept appearing and disappearing; is someone else editing it?')
        with self._lock:
            self._ids.setdefault(key, '')

    def _create(self, key: ObjectKey, spec: Spec) -> None:
        if key.kind == 'job':
            self.http.call(CREATE_JOB, body=spec)
        elif key.kind == 'script':
            self.http.call(CREATE_SCRIPT, body=spec)
        elif key.kind == 'resource':
            body = self.http.call(CREATE_RESOURCE, body=spec).json()
            # The docs and terraform answer {"resourceId": ...}; the SDK models a bare string (§13.13).
            id_ = body.get('resourceId') if isinstance(body, dict) else body
            if id_:
                with self._lock:
                    self._ids[key] = str(id_)
        elif key.kind == 'connection':
            body = self.http.call(CREATE_CONNECTION, body={'data_source_vos': [spec]}).json()
            if isinstance(body, dict) and body.get('data_connection_id'):
                with self._lock:
                    self._ids[key] = str(body['data_connection_id'])
        elif key.kind == 'cdm-link':
            # The body takes a list but the answer names one object: one per call (§13.19).
            self.http.call(CREATE_LINK, {'cluster_id': self._cluster(key)}, body={'links': [spec]})
        else:
            self.http.call(CREATE_CDM_JOB, {'cluster_id': self._cluster(key)}, body={'jobs': [spec]})

    def _update(self, key: ObjectKey, spec: Spec) -> None:
        if key.kind == 'job':
            self.http.call(UPDATE_JOB, {'job_name': key.name}, body=spec)
        elif key.kind == 'script':
            self.http.call(UPDATE_SCRIPT, {'script_name': key.name}, body=spec)
        elif key.kind in ('resource', 'connection'):
            id_ = self._id(key)
            if id_ is None:
                raise ApiError(f'{key} does not exist', not_found=True)
            if key.kind == 'resource':
                self.http.call(UPDATE_RESOURCE, {'resource_id': id_}, body=spec)
            else:
                self.http.call(UPDATE_CONNECTION, {'data_connection_id': id_}, body={'data_source_vos': [spec]})
        elif key.kind == 'cdm-link':
            self.http.call(UPDATE_LINK, {'cluster_id': self._cluster(key), 'link_name': key.name},
                           body={'links': [spec]})
        else:
            self.http.call(UPDATE_CDM_JOB, {'cluster_id': self._cluster(key), 'job_name': key.name},
                           body={'jobs': [spec]})

    def delete(self, key: ObjectKey) -> None:
        """Delete one object; `ApiError` with `not_found` if it is absent.

        A DELETE repeated after a lost answer that then finds nothing counts as done.
        """
        try:
            if key.kind == 'job':
                self.http.call(DELETE_JOB, {'job_name': key.name})
            elif key.kind == 'script':
                self.http.call(DELETE_SCRIPT, {'script_name': key.name})
            elif key.kind in ('resource', 'connection'):
                id_ = self._id(key)
                if id_ is None:
                    code = 'DLF.6241' if key.kind == 'resource' else 'DAYU.1005'
                    raise ApiError(f'{key} does not exist', code=code, not_found=True)
                route, param = ((DELETE_RESOURCE, 'resource_id') if key.kind == 'resource'
                                else (DELETE_CONNECTION, 'data_connection_id'))
                self.http.call(route, {param: id_})
            elif key.kind == 'cdm-link':
                self.http.call(DELETE_LINK, {'cluster_id': self._cluster(key), 'link_name': key.name})
            else:
                self.http.call(DELETE_CDM_JOB, {'cluster_id': self._cluster(key), 'job_name': key.name})
        except ApiError as err:
            if not (err.not_found and err.attempts > 1):
                raise
        with self._lock:
            self._ids.pop(key, None)

    # --- running -----------------------------------------------------------------------------

    @staticmethod
    def _runnable(key: ObjectKey) -> None:
        if key.kind not in ('job', 'cdm-job'):
            raise WorkspaceError(f'{key} cannot be started, stopped or asked its status: only jobs run')

    def job_status(self, key: ObjectKey) -> str:
        """A Factory job's schedule status (from the job list, as terraform reads it), or a CDM
        job's last submission status (`NEW` if it never ran)."""
        self._runnable(key)
        if key.kind == 'cdm-job':
            body = self.http.call(CDM_JOB_STATUS, {'cluster_id': self._cluster(key), 'job_name': key.name}).json()
            subs = (body or {}).get('submissions') or []
            return str(subs[0].get('status', 'UNKNOWN')) if subs else 'NEW'
        known = self._job_types.get(key.name)
        for job_type in ([known] if known else ['BATCH', 'REAL_TIME']):
            offset = 0
            while True:  # jobName matches substrings: page until the exact name shows up
                body = self.http.call(LIST_JOBS, query=[('jobName', key.name), ('jobType', job_type),
                                                        ('limit', PAGE), ('offset', offset)]).json() or {}
                jobs = body.get('jobs') or []
                for job in jobs:
                    if isinstance(job, dict) and job.get('name') == key.name:
                        self._job_types[key.name] = job_type
                        return str(job.get('status', ''))
                if len(jobs) < PAGE:
                    break
                offset += len(jobs)
        raise ApiError(f'The job does not exist: {key.name}.', code='DLF.0100', not_found=True)

    def start_job(self, key: ObjectKey) -> None:
        """Start a job's schedule (Factory) or a run (CDM). A start whose answer was lost is not
        repeated when the job turns out to be running already."""
        self._runnable(key)
        try:
            if key.kind == 'job':
                self.http.call(START_JOB, {'job_name': key.name})
            else:
                self.http.call(START_CDM_JOB, {'cluster_id': self._cluster(key), 'job_name': key.name})
        except ApiError as err:
            if not err.ambiguous:
                raise
            if self.job_status(key) not in RUNNING:
                self.start_job(key)

    def stop_job(self, key: ObjectKey) -> None:
        self._runnable(key)
        try:
            if key.kind == 'job':
                self.http.call(STOP_JOB, {'job_name': key.name})
            else:
                self.http.call(STOP_CDM_JOB, {'cluster_id': self._cluster(key), 'job_name': key.name})
        except ApiError as err:
            if not err.ambiguous:
                raise
            if self.job_status(key) in RUNNING:
                self.stop_job(key)

    def run_once(self, key: ObjectKey) -> str:
        """`run-immediate`, sent without a body (a gateway was seen to refuse any body, reference
        §4.5). A call whose answer was lost is not repeated: the instance may exist, and only its
        id would tell us which one; the error says so."""
        if key.kind != 'job':
            raise WorkspaceError(f'{key} cannot be run once: only Factory jobs have instances',
                                 hint='a CDM job runs once each time it is started')
        try:
            body = self.http.call(RUN_ONCE, {'job_name': key.name}).json()
        except ApiError as err:
            if err.ambiguous:
                err.hint = (f'the run of {key.name} may have started: look at its instances in the console '
                            'before running it again')
            raise
        instance = body.get('instanceId') if isinstance(body, dict) else None
        if isinstance(instance, bool) or not isinstance(instance, (int, str)) or not str(instance):
            raise ApiError(f'run-immediate of {key.name} answered without an instanceId: {body!r}',
                           route=RUN_ONCE.name)
        return str(instance)

    def instance_status(self, key: ObjectKey, instance_id: str) -> str:
        if key.kind != 'job':
            raise WorkspaceError(f'{key} has no instances: only Factory jobs have them')
        body = self.http.call(SHOW_INSTANCE, {'job_name': key.name, 'instance_id': instance_id}).json()
        return str((body or {}).get('status', 'unknown'))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.http.close()
