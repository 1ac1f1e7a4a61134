"""What a plan costs against DataArts: API calls by route, wall time, peak memory.

Seeds an emulator database with N Factory jobs (each running its own script) plus CDM links and
jobs, serves it with `jobsync emulator` (a separate process, with added latency per request),
and measures, for a plan with nothing to do and a plan with 1% of the jobs changed:

* `batch`: jobsync's reading (list calls, then batch exports of at most 100 jobs that bring
  the scripts along, CDM content from the `all` listings);
* `per-object`: one GET per object after the same list calls, the way the terraform provider
  reads (reference §12);
* `state`: jobsync's plan with the target's state that a first apply records: list calls plus
  the state's own read, and content only for what moved (1% changed: one batch export).

Each scenario runs in a fresh process, so its peak memory (max RSS) is its own. Figures are
printed, never asserted. The target: reading costs at most the list pages plus ceil(N/100)
batch exports, at least fifty times fewer calls than one GET per object, and the plan itself
(after the reads) computes in under a second for 10,000 jobs.

    python benchmarks/plan_roundtrips.py                 # N = 1,000 (about a minute on 2 cores)
    python benchmarks/plan_roundtrips.py --full          # N = 1,000 and 10,000 (several minutes)
    python benchmarks/plan_roundtrips.py --jobs 200 --latency-ms 5
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jobsync import commands
from jobsync.commands import package_size
from jobsync.config import Target
from jobsync.model import Definition, LiveObject, ObjectKey, SourceRef
from jobsync.plan import Action, Plan, PlanOptions, make_plan
from jobsync.secrets import Redactor, default_resolver
from jobsync.workspace.base import ListEntry
from jobsync.workspace.bodies import decode_cdm_values
from jobsync.workspace.client import DataArtsClient as DataArtsWorkspace
from jobsync.workspace.http import AkSk, HttpSettings, HttpTransport
from jobsync.workspace.routes import SHOW_CDM_JOB, SHOW_CONNECTION, SHOW_JOB, SHOW_LINK, SHOW_RESOURCE, SHOW_SCRIPT
from jobsync.workspace.service import Engine

AK, SK = 'AKBENCHMARK000001', 'SKbenchmark0000000000000000000000000001'
PROJECT, WORKSPACE, CLUSTER = '0123456789abcdef0123456789abcdef', 'ws-bench', 'cdm-bench'


# --- the objects --------------------------------------------------------------------------------

def script(i: int) -> dict[str, Any]:
    return {'name': f'sql_{i:05}', 'type': 'DWSSQL', 'directory': '/bench', 'connectionName': 'dws_main',
            'database': 'dw', 'content': f'-- step {i}\nINSERT INTO mart_{i % 50} SELECT * FROM stage_{i % 50};\n'}


def job(i: int, cron: str = '0 0 2 * * ?') -> dict[str, Any]:
    return {
        'name': f'job_{i:05}', 'processType': 'BATCH', 'directory': f'/bench/{i % 20}',
        'basicConfig': {'owner': 'bench', 'priority': 0, 'customFields': {}},
        'params': [{'name': 'bizdate', 'value': '#{DateUtil.format(Job.planTime,"yyyyMMdd")}', 'type': 'variable'}],
        'schedule': {'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08', 'expression': cron,
                                              'expressionTimeZone': 'GMT+8', 'dependPrePeriod': False,
                                              'dependJobs': {'jobs': [], 'dependPeriod': 'SAME_PERIOD',
                                                             'dependFailPolicy': 'FAIL'}}},
        'nodes': [{'name': 'run', 'type': 'DWSSQL', 'location': {'x': '0', 'y': '0'}, 'preNodeName': [],
                   'properties': [{'name': 'scriptName', 'value': f'sql_{i:05}'},
                                  {'name': 'connectionName', 'value': 'dws_main'}],
                   'pollingInterval': 20, 'maxExecutionTime': 60, 'retryTimes': 0, 'retryInterval': 120,
                   'failPolicy': 'FAIL'}],
    }


def link(i: int) -> dict[str, Any]:
    return {'name': f'link_{i:04}', 'connector-name': 'generic-jdbc-connector', 'enabled': True,
            'link-config-values': {'configs': [{'name': 'linkConfig', 'inputs': [
                {'name': 'linkConfig.host', 'value': f'10.0.{i // 250}.{i % 250}'},
                {'name': 'linkConfig.databaseType', 'value': 'MYSQL'},
                {'name': 'linkConfig.url', 'value': f'jdbc:mysql://db{i}:3306/app?useSSL=true'}]}]}}


def cdm_job(i: int, links: int) -> dict[str, Any]:
    return {'name': f'copy_{i:05}', 'job_type': 'NORMAL_JOB',
            'from-connector-name': 'generic-jdbc-connector', 'from-link-name': f'link_{i % links:04}',
            'to-connector-name': 'generic-jdbc-connector', 'to-link-name': f'link_{(i + 1) % links:04}',
            'from-config-values': {'configs': [{'name': 'fromJobConfig', 'inputs': [
                {'name': 'fromJobConfig.tableName', 'value': f'orders_{i}'}]}]},
            'to-config-values': {'configs': [{'name': 'toJobConfig', 'inputs': [
                {'name': 'toJobConfig.tableName', 'value': f'orders_{i}'}]}]},
            'driver-config-values': {'configs': [{'name': 'groupJobConfig', 'inputs': [
                {'name': 'groupJobConfig.groupName', 'value': 'bench'}]}]}}


def sizes(n: int) -> tuple[int, int]:
    """CDM links and jobs seeded next to n Factory jobs."""
    return max(2, n // 100), max(2, n // 20)


def seed(db: Path, n: int) -> None:
    engine = Engine(db, project=PROJECT, workspace=WORKSPACE, user='bench')
    engine.create_connection({'dw_name': 'dws_main', 'dw_type': 'DWS', 'dw_config': {'host': '10.0.0.1'}})
    for i in range(n):
        engine.create_script(script(i))
        engine.create_job(job(i))
    cdm = engine.scoped(PROJECT, 'default')  # CDM has only the default workspace
    cluster_id = cdm.create_cluster(CLUSTER)
    links, cdm_jobs = sizes(n)
    for i in range(links):
        cdm.create_link(cluster_id, link(i))
    for i in range(cdm_jobs):
        cdm.create_cdm_job(cluster_id, cdm_job(i, links))
    engine.close()


def desired(n: int, changed_percent: float) -> dict[ObjectKey, Definition]:
    """What git would hold: the seeded objects, with `changed_percent` of the jobs rescheduled."""
    every = round(100 / changed_percent) if changed_percent else 0
    out: dict[ObjectKey, Definition] = {}

    def add(key: ObjectKey, spec: dict[str, Any]) -> None:
        out[key] = Definition(key, spec, SourceRef(f'{key}.yaml'))

    add(ObjectKey('connection', 'dws_main'), {'dw_name': 'dws_main', 'dw_type': 'DWS',
                                              'dw_config': {'host': '10.0.0.1'}})
    for i in range(n):
        add(ObjectKey('script', f'sql_{i:05}'), script(i))
        add(ObjectKey('job', f'job_{i:05}'), job(i, '0 30 3 * * ?' if every and i % every == 0 else '0 0 2 * * ?'))
    links, cdm_jobs = sizes(n)
    for i in range(links):
        add(ObjectKey('cdm-link', f'link_{i:04}', CLUSTER), link(i))
    for i in range(cdm_jobs):
        add(ObjectKey('cdm-job', f'copy_{i:05}', CLUSTER), cdm_job(i, links))
    return out


# --- reading strategies --------------------------------------------------------------------------

def read_batch(ws: DataArtsWorkspace, entries: Mapping[ObjectKey, ListEntry]) -> dict[ObjectKey, LiveObject]:
    return ws.read(entries)


def read_per_object(ws: DataArtsWorkspace, entries: Mapping[ObjectKey, ListEntry]) -> dict[ObjectKey, LiveObject]:
    """One GET per object after the list calls, as the terraform provider reads each resource."""
    clusters = ws.clusters()

    def get(key: ObjectKey) -> tuple[ObjectKey, dict[str, Any]]:
        http = ws.http
        if key.kind == 'job':
            spec = http.call(SHOW_JOB, {'job_name': key.name}).json()
        elif key.kind == 'script':
            spec = http.call(SHOW_SCRIPT, {'script_name': key.name}).json()
        elif key.kind == 'resource':
            spec = http.call(SHOW_RESOURCE, {'resource_id': ws._id(key) or ''}).json()
        elif key.kind == 'connection':
            spec = http.call(SHOW_CONNECTION, {'data_connection_id': ws._id(key) or ''}).json()
        elif key.kind == 'cdm-link':
            spec = decode_cdm_values(http.call(SHOW_LINK, {'cluster_id': clusters[key.cluster],
                                                           'link_name': key.name}).json()['links'][0])
        else:
            spec = decode_cdm_values(http.call(SHOW_CDM_JOB, {'cluster_id': clusters[key.cluster],
                                                              'job_name': key.name}).json()['jobs'][0])
        return key, spec

    return {key: LiveObject(key, spec, entries[key].updated, entries[key].status)
            for key, spec in ws._map(get, sorted(entries))}


STRATEGIES: dict[str, Callable[[DataArtsWorkspace, Mapping[ObjectKey, ListEntry]], dict[ObjectKey, LiveObject]]] = {
    'batch': read_batch, 'per-object': read_per_object,
}


def record_state(ws: DataArtsWorkspace, n: int) -> None:
    """What a first `jobsync apply` leaves behind on a workspace already in sync: the target's state."""
    target = Target('bench', workspace=ws.url)
    first = commands.plan_definitions(desired(n, 0.0), ws, target, repo_rev='bench', options=PlanOptions())
    applied = commands.apply_command(first, ws, default_resolver(Redactor(), {}), lambda _: None)
    assert applied.ok  # the state is written the first time, and already in place after that


def plan_with_state(ws: DataArtsWorkspace, n: int, changed_percent: float) -> tuple[Plan, float]:
    """jobsync's plan with the target's state: list calls, then content only for what moved.

    Returns the plan and the seconds it took, reads and computation together.
    """
    record_state(ws, n)
    ws.calls.clear()
    started = time.perf_counter()
    plan = commands.plan_definitions(desired(n, changed_percent), ws, Target('bench', workspace=ws.url),
                                     repo_rev='bench', options=PlanOptions())
    return plan, time.perf_counter() - started


def scenario(url: str, n: int, strategy: str, changed_percent: float, concurrency: int) -> dict[str, Any]:
    """One plan, in a fresh process: read the workspace, then compute the plan."""
    settings = HttpSettings(project_id=PROJECT, endpoints={'factory': url, 'management': url, 'cdm': url},
                            credentials=AkSk(AK, SK), workspace_id=WORKSPACE,
                            rate_limits={'factory': 0, 'management': 0, 'cdm': 0}, timeout=120)
    ws = DataArtsWorkspace(HttpTransport(settings), url='dataarts:bench', concurrency=concurrency)
    if strategy == 'state':
        plan, seconds = plan_with_state(ws, n, changed_percent)
        ws.close()
        actions = Counter(c.action.value for c in plan.changes)
        return {  # reads and computation are one call here: both figures are their sum
            'calls': dict(sorted(plan.api_calls.items())), 'read_seconds': seconds, 'plan_seconds': seconds,
            'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            'live': 0, 'updates': actions.get(Action.UPDATE.value, 0), 'creates': actions.get('create', 0),
        }
    want = desired(n, changed_percent)
    started = time.perf_counter()
    entries = ws.list_objects()
    live = STRATEGIES[strategy](ws, entries)
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plan = make_plan(want, live, repo_rev='bench', target='bench', workspace=ws.url, max_objects=100,
                     max_bytes=1024 * 1024, size_of=package_size, api_calls=dict(ws.calls))
    plan_seconds = time.perf_counter() - started
    ws.close()
    actions = Counter(c.action.value for c in plan.changes)
    return {
        'calls': dict(sorted(ws.calls.items())), 'read_seconds': read_seconds, 'plan_seconds': plan_seconds,
        'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'live': len(live), 'updates': actions.get(Action.UPDATE.value, 0), 'creates': actions.get('create', 0),
    }


def start_emulator(db: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, '-m', 'jobsync', 'emulator', '--port', '0', '--db', str(db), '--ak', AK, '--sk', SK,
         '--latency-ms', str(latency_ms)],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    match = re.search(r'listening on (http://\S+)', proc.stdout.readline())
    if not match:
        proc.kill()
        raise SystemExit('the emulator did not start')
    return proc, match.group(1)


def report(n: int, strategy: str, changed: float, result: dict[str, Any]) -> None:
    total = sum(result['calls'].values())
    print(f'\n  {strategy:<10} {changed:g}% changed: {total} calls, read {result["read_seconds"]:.2f} s, '
          f'plan {result["plan_seconds"]:.3f} s, peak RSS {result["max_rss_mb"]:.0f} MB, '
          f'{result["updates"]} updates, {result["creates"]} creates')
    for route, count in result['calls'].items():
        print(f'      {count:>7}  {route}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--jobs', type=int, action='append', help='N, the number of jobs (repeatable)')
    parser.add_argument('--full', action='store_true', help='run N = 1,000 and 10,000')
    parser.add_argument('--latency-ms', type=float, default=2.0, help='latency the emulator adds per request')
    parser.add_argument('--concurrency', type=int, default=4, help='calls in flight while reading')
    parser.add_argument('--skip-per-object', action='store_true', help='only measure jobsync\'s batched reading')
    args = parser.parse_args()
    ns = args.jobs or ([1000, 10000] if args.full else [1000])
    spawn = multiprocessing.get_context('spawn')
    for n in ns:
        with tempfile.TemporaryDirectory(prefix='jobsync-bench-') as tmp:
            db = Path(tmp) / 'emulator.db'
            started = time.perf_counter()
            seed(db, n)
            links, cdm_jobs = sizes(n)
            print(f'\nN = {n:,} jobs (+ {n:,} scripts, 1 connection, {links} CDM links, {cdm_jobs} CDM jobs); '
                  f'seeded in {time.perf_counter() - started:.1f} s; {args.latency_ms:g} ms latency per request, '
                  f'{args.concurrency} calls in flight')
            proc, url = start_emulator(db, args.latency_ms)
            try:
                results: dict[tuple[str, float], dict[str, Any]] = {}
                for strategy in ('batch', *(() if args.skip_per_object else ('per-object',)), 'state'):
                    for changed in (0.0, 1.0):
                        with spawn.Pool(1) as pool:
                            result = pool.apply(scenario, (url, n, strategy, changed, args.concurrency))
                        results[strategy, changed] = result
                        report(n, strategy, changed, result)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            batch = results['batch', 0.0]['calls']
            lists = sum(c for route, c in batch.items() if route.startswith('GET') and
                        (route.endswith(('/jobs', '/scripts', '/resources', '/data-connections', '/clusters',
                                         '/all'))))
            exports = batch.get('POST /v1/{pid}/jobs/batch-export', 0)
            others = sum(batch.values()) - lists - exports
            print(f'\n  target: reading = list pages ({lists}) + ceil(N/100) = {math.ceil(n / 100)} batch exports '
                  f'-> {exports} exports, {others} other calls')
            if ('per-object', 0.0) in results:
                per = sum(results['per-object', 0.0]['calls'].values())
                print(f'  target: >= 50x fewer calls than one GET per object -> {per / sum(batch.values()):.1f}x '
                      f'({sum(batch.values())} vs {per})')
            print(f'  target: plan (after the reads) < 1 s -> {results["batch", 1.0]["plan_seconds"]:.3f} s')
            with_state = results['state', 0.0]['calls']
            content = {r: c for r, c in with_state.items() if r.startswith('POST') or '{' in r.rsplit('/', 1)[-1]}
            print(f'  target: with state, a no-op plan makes list calls only -> {sum(with_state.values())} calls, '
                  f'of which content reads: {content or "none"} '
                  '(the state\'s own reserved scripts: one, or a manifest and its parts past 4 MB)')


if __name__ == '__main__':
    main()
