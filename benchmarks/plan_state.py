"""What a plan costs with and without the target's state, against a local workspace of N jobs.

    .venv/bin/python benchmarks/plan_state.py            # N = 10,000 jobs, each with its script
    .venv/bin/python benchmarks/plan_state.py --jobs 1000

Seeds the workspace the way a user would (a plan, then apply in batches of 100, which records
the state), then prints, for a plan with nothing to do without the state, the same with the
state, and one with 1% of the scripts changed in git: the API calls by route, the wall time and
the process's peak memory. The claim it checks: with the state, a plan with nothing to do makes
list calls only (no batch export, no show), and a 1% change reads only the changed objects.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from jobsync import commands
from jobsync.config import Target
from jobsync.model import Definition, ObjectKey, SourceRef
from jobsync.plan import Plan, PlanOptions
from jobsync.secrets import Redactor, default_resolver, parse_placeholders
from jobsync.workspace.local import LocalWorkspace

LIST_ROUTES = frozenset({'GET /v1/{pid}/jobs', 'GET /v1/{pid}/scripts', 'GET /v1/{pid}/resources',
                         'GET /v1/{pid}/data-connections', 'GET /v1.1/{pid}/clusters',
                         'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/link/all',
                         'GET /v1.1/{pid}/clusters/{cluster_id}/cdm/job/all',
                         # connections: the change marker needs a show each (issue 11)
                         'GET /v1/{pid}/data-connections/{data_connection_id}'})


def desired(n: int, changed: int = 0) -> dict[ObjectKey, Definition]:
    """N jobs, each running its own script on one DWS connection; the first `changed` scripts edited."""
    out: dict[ObjectKey, Definition] = {}

    def add(kind: str, name: str, spec: dict[str, object]) -> None:
        key = ObjectKey(kind, name)  # type: ignore[arg-type]
        out[key] = Definition(key, parse_placeholders(spec), SourceRef(f'{kind}s/{name}.yaml'))

    add('connection', 'dws', {'dw_name': 'dws', 'dw_type': 'DWS',
                              'dw_config': {'host': 'dws.internal', 'port': '8000', 'user': 'etl',
                                            'password': '${secret:env:DWS_PASSWORD}'}})
    for i in range(n):
        name = f'etl_{i:05d}'
        sql = f'INSERT INTO dm.t{i} SELECT * FROM ods.t{i} WHERE dt = ${{bizdate}};\n'
        if i < changed:
            sql = sql.replace('SELECT *', 'SELECT id, amount')
        add('script', name, {'name': name, 'type': 'DWSSQL', 'directory': '/etl', 'connectionName': 'dws',
                             'database': 'dw', 'content': sql})
        add('job', name, {'name': name, 'processType': 'BATCH', 'directory': '/etl',
                          'schedule': {'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08',
                                                                'expression': f'0 {i % 60} 2 * * ?'}},
                          'nodes': [{'name': 'run', 'type': 'DWSSQL', 'preNodeName': [],
                                     'properties': [{'name': 'scriptName', 'value': name},
                                                    {'name': 'connectionName', 'value': 'dws'}]}]})
    return out


def timed_plan(ws: LocalWorkspace, target: Target, want: dict[ObjectKey, Definition]) -> tuple[Plan, float]:
    ws.calls.clear()
    start = time.perf_counter()
    plan = commands.plan_definitions(want, ws, target, repo_rev='bench', options=PlanOptions())
    return plan, time.perf_counter() - start


def report(title: str, plan: Plan, seconds: float) -> dict[str, int]:
    calls = dict(sorted(plan.api_calls.items()))
    total = sum(calls.values())
    reads = {r: n for r, n in calls.items() if r not in LIST_ROUTES}
    print(f'\n{title}')
    print(f'  changes: {len(plan.actionable)}   API calls: {total}   wall: {seconds:.2f}s   '
          f'peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB')
    for route, n in calls.items():
        print(f'    {n:6}  {route}')
    print(f'  content reads (not list calls): {sum(reads.values())}')
    return reads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--jobs', type=int, default=10_000)
    args = parser.parse_args(argv)
    n = args.jobs
    with tempfile.TemporaryDirectory() as tmp:
        ws = LocalWorkspace(Path(tmp) / 'workspace.db')
        target = Target('bench', workspace=f'local:{ws.path}')
        want = desired(n)
        start = time.perf_counter()
        first, _ = timed_plan(ws, target, want)
        applied = commands.apply_command(first, ws, default_resolver(Redactor(), {'DWS_PASSWORD': 'bench-pw-1234'}),
                                         lambda e: None)
        assert applied.result.ok and applied.state is not None
        print(f'seeded {n} jobs and {n} scripts through plan + apply in {time.perf_counter() - start:.1f}s '
              f'(state: {len(applied.state.objects)} objects)')

        saved = ws.read_state('bench')
        with ws.records._write() as conn:  # the same workspace, as if jobsync kept no state
            conn.execute('DELETE FROM jobsync_state')
        plan, seconds = timed_plan(ws, target, want)
        report(f'no-op plan, {n} jobs, WITHOUT state', plan, seconds)
        assert saved is not None
        ws.write_state(type(saved)(saved.target, 1, saved.objects, saved.updated_at, saved.git_rev))

        plan, seconds = timed_plan(ws, target, want)
        reads = report(f'no-op plan, {n} jobs, WITH state', plan, seconds)
        ok = not plan.has_changes and not reads

        changed = max(1, n // 100)
        plan, seconds = timed_plan(ws, target, desired(n, changed))
        reads = report(f'plan with {changed} scripts changed in git (1%), WITH state', plan, seconds)
        ok = ok and len(plan.actionable) == changed and sum(reads.values()) <= changed  # script lists carry content
        ws.close()
    print('\nOK: with state, a no-op plan makes list calls only' if ok else '\nFAILED: see above')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
