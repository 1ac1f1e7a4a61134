"""Issue 14: CDM creates go in batch requests (workspace/cdmbatch.py, client `_create_pack`), and a CDM
job's status comes from the listing (no status call for a job listed idle). On both backends: `local:`
and the emulator over HTTP, each with its gateway's own fault injection."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from dataarts_fixtures import RunningEmulator
from workspace_specs import cdm_job_spec, link_spec

from jobsync.errors import ImportRefused
from jobsync.model import ObjectKey
from jobsync.workspace.cdmbatch import packs
from jobsync.workspace.cdmruns import CdmRunPolicy
from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.emulator import Faults
from jobsync.workspace.emulator.gateway import Gateway
from jobsync.workspace.http import HttpTransport
from jobsync.workspace.local import LocalWorkspace

CLUSTER = 'cdm-prod'
CREATE_JOB = 'POST /v1.1/{pid}/clusters/{cluster_id}/cdm/job'
CREATE_LINK = 'POST /v1.1/{pid}/clusters/{cluster_id}/cdm/link'
LIST_JOBS = 'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all'
UPDATE_JOB = 'PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}'
STATUS = 'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/status'
STOP = 'PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop'
FOREVER_MS = 10 ** 12


def link(i: int) -> tuple[ObjectKey, dict[str, Any]]:
    return ObjectKey('cdm-link', f'link_{i}', CLUSTER), link_spec(f'link_{i}', password=f'pw-canary-{i:04}')


def job(i: int, *, source: str = 'link_0', table: str = 'orders') -> tuple[ObjectKey, dict[str, Any]]:
    spec = cdm_job_spec(f'copy_{i:03}', source=source, target='link_1')
    spec['from-config-values']['configs'][0]['inputs'][0]['value'] = table
    return ObjectKey('cdm-job', f'copy_{i:03}', CLUSTER), spec


@pytest.fixture(params=['local', 'dataarts'])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[DataArtsClient, Gateway]]:
    """A fresh workspace of each backend with its gateway (faults, hold), CDM runs lasting until stopped."""
    if request.param == 'local':
        local = LocalWorkspace(tmp_path / 'ws.db', cdm_run_ms=FOREVER_MS)
        yield local, local.gateway
        local.close()
        return
    running: RunningEmulator = request.getfixturevalue('running_emulator')
    ws = running.workspace()
    yield ws, running.emulator
    ws.close()


def _cdm_names(ws: DataArtsClient) -> list[str]:
    return sorted(k.name for k in ws.list_objects() if k.kind == 'cdm-job')


def test_fifty_cdm_jobs_and_five_links_cost_one_create_call_per_kind(
        backend: tuple[DataArtsClient, Gateway]) -> None:
    ws, _ = backend
    ws.list_objects()  # what apply does first: the creates are what this listing does not show
    written: list[ObjectKey] = []
    items = [link(i) for i in range(5)] + [job(i) for i in range(50)]
    ws.import_objects(items, on_written=written.append)
    assert ws.calls[CREATE_LINK] == 1 and ws.calls[CREATE_JOB] == 1, ws.calls
    assert written == [k for k, _ in items]  # each object reported written, in order
    assert _cdm_names(ws) == [f'copy_{i:03}' for i in range(50)]
    live = ws.read([k for k, _ in items])
    assert live[job(7)[0]].spec['from-link-name'] == 'link_0'


def test_a_refused_job_in_a_batch_is_named_alone_with_the_services_reason(
        backend: tuple[DataArtsClient, Gateway]) -> None:
    ws, _ = backend
    ws.import_objects([link(0), link(1)])
    ws.list_objects()
    items = [job(i, source='ghost' if i == 4 else 'link_0') for i in range(10)]
    with pytest.raises(ImportRefused) as refused:
        ws.import_objects(items)
    bad = str(job(4)[0])
    assert set(refused.value.reasons) == {bad}
    assert 'Cdm.0101' in refused.value.reasons[bad] and 'ghost' in refused.value.reasons[bad]
    assert sorted(refused.value.written or []) == sorted(str(k) for k, _ in items if str(k) != bad)
    assert _cdm_names(ws) == [f'copy_{i:03}' for i in range(10) if i != 4]
    # The emulator creates the jobs before the refused one and stops there (not transactional,
    # routes.py): the listing shows 0-3, so 4-9 go one per call; 4 is refused again, alone.
    assert ws.calls[CREATE_JOB] == 1 + 6


@pytest.mark.parametrize('phase', ['after', 'before'])
def test_a_batch_whose_answer_is_lost_ends_with_each_object_created_once(
        backend: tuple[DataArtsClient, Gateway], phase: str) -> None:
    ws, gateway = backend
    ws.import_objects([link(0), link(1)])
    ws.list_objects()
    armed: list[str] = []

    def lose_the_batch(op: str, params: Mapping[str, str], body: bytes) -> bool:
        # The gateway's fault injection, switched on for the one batch create: its connection is
        # dropped before or after the service handled it (seed 1: the first roll is a drop).
        if op == 'create_cdm_job' and not armed:
            armed.append(op)
            gateway.faults = Faults(drop_rate=0.9, phase=phase, max_faults=1, seed=1)
        return False

    gateway.hold = lose_the_batch
    items = [job(i) for i in range(12)]
    try:
        ws.import_objects(items)
    finally:
        gateway.hold = None
    assert gateway.stats[f'drop-{phase}'] == 1
    gateway.faults = Faults()
    assert _cdm_names(ws) == [f'copy_{i:03}' for i in range(12)]  # every one, none twice
    # Served before the answer was lost: the listing shows all 12, nothing is sent again.
    # Lost before it was served: none exist, each is created on its own.
    assert ws.calls[CREATE_JOB] == (1 if phase == 'after' else 1 + 12)
    assert ws.calls[UPDATE_JOB] == 0


def test_a_lost_link_batch_is_settled_by_content_without_its_passwords(backend: tuple[DataArtsClient, Gateway]) -> None:
    """The listing shows a link's password as `Add password here`: the comparison leaves secret
    inputs out, so links found holding what was sent count as written and are not sent again."""
    ws, gateway = backend
    ws.list_objects()
    armed: list[str] = []

    def lose_the_batch(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if op == 'create_link' and not armed:
            armed.append(op)
            gateway.faults = Faults(drop_rate=0.9, phase='after', max_faults=1, seed=1)
        return False

    gateway.hold = lose_the_batch
    try:
        ws.import_objects([link(i) for i in range(6)])
    finally:
        gateway.hold = None
    assert gateway.stats['drop-after'] == 1
    gateway.faults = Faults()
    assert sorted(k.name for k in ws.list_objects() if k.kind == 'cdm-link') == [f'link_{i}' for i in range(6)]
    assert ws.calls[CREATE_LINK] == 1
    assert ws.calls['PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}'] == 0


def test_a_lost_batch_finding_another_content_overwrites_it(backend: tuple[DataArtsClient, Gateway]) -> None:
    """Someone else's job of the same name appeared while the answer was lost: by name it would pass
    for ours; by the listing's content it does not, so it is updated to what git says."""
    ws, gateway = backend
    ws.import_objects([link(0), link(1)])
    ws.list_objects()
    cluster_id = ws.clusters()[CLUSTER]

    def someone_else_first(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if op == 'create_cdm_job':
            gateway.hold = None
            # CDM objects live in the project's `default` space, whatever the DataArts workspace.
            project = ws.http.settings.project_id if isinstance(ws.http, HttpTransport) else 'local'
            gateway.engine.scoped(project, 'default').create_cdm_job(cluster_id, job(1, table='theirs')[1])
            return True  # our batch is dropped unanswered
        return False

    gateway.hold = someone_else_first
    ws.import_objects([job(i) for i in range(3)])
    assert ws.read([job(1)[0]])[job(1)[0]].spec['from-config-values']['configs'][0]['inputs'][0]['value'] == 'orders'
    assert ws.calls[UPDATE_JOB] == 1 and ws.calls[CREATE_JOB] == 1 + 2


def test_packs_keep_order_and_stay_under_the_count_and_byte_limits() -> None:
    items = [job(i) for i in range(250)]
    cut = list(packs(items, 'jobs'))
    assert [len(p) for p in cut] == [100, 100, 50]
    assert [k for p in cut for k, _ in p] == [k for k, _ in items]
    big = [(k, {**spec, 'description': 'x' * 300_000}) for k, spec in items[:7]]
    from jobsync.workspace.transport import json_bytes
    cut = list(packs(big, 'jobs'))
    assert [len(p) for p in cut] == [3, 3, 1]
    assert all(len(json_bytes({'jobs': [b for _, b in p]})) <= 1024 * 1024 for p in cut)
    alone = [(items[0][0], {**items[0][1], 'description': 'x' * 2_000_000})]
    assert [len(p) for p in packs(alone, 'jobs')] == [1]  # too big for any pack: it goes alone


def test_updating_idle_cdm_jobs_asks_no_status(backend: tuple[DataArtsClient, Gateway]) -> None:
    ws, _ = backend
    ws.list_objects()
    ws.import_objects([link(0), link(1)] + [job(i) for i in range(20)])
    ws.list_objects()  # the listing carries each job's status (SDK cdm `Job.status`)
    before = ws.calls[STATUS]
    ws.import_objects([job(i, table='orders_v2') for i in range(20)])
    assert ws.calls[STATUS] == before == 0
    assert ws.calls[UPDATE_JOB] == 20


def test_a_job_listed_running_is_asked_and_refused_by_default(tmp_path: Path) -> None:
    """On `local:`, whose CDM run lasts until stopped (the session emulator's ends on its own)."""
    ws = LocalWorkspace(tmp_path / 'ws.db', cdm_run_ms=FOREVER_MS)
    try:
        ws.list_objects()
        ws.import_objects([link(0), link(1), job(0), job(1)])
        ws.start_job(job(0)[0])
        ws.list_objects()
        with pytest.raises(ImportRefused) as refused:
            ws.import_objects([job(0, table='v2'), job(1, table='v2')])
        assert set(refused.value.reasons) == {str(job(0)[0])}  # the idle one is written
        assert 'running (copying data)' in refused.value.reasons[str(job(0)[0])]
        assert ws.calls[STATUS] == 1  # the running one only, asked fresh
    finally:
        ws.close()


def test_a_job_that_started_after_the_listing_gets_the_running_policy(tmp_path: Path) -> None:
    """Listed idle, then started (its own CDM schedule, a console user): the service refuses the
    update (`Cdm.0052`); the client then asks its status and applies the policy (here: stop it)."""
    ws = LocalWorkspace(tmp_path / 'ws.db', cdm_run_ms=FOREVER_MS)
    try:
        ws.cdm_runs = CdmRunPolicy(stop_running=True, poll_seconds=0, sleep=lambda _: None)
        ws.list_objects()
        ws.import_objects([link(0), link(1), job(0)])
        ws.list_objects()
        ws.start_job(job(0)[0])  # after the listing: it still shows the job idle
        ws.import_objects([job(0, table='v2')])
        assert ws.calls[STOP] == 1 and ws.calls[UPDATE_JOB] == 2
        assert ws.read([job(0)[0]])[job(0)[0]].spec['from-config-values']['configs'][0]['inputs'][0]['value'] == 'v2'
    finally:
        ws.close()


def test_after_an_answer_every_call_would_get_the_rest_of_the_batch_is_not_attempted(
        running_emulator: RunningEmulator) -> None:
    """The batch's answer is lost and, from then on, the credentials are refused (401): the listing
    cannot say, the first object's own create is refused, and the others are not tried."""
    ws = running_emulator.workspace()
    gateway = running_emulator.emulator
    credentials = dict(gateway.credentials)
    try:
        ws.import_objects([link(0), link(1)])
        ws.list_objects()

        def revoke(op: str, params: Mapping[str, str], body: bytes) -> bool:
            if op == 'create_cdm_job':
                gateway.hold = None
                gateway.credentials = {}
                return True
            return False

        gateway.hold = revoke
        with pytest.raises(ImportRefused) as refused:
            ws.import_objects([job(i) for i in range(5)])
        reasons = refused.value.reasons
        assert 'APIGW.0301' in reasons[str(job(0)[0])]
        assert all(reasons[str(job(i)[0])].startswith('not attempted: ') for i in range(1, 5)), reasons
        assert not refused.value.written
        assert ws.calls[CREATE_JOB] == 2  # the batch, then the first object alone
    finally:
        gateway.hold = None
        gateway.credentials = credentials
        ws.close()
