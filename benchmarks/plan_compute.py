"""How long the pure plan takes once both sides are read: N jobs, 1% changed.

Prints figures; asserts nothing. Usage: python benchmarks/plan_compute.py [N ...]
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from typing import Any

from jobsync.commands import package_size
from jobsync.model import Definition, LiveObject, ObjectKey, SourceRef
from jobsync.plan import make_plan


def _job(i: int, cron: str) -> dict[str, Any]:
    return {
        'name': f'job_{i}', 'processType': 'BATCH', 'directory': '/etl',
        'schedule': {'type': 'CRON', 'cron': {'expression': cron, 'startTime': '2025-01-01T00:00:00+08'}},
        'nodes': [{'name': 'load', 'type': 'DWSSQL', 'location': {'x': '10', 'y': '20'}, 'preNodeName': [],
                   'properties': [{'name': 'scriptName', 'value': f'script_{i}'},
                                  {'name': 'connectionName', 'value': 'dws'}]}],
    }


def run(n: int) -> None:
    keys = [ObjectKey('job', f'job_{i}') for i in range(n)]
    desired = {k: Definition(k, _job(i, '0 0 2 * * ?'), SourceRef(f'jobs/{k.name}.yaml')) for i, k in enumerate(keys)}
    live = {k: LiveObject(k, {**_job(i, '0 0 3 * * ?' if i % 100 == 0 else '0 0 2 * * ?'), 'id': i,
                              'lastUpdateUser': 'alice', 'version': '3'}, updated=i)
            for i, k in enumerate(keys)}
    def plan() -> Any:
        return make_plan(desired, live, repo_rev='bench', target='bench', workspace='local:bench', max_objects=100,
                         max_bytes=1 << 20, size_of=package_size)

    started = time.perf_counter()
    result = plan()
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a second run for memory: tracemalloc slows everything down
    plan()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f'N={n:>6}: plan computed in {elapsed:6.2f} s, peak {peak / 2**20:6.1f} MiB, '
          f'{len(result.actionable)} changes in {len(result.batches)} batch(es)')


if __name__ == '__main__':
    for arg in sys.argv[1:] or ['1000', '10000']:
        run(int(arg))
