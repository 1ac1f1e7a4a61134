"""Hostile workspace objects (issue 12, item 9): a name that cannot be a file name (`a/b`, `..`,
`.`, empty, NUL or ESC inside, 250 bytes) is that object's problem. drift, export, run, stop,
delete and plan go on with every other object, write nothing for it (nothing at all before every
path is checked) and exit 1 naming it with what to do. A name export would turn into a file that
`validate` refuses (`x.template`, a name the service's rules refuse) is refused the same way.

Hostile objects are written straight into the `local:` SQLite workspace (the service model's
engine accepts what the API accepts: any non-empty name), and over HTTP into the emulator.
"""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, RunningEmulator, target_the_emulator
from workspace_specs import cdm_job_spec, job_spec

from jobsync import unfit
from jobsync.model import ObjectKey
from jobsync.render import escape
from jobsync.workspace import routes as r
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.transport import ApiError, RetryingTransport

# Names no file can carry, for Factory jobs and CDM jobs alike.
UNFIT = ('a/b', '..', '.', 'nul\x00x', 'esc\x1b[32mgreen\x1b[0m', 'L' * 250)
# Names a file can carry but `validate` would refuse: export refuses them too.
UNEXPORTABLE = ('x.template',)
FIT_NEW = 'console_made'


def _insert_empty_named_job(ws: LocalWorkspace) -> None:
    """The empty name, which the API refuses: written into the store itself (a damaged or foreign
    workspace can hold it)."""
    engine = ws.engine
    with engine._store.write() as conn:
        engine._insert(conn, 'job', '', job_spec(''), id_='999999', status='STOPPED')


def _hostile_local(repo: Path) -> Path:
    """Apply the example repo to its `local:` workspace, then add hostile objects and one new fit job."""
    applied = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    db = repo / '.jobsync' / 'workspace.db'
    ws = LocalWorkspace(db)
    try:
        for name in (*UNFIT, *UNEXPORTABLE, FIT_NEW):
            ws.engine.create_job(job_spec(name))
        cluster = ws.engine.cluster_id('cdm-prod')
        for name in UNFIT[:3]:
            link = dict(ws.engine.show_link(cluster, 'mysql_src'), name=name)
            ws.engine.create_link(cluster, link)
        _insert_empty_named_job(ws)
    finally:
        ws.close()
    return db


def _shown(name: str) -> str:
    return escape.text(name)


def _assert_clean_terminal(out: str) -> None:
    assert '\x1b' not in out and '\x00' not in out and 'Traceback' not in out and 'Internal error' not in out


@pytest.fixture
def hostile(example_repo: Path) -> Path:
    _hostile_local(example_repo)
    return example_repo


def _status(repo: Path) -> list[str]:
    return sorted(git.Repo(repo).git.status('--porcelain', '--untracked-files=all').splitlines())


def test_drift_compares_the_others_and_names_each_skipped_object(hostile: Path) -> None:
    result = run_jobsync('drift', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    out = result.stdout + result.stderr
    assert result.code == 1, result
    assert 'Not compared, their names cannot be file names (rename them in the console): 10' in result.stdout
    for name in (*UNFIT, ''):
        assert f'    job/{_shown(name)}  (' in result.stdout, name
    for name in UNFIT[:3]:
        assert f'    cdm-link/cdm-prod/{_shown(name)}  (' in result.stdout
    assert '10 workspace object(s) were not compared' in result.stderr
    doc = json.loads(run_jobsync('drift', '--format', 'json', '--repo', str(hostile), env=EXAMPLE_SECRETS).stdout)
    assert {'job/..', 'job/a/b', 'job/', 'cdm-link/cdm-prod/a/b'} <= {s['key'] for s in doc['skipped']}
    markdown = run_jobsync('drift', '--format', 'markdown', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    assert markdown.code == 1 and '- `job/a/b`: ' in markdown.stdout and '\x1b' not in markdown.stdout
    assert f'job/{FIT_NEW}' in result.stdout  # the rest was compared: the new fit job is drift
    assert 'job/x.template' in result.stdout  # a file name, so compared (export is what refuses it)
    _assert_clean_terminal(out)


def test_export_writes_the_others_and_refuses_each_unfit_object(hostile: Path) -> None:
    outside_before = sorted(p.name for p in hostile.parent.iterdir())
    result = run_jobsync('export', '--all', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    out = result.stdout + result.stderr
    assert result.code == 1, result
    for name in (*UNFIT, '', 'x.template'):
        assert f'job/{_shown(name)}' in result.stderr, name
    assert 'would be read as a template' in result.stderr
    assert 'not exported (named above); the others were' in result.stderr
    # Only the fit new job was written; nothing outside the repo.
    assert _status(hostile) == [f'?? jobs/{FIT_NEW}.yaml']
    assert sorted(p.name for p in hostile.parent.iterdir()) == outside_before
    _assert_clean_terminal(out)
    # What export wrote validates: no object became a file validate refuses.
    checked = run_jobsync('validate', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    assert checked.code == 0, checked


def test_export_json_lists_what_it_refused(hostile: Path) -> None:
    result = run_jobsync('export', '--jobs', '--dry-run', '--format', 'json', '--repo', str(hostile),
                         env=EXAMPLE_SECRETS)
    assert result.code == 1, result
    doc = json.loads(result.stdout)
    refused = {item['key'] for item in doc['refused']}
    assert {'job/..', 'job/a/b', 'job/', 'job/x.template'} <= refused
    assert doc['written'] == [f'jobs/{FIT_NEW}.yaml'] and doc['dry_run'] is True  # would be written
    assert _status(hostile) == []


def test_export_by_name_of_an_unfit_object_names_it_and_writes_nothing(hostile: Path) -> None:
    result = run_jobsync('export', '--name', 'job/..', '--name', FIT_NEW, '--repo', str(hostile),
                         env=EXAMPLE_SECRETS)
    assert result.code == 1, result
    assert 'job/..: skipped' in result.stderr and 'not in the workspace' not in result.stderr
    assert _status(hostile) == [f'?? jobs/{FIT_NEW}.yaml']


def test_run_and_stop_act_on_the_others(hostile: Path) -> None:
    result = run_jobsync('run', 'job_batch', 'job/a/b', 'job/..', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    assert result.code == 1, result
    assert 'ok     job/job_batch' in result.stdout
    assert 'FAILED job/a/b: skipped' in result.stdout and 'FAILED job/..: skipped' in result.stdout
    assert 'rename it in the console' in result.stdout
    stopped = run_jobsync('stop', 'job_batch', 'job/.', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    assert stopped.code == 1 and 'ok     job/job_batch' in stopped.stdout and 'FAILED job/.: skipped' in stopped.stdout


def test_delete_deletes_the_others_and_leaves_the_unfit_object(hostile: Path) -> None:
    result = run_jobsync('delete', '-y', 'job/job_stream', 'job/..', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    out = result.stdout + result.stderr
    assert result.code == 1, result
    assert 'ok     job/job_stream: deleted' in result.stdout and 'FAILED job/..: skipped' in result.stdout
    # Hostile jobs could not be read for the in-use check: named, not silently passed over.
    assert 'not checked for use of what is deleted' in result.stderr and 'job/a/b' in result.stderr
    _assert_clean_terminal(out)
    ws = LocalWorkspace(hostile / '.jobsync' / 'workspace.db')
    try:
        names = {k.name for k in ws.list_objects() if k.kind == 'job'}
    finally:
        ws.close()
    assert 'job_stream' not in names and {'..', 'a/b', '.', ''} <= names


def test_plan_leaves_them_alone_and_escapes_their_names(hostile: Path) -> None:
    result = run_jobsync('plan', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    assert result.code == 0, result
    assert 'No changes' in result.stdout and 'job/esc\\x1b[32mgreen\\x1b[0m' in result.stdout
    _assert_clean_terminal(result.stdout + result.stderr)
    md = run_jobsync('plan', '--format', 'markdown', '--repo', str(hostile), env=EXAMPLE_SECRETS)
    assert md.code == 0 and '\x1b' not in md.stdout


def test_a_dot_segment_is_never_put_in_a_url_path(local_workspace: LocalWorkspace) -> None:
    transport = local_workspace.http
    assert isinstance(transport, RetryingTransport)
    for name in ('', '.', '..'):
        with pytest.raises(ApiError) as caught:
            transport.path(r.DELETE_JOB, {'job_name': name})
        assert caught.value.status == 400 and 'cannot be put in a URL path' in caught.value.message
    assert transport.path(r.DELETE_JOB, {'job_name': 'a/b'}).endswith('/jobs/a%2Fb')
    assert local_workspace.read([ObjectKey('script', '..')]) == {}


ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}


def test_over_http_the_emulator_s_hostile_jobs_are_skipped(example_repo: Path,
                                                            running_emulator: RunningEmulator) -> None:
    project = target_the_emulator(example_repo, running_emulator.url)
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert applied.code == 0, applied
    ws = running_emulator.workspace(project, workspace_id='ws-example')
    try:  # written as a console user would: signed HTTP calls to the emulator
        for name in ('a/b', '..', 'nul\x00x', FIT_NEW):
            ws.http.call(r.CREATE_JOB, body=job_spec(name))
    finally:
        ws.close()
    drifted = run_jobsync('drift', '--repo', str(example_repo), env=ENV)
    assert drifted.code == 1, drifted
    assert '    job/a/b  (' in drifted.stdout and '    job/..  (' in drifted.stdout
    assert f'job/{FIT_NEW}' in drifted.stdout
    exported = run_jobsync('export', '--all', '--repo', str(example_repo), env=ENV)
    assert exported.code == 1, exported
    assert 'job/nul\\x00x: skipped' in exported.stderr
    assert _status(example_repo) == [f'?? jobs/{FIT_NEW}.yaml']
    _assert_clean_terminal(drifted.stdout + drifted.stderr + exported.stdout + exported.stderr)


@pytest.mark.parametrize(('key', 'why'), [
    pytest.param(ObjectKey('job', 'x.template'), 'would be read as a template', id='template-stem'),
    pytest.param(ObjectKey('connection', 'y.sql'), 'validate would refuse the file', id='service-name-rule'),
    pytest.param(ObjectKey('job', 'j' * 129), 'at most 128 characters', id='too-long-for-the-service'),
    pytest.param(ObjectKey('cdm-job', 'ok', '..'), 'its cluster name', id='cluster-segment'),
    pytest.param(ObjectKey('job', '..'), 'relative path segment', id='dot-dot'),
])
def test_export_refuses_a_name_validate_would_refuse(key: ObjectKey, why: str) -> None:
    assert why in unfit.why_refused_for_export(key)


@pytest.mark.parametrize('key', [ObjectKey('job', 'daily.v2'), ObjectKey('cdm-job', 'with space', 'c'),
                                 ObjectKey('job', '日报')])
def test_export_writes_a_name_validate_accepts(key: ObjectKey) -> None:
    assert unfit.why_refused_for_export(key) == '' and unfit.why_unfit(key) == ''


def test_a_bundle_holding_a_template_named_job_is_refused_whole(example_repo: Path, tmp_path: Path) -> None:
    bundle = tmp_path / 'x.template.job'
    bundle.write_text(json.dumps(job_spec('x.template')), encoding='utf-8')
    result = run_jobsync('import-bundle', str(bundle), '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert result.code == 1, result
    assert 'job/x.template' in result.stderr and 'would be read as a template' in result.stderr
    assert _status(example_repo) == []


def test_a_group_s_member_set_aside_is_named_by_export_and_run(example_repo: Path) -> None:
    applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert applied.code == 0, applied
    ws = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    try:
        cluster = ws.engine.cluster_id('cdm-prod')
        ws.engine.create_cdm_job(cluster, cdm_job_spec('a/b', source='mysql_src', target='dws_dst', group='sales'))
    finally:
        ws.close()
    exported = run_jobsync('export', '--group', 'sales', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert exported.code == 1, exported
    assert 'cdm-job/cdm-prod/a/b: skipped' in exported.stderr and _status(example_repo) == []
    ran = run_jobsync('run', '--group', 'sales', '--repo', str(example_repo), env=EXAMPLE_SECRETS)
    assert ran.code == 1, ran
    assert 'FAILED cdm-job/cdm-prod/a/b: skipped' in ran.stdout and 'ok     cdm-job/cdm-prod/orders' in ran.stdout
