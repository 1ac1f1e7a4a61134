"""What an apply costs in calls (issue 14), counted against the emulator over HTTP, where the
state and the lock are API calls too: one listing round taken under the lock and reused (job
statuses, fingerprints of what it leaves), k writes, the written objects read back, a few state
and lock calls. A saved plan's apply checks staleness with one listing round."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmark_modules import load_benchmark
from cli_runner import run_jobsync
from conftest import git_commit_all
from dataarts_fixtures import RunningEmulator

N = 250  # 3 pages of jobs and of scripts


def _scale_repo() -> ModuleType:
    return load_benchmark('scale_repo')


def _apply(repo: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    result = run_jobsync('apply', '--repo', str(repo), '--auto-approve', '--format', 'json', *args, env=env)
    assert result.code == 0, result
    doc = json.loads(result.stdout)
    assert doc['ok'], doc
    return doc


def _one_job_edited_after_apply(tmp_path: Path, emulator: RunningEmulator, jobs: int) -> tuple[Path, dict[str, str]]:
    """A scale repo of `jobs` jobs applied to a fresh emulator project, then one job rescheduled in git."""
    from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK
    scale = _scale_repo()
    repo = tmp_path / 'repo'
    scale.write_repo(repo, jobs, url=emulator.url, project=uuid.uuid4().hex)
    git_commit_all(repo)
    env = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK}
    _apply(repo, env)
    scale.edit_jobs(repo, 1)
    git_commit_all(repo, 'reschedule one job')
    return repo, env


def test_an_apply_of_k_changes_costs_one_listing_round_k_writes_and_their_read_back(
        tmp_path: Path, running_emulator: RunningEmulator) -> None:
    scale = _scale_repo()
    repo = tmp_path / 'repo'
    scale.write_repo(repo, N, url=running_emulator.url, project=uuid.uuid4().hex)
    git_commit_all(repo)
    env = dict(scale.ENV)
    from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK
    env.update({'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK})
    _apply(repo, env)  # seeds the workspace and records the state

    scale.edit_jobs(repo, 2)
    git_commit_all(repo, 'reschedule two jobs')
    doc = _apply(repo, env)
    assert [o['key'] for o in doc['outcomes']] == ['job/job_00000', 'job/job_00001']
    calls = doc['api']['by_route']
    listing = {
        'GET /v1/{pid}/jobs': 3 + 1,  # one round: 3 pages of BATCH jobs, 1 of REAL_TIME ...
        'GET /v1/{pid}/scripts': 3,
        'GET /v1/{pid}/resources': 1,
        'GET /v1/{pid}/data-connections': 1,
        'GET /v1/{pid}/data-connections/{data_connection_id}': 1,  # a connection's marker is its show
        'GET /v1.1/{pid}/clusters': 1,
        # The emulator's project has two clusters: per cluster its links, and its jobs per type.
        'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all': 2,
        'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all': 2 * 3,
    }
    for route, count in listing.items():
        read_back = 2 if route == 'GET /v1/{pid}/jobs' else 0  # ... + the 2 written jobs read back by name
        assert calls.get(route, 0) == count + read_back, (route, calls)
    assert calls['PUT /v1/{pid}/jobs/{job_name}'] == 2
    assert calls['POST /v1/{pid}/jobs/batch-export'] == 1  # the plan reads the 2 changed jobs
    # No status call per updated job (the listing carries the status), no second listing round;
    # what is left is the lock and the state (reserved scripts), a handful of calls, and finding
    # the default DataArts workspace (the target names none).
    rest = {r: n for r, n in calls.items() if r not in listing and r not in (
        'PUT /v1/{pid}/jobs/{job_name}', 'POST /v1/{pid}/jobs/batch-export')}
    assert set(rest) <= {'GET /v1/{pid}/instances', 'GET /v1/{pid}/workspaces/{instance_id}',
                         'GET /v1/{pid}/scripts/{script_name}', 'POST /v1/{pid}/scripts',
                         'PUT /v1/{pid}/scripts/{script_name}', 'DELETE /v1/{pid}/scripts/{script_name}'}, rest
    # The records' calls (issue 13: each read back, never trusted blind): taking the lock and
    # reading the state (about 4), a state write before the batch (the two jobs go as pending)
    # and one after it, each with the lease renewed first (about 6 each), the release (2).
    assert sum(rest.values()) <= 20, rest
    assert doc['api']['calls'] == sum(calls.values())

    # The state it recorded is right: a plan now has nothing to do and reads no content.
    planned = run_jobsync('plan', '--repo', str(repo), '--format', 'json', env=env)
    assert planned.code == 0, planned
    plan = json.loads(planned.stdout)
    assert not [c for c in plan['changes'] if c['action'] != 'noop']
    assert 'POST /v1/{pid}/jobs/batch-export' not in plan['api_calls']


def test_a_saved_plan_checks_staleness_with_one_listing_round(
        tmp_path: Path, running_emulator: RunningEmulator) -> None:
    repo, env = _one_job_edited_after_apply(tmp_path, running_emulator, 120)
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(repo), '--out', str(plan_file), env=env).code == 0
    result = run_jobsync('apply', str(plan_file), '--format', 'json', env=env)
    assert result.code == 0, result
    calls = json.loads(result.stdout)['api']['by_route']
    assert calls['GET /v1/{pid}/scripts'] == 2  # one round (2 pages), no listing after the writes
    assert calls['GET /v1/{pid}/jobs'] == 2 + 1 + 1  # 2 BATCH pages, 1 REAL_TIME, the written job read back
    assert calls['PUT /v1/{pid}/jobs/{job_name}'] == 1
    assert calls['GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all'] == 2  # two clusters


def test_an_apply_reads_its_state_once_besides_each_writes_own_check_and_read_back(
        tmp_path: Path, running_emulator: RunningEmulator) -> None:
    """The plan and the apply share the state read under the lock; what stays is each state write's
    serial check before it and its read-back after it (records.py: no compare-and-swap otherwise)."""
    repo, env = _one_job_edited_after_apply(tmp_path, running_emulator, 20)
    seen: list[str] = []

    def watch(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if params.get('script_name', '').startswith('jobsync_state_') or \
                (op == 'create_script' and b'"jobsync_state_' in body):
            seen.append(op)
        return False  # only watching: every request is served

    running_emulator.emulator.hold = watch
    _apply(repo, env)
    running_emulator.emulator.hold = None
    writes = seen.count('update_script') + seen.count('create_script')
    assert writes >= 1, seen
    assert seen.count('show_script') == 1 + 2 * writes, seen

    # A saved plan's apply likewise: its "already applied?" check and the apply share one read.
    _scale_repo().edit_jobs(repo, 2, hour=4)
    git_commit_all(repo, 'reschedule two jobs')
    plan_file = tmp_path / 'plan.json'
    assert run_jobsync('plan', '--repo', str(repo), '--out', str(plan_file), env=env).code == 0
    seen.clear()
    running_emulator.emulator.hold = watch
    result = run_jobsync('apply', str(plan_file), '--format', 'json', env=env)
    running_emulator.emulator.hold = None
    assert result.code == 0, result
    writes = seen.count('update_script') + seen.count('create_script')
    assert writes >= 1 and seen.count('show_script') == 1 + 2 * writes, seen
