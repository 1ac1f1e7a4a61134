"""The pull-request comment: golden files, risk order, and the 65,000-character budget.

Golden files are reviewed like code; regenerate with JOBSYNC_UPDATE_GOLDEN=1 after a deliberate change.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_samples import big_plan, sample_plan

from jobsync.diff import FieldChange
from jobsync.model import ObjectKey
from jobsync.plan import Action, Change, Plan
from jobsync.render.markdown import BUDGET, render_plan_markdown, size

GOLDEN = Path(__file__).parent / 'golden'


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get('JOBSYNC_UPDATE_GOLDEN'):
        path.write_text(text, encoding='utf-8')
    assert text == path.read_text(encoding='utf-8')


def _shown(text: str) -> list[str]:
    """Keys shown with their diff, in order."""
    return re.findall(r'<details><summary>.*?<code>([^<]+)</code>', text)


def _cut(text: str) -> tuple[int, int]:
    """(objects whose diff was left out, of them not named) as the comment states them."""
    match = re.search(r'the diffs of (\d+) objects?(?:; (\d+) of them are not named either)?', text)
    assert match, 'the comment does not say what it left out'
    return int(match.group(1)), int(match.group(2) or 0)


def test_sample_plan_golden() -> None:
    _golden('plan_sample.md', render_plan_markdown(sample_plan(), artifact='https://ci.example/runs/7/plan.json'))


def test_sample_plan_over_a_small_budget_golden() -> None:
    text = render_plan_markdown(sample_plan(base=False), artifact='plan.json', budget=2200)
    assert size(text) <= 2200
    _golden('plan_sample_cut.md', text)


def test_risky_changes_come_first() -> None:
    keys = _shown(render_plan_markdown(sample_plan()))
    assert keys[:3] == ['job/kpi', 'script/old_cleanup', 'connection/dws']  # conflict, deletion, secrets
    assert keys.index('job/daily') < keys.index('script/load')  # a schedule change before a plain update
    assert 'job/stable' not in keys  # unchanged objects are only counted


def test_no_changes() -> None:
    plan = Plan('abc', 'prod', 'local:/x.db', ())
    text = render_plan_markdown(plan)
    assert '**No changes.** The workspace matches git.' in text
    assert text.startswith('<!-- jobsync-plan target=prod -->\n')


def test_two_thousand_objects_fit_and_say_exactly_what_was_left_out() -> None:
    plan = big_plan(2000)
    text = render_plan_markdown(plan, artifact='https://ci.example/runs/7/artifacts/plan.json')
    assert size(text) <= BUDGET and len(text) <= BUDGET
    shown = _shown(text)
    cut, unnamed = _cut(text)
    named = re.findall(r'^- ✏️ \*\*update\*\* `(job/job_\d+)`', text, flags=re.M)
    assert len(shown) + cut == 2000
    assert len(named) + unnamed == cut
    assert f'and {unnamed} more objects, not named here' in text
    assert set(shown).isdisjoint(named) and len(set(shown) | set(named)) == len(shown) + len(named)
    assert '[the full plan](https://ci.example/runs/7/artifacts/plan.json)' in text
    assert shown[0] == 'job/job_00000'  # in order: what is cut is the tail


def test_a_huge_script_diff_is_cut_alone_and_the_rest_keep_theirs() -> None:
    plan = sample_plan(base=False)
    huge = '\n'.join(f'SELECT {i};' for i in range(20_000)) + '\n'
    big = Change(ObjectKey('script', 'huge'), Action.UPDATE, '1 field differs from the workspace',
                 (FieldChange('/content', '', huge),), {'name': 'huge', 'type': 'DWSSQL', 'content': huge}, 1)
    text = render_plan_markdown(replace(plan, changes=(*plan.changes, big)), artifact='plan.json')
    assert size(text) <= BUDGET
    assert 'script/huge' not in _shown(text) and '`script/huge`' in text
    assert _cut(text) == (1, 0)
    assert 'job/kpi' in _shown(text)


def test_code_fences_survive_backticks_in_scripts() -> None:
    content = 'echo "```not the end```"\n'
    change = Change(ObjectKey('script', 'sh'), Action.UPDATE, '1 field differs from the workspace',
                    (FieldChange('/content', 'echo hi\n', content),), {'name': 'sh', 'type': 'Shell',
                                                                       'content': content}, 1)
    text = render_plan_markdown(Plan('abc', 'prod', 'local:/x.db', (change,)))
    assert '````diff\n' in text and '\n````\n' in text


def test_secrets_show_as_references_only() -> None:
    text = render_plan_markdown(sample_plan())
    assert '${secret:env:DWS_PASSWORD}' in text and 'value changed since the last apply (not shown)' in text


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=0, max_value=400), budget=st.integers(min_value=1500, max_value=30_000))
def test_any_plan_fits_any_budget_and_counts_add_up(n: int, budget: int) -> None:
    text = render_plan_markdown(big_plan(n), budget=budget)
    assert size(text) <= budget
    shown = _shown(text)
    if len(shown) < n:
        cut, unnamed = _cut(text)
        assert len(shown) + cut == n
        named = re.findall(r'^- ✏️ \*\*update\*\* `(job/job_\d+)`', text, flags=re.M)
        assert len(named) + unnamed == cut
    else:
        assert 'Left out' not in text


def test_a_budget_too_small_for_the_head_is_a_bug_not_a_long_comment() -> None:
    with pytest.raises(ValueError, match='over 200 characters'):
        render_plan_markdown(sample_plan(), budget=200)
