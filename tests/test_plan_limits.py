"""`plan` refuses what apply would fail on (issue 16 item 4): an object over the package limit alone,
bad names and batch settings over the service's limits, every one at once."""

from __future__ import annotations

from pathlib import Path

from conftest import run_jobsync

from jobsync.model import ObjectKey
from jobsync.plan import Action, Change, Plan
from jobsync.planlimits import limit_problems


def test_a_script_over_the_package_limit_alone_fails_plan(example_repo: Path) -> None:
    script = example_repo / 'scripts' / 'kpi_refresh.sql'
    script.write_text('-- padding\n' + ('SELECT 1; -- ' + 'x' * 100 + '\n') * 12000)  # ~1.4 MB
    planned = run_jobsync('plan', '--repo', str(example_repo))
    assert planned.code == 1, planned
    assert 'script/kpi_refresh: its import package alone is about' in planned.stderr
    assert 'nothing was written' in planned.stderr and 'Traceback' not in planned.stderr



def test_every_limit_is_reported_at_once() -> None:
    big, bad = ObjectKey('script', 'big'), ObjectKey('job', 'bad name!')
    small = [ObjectKey('script', f's{i}') for i in range(3)]
    changes = tuple(Change(k, Action.CREATE, 'new', desired={'name': k.name}) for k in (big, bad, *small))
    plan = Plan('abc', 't', 'local:x', changes, (), ((big, bad, *small),), {})
    problems = limit_problems(plan, max_objects=200, max_bytes=2 << 20,
                              size_of=lambda items: sum(3 << 20 if k == big else 10 for k, _ in items))
    joined = '\n'.join(problems)
    assert 'batch.max_bytes 2097152 is over' in joined and 'batch.max_objects 200 is over' in joined
    assert 'script/big: its import package alone is about 3145728 bytes' in joined
    assert "job/bad name!: a job name may contain only" in joined
    assert len(problems) == 4, problems
