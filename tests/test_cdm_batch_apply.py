"""Issue 14 through the command: `jobsync apply` of 50 CDM jobs and 5 links costs a handful of create
calls (counted by route in apply's JSON `api`), on `local:` and on the emulator over HTTP; a batch
whose answer is lost leaves each object created once; updating idle CDM jobs asks no status; the
link passwords never show in anything apply prints."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_jobsync
from conftest import git_commit_all
from dataarts_fixtures import EMULATOR_ENV, RunningEmulator, target_the_emulator

from jobsync import secrets
from jobsync.workspace.emulator import Faults

CLUSTER = 'cdm-prod'
LINKS, JOBS = 5, 50
SECRETS = {f'LINK_PW_{i}': f'canary-link-{i}-9f{i}e/+ &x' for i in range(LINKS)}
CREATE_JOB = 'POST /v1.1/{pid}/clusters/{cluster_id}/cdm/job'
CREATE_LINK = 'POST /v1.1/{pid}/clusters/{cluster_id}/cdm/link'
UPDATE_JOB = 'PUT /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}'
STATUS = 'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/status'


def _link(i: int) -> str:
    return f'''connector-name: generic-jdbc-connector
enabled: true
link-config-values:
  configs:
    linkConfig:
      linkConfig.databaseType: MYSQL
      linkConfig.host: 10.0.0.{i + 1}
      linkConfig.port: "3306"
      linkConfig.username: etl
      linkConfig.password: ${{secret:env:LINK_PW_{i}}}
'''


def _job(i: int, table: str = 'orders') -> str:
    return f'''job_type: NORMAL_JOB
from-connector-name: generic-jdbc-connector
from-link-name: link_{i % LINKS}
to-connector-name: generic-jdbc-connector
to-link-name: link_{(i + 1) % LINKS}
from-config-values:
  configs:
    fromJobConfig:
      fromJobConfig.tableName: {table}_{i}
to-config-values:
  configs:
    toJobConfig:
      toJobConfig.tableName: {table}_{i}
driver-config-values:
  configs:
    groupJobConfig:
      groupJobConfig.groupName: sales
'''


def _cdm_repo(root: Path) -> Path:
    for folder in ('links', 'jobs'):
        (root / 'cdm' / CLUSTER / folder).mkdir(parents=True)
    (root / 'jobsync.yaml').write_text(
        'default_target: local\ntargets:\n  local:\n    workspace: local:.jobsync/workspace.db\n', encoding='utf-8')
    for i in range(LINKS):
        (root / 'cdm' / CLUSTER / 'links' / f'link_{i}.yaml').write_text(_link(i), encoding='utf-8')
    for i in range(JOBS):
        (root / 'cdm' / CLUSTER / 'jobs' / f'copy_{i:03}.yaml').write_text(_job(i), encoding='utf-8')
    git_commit_all(root)
    return root


@pytest.fixture(params=['local', 'dataarts'])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, list[str]]:
    """The CDM repo, and the arguments that apply it to each backend."""
    root = _cdm_repo(tmp_path / 'repo')
    if request.param == 'local':
        return root, ['--target', 'local']
    running: RunningEmulator = request.getfixturevalue('running_emulator')
    target_the_emulator(root, running.url)
    return root, ['--target', 'cloud']


def _apply(root: Path, args: list[str]) -> tuple[dict[str, Any], str]:
    result = run_jobsync('apply', '--repo', str(root), '--auto-approve', '--format', 'json', *args,
                         env={**EMULATOR_ENV, **SECRETS})
    assert result.code == 0, result
    doc = json.loads(result.stdout)
    assert doc['ok'], doc
    return doc, result.stdout + result.stderr


def _no_secret_in(text: str) -> None:
    for name, value in SECRETS.items():
        for form in secrets.encoded_forms(value):
            assert form not in text, f'{name} leaked as {form!r}'


def test_fifty_cdm_jobs_and_five_links_are_a_handful_of_create_calls(repo: tuple[Path, list[str]]) -> None:
    root, args = repo
    doc, printed = _apply(root, args)
    calls = doc['api']['by_route']
    assert calls[CREATE_LINK] == 1 and calls[CREATE_JOB] == 1, calls
    assert len(doc['outcomes']) == LINKS + JOBS and all(o['status'] == 'applied' for o in doc['outcomes'])
    _no_secret_in(printed)

    planned = run_jobsync('plan', '--repo', str(root), '--format', 'json', *args, env=EMULATOR_ENV)
    assert planned.code == 0, planned
    assert not [c for c in json.loads(planned.stdout)['changes'] if c['action'] != 'noop']

    # Updating 20 idle CDM jobs: one update each, no status call (the listing shows them idle).
    for i in range(20):
        (root / 'cdm' / CLUSTER / 'jobs' / f'copy_{i:03}.yaml').write_text(_job(i, 'sales'), encoding='utf-8')
    git_commit_all(root, 'retarget 20 CDM jobs')
    doc, printed = _apply(root, args)
    calls = doc['api']['by_route']
    assert calls[UPDATE_JOB] == 20 and STATUS not in calls, calls
    _no_secret_in(printed)


def test_a_lost_batch_answer_through_apply_creates_each_object_once(
        tmp_path: Path, running_emulator: RunningEmulator) -> None:
    root = _cdm_repo(tmp_path / 'repo')
    target_the_emulator(root, running_emulator.url)
    gateway = running_emulator.emulator
    armed: list[str] = []

    def lose_the_batch(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if op == 'create_cdm_job' and not armed:  # the batch of 50, served, its answer dropped
            armed.append(op)
            gateway.faults = Faults(drop_rate=0.9, phase='after', max_faults=1, seed=1)
        return False

    gateway.hold = lose_the_batch
    try:
        doc, printed = _apply(root, ['--target', 'cloud'])
    finally:
        gateway.hold = None
    assert gateway.stats['drop-after'] == 1
    calls = doc['api']['by_route']
    assert calls[CREATE_JOB] == 1, calls  # never sent again: the listing showed all 50 there
    assert all(o['status'] == 'applied' for o in doc['outcomes']) and len(doc['outcomes']) == LINKS + JOBS
    _no_secret_in(printed)
    planned = run_jobsync('plan', '--repo', str(root), '--format', 'json', env=EMULATOR_ENV)
    assert planned.code == 0, planned
    assert not [c for c in json.loads(planned.stdout)['changes'] if c['action'] != 'noop']
