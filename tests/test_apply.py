"""apply_plan against a real local workspace: ordering, batching, running jobs, partial failure."""

from __future__ import annotations

from typing import Any

from workspace_specs import connection_spec, job_spec, read_all, script_spec

from jobsync.apply import Event, Status, apply_plan
from jobsync.commands import package_size
from jobsync.model import Definition, ObjectKey, SourceRef
from jobsync.plan import Action, Plan, make_plan
from jobsync.secrets import Redactor, default_resolver, parse_placeholders
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.package import estimate_package_bytes

SECRETS = {'DWS_PW': 'canary-dws-0001'}


def desired(*specs: tuple[str, dict[str, Any]]) -> dict[ObjectKey, Definition]:
    out = {}
    for kind, spec in specs:
        name = spec.get('dw_name') or spec['name']
        key = ObjectKey(kind, name)  # type: ignore[arg-type]
        out[key] = Definition(key, parse_placeholders(spec), SourceRef(f'{kind}s/{name}.yaml'))
    return out


def plan_for(ws: LocalWorkspace, want: dict[ObjectKey, Definition], **limits: int) -> Plan:
    return make_plan(want, read_all(ws), repo_rev='test', target='t', workspace=ws.url,
                     max_objects=limits.get('max_objects', 100), max_bytes=limits.get('max_bytes', 1 << 20),
                     size_of=package_size)


def run(ws: LocalWorkspace, plan: Plan, events: list[Event] | None = None) -> Any:
    resolver = default_resolver(Redactor(), SECRETS)
    return apply_plan(plan, ws, resolver=resolver, on_event=(events.append if events is not None else lambda e: None))


def _world() -> dict[ObjectKey, Definition]:
    return desired(
        ('connection', connection_spec('dws', password='${secret:env:DWS_PW}')),
        ('script', script_spec('load', connection='dws')),
        ('job', job_spec('upstream', scripts=('load',), connection='dws')),
        ('job', job_spec('downstream', scripts=('load',), connection='dws',
                         schedule={'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08',
                                                            'expression': '0 0 3 * * ?',
                                                            'dependJobs': {'jobs': ['upstream']}}})),
    )


def test_dependency_order_and_idempotence(local_workspace: LocalWorkspace) -> None:
    plan = plan_for(local_workspace, _world())
    assert [[str(k) for k in b] for b in plan.batches] == [
        ['connection/dws'], ['script/load'], ['job/upstream'], ['job/downstream']]
    result = run(local_workspace, plan)
    assert result.ok and result.count(Status.APPLIED) == 4
    assert not plan_for(local_workspace, _world()).has_changes


def test_batches_respect_object_and_byte_limits(local_workspace: LocalWorkspace) -> None:
    scripts = desired(*[('script', script_spec(f's{i}', content='x' * 3000)) for i in range(7)])
    by_count = plan_for(local_workspace, scripts, max_objects=3)
    assert [len(b) for b in by_count.batches] == [3, 3, 1]
    by_bytes = plan_for(local_workspace, scripts, max_bytes=8000)
    assert all(estimate_package_bytes([(k, scripts[k].spec) for k in b]) <= 8000 for b in by_bytes.batches)
    assert len(by_bytes.batches) > 1
    assert run(local_workspace, by_bytes).count(Status.APPLIED) == 7


def test_running_job_is_stopped_overwritten_and_restarted(local_workspace: LocalWorkspace) -> None:
    world = _world()
    assert run(local_workspace, plan_for(local_workspace, world)).ok
    local_workspace.start_job(ObjectKey('job', 'upstream'))
    changed = dict(world)
    key = ObjectKey('job', 'upstream')
    spec = dict(world[key].spec, description='x')
    spec['schedule'] = {'type': 'CRON', 'cron': {'startTime': '2025-01-01T00:00:00+08', 'expression': '0 0 4 * * ?'}}
    changed[key] = Definition(key, spec, world[key].source)
    plan = plan_for(local_workspace, changed)
    assert [c.key for c in plan.actionable] == [key]
    events: list[Event] = []
    result = run(local_workspace, plan, events)
    assert result.ok, result
    assert local_workspace.job_status(key) == 'SCHEDULING'  # its schedule state is restored
    assert any(e.key == key and e.message.startswith('stopped before overwriting') for e in events)
    live = read_all(local_workspace)[key].spec
    assert live['schedule']['cron']['expression'] == '0 0 4 * * ?'


def test_a_failure_skips_what_depends_on_it_not_everything(local_workspace: LocalWorkspace) -> None:
    world = _world()
    assert run(local_workspace, plan_for(local_workspace, world)).ok
    local_workspace.engine.lock_script('load', 'bob')  # another user holds the script's lock
    changed = dict(world)
    for name, content in (('load', 'SELECT 2;'),):
        key = ObjectKey('script', name)
        changed[key] = Definition(key, dict(world[key].spec, content=content), world[key].source)
    for name in ('upstream', 'downstream'):
        key = ObjectKey('job', name)
        changed[key] = Definition(key, dict(world[key].spec, logPath='obs://logs/new'), world[key].source)
    other = ObjectKey('script', 'independent')
    changed[other] = Definition(other, script_spec('independent'), SourceRef('scripts/independent.yaml'))
    result = run(local_workspace, plan_for(local_workspace, changed))
    status = {str(o.key): (o.status, o.message) for o in result.outcomes}
    assert status['script/load'][0] is Status.FAILED and 'lock' in status['script/load'][1].lower()
    assert status['job/upstream'] == (Status.SKIPPED, 'depends on script/load, which was failed')
    assert status['job/downstream'][0] is Status.SKIPPED
    assert status['script/independent'][0] is Status.APPLIED
    assert not result.ok


def test_secret_values_reach_the_workspace_but_never_the_plan(local_workspace: LocalWorkspace) -> None:
    plan = plan_for(local_workspace, _world())
    create = plan.change(ObjectKey('connection', 'dws'))
    assert create.action is Action.CREATE
    assert 'canary' not in repr(plan)
    assert run(local_workspace, plan).ok
    live = read_all(local_workspace)[ObjectKey('connection', 'dws')].spec
    assert live['dw_config']['password'] == '*********'  # the service has it, and never reads it back
