"""Issue 11: CDM runs around writes (jobsync/workspace/cdmruns.py), on `local:` with a CDM run that
lasts (the engine's `cdm_run_ms`), so no test waits on a clock: a run is RUNNING until stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
from workspace_specs import cdm_job_spec, link_spec

from jobsync.model import ObjectKey
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.transport import ApiError

SRC, DST = ObjectKey('cdm-link', 'src', 'cdm-prod'), ObjectKey('cdm-link', 'dst', 'cdm-prod')
COPY = ObjectKey('cdm-job', 'copy', 'cdm-prod')
FOREVER_MS = 10 ** 12


@pytest.fixture
def ws(tmp_path: Path) -> LocalWorkspace:
    workspace = LocalWorkspace(tmp_path / 'ws.db', cdm_run_ms=FOREVER_MS)
    workspace.import_objects([(SRC, link_spec('src')), (DST, link_spec('dst')),
                              (COPY, cdm_job_spec('copy', source='src', target='dst'))])
    return workspace


def test_running_cdm_job_is_stopped_then_deleted(ws: LocalWorkspace) -> None:
    try:
        ws.start_job(COPY)
        assert ws.job_status(COPY) in ('BOOTING', 'RUNNING')
        ws.delete(COPY)
        assert COPY not in ws.list_objects()
        assert ws.http.calls['PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop'] == 1
    finally:
        ws.close()


def test_idle_cdm_job_is_deleted_without_a_stop(ws: LocalWorkspace) -> None:
    try:
        ws.delete(COPY)
        assert ws.http.calls['PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop'] == 0
    finally:
        ws.close()


def test_failed_start_is_reported(ws: LocalWorkspace) -> None:
    try:
        ws.gateway.failing_cdm_jobs = frozenset({'copy'})
        with pytest.raises(ApiError) as caught:
            ws.start_job(COPY)
        assert caught.value.code == 'FAILURE_ON_SUBMIT' and 'not started' in caught.value.message
        assert ws.job_status(COPY) == 'NEW'
    finally:
        ws.close()
