"""THE DataArts client: the `Workspace` implementation for `local:` and `dataarts` alike.

It speaks the routes of `routes.py` through a `Transport` (transport.py): HTTPS to the real
service or to `jobsync emulator` (`http.HttpTransport`), or in-process into the emulator's
gateway over a SQLite file (`inprocess.InProcessTransport`, what `local:` uses, local.py).
Either way the code that runs is this one, and its calls are counted by route name. Reading
(listing, batched reads) is in reader.py; this module writes, deletes and runs.

Writing: the service has no usable atomic import here (`jobs/import` reads a zip from OBS,
§4.7, and covers neither connections nor CDM), so `import_objects` writes each object through
its REST route, in the given order, with its full body (`bodies.full_body`: explicit empty
lists, since omitted fields are not cleared, §4.4): update when it exists, create otherwise. Not
all or nothing: `ImportRefused` names each object that failed, and `written` says which went
through. A create whose answer was lost (dropped connection, 5xx) is checked before it is
repeated, so a retried write never duplicates an object. CDM creates, whose routes take a list,
go in batches (cdmbatch.py): after a refused or lost batch the cluster's listing says which of
it exist, and the rest go one object per call. A CDM job is asked its run status before it is
overwritten only when the last listing shows it running (or does not show it).

`create_clusters=True` (what `local:` sets) creates a CDM cluster that a written key names and
that does not exist yet, through the emulator-only route `create_cluster`; the real service
needs a cluster bought first, so over HTTPS it is off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jobsync.codec import NAME_FIELD
from jobsync.diff import diff_specs
from jobsync.errors import ImportRefused, WorkspaceError
from jobsync.kinds import CDM_SUBMISSION, RUNNING_STATES
from jobsync.model import CDM_KINDS, ObjectKey, Spec
from jobsync.workspace import cdmbatch
from jobsync.workspace import routes as r
from jobsync.workspace.agents import with_agent_id
from jobsync.workspace.bodies import ALREADY_EXISTS, FATAL_CODES, decode_cdm_values, full_body
from jobsync.workspace.cdmruns import CdmRunPolicy, before_overwrite, check_start, stop_before_delete
from jobsync.workspace.reader import CRUD, PAGE, DataArtsReader, params_for
from jobsync.workspace.records import ScriptRecordStore
from jobsync.workspace.review import Review
from jobsync.workspace.transport import ApiError, may_have_happened

# Rounds of create/update for one object; a lost answer costs a read-back and a round. As many as
# the transport makes attempts of a call it may repeat: a create, which it may not, meets the same odds.
_CREATE_ROUNDS = 8
# What a missing resource or connection is called when no call could even be made for it.
_MISSING_CODE = {'resource': 'DLF.6241', 'connection': 'DAYU.1005'}


def _fatal(err: ApiError) -> bool:
    """An answer every further call would get (bad credentials, wrong endpoint or workspace, no
    network): the write was refused before the service saw it, and the rest are not tried. A
    refusal the client makes itself (a running CDM job, cdmruns.py) names no route: not fatal."""
    return err.code in FATAL_CODES or err.status in (401, 403) or (err.status == 0 and not err.ambiguous
                                                                    and bool(err.route))


def _body(route: r.Route, spec: Spec) -> object:
    return {route.wrapper: [spec]} if route.wrapper else spec


class DataArtsClient(DataArtsReader):
    """A DataArts workspace behind a `Transport`. Implements `jobsync.workspace.base.Workspace`.

    `url` names the workspace in messages; `cdm_clusters` (name -> id) limits CDM to those
    clusters; `concurrency` calls run at a time; jobsync's state and lock live in `records`
    (default: reserved scripts of the workspace, records.py), timed by `clock`.
    Errors are `ApiError`s (`WorkspaceError` with status, code, request id, hint, `not_found`).
    Not thread-safe itself (one command at a time); it runs its own calls concurrently.
    """

    cdm_runs = CdmRunPolicy()  # what a write does to a running CDM job (cdmruns.py)
    review: Review | None = None  # the target's review mode: approvers on job and script writes (review.py)

    def use_review(self, review: Review | None) -> None:
        """Send the target's review parameters on every job and script write (records included)."""
        self.review = review
        if isinstance(self.records, ScriptRecordStore):
            self.records.review = review

    # --- writing -----------------------------------------------------------------------------

    def import_objects(self, items: Sequence[tuple[ObjectKey, Spec]], *,
                       on_written: Callable[[ObjectKey], None] = lambda _: None) -> None:
        """Write each object through its REST route, in order: update if it exists, else create.

        Consecutive CDM creates of one kind and cluster (objects the last listing does not show)
        go in batch requests (`_create_pack`, cdmbatch.py); everything else one object per call.
        Not all or nothing (the service has no usable atomic import for these kinds): objects
        before a failure stay written. Raises `ImportRefused` with a reason per failed object
        and `written` naming the ones that went through; after an answer that every call would
        get (bad credentials, wrong endpoint or workspace), the rest are not tried.
        """
        reasons: dict[str, str] = {}
        written: list[str] = []
        fatal: ApiError | None = None
        run: list[tuple[ObjectKey, Spec]] = []  # CDM creates of one kind and cluster, waiting to be packed
        done: set[ObjectKey] = set()

        def outcome(key: ObjectKey, err: ApiError | None) -> None:
            nonlocal fatal
            if err is None:
                written.append(str(key))
                done.add(key)
                on_written(key)
                return
            reasons[str(key)] = str(err) + (f' (hint: {err.hint})' if err.hint else '')
            if _fatal(err):
                fatal = err

        def flush() -> None:
            packed, run[:] = list(run), []
            for pack in cdmbatch.packs(packed, CRUD[packed[0][0].kind][1].wrapper or '') if packed else ():
                if fatal is None:
                    for key, err in self._create_pack(pack):
                        outcome(key, err)
                for key, _ in pack:  # after an answer every call would get (`_settle` stops there)
                    if fatal is not None and str(key) not in reasons and key not in done:
                        reasons[str(key)] = f'not attempted: {fatal}'

        for key, spec in items:
            if run and not self._joins(run[-1][0], key):
                flush()
            if fatal is not None:
                reasons[str(key)] = f'not attempted: {fatal}'
                continue
            try:
                body = full_body(key.kind, {**spec, NAME_FIELD[key.kind]: spec.get(NAME_FIELD[key.kind], key.name)})
                body = with_agent_id(key.kind, body, self.clusters)
                if self.review is not None:
                    body = self.review.write_body(key.kind, body)
                if self._is_new_cdm(key):
                    run.append((key, body))
                    continue
                self._upsert(key, body)
                outcome(key, None)
            except ApiError as err:
                outcome(key, err)
        flush()
        if reasons:
            raise ImportRefused(
                f'{self.url}: {len(reasons)} of {len(items)} object(s) could not be written'
                f' ({len(written)} were; writes are not all or nothing)',
                reasons, written=written,
            )

    def _is_new_cdm(self, key: ObjectKey) -> bool:
        """A CDM object the last listing of its kind does not show: a create that can be packed."""
        with self._lock:
            return key.kind in CDM_KINDS and key.kind in self._listed_kinds and key not in self._ids

    def _joins(self, last: ObjectKey, key: ObjectKey) -> bool:
        """Whether `key` may go in the same batch request as `last` (same kind and cluster, a create)."""
        return (key.kind, key.cluster) == (last.kind, last.cluster) and self._is_new_cdm(key)

    def _create_pack(self, pack: Sequence[tuple[ObjectKey, Spec]]) -> list[tuple[ObjectKey, ApiError | None]]:
        """Create the CDM objects of `pack` (one kind and cluster) in one request; each one's outcome.

        On a 200 all are written. After a refusal or a lost answer the answer cannot say which
        exist (it names one object), so the cluster's listing of that kind says: an object shown
        with the content sent is written (the listing carries whole objects; secrets, which it
        never shows, left out of the comparison, as in `_holds`); every other one goes the
        one-object way (`_upsert`: created, or updated if it is there with other content), which
        gives each refused object its own reason. A listing that fails leaves them all to
        `_upsert`, which is as safe: CDM refuses a second create of a name (`Cdm.0104`/`0315`),
        and `_upsert` then updates it, so an object is never created twice.
        """
        if len(pack) == 1:
            return [self._upsert_one(*pack[0])]
        kind = pack[0][0].kind
        route = CRUD[kind][1]
        try:
            cluster_id = self._cluster(pack[0][0], create=True)
        except ApiError as err:
            return [(key, err) for key, _ in pack]
        try:
            self.http.call(route, {'cluster_id': cluster_id}, body={route.wrapper: [body for _, body in pack]})
        except ApiError as err:
            if _fatal(err):
                return [(key, err) for key, _ in pack]  # refused before the service saw it: nothing was made
            return self._settle(pack, cluster_id)
        with self._lock:
            for key, _ in pack:
                self._ids.setdefault(key, '')
        return [(key, None) for key, _ in pack]

    def _settle(self, pack: Sequence[tuple[ObjectKey, Spec]], cluster_id: str
                ) -> list[tuple[ObjectKey, ApiError | None]]:
        """After a batch create was refused or its answer lost: see `_create_pack`."""
        kind = pack[0][0].kind
        try:
            listed = self._cdm_links(cluster_id) if kind == 'cdm-link' else self._cdm_jobs(cluster_id)
            found = {str(item['name']): decode_cdm_values(item) for item in listed}
        except ApiError:
            found = {}
        out: list[tuple[ObjectKey, ApiError | None]] = []
        for key, body in pack:
            live = found.get(key.name)
            if live is not None:
                with self._lock:
                    self._ids.setdefault(key, '')  # it exists: `_upsert` updates it
                    self._cdm_seen[key] = live
                if not diff_specs(kind, body, live):
                    out.append((key, None))
                    continue
            out.append(self._upsert_one(key, body))
            failed = out[-1][1]
            if failed is not None and _fatal(failed):
                break  # every further call would get the same: the caller says the rest were not attempted
        return out

    def _upsert_one(self, key: ObjectKey, body: Spec) -> tuple[ObjectKey, ApiError | None]:
        try:
            self._upsert(key, body)
        except ApiError as err:
            return key, err
        return key, None

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
        if key.kind in ('resource', 'connection'):
            return self._id(key, refresh=True) is not None
        try:
            route = CRUD[key.kind][0]
            self.http.call(route, params_for(route, self._address(key) or {}))
        except ApiError as err:
            if err.not_found:
                return False
            raise
        return True

    def _upsert(self, key: ObjectKey, spec: Spec) -> None:
        """Update or create one object so that it holds `spec`.

        A write whose answer was lost (dropped, or 5xx/429 past the transport's retries) is
        resolved by reading back, by name and content (`_holds`), before it is repeated: holding
        this body, it is done; absent, it is created again; holding another, it is updated. Only
        an object that provably could not be written fails, with the last real error the service
        gave (status, code, request id); `import_objects` goes on with the others.
        """
        if key.kind in CDM_KINDS:
            self._cluster(key, create=True)  # a missing cluster: refused here, or made (`create_clusters`)
        exists = self._exists(key)
        last: ApiError | None = None
        for _ in range(_CREATE_ROUNDS):
            try:
                if exists:
                    self._update(key, spec)
                else:
                    self._create(key, spec)
                break
            except ApiError as err:
                last = err
                if exists and err.not_found:
                    exists = False  # gone since it was listed: create it
                    continue
                if not exists and err.code in ALREADY_EXISTS:
                    exists = True  # created by someone (or by our own lost attempt): update it
                    if key.kind in ('resource', 'connection'):
                        self._id(key, refresh=True)
                    continue
                if not may_have_happened(err):
                    raise
                # The answer was lost after the request went out: look (name and content) first.
                held = self._holds(key, spec)
                if held:
                    break  # the lost write went through, with exactly this content
                exists = held is not None
        else:
            if last is not None:
                raise last
            raise ApiError(f'{key}: could not be written after {_CREATE_ROUNDS} rounds of create and update',
                           ambiguous=True)
        with self._lock:
            self._ids.setdefault(key, '')

    def _holds(self, key: ObjectKey, spec: Spec) -> bool | None:
        """After a lost answer: does the object exist (False/True), and hold `spec` (True)?

        By name and content: the object as the service shows it is compared with `spec` the way
        plan compares (diff.diff_specs: secret fields, which it never shows, left out). Found
        with other content, the caller writes it again (an update is safe to repeat). CDM links
        and jobs are looked up by name only: their show answers a wrapper, and the next round's
        update makes sure of the content.
        """
        if key.kind in CDM_KINDS:
            return False if self._lookup(key) else None
        if key.kind in ('resource', 'connection'):
            self._id(key, refresh=True)
        live = self._show(key)
        if live is None:
            return None
        return not diff_specs(key.kind, spec, live)

    def _create(self, key: ObjectKey, spec: Spec) -> None:
        route = CRUD[key.kind][1]
        params = {'cluster_id': self._cluster(key, create=True)} if key.kind in CDM_KINDS else {}
        body = self.http.call(route, params, body=_body(route, spec)).json()
        if key.kind == 'resource':
            # The docs and terraform answer {"resourceId": ...}; the SDK models a bare string (§13.13).
            id_ = body.get('resourceId') if isinstance(body, dict) else body
        elif key.kind == 'connection':
            id_ = body.get('data_connection_id') if isinstance(body, dict) else None
        else:
            return
        if id_:
            with self._lock:
                self._ids[key] = str(id_)

    def _update(self, key: ObjectKey, spec: Spec) -> None:
        route = CRUD[key.kind][2]
        # A running CDM copy (cdmruns.py): asked only of a job the last listing shows running (or
        # does not show); one it shows idle that started since is refused by the service (`Cdm.0052`).
        listed = self._listed_cdm_status(key)
        if listed is None or listed in CDM_SUBMISSION.running:
            before_overwrite(key, self.job_status, self.stop_job, self.cdm_runs)
        address = self._address(key)
        if address is None:
            raise ApiError(f'{key} does not exist', not_found=True)
        try:
            self.http.call(route, params_for(route, address), body=_body(route, spec))
        except ApiError as err:
            if err.code != 'Cdm.0052' or listed is None or listed in CDM_SUBMISSION.running:
                raise
            before_overwrite(key, self.job_status, self.stop_job, self.cdm_runs)  # wait, stop or refuse
            self.http.call(route, params_for(route, address), body=_body(route, spec))

    def _listed_cdm_status(self, key: ObjectKey) -> str | None:
        """A CDM job's status as its cluster's last listing shows it (SDK cdm `Job.status`); None:
        not a CDM job, or not shown with one."""
        if key.kind != 'cdm-job':
            return None
        with self._lock:
            seen = self._cdm_seen.get(key)
        status = seen.get('status') if seen is not None else None
        return str(status) if status else None

    def delete(self, key: ObjectKey) -> None:
        """Delete one object; `ApiError` with `not_found` if it is absent.

        A DELETE repeated after a lost answer that then finds nothing counts as done.
        """
        route = CRUD[key.kind][3]
        stop_before_delete(key, self.job_status, self.stop_job)  # CDM refuses to delete a running job
        try:
            address = self._address(key)
            if address is None:
                raise ApiError(f'{key} does not exist', code=_MISSING_CODE[key.kind], not_found=True)
            self.http.call(route, params_for(route, address),
                           body=self.review.delete_body(key.kind) if self.review is not None else None)
        except ApiError as err:
            if may_have_happened(err) and not err.not_found:
                # Its answer stayed lost: gone now means the delete went through.
                if self._lookup(key):
                    raise
            elif not (err.not_found and err.attempts > 1):
                raise
        with self._lock:
            self._ids.pop(key, None)

    # --- running -----------------------------------------------------------------------------

    @staticmethod
    def _runnable(key: ObjectKey) -> None:
        if key.kind not in ('job', 'cdm-job'):
            raise WorkspaceError(f'{key} cannot be started, stopped or asked its status: only jobs run')

    def _cdm_job(self, key: ObjectKey) -> dict[str, str]:
        return {'cluster_id': self._cluster(key), 'job_name': key.name}

    def job_status(self, key: ObjectKey) -> str:
        """A Factory job's schedule status (from the job list, as terraform reads it), or a CDM
        job's last submission status (`NEW` if it never ran)."""
        self._runnable(key)
        if key.kind == 'cdm-job':
            body = self.http.call(r.CDM_JOB_STATUS, self._cdm_job(key)).json()
            subs = (body or {}).get('submissions') or []
            return str(subs[0].get('status', 'UNKNOWN')) if subs else 'NEW'
        known = self._job_types.get(key.name)
        for job_type in ([known] if known else ['BATCH', 'REAL_TIME']):
            offset = 0
            while True:  # jobName matches substrings: page until the exact name shows up
                body = self.http.call(r.LIST_JOBS, query=[('jobName', key.name), ('jobType', job_type),
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

    def job_version(self, name: str, version: int | None = None) -> Spec:
        query = [('version', version)] if version is not None else []
        body = self.http.call(r.SHOW_JOB, {'job_name': name}, query=query).json()
        return body if isinstance(body, dict) else {}

    def start_job(self, key: ObjectKey) -> None:
        """Start a job's schedule (Factory) or a run (CDM). A start whose answer was lost is not
        repeated when the job turns out to be running already."""
        self._runnable(key)
        try:
            if key.kind == 'job':
                self.http.call(r.START_JOB, {'job_name': key.name})
            else:
                check_start(key, self.http.call(r.START_CDM_JOB, self._cdm_job(key)).json())
        except ApiError as err:
            if not err.ambiguous:
                raise
            if self.job_status(key) not in RUNNING_STATES:
                self.start_job(key)

    def stop_job(self, key: ObjectKey) -> None:
        self._runnable(key)
        try:
            if key.kind == 'job':
                self.http.call(r.STOP_JOB, {'job_name': key.name})
            else:
                self.http.call(r.STOP_CDM_JOB, self._cdm_job(key))
        except ApiError as err:
            if not err.ambiguous:
                raise
            if self.job_status(key) in RUNNING_STATES:
                self.stop_job(key)

    def run_once(self, key: ObjectKey) -> str:
        """`run-immediate`, sent without a body (a gateway was seen to refuse any body, reference
        §4.5). A call whose answer was lost is not repeated: the instance may exist, and only its
        id would tell us which one; the error says so."""
        if key.kind != 'job':
            raise WorkspaceError(f'{key} cannot be run once: only Factory jobs have instances',
                                 hint='a CDM job runs once each time it is started')
        try:
            body = self.http.call(r.RUN_ONCE, {'job_name': key.name}).json()
        except ApiError as err:
            if err.ambiguous:
                err.hint = (f'the run of {key.name} may have started: look at its instances in the console '
                            'before running it again')
            raise
        instance = body.get('instanceId') if isinstance(body, dict) else None
        if isinstance(instance, bool) or not isinstance(instance, (int, str)) or not str(instance):
            raise ApiError(f'run-immediate of {key.name} answered without an instanceId: {body!r}',
                           route=r.RUN_ONCE.name)
        return str(instance)

    def instance_status(self, key: ObjectKey, instance_id: str) -> str:
        if key.kind != 'job':
            raise WorkspaceError(f'{key} has no instances: only Factory jobs have them',
                                 hint='a CDM job runs once each time it is started')
        body = self.http.call(r.SHOW_INSTANCE, {'job_name': key.name, 'instance_id': instance_id}).json()
        return str((body or {}).get('status', 'unknown'))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.http.close()
