"""The reading half of the DataArts client (client.py): listing, batched reads, addressing.

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
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from jobsync import jsontext, kinds
from jobsync.model import CDM_KINDS, MAX_EXPORT_JOBS, LiveObject, ObjectKey, Spec
from jobsync.state import is_reserved
from jobsync.workspace import package
from jobsync.workspace import routes as r
from jobsync.workspace.base import KeepsRecords, ListEntry, RecordStore
from jobsync.workspace.bodies import decode_cdm_values, fingerprint, updated_ms, without_export_flags
from jobsync.workspace.records import ScriptRecordStore, now_ms
from jobsync.workspace.transport import ApiError, Transport

PAGE = 100  # the largest page every list route accepts (reference §3.3)
DEFAULT_CONCURRENCY = 4
CDM_JOB_TYPES = kinds.CDM_JOB_TYPES  # `all` lists NORMAL_JOB only unless asked for each type
_POOL_PREFIX = 'jobsync-dataarts'

# Per kind: the routes that show, create, update and delete one object (client.py writes).
CRUD: dict[str, tuple[r.Route, r.Route, r.Route, r.Route]] = {
    'job': (r.SHOW_JOB, r.CREATE_JOB, r.UPDATE_JOB, r.DELETE_JOB),
    'script': (r.SHOW_SCRIPT, r.CREATE_SCRIPT, r.UPDATE_SCRIPT, r.DELETE_SCRIPT),
    'resource': (r.SHOW_RESOURCE, r.CREATE_RESOURCE, r.UPDATE_RESOURCE, r.DELETE_RESOURCE),
    'connection': (r.SHOW_CONNECTION, r.CREATE_CONNECTION, r.UPDATE_CONNECTION, r.DELETE_CONNECTION),
    'cdm-link': (r.SHOW_LINK, r.CREATE_LINK, r.UPDATE_LINK, r.DELETE_LINK),
    'cdm-job': (r.SHOW_CDM_JOB, r.CREATE_CDM_JOB, r.UPDATE_CDM_JOB, r.DELETE_CDM_JOB),
}

_T = TypeVar('_T')
_R = TypeVar('_R')


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def params_for(route: r.Route, address: Mapping[str, str]) -> dict[str, str]:
    return {p: address[p] for p in route.params}


class DataArtsReader(KeepsRecords):
    """What `DataArtsClient` reads with; see the client for the constructor's options."""

    def __init__(
            self, transport: Transport, *, url: str, cdm_clusters: Mapping[str, str] | None = None,
            concurrency: int = DEFAULT_CONCURRENCY, clock: Callable[[], int] = now_ms,
            records: RecordStore | None = None, create_clusters: bool = False,
    ) -> None:
        self.http = transport
        self.calls: Counter[str] = transport.calls
        self.url = url
        self.records = records if records is not None else ScriptRecordStore(transport, where=url, clock=clock)
        self._configured_clusters = dict(cdm_clusters) if cdm_clusters else None
        self._create_clusters = create_clusters
        self._concurrency = max(1, concurrency)
        self._pool = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix=_POOL_PREFIX)
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
        # A script's list entry, kept as JSON text (a fifth of the memory of the dict) until a read wants it.
        self._script_entries: dict[str, str] = {}
        self._connection_shows: dict[ObjectKey, Spec] = {}

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.url!r})'

    def _map(self, fn: Callable[[_T], _R], items: Iterable[_T]) -> list[_R]:
        """`fn` over `items`, `concurrency` at a time, results in order. Called from one of the
        pool's own threads it runs in that thread: a pool waiting on itself would deadlock."""
        items = list(items)
        if len(items) <= 1 or self._concurrency == 1 or threading.current_thread().name.startswith(_POOL_PREFIX):
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    # --- listing -----------------------------------------------------------------------------

    def _paged(self, route: r.Route, query: Sequence[tuple[str, Any]], items_field: str, total_field: str,
               name_field: str) -> list[dict[str, Any]]:
        """Every record of a record-offset list (reference §3.3, §13.1): pages of 100; the first
        gives `total`, the others are fetched concurrently; names de-duplicated; the count must
        match `total` (one fresh attempt if the list moved while being read)."""
        def page(offset: int) -> tuple[list[dict[str, Any]], int | None]:
            body = self.http.call(route, query=[*query, ('limit', PAGE), ('offset', offset)]).json() or {}
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
            for job in self._paged(r.LIST_JOBS, [('jobType', job_type)], 'jobs', 'total', 'name'):
                key = ObjectKey('job', job['name'])
                out[key] = ListEntry(key, updated_ms(job, 'createTime'), job.get('status'), job.get('path') or '/')
                types[job['name']] = job_type
        self._job_types = types
        self._forget('job', {k: '' for k in out})
        return out

    def _list_scripts(self) -> dict[ObjectKey, ListEntry]:
        # jobsync's own state and lock scripts are not objects of the workspace (state.py).
        scripts = [s for s in self._paged(r.LIST_SCRIPTS, [], 'scripts', 'total', 'name')
                   if not is_reserved(ObjectKey('script', s['name']))]
        # A v1 ScriptInfo is the whole script, content included ([SDK] dgc `ScriptInfo.content`
        # required; [DOC] v1 script list: content "Mandatory: Yes") and has no update time: the
        # marker is the entry's own content. An entry without content is read with a show.
        self._script_entries = {s['name']: jsontext.compact(s) for s in scripts if isinstance(s.get('content'), str)}
        out = {ObjectKey('script', s['name']): ListEntry(ObjectKey('script', s['name']), fingerprint(s),
                                                         directory=s.get('directory') or '/')
               for s in scripts}
        self._forget('script', {k: '' for k in out})
        return out

    def _list_resources(self) -> dict[ObjectKey, ListEntry]:
        resources = self._paged(r.LIST_RESOURCES, [], 'resources', 'total', 'name')
        # A ResourceInfo entry is the whole resource ([SDK] dgc: the same model as show) with no
        # update time: fingerprint it, less `jobRelation` (it moves with the jobs using it).
        out = {ObjectKey('resource', x['name']): ListEntry(ObjectKey('resource', x['name']),
                                                           fingerprint(x, ('jobRelation',)),
                                                           directory=x.get('directory') or '/')
               for x in resources}
        self._forget('resource', {ObjectKey('resource', x['name']): str(x.get('id', '')) for x in resources})
        return out

    def _list_connections(self) -> dict[ObjectKey, ListEntry]:
        conns = self._paged(r.LIST_CONNECTIONS, [], 'data_connection_lists', 'total_size', 'dw_name')
        self._forget('connection', {ObjectKey('connection', c['dw_name']): str(c.get('dw_id', '')) for c in conns})
        # An ApigDataSourceView ([SDK] dataartsstudio) has no `dw_config`, no `env_type` and no update
        # time, so a console edit of the config is invisible in the list: show each connection (1
        # call each, ≤ 50 a workspace per `max_records`) and fingerprint the show, whose
        # `dw_config.update_time` moves on every write [TF data connection DiffSuppressFunc comment].
        keys = [ObjectKey('connection', c['dw_name']) for c in conns]
        shown = dict(self._map(lambda key: (key, self._show(key)), keys))
        with self._lock:
            self._connection_shows = {k: v for k, v in shown.items() if v is not None}
        out = {key: ListEntry(key, fingerprint(shown[key] or entry))
               for key, entry in zip(keys, conns, strict=True)}
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
            body = self.http.call(r.LIST_CLUSTERS).json() or {}
            self._cluster_ids = {str(c['name']): str(c['id']) for c in body.get('clusters') or []
                                 if isinstance(c, dict) and c.get('name') and c.get('id')}
        return dict(self._cluster_ids)

    def _cdm_links(self, cluster_id: str) -> list[dict[str, Any]]:
        body = self.http.call(r.LIST_LINKS, {'cluster_id': cluster_id}).json() or {}
        return [link for link in body.get('links') or [] if isinstance(link, dict) and link.get('name')]

    def _cdm_jobs(self, cluster_id: str) -> list[dict[str, Any]]:
        def of_type(job_type: str) -> list[dict[str, Any]]:
            jobs: list[dict[str, Any]] = []
            page_no = 1
            while True:  # CDM pages by page number, 1-based (reference §3.3)
                body = self.http.call(r.LIST_CDM_JOBS, {'cluster_id': cluster_id}, query=[
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
            try:
                links, jobs = self._cdm_links(cluster_id), self._cdm_jobs(cluster_id)
            except ApiError as err:
                if err.code == 'Cdm.0001' or err.not_found:
                    raise ApiError(f'CDM cluster {cluster} ({cluster_id}) does not exist', code=err.code,
                                   status=err.status, request_id=err.request_id,
                                   hint='check `cdm_clusters` for the target') from None
                raise
            return [(ObjectKey('cdm-link', link['name'], cluster), link) for link in links] + \
                [(ObjectKey('cdm-job', job['name'], cluster), job) for job in jobs]

        for items in self._map(cluster_listing, sorted(self.clusters().items())):
            for key, item in items:
                spec = decode_cdm_values(item)
                seen[key] = spec
                status = spec.get('status') if key.kind == 'cdm-job' else None
                out[key] = ListEntry(key, updated_ms(spec, 'update-date', 'creation-date'),
                                     str(status) if status else None)
        self._cdm_seen = seen
        self._forget('cdm-link', {k: '' for k in out if k.kind == 'cdm-link'})
        self._forget('cdm-job', {k: '' for k in out if k.kind == 'cdm-job'})
        return out

    def _listers(self) -> dict[str, Callable[[], dict[ObjectKey, ListEntry]]]:
        return {'job': self._list_jobs, 'script': self._list_scripts, 'resource': self._list_resources,
                'connection': self._list_connections, 'cdm': self._list_cdm}

    def list_objects(self) -> dict[ObjectKey, ListEntry]:
        """Every object in the workspace, from list calls only, sorted by key.

        The kinds are listed at once, each from a thread of its own (at most one per kind), and
        each kind's pages through the shared pool (`concurrency`): the round takes about as long
        as its longest kind, not the sum. The rate limiters (ratelimit.py) bound the calls a
        second whatever the threads. The result does not depend on the order answers came in
        (sorted by key); of several failing kinds, the first in kind order is raised.
        """
        listers = list(self._listers().values())
        if self._concurrency == 1 or threading.current_thread().name.startswith(_POOL_PREFIX):
            results = [lister() for lister in listers]
        else:
            with ThreadPoolExecutor(max_workers=len(listers), thread_name_prefix='jobsync-listing') as kinds_pool:
                futures = [kinds_pool.submit(lister) for lister in listers]
                results = [future.result() for future in futures]
        out: dict[ObjectKey, ListEntry] = {}
        for listed in results:
            out.update(listed)
        return dict(sorted(out.items()))

    def read_back(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, ListEntry]:
        """The list entries of `keys` as the service shows them now (a key that is gone is absent),
        for the state an apply records after its writes: the same fingerprints a listing gives,
        at the fewest calls. Per kind, one name-filtered list call per key (paged until the exact
        name, the filters match substrings), or the kind's whole listing again when that takes
        fewer calls; a data connection is shown (its listing shows each one too); CDM, whose
        listings are a handful of calls a cluster, is listed again.
        """
        wanted = sorted(set(keys))
        out: dict[ObjectKey, ListEntry] = {}
        listers = self._listers()
        by_kind: dict[str, list[ObjectKey]] = {}
        for key in wanted:
            by_kind.setdefault('cdm' if key.kind in CDM_KINDS else key.kind, []).append(key)
        with self._lock:
            known = Counter('cdm' if k.kind in CDM_KINDS else k.kind for k in self._ids)
        for kind, of_kind in sorted(by_kind.items()):
            pages = -(-known[kind] // PAGE) + (1 if kind == 'job' else 0)  # jobs: both job types
            if kind in ('cdm', 'connection') or kind not in self._listed_kinds or len(of_kind) > pages:
                if kind == 'connection':
                    found = dict(self._map(self._entry_of_connection, of_kind))
                    out.update({k: e for k, e in found.items() if e is not None})
                    continue
                listed = listers[kind]()
                out.update({k: listed[k] for k in of_kind if k in listed})
                continue
            for key, entry in self._map(self._entry_of, of_kind):
                if entry is not None:
                    out[key] = entry
        return out

    def _entry_of_connection(self, key: ObjectKey) -> tuple[ObjectKey, ListEntry | None]:
        shown = self._show(key)
        return key, None if shown is None else ListEntry(key, fingerprint(shown))

    def _entry_of(self, key: ObjectKey) -> tuple[ObjectKey, ListEntry | None]:
        """One job's, script's or resource's list entry, by the list route's name filter."""
        if key.kind == 'job':
            known = self._job_types.get(key.name)
            for job_type in ([known] if known else ['BATCH', 'REAL_TIME']):
                job = self._find_listed(r.LIST_JOBS, [('jobName', key.name), ('jobType', job_type)], 'jobs', key.name)
                if job is not None:
                    self._job_types[key.name] = job_type
                    return key, ListEntry(key, updated_ms(job, 'createTime'), job.get('status'), job.get('path') or '/')
            return key, None
        if key.kind == 'script':
            script = self._find_listed(r.LIST_SCRIPTS, [('scriptName', key.name)], 'scripts', key.name)
            if script is None:
                return key, None
            if isinstance(script.get('content'), str):
                self._script_entries[key.name] = jsontext.compact(script)
            return key, ListEntry(key, fingerprint(script), directory=script.get('directory') or '/')
        found = self._find_listed(r.LIST_RESOURCES, [('resourceName', key.name)], 'resources', key.name)
        if found is None:
            return key, None
        with self._lock:
            self._ids[key] = str(found.get('id', ''))
        return key, ListEntry(key, fingerprint(found, ('jobRelation',)), directory=found.get('directory') or '/')

    def _find_listed(self, route: r.Route, query: Sequence[tuple[str, Any]], items_field: str,
                     name: str) -> dict[str, Any] | None:
        """The list entry named exactly `name` under a substring name filter, paged until found."""
        offset = 0
        while True:
            body = self.http.call(route, query=[*query, ('limit', PAGE), ('offset', offset)]).json() or {}
            items = body.get(items_field) or []
            for item in items:
                if isinstance(item, dict) and item.get('name') == name:
                    return item
            if len(items) < PAGE:
                return None
            offset += len(items)

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
        for kind in sorted(kinds):  # bare keys: list again (what was seen before may be gone)
            entries.update(listers[kind]())
        out: dict[ObjectKey, LiveObject] = {}

        # Jobs, with the scripts and resources they use, by batch export.
        brought: dict[ObjectKey, Spec] = {}
        jobs = [k.name for k in wanted if k.kind == 'job' and k in entries]
        for found in self._map(self._export, list(_chunks(jobs, MAX_EXPORT_JOBS))):
            for key, spec in found:
                if key.kind != 'job':
                    brought.setdefault(key, spec)
                elif key in entries:
                    out[key] = LiveObject(key, spec, entries[key].updated, entries[key].status)

        # Scripts, resources and connections nobody's export brought: one show each.
        def show(key: ObjectKey) -> tuple[ObjectKey, Spec | None]:
            if key in brought:
                return key, brought[key]
            if key.kind == 'script' and key.name in self._script_entries:
                return key, json.loads(self._script_entries[key.name])
            if key.kind == 'connection' and key in self._connection_shows:
                return key, dict(self._connection_shows[key])
            return key, self._show(key)

        singles = [k for k in wanted if k.kind in ('script', 'resource', 'connection') and k in entries]
        for key, shown in self._map(show, singles):
            if shown is not None:
                out[key] = LiveObject(key, shown, entries[key].updated, entries[key].status)

        # CDM: the cluster listings carry the content.
        for key in (k for k in wanted if k.kind in CDM_KINDS):
            if key in self._cdm_seen and key in entries:
                cdm = dict(self._cdm_seen[key])
                status = cdm.get('status') if key.kind == 'cdm-job' else None
                out[key] = LiveObject(key, cdm, entries[key].updated, str(status) if status else None)
        return dict(sorted(out.items()))

    # The inflated size one export answer is read within (package.MAX_EXPORT_READ_BYTES).
    export_read_bytes: int = package.MAX_EXPORT_READ_BYTES

    def _export(self, names: Sequence[str]) -> list[tuple[ObjectKey, Spec]]:
        """Batch-export `names` (≤ 100) with dependencies; a job deleted since it was listed is
        found by halving the batch (a handful of calls instead of one show per job), and so is
        an answer inflating past `export_read_bytes`: split rather than fail, down to one job."""
        try:
            response = self.http.call(r.EXPORT_JOBS, body={'jobList': list(names), 'exportDepend': True})
        except ApiError as err:
            if not err.not_found:
                raise
            if len(names) == 1:
                return []
            middle = len(names) // 2
            return self._export(names[:middle]) + self._export(names[middle:])
        try:
            found = package.read_package(response.content, max_uncompressed=self.export_read_bytes)
        except package.PackageTooLarge:
            if len(names) == 1:
                raise ApiError(f'{r.EXPORT_JOBS.name}: the export of job {names[0]} inflates past the'
                               f' {self.export_read_bytes}-byte read bound', request_id=response.request_id,
                               route=r.EXPORT_JOBS.name, hint='its scripts are too large to read back') from None
            middle = len(names) // 2
            return self._export(names[:middle]) + self._export(names[middle:])
        except package.PackageError as exc:
            raise ApiError(f'{r.EXPORT_JOBS.name}: the export of {len(names)} job(s) cannot be read: {exc.message}',
                           request_id=response.request_id, route=r.EXPORT_JOBS.name) from None
        return [(key, without_export_flags(spec) if key.kind == 'job' else spec) for key, spec in found]

    def _address(self, key: ObjectKey, *, create_cluster: bool = False) -> dict[str, str] | None:
        """The path parameters that address the object (None: a resource or connection whose id
        cannot be found, so it does not exist)."""
        if key.kind == 'job':
            return {'job_name': key.name}
        if key.kind == 'script':
            return {'script_name': key.name}
        if key.kind in ('resource', 'connection'):
            id_ = self._id(key)
            param = 'resource_id' if key.kind == 'resource' else 'data_connection_id'
            return None if id_ is None else {param: id_}
        name = 'link_name' if key.kind == 'cdm-link' else 'job_name'
        return {'cluster_id': self._cluster(key, create=create_cluster), name: key.name}

    def _show(self, key: ObjectKey) -> Spec | None:
        try:
            address = self._address(key)
            if address is None:
                return None
            route = CRUD[key.kind][0]
            return dict(self.http.call(route, params_for(route, address)).json())
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
            body = self.http.call(r.LIST_RESOURCES, query=[('limit', PAGE), ('offset', 0), ('resourceName', key.name)])
            items, name_field, id_field = (body.json() or {}).get('resources') or [], 'name', 'id'
        else:
            body = self.http.call(r.LIST_CONNECTIONS, query=[('limit', PAGE), ('name', key.name), ('offset', 0)])
            items, name_field, id_field = (body.json() or {}).get('data_connection_lists') or [], 'dw_name', 'dw_id'
        # The name filter matches substrings: pick the exact name.
        match = next((str(i[id_field]) for i in items if isinstance(i, dict) and i.get(name_field) == key.name), None)
        with self._lock:
            if match:
                self._ids[key] = match
            else:
                self._ids.pop(key, None)
        return match

    def _cluster(self, key: ObjectKey, *, create: bool = False) -> str:
        """The id of the key's CDM cluster; with `create` and `create_clusters`, made if missing."""
        clusters = self.clusters()
        if key.cluster not in clusters and self._configured_clusters is None:
            self._cluster_ids = None  # maybe created since: look again
            clusters = self.clusters()
        if key.cluster not in clusters and create and self._create_clusters and self._configured_clusters is None:
            body = self.http.call(r.CREATE_CLUSTER, body={'cluster': {'name': key.cluster}}).json() or {}
            clusters[key.cluster] = str(body['id'])
            self._cluster_ids = dict(clusters)
        if key.cluster not in clusters:
            # status 400, as the service would answer: not a transport failure, so not fatal to a batch.
            raise ApiError(f'{key}: CDM cluster {key.cluster} does not exist in the project', code='Cdm.0001',
                           status=400, not_found=False, hint='create the cluster first, or map its name to its id in'
                                                 ' `cdm_clusters` for the target')
        return clusters[key.cluster]
