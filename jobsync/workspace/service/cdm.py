"""CDM: clusters, links, jobs, their submissions, and job groups.

Each public method is one CDM route (`start_cdm_job` is `PUT /v1.1/{pid}/clusters/
{cluster_id}/cdm/job/{job_name}/start`) and fails with CDM's codes (`Cdm.*`, reference §9).
The rules of CDM live here: links and jobs belong to a cluster; a job's links must exist; a
link a job uses can neither go nor be renamed; a running job cannot be changed, deleted or
started again; a submission is BOOTING, RUNNING for `cdm_run_ms`, then SUCCEEDED (FAILED if
stopped); a job's group is its `groupJobConfig.groupName`, `DEFAULT` without one. Secret
inputs never leave the service (`masking.py`).

Where the reference is silent the choices made here are marked `[INF]` with the reason.
"""

from __future__ import annotations

import copy
import sqlite3
import time
import uuid
from typing import Any

from jobsync import kinds
from jobsync.model import Spec
from jobsync.workspace.service.errors import cdm
from jobsync.workspace.service.masking import mask_cdm_job, mask_link
from jobsync.workspace.service.store import Row, Space

# The registry's facts, under the names this module has always used.
CDM_RUNNING_STATES = kinds.CDM_SUBMISSION.running
DEFAULT_CDM_GROUP = kinds.DEFAULT_CDM_GROUP
CDM_JOB_TYPES = kinds.CDM_JOB_TYPES
cdm_group = kinds.cdm_group


def cdm_links(spec: Spec) -> list[str]:
    return [str(spec[f]) for f in ('from-link-name', 'to-link-name') if spec.get(f)]


class Cdm(Space):
    """The CDM routes of one (project, workspace)."""

    # --- CDM clusters ------------------------------------------------------------------------

    def create_cluster(self, name: str, id: str | None = None) -> str:
        """Create a CDM cluster (status `200`, normal); its id (a new UUID unless given)."""
        with self._store.write() as conn:
            if self._get(conn, 'cluster', name) is not None:
                raise cdm('Cdm.0004', f'The request parameter is invalid: cluster name {name} exists.')
            id_ = id or str(uuid.uuid4())
            if self._get_by_id(conn, 'cluster', id_) is not None:
                raise cdm('Cdm.0004', f'The request parameter is invalid: cluster id {id_} exists.')
            self._insert(conn, 'cluster', name, {'name': name}, id_=id_)
        return id_

    @staticmethod
    def _cluster_view(row: Row) -> dict[str, Any]:
        def iso(ms: int) -> str:
            return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(ms / 1000))
        return {'id': row.id, 'name': row.name, 'status': '200', 'statusDetail': 'Normal', 'isFrozen': '0',
                'created': iso(row.create_time), 'updated': iso(row.update_time), 'actionProgress': {}}

    def list_clusters(self) -> dict[str, Any]:
        """`GET /v1.1/{pid}/clusters`: `{"clusters": [...]}`, by name."""
        with self._store.read() as conn:
            return {'clusters': [self._cluster_view(r) for r in self._all(conn, 'cluster')]}

    def _require_cluster(self, conn: sqlite3.Connection, cluster_id: str) -> Row:
        row = self._get_by_id(conn, 'cluster', cluster_id)
        if row is None:
            raise cdm('Cdm.0001', f'The CDM cluster does not exist: {cluster_id}.')
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
            raise cdm('Cdm.0001', f'The CDM cluster does not exist: {name}.')
        return row.id

    # --- CDM links ---------------------------------------------------------------------------

    def _require_link(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> Row:
        self._require_cluster(conn, cluster_id)
        row = self._get(conn, 'cdm-link', name, cluster_id)
        if row is None:
            raise cdm('Cdm.0101', f'The link does not exist: {name}.')
        return row

    @staticmethod
    def _link_view(row: Row) -> Spec:
        spec = mask_link(row.spec)
        spec.update({'creation-user': row.create_user, 'creation-date': row.create_time,
                     'update-user': row.update_user, 'update-date': row.update_time})
        return spec

    def list_links(self, cluster_id: str) -> dict[str, Any]:
        """`GET .../cdm/link/all`: `{"links": [...]}`, masked; the change marker is each Links'
        `update-date` [SDK cdm `links.py`]."""
        with self._store.read() as conn:
            self._require_cluster(conn, cluster_id)
            rows = self._all(conn, 'cdm-link', cluster_id)
        return {'links': [self._link_view(r) for r in rows]}

    def show_link(self, cluster_id: str, name: str) -> Spec:
        """`GET .../cdm/link/{link_name}`: the link (the route wraps it in `{"links": [...]}`),
        secret inputs read back as `Add password here`."""
        with self._store.read() as conn:
            return self._link_view(self._require_link(conn, cluster_id, name))

    def create_link(self, cluster_id: str, spec: Spec) -> None:
        """`POST .../cdm/link` with one link (`Cdm.0315` if the name exists)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise cdm('Cdm.0004', 'The request parameter is invalid: the link name is empty.')
        with self._store.write() as conn:
            self._require_cluster(conn, cluster_id)
            if self._get(conn, 'cdm-link', name, cluster_id) is not None:
                raise cdm('Cdm.0315', f'Link name [{name}] already exist or created by other user.')
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
                raise cdm('Cdm.0315', f'Link name [{new}] already exist or created by other user.')
            if new != name:
                self._require_unused(conn, cluster_id, name)
            self._rewrite(conn, row, spec, name=new)

    def _require_unused(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> None:
        users = [r.name for r in self._all(conn, 'cdm-job', cluster_id) if name in cdm_links(r.spec)]
        if users:
            raise cdm('Cdm.0321', f'Link {name} has been used by job(s) {", ".join(users)}.')

    def delete_link(self, cluster_id: str, name: str) -> None:
        """`DELETE .../cdm/link/{link_name}`; a link a job uses cannot go (`Cdm.0321`)."""
        with self._store.write() as conn:
            row = self._require_link(conn, cluster_id, name)
            self._require_unused(conn, cluster_id, name)
            self._delete(conn, row)

    # --- CDM jobs ----------------------------------------------------------------------------

    def _require_cdm_job(self, conn: sqlite3.Connection, cluster_id: str, name: str) -> Row:
        self._require_cluster(conn, cluster_id)
        row = self._get(conn, 'cdm-job', name, cluster_id)
        if row is None:
            raise cdm('Cdm.0100', f'Job[{name}] doesn\'t exist.')
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
            # required by the SDK's Submission model (cdm `submission.py`; issue 11 facts §11)
            'external-id': f'job_local{sub["id"]}', 'isStopingIncrement': '',
        }
        if status == 'FAILED':
            view['error-summary'] = 'The job was stopped by the user.'
        return view

    def _cdm_job_view(self, conn: sqlite3.Connection, row: Row) -> Spec:
        spec = mask_cdm_job(row.spec)
        spec.update({
            'status': self._cdm_status(conn, row.scope, row.name),
            'creation-user': row.create_user, 'creation-date': row.create_time,
            'update-user': row.update_user, 'update-date': row.update_time,
            'group_name': cdm_group(row.spec),
        })
        return spec

    def _check_links(self, conn: sqlite3.Connection, cluster_id: str, spec: Spec) -> None:
        for link in cdm_links(spec):
            if self._get(conn, 'cdm-link', link, cluster_id) is None:
                raise cdm('Cdm.0101', f'The link does not exist: {link}.')

    def list_cdm_jobs(
            self, cluster_id: str, *, filter: str = '', job_type: str = 'NORMAL_JOB',
            page_no: int = 1, page_size: int = 10,
    ) -> dict[str, Any]:
        """`GET .../cdm/job/all`: `{"total", "jobs", "page_no", "page_size"}` of one `jobType`
        (a job without `job_type` is a `NORMAL_JOB`); `filter` matches names by substring."""
        if page_no < 1 or not 1 <= page_size <= 100:
            raise cdm('Cdm.0004', f'The request parameter is invalid: page_no {page_no}, page_size {page_size}.')
        with self._store.read() as conn:
            self._require_cluster(conn, cluster_id)
            rows = [r for r in self._all(conn, 'cdm-job', cluster_id)
                    if filter in r.name and r.spec.get('job_type', 'NORMAL_JOB') == job_type]
            start = (page_no - 1) * page_size
            jobs = [self._cdm_job_view(conn, r) for r in rows[start:start + page_size]]
        return {'total': len(rows), 'jobs': jobs, 'page_no': page_no, 'page_size': page_size}

    def show_cdm_job(self, cluster_id: str, name: str) -> Spec:
        """`GET .../cdm/job/{job_name}`: the job (the route wraps it in `{"jobs": [...]}`)."""
        with self._store.read() as conn:
            return self._cdm_job_view(conn, self._require_cdm_job(conn, cluster_id, name))

    def create_cdm_job(self, cluster_id: str, spec: Spec) -> None:
        """`POST .../cdm/job` with one job; its links must exist (`Cdm.0101`), its name not (`Cdm.0104`)."""
        name = spec.get('name')
        if not isinstance(name, str) or not name:
            raise cdm('Cdm.0004', 'The request parameter is invalid: the job name is empty.')
        with self._store.write() as conn:
            self._require_cluster(conn, cluster_id)
            if self._get(conn, 'cdm-job', name, cluster_id) is not None:
                raise cdm('Cdm.0104', 'Job name already exist or created by other.')
            self._check_links(conn, cluster_id, spec)
            self._insert(conn, 'cdm-job', name, copy.deepcopy(spec), id_=str(uuid.uuid4()), scope=cluster_id)

    def _require_idle(self, conn: sqlite3.Connection, row: Row) -> None:
        if self._cdm_status(conn, row.scope, row.name) in CDM_RUNNING_STATES:
            raise cdm('Cdm.0052', f'Job {row.name} is running.')

    def update_cdm_job(self, cluster_id: str, name: str, spec: Spec) -> None:
        """`PUT .../cdm/job/{job_name}` with the whole job; refused while it runs (`Cdm.0052`)."""
        with self._store.write() as conn:
            row = self._require_cdm_job(conn, cluster_id, name)
            self._require_idle(conn, row)
            spec = self._named(spec, 'name', name) if 'name' not in spec else copy.deepcopy(spec)
            new = str(spec['name'])
            if new != name and self._get(conn, 'cdm-job', new, cluster_id) is not None:
                raise cdm('Cdm.0104', 'Job name already exist or created by other.')
            self._check_links(conn, cluster_id, spec)
            self._rewrite(conn, row, spec, name=new)
            if new != name:
                conn.execute('UPDATE submissions SET job=? WHERE project=? AND workspace=? AND scope=? AND job=?',
                             (new, *self._space, cluster_id, name))

    def _delete_cdm_job(self, conn: sqlite3.Connection, row: Row) -> None:
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
            started = self._submission_view(sub, 'BOOTING')
            del started['external-id']  # StartJobSubmission [SDK cdm] has none (the Submission model does)
            return {'submissions': [started]}

    def stop_cdm_job(self, cluster_id: str, name: str) -> None:
        """`PUT .../cdm/job/{job_name}/stop`: the running submission ends `FAILED` (`Cdm.0053` if idle)."""
        with self._store.write() as conn:
            row = self._require_cdm_job(conn, cluster_id, name)
            sub = self._last_submission(conn, cluster_id, name)
            if sub is None or self._submission_status(sub) not in CDM_RUNNING_STATES:
                raise cdm('Cdm.0053', f'Job {row.name} is not running.')
            conn.execute('UPDATE submissions SET stop_time=? WHERE project=? AND workspace=? AND scope=?'
                         ' AND job=? AND id=?', (self._now(), *self._space, cluster_id, name, sub['id']))

    def cdm_job_status(self, cluster_id: str, name: str) -> dict[str, Any]:
        """`GET .../cdm/job/{job_name}/status`: `{"submissions": [last submission]}`, empty if never run."""
        with self._store.read() as conn:
            self._require_cdm_job(conn, cluster_id, name)
            sub = self._last_submission(conn, cluster_id, name)
            return {'submissions': [] if sub is None else [self._submission_view(sub)]}
