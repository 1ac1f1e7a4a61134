"""Fault soak (issue 13): apply N scripts (plus the example repo) against `jobsync emulator` with
10% 5xx answers, 5% dropped connections and a 20 requests/s throttle, once per seed, and print
for each seed and in all: runs that exited 0 in ONE run, API calls, retries, throttle waits, and
objects lost (missing after the run) or duplicated (stored twice). After each faulty run a
fault-free `plan --detailed-exitcode` must say nothing is left (converged). Figures are printed,
never asserted.

    python benchmarks/fault_soak.py                  # 300 scripts, 6 seeds
    python benchmarks/fault_soak.py --objects 100 --seeds 3
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jobsync.workspace.emulator import Emulator, EmulatorServer, Faults  # noqa: E402

AK, SK = 'AKSOAKEMULATOR00001', 'SKsoakEmulatorSecret00000000000000000001'
SECRETS = {'DWS_PASSWORD': 'soak-dws-1', 'MYSQL_PASSWORD': 'soak-mysql-1', 'MRS_HIVE_PASSWORD': 'soak-hive-1',
           'ETL_HOST_PASSWORD': 'soak-host-1'}
SPENT = re.compile(r'API calls: (\d+) \((\d+) retries, (\d+) throttle waits\)')


def _git(repo: Path, *args: str) -> None:
    subprocess.run(['git', '-C', str(repo), *args], check=True, capture_output=True)


def _repo(base: Path, url: str, project: str, objects: int) -> Path:
    repo = base / f'repo-{project[:8]}'
    shutil.copytree(ROOT / 'examples' / 'repo', repo, ignore=shutil.ignore_patterns('.jobsync'))
    config = yaml.safe_load((repo / 'jobsync.yaml').read_text(encoding='utf-8'))
    config['default_target'] = 'cloud'
    config['targets']['cloud'] = {'workspace': 'dataarts', 'expressionTimeZone': 'GMT+8', 'dataarts': {
        'project_id': project, 'workspace_id': 'ws-soak',
        'endpoints': {'factory': url, 'management': url, 'cdm': url},
        'rate_limits': {'factory': 0, 'management': 0, 'cdm': 0}, 'backoff_seconds': 0.05, 'max_attempts': 8}}
    (repo / 'jobsync.yaml').write_text(yaml.safe_dump(config), encoding='utf-8')
    for i in range(objects):
        (repo / 'scripts' / f'soak_{i:04}.sh').write_text(f'#!/bin/bash\necho soak {i}\n', encoding='utf-8')
        (repo / 'scripts' / f'soak_{i:04}.yaml').write_text(
            'type: Shell\ndirectory: /soak\nconnectionName: ecs_etl_host\n', encoding='utf-8')
    _git(repo, 'init', '-q')
    _git(repo, 'add', '-A')
    _git(repo, '-c', 'user.name=soak', '-c', 'user.email=soak@example.com', 'commit', '-qm', 'soak')
    return repo


def _jobsync(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'HUAWEICLOUD_SDK_AK': AK, 'HUAWEICLOUD_SDK_SK': SK, **SECRETS}
    return subprocess.run([sys.executable, '-m', 'jobsync', *args], capture_output=True, text=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--objects', type=int, default=300)
    parser.add_argument('--seeds', type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        emulator = Emulator(base / 'emulator.db', credentials={AK: SK}, clusters={'cdm-prod': None, 'cdm-dev': None},
                            workspaces={'ws-soak': 'soak'})
        server = EmulatorServer(emulator)
        server.start()
        totals = {'ok': 0, 'converged': 0, 'calls': 0, 'retries': 0, 'throttle': 0, 'lost': 0, 'duplicated': 0}
        print(f'{"seed":>4} {"exit":>4} {"converged":>9} {"calls":>6} {"retries":>7} {"throttle":>8} '
              f'{"lost":>4} {"dup":>4}')
        try:
            for seed in range(1, args.seeds + 1):
                project = uuid.uuid4().hex
                repo = _repo(base, server.url, project, args.objects)
                emulator.faults = Faults(fault_rate=0.10, drop_rate=0.05, throttle_rps=20, seed=seed)
                applied = _jobsync('apply', '--repo', str(repo), '--auto-approve')
                emulator.faults = Faults()
                plan = _jobsync('plan', '--repo', str(repo), '--detailed-exitcode')
                spent = SPENT.search(applied.stdout)
                calls, retries, throttle = (int(g) for g in spent.groups()) if spent else (0, 0, 0)
                conn = sqlite3.connect(emulator.engine.path)
                try:
                    rows = conn.execute("SELECT name, COUNT(*) FROM objects WHERE project=? AND kind='script'"
                                        " AND name LIKE 'soak_%' GROUP BY scope, name", (project,)).fetchall()
                finally:
                    conn.close()
                lost = args.objects - len(rows)
                duplicated = sum(count - 1 for _, count in rows)
                totals['ok'] += applied.returncode == 0
                totals['converged'] += plan.returncode == 0
                for name, value in (('calls', calls), ('retries', retries), ('throttle', throttle),
                                    ('lost', lost), ('duplicated', duplicated)):
                    totals[name] += value
                print(f'{seed:>4} {applied.returncode:>4} {"yes" if plan.returncode == 0 else "NO":>9} {calls:>6} '
                      f'{retries:>7} {throttle:>8} {lost:>4} {duplicated:>4}')
                if applied.returncode != 0:
                    print('   ' + applied.stderr.strip().replace('\n', '\n   ')[-2000:])
        finally:
            server.stop()
            emulator.close()
    print(f'{args.objects} objects x {args.seeds} seeds: {totals["ok"]}/{args.seeds} runs exited 0, '
          f'{totals["converged"]}/{args.seeds} converged; {totals["calls"]} calls, {totals["retries"]} retries, '
          f'{totals["throttle"]} throttle waits; {totals["lost"]} lost, {totals["duplicated"]} duplicated')


if __name__ == '__main__':
    main()
