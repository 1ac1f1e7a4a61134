"""benchmarks/plan_scale.py keeps working (issue 14): run at a tiny size, it prints every figure.
No time is asserted; only that each command ran and that the in-sync export wrote nothing."""

from __future__ import annotations

import pytest
from benchmark_modules import load_benchmark


def test_plan_scale_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_benchmark('plan_scale')
    assert bench.main(['8', '12', '--latency-ms', '0', '--peer-threads', '4', '--pairs', '1']) == 0
    out = capsys.readouterr().out
    for title in ('floor: read + libyaml parse', 'cold plan (no state, no cache)', 'no-op plan (cache warm)',
                  'plan after one edit', 'apply of 1 change(s)', 'apply of 100 change(s)', 'export --all (in sync)',
                  'peer: one GET per object, 4 threads'):
        assert title in out, out
    assert 'EXIT' not in out, out
    assert 'files written by the export: 0' in out
    assert out.count('the same, median of 1 pairs run back to back: ') == 2, out
    assert 'PUT /v1/{pid}/jobs/{job_name} x12' in out  # "100 changes" of a 12-job repo: all 12
    # The scaling summary: each figure per 1,000 objects at both sizes, and how the per-object CPU grew.
    summary = out.split('\nscaling: ', 1)[1]
    assert summary.startswith('CPU s / peak RSS MB / calls per 1,000 objects')
    assert summary.count('\n  ') == 10 and '   x' in summary.splitlines()[1], summary  # 10 figures, each with its ratio
