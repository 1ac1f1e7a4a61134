"""What jobsync costs as a repo grows: CPU, wall, peak memory and API calls of each command.

    python benchmarks/plan_scale.py                    # 1,000, 5,000 and 10,000 jobs (a long run)
    python benchmarks/plan_scale.py 1000               # one size
    python benchmarks/plan_scale.py 1000 --latency-ms 20 --peer-threads 10

For each size N it writes a git repo of N Factory jobs, each running a script of its own, plus
N/100 CDM links and N/20 CDM jobs (scale_repo.py), seeds `jobsync emulator` with them through
`jobsync apply` (client limits off, no latency; not measured), restarts the emulator with the
added latency, switches the client's rate limits on (the defaults), and runs each command as a
child process of its own:

* cold plan: a target that was never applied (no state) and an empty definition cache;
* no-op plan, twice: after the restart (definition cache cold: jobsync.yaml changed) and again
  (cache warm: the re-plan of an unchanged repo);
* plan after one edit (one job rescheduled in git);
* apply of 1, 10 and 100 changes (jobs rescheduled, committed, `apply --auto-approve`);
* export --all of the workspace, now in sync with git (must write nothing);
* the floor: a process that only reads every definition file and parses it with libyaml;
* the ratios of the no-op plan's CPU to the floor's: the median of `--pairs` pairs, each a floor
  run next to a no-op plan (cache warm; cache cold: its file removed first), so a drift of the
  machine's speed moves both sides of a ratio;
* a peer that reads one GET per object with `--peer-threads` threads (the terraform provider's
  way), after the same list calls, under the same client rate limits.

CPU is user + system time of the child (os.wait4), peak RSS its ru_maxrss; calls come from the
command's JSON output (every call of the command: listing, reads, writes, state and lock). It
prints, it asserts nothing. Children run with Python's bytecode cache on (PYTHONDONTWRITEBYTECODE
removed, jobsync compiled first), as an installed jobsync runs: pip compiles a package when it
installs it, and the floor's pyyaml is compiled too.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale_repo

PROJECT = '0123456789abcdef0123456789abcdef'
PY = sys.executable


@dataclass
class Run:
    """One child process: CPU seconds (user + system), wall seconds, peak RSS (MB), its output."""

    code: int
    cpu: float
    wall: float
    rss_mb: float
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run a child to its end, measured by wait4: its own rusage, not a running maximum."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Run(proc.returncode, usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024,
                   out.read().decode('utf-8', 'replace'), err.read().decode('utf-8', 'replace'))


def jobsync(*args: str, root: Path, env: dict[str, str]) -> Run:
    return run([PY, '-m', 'jobsync', *args, '--repo', str(root)], root, env)


def git(root: Path, *args: str) -> str:
    return subprocess.run(['git', *args], cwd=root, check=True, capture_output=True, text=True).stdout


def commit(root: Path, message: str) -> None:
    git(root, 'add', '-A')
    git(root, '-c', 'user.name=bench', '-c', 'user.email=bench@jobsync.invalid', 'commit', '-qm', message)


def start_emulator(db: Path, latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [PY, '-m', 'jobsync', 'emulator', '--port', '0', '--db', str(db), '--ak', scale_repo.AK,
         '--sk', scale_repo.SK, '--cdm-cluster', scale_repo.CLUSTER, '--latency-ms', str(latency_ms)],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    match = re.search(r'listening on (http://\S+)', proc.stdout.readline())
    if not match:
        proc.kill()
        raise SystemExit('the emulator did not start')
    return proc, match.group(1)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=60)


def with_cold_target(root: Path) -> None:
    """A second target on the same workspace that was never applied: a plan without state."""
    config = (root / 'jobsync.yaml').read_text(encoding='utf-8')
    body = config.split('targets:\n', 1)[1]
    (root / 'jobsync.yaml').write_text(config + body.replace(f'  {scale_repo.TARGET}:', '  cold:', 1),
                                       encoding='utf-8')


FLOOR = '''
import sys, time, yaml
from pathlib import Path
root = Path(sys.argv[1])
paths = [p for d in ('jobs', 'scripts', 'connections', 'cdm') for p in (root / d).rglob('*.yaml')]
start = time.process_time()
for p in paths:
    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)
print(time.process_time() - start, len(paths))
'''

PEER = '''
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.http import AkSk, HttpSettings, HttpTransport
from jobsync.workspace import routes as r
url, project, ak, sk, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
settings = HttpSettings(project_id=project, endpoints={'factory': url, 'management': url, 'cdm': url},
                        credentials=AkSk(ak, sk), timeout=120,  # the default client rate limits
                        workspace_id='default')  # the emulator's default workspace, as jobsync finds it
ws = DataArtsClient(HttpTransport(settings), url='peer', concurrency=threads)
start = time.perf_counter()
entries = ws.list_objects()
clusters = ws.clusters()
def get(key):
    if key.kind == 'job':
        ws.http.call(r.SHOW_JOB, {'job_name': key.name})
    elif key.kind == 'script':
        ws.http.call(r.SHOW_SCRIPT, {'script_name': key.name})
    elif key.kind == 'connection':
        ws.http.call(r.SHOW_CONNECTION, {'data_connection_id': ws._id(key) or ''})
    elif key.kind == 'resource':
        ws.http.call(r.SHOW_RESOURCE, {'resource_id': ws._id(key) or ''})
    elif key.kind == 'cdm-link':
        ws.http.call(r.SHOW_LINK, {'cluster_id': clusters[key.cluster], 'link_name': key.name})
    else:
        ws.http.call(r.SHOW_CDM_JOB, {'cluster_id': clusters[key.cluster], 'job_name': key.name})
with ThreadPoolExecutor(threads) as pool:
    list(pool.map(get, sorted(entries)))
wall = time.perf_counter() - start
print(json.dumps({'calls': dict(ws.calls), 'wall': wall, 'objects': len(entries)}))
ws.close()
'''


def calls_of(result: Run, kind: str) -> dict[str, int]:
    try:
        doc = result.json()
    except ValueError:
        return {}
    if kind in ('plan', 'export'):
        return dict(doc.get('api_calls') or {})
    return dict((doc.get('api') or {}).get('by_route') or {})


# title -> size -> (objects, CPU s, peak RSS MB, calls): for the scaling summary after the last size.
Scaling = dict[str, dict[int, tuple[int, float, float, int]]]


def report(seen: Scaling, n: int, title: str, result: Run, calls: dict[str, int] | None = None) -> None:
    total = sum((calls or {}).values())
    links, cdm_jobs = scale_repo.sizes(n)
    seen.setdefault(title, {})[n] = (2 * n + 1 + links + cdm_jobs, result.cpu, result.rss_mb, total)
    ok = '' if result.code in (0, 2) else f'  EXIT {result.code}: {result.stderr.strip()[-300:]}'
    print(f'  {title:<34} CPU {result.cpu:7.2f} s  wall {result.wall:7.2f} s  peak RSS {result.rss_mb:6.0f} MB'
          f'  calls {total:6}{ok}')
    if calls:
        print('      ' + ', '.join(f'{route} x{n}' for route, n in sorted(calls.items())))


def compiled_env() -> dict[str, str]:
    """The children's environment: bytecode cached, jobsync's modules compiled (an installed
    package's are already; a read-only site-packages is left as pip compiled it)."""
    import jobsync

    compileall.compile_dir(str(Path(jobsync.__file__).parent), quiet=1)
    return {k: v for k, v in os.environ.items() if k != 'PYTHONDONTWRITEBYTECODE'}


def paired_ratios(root: Path, env: dict[str, str], pairs: int, *, cold: bool) -> list[float]:
    """`pairs` ratios of a no-op plan's CPU to the floor's, each pair run back to back; `cold`:
    the target's definition cache removed before each plan (it is written again)."""
    ratios = []
    for _ in range(pairs):
        floor = run([PY, '-c', FLOOR, str(root)], root, env)
        if cold:
            for cached in (root / '.jobsync' / 'cache').glob('*'):
                cached.unlink()
        plan = jobsync('plan', '--format', 'json', root=root, env=env)
        ratios.append(plan.cpu / floor.cpu)
    return ratios


def one_size(n: int, latency_ms: float, peer_threads: int, pairs: int, tmp: Path, seen: Scaling) -> None:
    root, db = tmp / 'repo', tmp / 'emulator.db'
    env = {**compiled_env(), **scale_repo.ENV, 'XDG_CACHE_HOME': str(tmp / 'xdg')}
    links, cdm_jobs = scale_repo.sizes(n)
    objects = 2 * n + 1 + links + cdm_jobs
    print(f'\nN = {n:,} jobs + {n:,} scripts + 1 connection + {links} CDM links + {cdm_jobs} CDM jobs '
          f'= {objects:,} objects; {latency_ms:g} ms latency per request; client rate limits on (defaults)')

    proc, url = start_emulator(db, 0)
    try:
        scale_repo.write_repo(root, n, url=url, project=PROJECT, limits=False)
        git(root, 'init', '-q')
        (root / '.gitignore').write_text('.jobsync/\n', encoding='utf-8')
        (root / '.jobsync').mkdir()  # where the definition cache lives (a local: target would make it)
        commit(root, 'definitions')
        started = time.perf_counter()
        seeded = jobsync('apply', '--auto-approve', '--format', 'json', root=root, env=env)
        print(f'  seeded through apply in {time.perf_counter() - started:.0f} s (exit {seeded.code}, not measured)')
        creates = {route: count for route, count in calls_of(seeded, 'apply').items()
                   if route.startswith('POST /v1.1/') and route.endswith(('/cdm/link', '/cdm/job'))}
        print(f'      its CDM creates ({links} links, {cdm_jobs} jobs): '
              + ', '.join(f'{route} x{count}' for route, count in sorted(creates.items())))
    finally:
        stop(proc)

    proc, url = start_emulator(db, latency_ms)
    try:
        (root / 'jobsync.yaml').write_text(scale_repo.config(url, PROJECT, limits=True), encoding='utf-8')
        with_cold_target(root)
        commit(root, 'the emulator with latency, client limits on')

        floor = run([PY, '-c', FLOOR, str(root)], root, env)
        parse_cpu = float(floor.stdout.split()[0])
        report(seen, n, 'floor: read + libyaml parse', floor)
        print(f'      of which parsing {parse_cpu:.2f} s CPU ({floor.stdout.split()[1]} files)')

        cold = jobsync('plan', '--target', 'cold', '--format', 'json', root=root, env=env)
        report(seen, n, 'cold plan (no state, no cache)', cold, calls_of(cold, 'plan'))
        first = jobsync('plan', '--format', 'json', root=root, env=env)
        report(seen, n, 'no-op plan (definition cache cold)', first, calls_of(first, 'plan'))
        noop = jobsync('plan', '--format', 'json', root=root, env=env)
        report(seen, n, 'no-op plan (cache warm)', noop, calls_of(noop, 'plan'))
        print(f'      no-op plan CPU / floor process CPU, these runs: {noop.cpu / floor.cpu:.2f} (cache warm), '
              f'{first.cpu / floor.cpu:.2f} (cache cold)')
        if pairs:
            warm, cold_ = (paired_ratios(root, env, pairs, cold=c) for c in (False, True))
            print(f'      the same, median of {pairs} pairs run back to back: {statistics.median(warm):.2f} '
                  f'(cache warm; {min(warm):.2f}-{max(warm):.2f}), {statistics.median(cold_):.2f} '
                  f'(cache cold; {min(cold_):.2f}-{max(cold_):.2f})')

        scale_repo.edit_jobs(root, 1, hour=4)
        commit(root, 'one edit')
        edited = jobsync('plan', '--format', 'json', root=root, env=env)
        report(seen, n, 'plan after one edit', edited, calls_of(edited, 'plan'))

        for hour, k in ((5, 1), (6, 10), (7, 100)):
            scale_repo.edit_jobs(root, min(k, n), hour=hour)
            commit(root, f'{k} changes')
            applied = jobsync('apply', '--auto-approve', '--format', 'json', root=root, env=env)
            report(seen, n, f'apply of {k} change(s)', applied, calls_of(applied, 'apply'))

        exported = jobsync('export', '--all', '--format', 'json', root=root, env=env)
        report(seen, n, 'export --all (in sync)', exported, calls_of(exported, 'export'))
        dirty = git(root, 'status', '--porcelain').strip()
        print(f'      files written by the export: {len(dirty.splitlines()) if dirty else 0}')

        peer = run([PY, '-c', PEER, url, PROJECT, scale_repo.AK, scale_repo.SK, str(peer_threads)], root, env)
        try:
            peer_doc = json.loads(peer.stdout)
        except ValueError:
            print(f'  peer failed: {peer.stderr[-300:]}')
            return
        peer_calls = sum(peer_doc['calls'].values())
        report(seen, n, f'peer: one GET per object, {peer_threads} threads', peer, peer_doc['calls'])
        jobsync_calls = sum(calls_of(noop, 'plan').values())
        print(f'      peer vs no-op plan: {peer_calls / max(1, jobsync_calls):.0f}x the calls '
              f'({peer_calls} vs {jobsync_calls}), {peer.wall / max(noop.wall, 1e-9):.1f}x the wall '
              f'({peer.wall:.1f} s vs {noop.wall:.1f} s)')
    finally:
        stop(proc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('sizes', nargs='*', type=int, default=[1000, 5000, 10000], help='numbers of jobs')
    parser.add_argument('--latency-ms', type=float, default=20.0, help='latency the emulator adds per request')
    parser.add_argument('--peer-threads', type=int, default=10, help='the one-GET-per-object reader\'s threads')
    parser.add_argument('--pairs', type=int, default=3, help='floor/no-op pairs for the median ratios (0: none)')
    args = parser.parse_args(argv)
    print(f'python {sys.version.split()[0]} on {os.cpu_count()} CPU(s); {os.uname().sysname} {os.uname().machine}')
    seen: Scaling = {}
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix='jobsync-scale-') as tmp:
            one_size(n, args.latency_ms, args.peer_threads, args.pairs, Path(tmp), seen)
    if len(args.sizes) > 1:
        print_scaling(seen, sorted(args.sizes))
    return 0


def print_scaling(seen: Scaling, sizes: list[int]) -> None:
    """Per 1,000 objects at each size, and the largest size's per-object cost over the smallest's
    (1.00: linear; above: grows faster than the repo)."""
    print('\nscaling: CPU s / peak RSS MB / calls per 1,000 objects; last column: CPU per object, '
          f'{sizes[-1]:,} jobs over {sizes[0]:,}')
    for title, by_size in seen.items():
        cells = []
        for n in sizes:
            objects, cpu, rss, calls = by_size.get(n, (0, 0.0, 0.0, 0))
            k = max(objects, 1) / 1000
            cells.append(f'{cpu / k:5.2f} / {rss / k:5.1f} / {calls / k:6.1f}')
        first, last = by_size.get(sizes[0]), by_size.get(sizes[-1])
        ratio = (last[1] / last[0]) / (first[1] / first[0]) if first and last and first[1] else float('nan')
        print(f'  {title:<34} ' + '   '.join(cells) + f'   x{ratio:.2f}')


if __name__ == '__main__':
    sys.exit(main())
