"""A bounded fault soak (issue 13): ~100 objects applied against `jobsync emulator` with 10% 5xx
answers, 5% dropped connections and throttling, a few seeds. Each seed must exit 0 in ONE run,
and converge: a fault-free plan afterwards is a no-op, with every object stored exactly once."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK

from jobsync.workspace.emulator import Faults

ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}
SCRIPTS = 100


def _soak_repo(repo: Path, url: str, project: str) -> None:
    """The example repo, pointed at the emulator, with SCRIPTS more scripts."""
    config = yaml.safe_load((repo / 'jobsync.yaml').read_text(encoding='utf-8'))
    config['default_target'] = 'cloud'
    config['targets']['cloud'] = {'workspace': 'dataarts', 'expressionTimeZone': 'GMT+8', 'dataarts': {
        'project_id': project, 'workspace_id': 'ws-soak',
        'endpoints': {'factory': url, 'management': url, 'cdm': url},
        'rate_limits': {'factory': 0, 'management': 0, 'cdm': 0}, 'backoff_seconds': 0.01,
        'max_attempts': 8}}
    (repo / 'jobsync.yaml').write_text(yaml.safe_dump(config), encoding='utf-8')
    for i in range(SCRIPTS):
        (repo / 'scripts' / f'soak_{i:03}.sh').write_text(f'#!/bin/bash\necho soak {i}\n', encoding='utf-8')
        (repo / 'scripts' / f'soak_{i:03}.yaml').write_text(
            'type: Shell\ndirectory: /soak\nconnectionName: ecs_etl_host\n', encoding='utf-8')
    git_commit_all(repo, 'soak')


def _rows(running: Any, project: str) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(running.emulator.engine.path)
    try:
        return conn.execute("SELECT kind, name, COUNT(*) FROM objects WHERE project=? AND kind != 'cluster'"
                            ' GROUP BY kind, scope, name', (project,)).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize('seed', [3, 17, 29])
def test_one_faulty_apply_exits_0_and_converges(example_repo: Path, running_emulator: Any, seed: int) -> None:
    project = uuid.uuid4().hex
    _soak_repo(example_repo, running_emulator.url, project)
    running_emulator.emulator.faults = Faults(fault_rate=0.10, drop_rate=0.05, throttle_rps=200,
                                              throttle_burst=20, seed=seed)
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    stats = running_emulator.emulator.stats
    running_emulator.emulator.faults = Faults()
    assert applied.code == 0, applied
    assert stats['5xx-before'] + stats['5xx-after'] > 0
    # Apply reports what the faults cost it.
    spent = re.search(r'API calls: (\d+) \((\d+) retries, (\d+) throttle waits\)', applied.stdout)
    assert spent is not None, applied.stdout[-500:]
    assert int(spent.group(2)) > 0
    again = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ENV)
    assert again.code == 0, again  # nothing left to do: nothing missing, nothing changed
    rows = _rows(running_emulator, project)
    assert rows and all(count == 1 for _, _, count in rows)  # nothing duplicated
    soaked = {name for kind, name, _ in rows if kind == 'script' and name.startswith('soak_')}
    assert soaked == {f'soak_{i:03}' for i in range(SCRIPTS)}
