"""Drift: what changed in the workspace that git does not have, and how it reads."""

from __future__ import annotations

import copy
import json

from workspace_specs import job_spec, link_spec

from jobsync import secrets
from jobsync.drift import DriftKind, detect_drift
from jobsync.model import Definition, LiveObject, ObjectKey, SourceRef
from jobsync.render.drift import render_drift_json, render_drift_markdown, render_drift_text

DAILY = ObjectKey('job', 'daily')
WEEKLY = ObjectKey('job', 'weekly')
NEW = ObjectKey('job', 'made_in_console')
GONE = ObjectKey('job', 'deleted_in_console')
LINK = ObjectKey('cdm-link', 'src', 'cdm-prod')


def _definition(key: ObjectKey, spec: dict) -> Definition:
    folder = f'cdm/{key.cluster}/links' if key.cluster else 'jobs'
    return Definition(key, secrets.parse_placeholders(spec), SourceRef(f'{folder}/{key.name}.yaml'))


def _live(key: ObjectKey, spec: dict, updated: int = 100) -> LiveObject:
    """As the service returns it: with the fields it manages."""
    managed = ({'creation-user': 'cdm', 'update-date': updated} if key.cluster
               else {'id': 42, 'version': '3', 'lastUpdateUser': 'bob'})
    return LiveObject(key, {**copy.deepcopy(spec), **managed}, updated)


def _scenario():
    daily = job_spec('daily')
    changed = copy.deepcopy(daily)
    changed['schedule']['cron']['expression'] = '0 30 2 * * ?'
    changed['basicConfig']['priority'] = 1
    link_git = link_spec('src', password='${secret:env:SRC_PASSWORD}')
    link_live = link_spec('src', password='Add password here')
    desired = {
        DAILY: _definition(DAILY, daily),
        WEEKLY: _definition(WEEKLY, job_spec('weekly')),
        GONE: _definition(GONE, job_spec('deleted_in_console')),
        LINK: _definition(LINK, link_git),
    }
    live = {
        DAILY: _live(DAILY, changed),
        WEEKLY: _live(WEEKLY, job_spec('weekly')),
        NEW: _live(NEW, job_spec('made_in_console')),
        LINK: _live(LINK, link_live),
    }
    return desired, live


def _report(**kw):
    desired, live = _scenario()
    return detect_drift(desired, live, repo_rev='abc123', target='prod', workspace='local:ws.db', **kw)


def test_drift_kinds_with_the_workspace_values_as_the_new_ones():
    report = _report()
    assert [(str(i.key), i.kind) for i in report.items] == [
        ('job/daily', DriftKind.CHANGED),
        ('job/deleted_in_console', DriftKind.MISSING),
        ('job/made_in_console', DriftKind.ADDED),
    ]
    daily = report.items[0]
    assert [(f.pointer, f.before, f.after) for f in daily.fields] == [
        ('/basicConfig/priority', None, 1),  # 0 is the default: git does not say it
        ('/schedule/cron/expression', '0 0 2 * * ?', '0 30 2 * * ?'),
    ]
    assert report.in_sync == 2  # weekly; and the link, whose password reads back as a placeholder
    assert report.has_drift


def test_no_drift_when_the_workspace_matches():
    desired, live = _scenario()
    live[DAILY] = _live(DAILY, job_spec('daily'))
    del live[NEW]
    live[GONE] = _live(GONE, job_spec('deleted_in_console'))
    report = detect_drift(desired, live, repo_rev='r', target='t', workspace='w')
    assert report.items == () and not report.has_drift and report.in_sync == 4


def test_with_a_baseline_what_git_moved_is_pending_not_drift():
    # daily was written by jobsync at lastUpdateTime 100 and has not moved since: git changed, not the console.
    report = _report(baseline={DAILY: 100, WEEKLY: 100, LINK: 100})
    kinds = {str(i.key): i.kind for i in report.items}
    assert kinds == {'job/daily': DriftKind.PENDING, 'job/deleted_in_console': DriftKind.PENDING,
                     'job/made_in_console': DriftKind.ADDED}
    moved = _report(baseline={DAILY: 99})
    assert moved.items[0].kind is DriftKind.CHANGED


def test_text_report():
    assert render_drift_text(_report()) == '\n'.join([
        'Target prod (local:ws.db), git abc123',
        '',
        '~ job/daily  (2 fields changed in the workspace)',
        '    + /basicConfig/priority: 1',
        '    ~ /schedule/cron/expression: "0 0 2 * * ?" -> "0 30 2 * * ?"',
        '',
        '- job/deleted_in_console  (in git, missing from the workspace)',
        '',
        '+ job/made_in_console  (only in the workspace (created in the console))',
        '',
        'Drift: 1 changed in the workspace, 1 only in the workspace, 1 missing from the workspace; 2 in sync.',
        '',
    ])


def test_script_content_drift_is_a_line_diff_from_git_to_workspace():
    key = ObjectKey('script', 'load')
    git = {'name': 'load', 'type': 'DWSSQL', 'content': 'SELECT 1;\nSELECT 2;\n'}
    live = {**git, 'content': 'SELECT 1;\nSELECT 3;\n'}
    report = detect_drift({key: Definition(key, git, SourceRef('scripts/load.yaml'))},
                          {key: LiveObject(key, live, 5)}, repo_rev='r', target='t', workspace='w')
    text = render_drift_text(report)
    assert '        --- git\n        +++ workspace\n' in text
    assert '        -SELECT 2;\n        +SELECT 3;\n' in text


def test_markdown_report_is_a_pull_request_body():
    md = render_drift_markdown(_report())
    assert md.startswith('### Drift in target `prod`\n')
    assert '| ~ | `job/daily` | 2 fields changed in the workspace | `jobs/daily.yaml` |' in md
    assert '| + | `job/made_in_console` | only in the workspace (created in the console) |  |' in md
    assert '<details><summary><code>job/daily</code>' in md
    assert ('```diff\n+ /basicConfig/priority: 1\n'
            '~ /schedule/cron/expression: "0 0 2 * * ?" -> "0 30 2 * * ?"\n```') in md


def test_json_report():
    doc = json.loads(render_drift_json(_report()))
    assert doc['has_drift'] is True
    assert doc['summary'] == {'changed': 1, 'added': 1, 'missing': 1, 'pending': 0, 'in_sync': 2}
    assert doc['items'][0]['fields'][1] == {'pointer': '/schedule/cron/expression', 'git': '0 0 2 * * ?',
                                           'workspace': '0 30 2 * * ?'}
