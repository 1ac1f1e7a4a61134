"""`plan` refuses what apply would fail on (issue 16 item 4): an object over the package limit alone."""

from __future__ import annotations

from pathlib import Path

from conftest import run_jobsync


def test_a_script_over_the_package_limit_alone_fails_plan(example_repo: Path) -> None:
    script = example_repo / 'scripts' / 'kpi_refresh.sql'
    script.write_text('-- padding\n' + ('SELECT 1; -- ' + 'x' * 100 + '\n') * 12000)  # ~1.4 MB
    planned = run_jobsync('plan', '--repo', str(example_repo))
    assert planned.code == 1, planned
    assert 'script/kpi_refresh: its import package alone is about' in planned.stderr
    assert 'nothing was written' in planned.stderr and 'Traceback' not in planned.stderr

