"""Issue 11: CDM runs around writes (jobsync/workspace/cdmruns.py), on `local:` with a CDM run that
lasts (the engine's `cdm_run_ms`), so no test waits on a clock: a run is RUNNING until stopped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeClock
from workspace_specs import cdm_job_spec, link_spec

from jobsync.config import Target
from jobsync.errors import ImportRefused
from jobsync.model import LiveObject, ObjectKey
from jobsync.plan import Action, Change
from jobsync.runnotes import run_notes
from jobsync.workspace.cdmruns import CdmRunPolicy
from jobsync.workspace.connect import DataArtsConfig
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


def _changed() -> list[tuple[ObjectKey, dict[str, object]]]:
    spec = cdm_job_spec('copy', source='src', target='dst')
    spec['from-config-values']['configs'][0]['inputs'][0]['value'] = 'orders_v2'
    return [(COPY, spec)]


def test_overwriting_a_running_cdm_job_is_refused_by_default(ws: LocalWorkspace) -> None:
    try:
        ws.start_job(COPY)
        with pytest.raises(ImportRefused) as caught:
            ws.import_objects(_changed())
        assert 'running (copying data)' in caught.value.reasons[str(COPY)]
        assert ws.job_status(COPY) in ('BOOTING', 'RUNNING')  # the copy goes on
    finally:
        ws.close()


def test_overwriting_a_running_cdm_job_stops_it_when_asked_and_does_not_restart(ws: LocalWorkspace) -> None:
    try:
        ws.start_job(COPY)
        ws.cdm_runs = CdmRunPolicy(stop_running=True, sleep=lambda _s: None)
        ws.import_objects(_changed())
        assert ws.job_status(COPY) not in ('BOOTING', 'RUNNING')
        assert ws.http.calls['PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start'] == 1
    finally:
        ws.close()


def _advancing(clock: FakeClock) -> Callable[[float], None]:
    """A sleep that moves the engine's clock instead of waiting."""
    def sleep(seconds: float) -> None:
        clock.advance(int(seconds * 1000))
    return sleep


def test_overwrite_waits_for_the_run_to_finish(tmp_path: Path, fake_clock: FakeClock) -> None:
    ws = LocalWorkspace(tmp_path / 'ws.db', clock=fake_clock, cdm_run_ms=10_000)
    try:
        ws.import_objects([(SRC, link_spec('src')), (DST, link_spec('dst')),
                           (COPY, cdm_job_spec('copy', source='src', target='dst'))])
        ws.start_job(COPY)
        fake_clock.advance(1)
        # Each poll's sleep moves the engine's clock 4 s: the 10 s run ends on the third poll.
        ws.cdm_runs = CdmRunPolicy(wait_seconds=20, poll_seconds=4, sleep=_advancing(fake_clock))
        ws.import_objects(_changed())
        assert ws.job_status(COPY) == 'SUCCEEDED'
        ws.start_job(COPY)
        ws.cdm_runs = CdmRunPolicy(wait_seconds=4, poll_seconds=4, sleep=_advancing(fake_clock))
        with pytest.raises(ImportRefused, match='could not be written') as caught:
            ws.import_objects(_changed())
        assert 'after waiting 4 s' in caught.value.reasons[str(COPY)]
    finally:
        ws.close()


def test_target_settings_give_the_policy() -> None:
    target = Target('prod', workspace='dataarts', settings={'workspace': 'dataarts', 'dataarts': {
        'project_id': 'p', 'region': 'cn-north-4', 'cdm_wait_seconds': 90, 'stop_running_cdm_jobs': True}})
    config = DataArtsConfig.from_target(target)
    assert (config.cdm_wait_seconds, config.stop_running_cdm_jobs) == (90.0, True)
    assert DataArtsConfig.from_target(Target('t', workspace='dataarts', settings={
        'workspace': 'dataarts', 'dataarts': {'project_id': 'p', 'region': 'r'}})).cdm_wait_seconds == 0


def test_plan_notes_name_the_running_jobs_apply_will_stop() -> None:
    job, other = ObjectKey('job', 'daily'), ObjectKey('cdm-job', 'idle', 'cdm-prod')
    changes = [Change(COPY, Action.DELETE, 'gone from git'), Change(job, Action.UPDATE, 'changed'),
               Change(other, Action.UPDATE, 'changed')]
    live = {COPY: LiveObject(COPY, {}, 1, 'RUNNING'), job: LiveObject(job, {}, 1, 'SCHEDULING'),
            other: LiveObject(other, {}, 1, 'SUCCEEDED')}
    notes = run_notes(changes, live)
    assert notes == [f'apply will stop and restart these running jobs to overwrite them: {job}',
                     f'apply will stop these running CDM jobs before deleting them: {COPY}']
