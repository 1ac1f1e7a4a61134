"""Every renderer pinned by a golden file (text, markdown, JSON), and hostile names and content escaped.

Golden files under tests/golden/ are reviewed like code; regenerate them with
JOBSYNC_UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import render_samples as samples
from plan_samples import sample_plan

from jobsync.render.colour import paint_plan
from jobsync.render.drift import render_drift
from jobsync.render.export import commit_message, render_export_json, render_export_markdown, render_export_text
from jobsync.render.json import render_apply_json, render_plan_json
from jobsync.render.markdown import render_plan_markdown
from jobsync.render.ops import (
    render_delete_preview,
    render_groups_json,
    render_groups_text,
    render_ops_json,
    render_ops_text,
)
from jobsync.render.progress import render_event_text
from jobsync.render.text import render_apply_markdown, render_apply_text, render_plan_text

GOLDEN = Path(__file__).parent / 'golden'


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get('JOBSYNC_UPDATE_GOLDEN'):
        path.write_text(text, encoding='utf-8')
    assert text == path.read_text(encoding='utf-8'), f'{name} differs (JOBSYNC_UPDATE_GOLDEN=1 rewrites it)'


def _rendered() -> dict[str, str]:
    export_result, written = samples.export_result()
    drift = samples.drift_report()
    return {
        'plan_sample.txt': render_plan_text(sample_plan()),
        'plan_sample.json': render_plan_json(sample_plan()),
        # the same plan as a terminal shows it (colour); piped and NO_COLOR get plan_sample.txt
        'plan_sample_colour.txt': paint_plan(render_plan_text(sample_plan())),
        'plan_comment_lines_colour.txt': paint_plan(render_plan_text(samples.comment_diff_plan())),
        'plan_comment_lines.txt': render_plan_text(samples.comment_diff_plan()),
        'plan_comment_lines.md': render_plan_markdown(samples.comment_diff_plan()),
        'apply_sample.txt': render_apply_text(samples.apply_result()),
        'apply_sample.md': render_apply_markdown(samples.apply_result()),
        'apply_sample.json': render_apply_json(samples.apply_result()),
        'drift_sample.txt': render_drift(drift, 'text'),
        'drift_sample.md': render_drift(drift, 'markdown'),
        'drift_sample.json': render_drift(drift, 'json'),
        'export_sample.txt': render_export_text(export_result, written),
        'export_sample.md': render_export_markdown(export_result, written),
        'export_sample.json': render_export_json(export_result, written),
        'export_commit_message.txt': commit_message(export_result, written.source, written.scope),
        'ops_run.txt': render_ops_text(samples.run_result(), 'Run'),
        'ops_run.json': render_ops_json(samples.run_result()),
        'ops_delete.txt': render_delete_preview(samples.delete_plan()) + render_ops_text(samples.delete_result(),
                                                                                         'Delete'),
        'ops_delete.json': render_ops_json(samples.delete_result()),
        'ops_groups.txt': render_groups_text(samples.groups()),
        'ops_groups.json': render_groups_json(samples.groups()),
        'progress.txt': ''.join(render_event_text(e) for e in samples.events()),
        'hostile_plan.txt': render_plan_text(samples.hostile_plan()),
        'hostile_plan.md': render_plan_markdown(samples.hostile_plan()),
        'hostile_drift.txt': render_drift(samples.hostile_drift(), 'text'),
        'hostile_drift.md': render_drift(samples.hostile_drift(), 'markdown'),
        'hostile_ops.txt': render_ops_text(samples.hostile_results(), 'Delete'),
    }


@pytest.mark.parametrize('name', sorted(_rendered()))
def test_golden(name: str) -> None:
    _golden(name, _rendered()[name])


def test_json_outputs_parse() -> None:
    for name, text in _rendered().items():
        if name.endswith('.json'):
            json.loads(text)


# --- issue 15 item 4: only the two file-header lines of a unified diff are dropped -------------

def test_markdown_keeps_deleted_and_added_lines_that_look_like_diff_headers() -> None:
    text = render_plan_markdown(samples.comment_diff_plan())
    for line in ('--- header comment', '---- three dashes', '-++ two plus', '-+++ three plus',
                 '+-- new comment', '+--- changed dashes', '+++ other plus', '++++ other three'):
        assert f'\n{line}\n' in text, line
    assert '--- workspace' not in text and '+++ git' not in text  # the file headers


# --- issue 12 item 8: hostile names and content --------------------------------------------------

RAW_CONTROL = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]')
HOSTILE_OUTPUTS = ('hostile_plan.txt', 'hostile_plan.md', 'hostile_drift.txt', 'hostile_drift.md', 'hostile_ops.txt')


@pytest.mark.parametrize('name', HOSTILE_OUTPUTS)
def test_no_control_or_bidi_character_reaches_the_output(name: str) -> None:
    text = _rendered()[name]
    assert not RAW_CONTROL.search(text)
    assert '\\x1b[32mPlan: 0 to create' in text or name == 'hostile_ops.txt'  # shown, escaped


@pytest.mark.parametrize('name', ['hostile_plan.txt', 'hostile_drift.txt', 'hostile_plan.md', 'hostile_drift.md'])
def test_a_name_cannot_fake_a_summary_line(name: str) -> None:
    lines = _rendered()[name].splitlines()
    assert not [line for line in lines if line.startswith('Plan: 0 to create, 0 to update')]
    assert not [line for line in lines if line.startswith(('\x1b', '\\x1b'))]


def test_colour_adds_no_control_a_name_brought() -> None:
    painted = paint_plan(_rendered()['hostile_plan.txt'])
    assert not RAW_CONTROL.search(re.sub(r'\x1b\[[0-9;]*m', '', painted))
    assert '\\x1b[32mPlan: 0 to create' in painted  # the name's escape code stays shown, not run


def test_hostile_json_holds_the_value_but_no_raw_control() -> None:
    text = render_plan_json(samples.hostile_plan())
    assert not RAW_CONTROL.search(text)
    doc = json.loads(text)
    assert samples.HOSTILE_NAME in {c['key'].removeprefix('job/') for c in doc['changes']}  # nothing lost


def _outside_code(markdown: str) -> str:
    """The markdown without `<code>` elements and inline code spans (CommonMark: N backticks closed by N)."""
    text = re.sub(r'<code>.*?</code>', '', markdown)
    return re.sub(r'(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)', '', text)


@pytest.mark.parametrize('name', ['hostile_plan.md', 'hostile_drift.md'])
def test_a_backtick_in_a_name_does_not_inject_markdown(name: str) -> None:
    text = _rendered()[name]
    assert '(https://x.invalid)' in text  # the name is shown ...
    assert '](https://x.invalid)' not in _outside_code(text)  # ... but only as code, never as a link


def test_content_is_fenced_longer_than_any_backtick_run_inside() -> None:
    text = _rendered()['hostile_plan.md']
    assert re.findall(r'^(`{3,})diff$', text, flags=re.MULTILINE) == ['````', '```']  # the content holds ```
    body = text.split('````diff\n', 1)[1].split('\n````\n', 1)[0]
    assert '\n-```\n' in body
