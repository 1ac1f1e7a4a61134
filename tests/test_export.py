"""Export: a workspace built by hand comes into git so that plan has nothing to do, scope by scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git_commit_all
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, resource_spec, script_spec

from jobsync import commands, export, gitrepo, load, safewrite, selection
from jobsync.errors import UsageError
from jobsync.model import LiveObject, ObjectKey
from jobsync.workspace.local import LocalWorkspace

CONN = ObjectKey('connection', 'dws')
LOAD = ObjectKey('script', 'load')
CLEAN = ObjectKey('script', 'clean')
APP = ObjectKey('resource', 'app')
DAILY = ObjectKey('job', 'daily')
REPORT = ObjectKey('job', 'report')
STREAM = ObjectKey('job', 'stream')
SRC = ObjectKey('cdm-link', 'src', 'cdm-prod')
DST = ObjectKey('cdm-link', 'dst', 'cdm-prod')
COPY_A = ObjectKey('cdm-job', 'copy_a', 'cdm-prod')
COPY_B = ObjectKey('cdm-job', 'copy_b', 'cdm-prod')
COPY_C = ObjectKey('cdm-job', 'copy_c', 'cdm-prod')
TEST_LINK = ObjectKey('cdm-link', 'src', 'cdm-test')
TEST_COPY = ObjectKey('cdm-job', 'copy_t', 'cdm-test')

PASSWORDS = ('hunter2-dws', 'src-link-secret', 'dst-link-secret', 'test-link-secret')


def _daily() -> dict:
    spec = job_spec('daily', scripts=('load',), connection='dws')
    spec['nodes'].append({'name': 'spark', 'type': 'MRSSpark', 'location': {'x': '300', 'y': '10'},
                          'preNodeName': ['run_load'],
                          'properties': [{'name': 'resourcePath', 'value': 'app'}]})
    return spec


def _report() -> dict:
    spec = job_spec('report', scripts=('clean',))
    spec['schedule']['cron']['dependJobs'] = {'jobs': ['daily'], 'dependPeriod': 'SAME_PERIOD'}
    return spec


HAND_BUILT = [
    (CONN, connection_spec('dws', password='hunter2-dws')),
    (LOAD, script_spec('load', connection='dws', content='SELECT 1;\nSELECT 2;\n')),
    (CLEAN, {'name': 'clean', 'type': 'Shell', 'content': 'rm -rf /tmp/landing/*\n', 'directory': '/ops',
                    'connectionName': 'dws'}),
    (APP, resource_spec('app')),
    (DAILY, _daily()),
    (REPORT, _report()),
    (STREAM, job_spec('stream', process_type='REAL_TIME')),
    (SRC, link_spec('src', password='src-link-secret')),
    (DST, link_spec('dst', password='dst-link-secret')),
    (COPY_A, cdm_job_spec('copy_a', source='src', target='dst', group='nightly')),
    (COPY_B, cdm_job_spec('copy_b', source='src', target='dst', group='nightly')),
    (COPY_C, cdm_job_spec('copy_c', source='src', target='dst')),
    (TEST_LINK, link_spec('src', password='test-link-secret')),
    (TEST_COPY, cdm_job_spec('copy_t', source='src', target='src', group='nightly')),
]


@pytest.fixture
def hand_built(local_workspace: LocalWorkspace) -> LocalWorkspace:
    """A workspace built through the local workspace's import, as the console would have it."""
    local_workspace.import_objects(HAND_BUILT)
    return local_workspace


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / 'repo'
    path.mkdir()
    (path / 'README.md').write_text('definitions\n')
    git_commit_all(path, 'empty repo')
    return path


def _export(repo: Path, workspace: LocalWorkspace, the_scope: selection.Scope) -> export.ExportResult:
    """What `jobsync export` does, without the command line."""
    snapshot = gitrepo.read_snapshot(repo)
    live = selection.read_scope(workspace, the_scope)
    result = export.export_objects(live, export.index_repo(snapshot.files),
                                   in_scope=lambda k, s: selection.selects(the_scope, k, s))
    safewrite.write_files(repo, result.files)
    return result


def _plan(repo: Path, workspace: LocalWorkspace):
    return commands.plan_command(commands.load(repo, None, None), workspace)


def _tree(repo: Path) -> dict[str, bytes]:
    return gitrepo.read_snapshot(repo).files


# --- the round trip -----------------------------------------------------------------------------

def test_export_all_then_plan_has_nothing_to_do(repo, hand_built):
    result = _export(repo, hand_built, selection.Scope(all=True))
    assert result.count('added') == len(HAND_BUILT) and not result.refused
    plan = _plan(repo, hand_built)
    assert not plan.has_changes, [(str(c.key), c.fields) for c in plan.actionable]
    assert plan.unmanaged == ()
    assert sorted(_tree(repo)) == [
        'cdm/cdm-prod/jobs/copy_a.yaml', 'cdm/cdm-prod/jobs/copy_b.yaml', 'cdm/cdm-prod/jobs/copy_c.yaml',
        'cdm/cdm-prod/links/dst.yaml', 'cdm/cdm-prod/links/src.yaml',
        'cdm/cdm-test/jobs/copy_t.yaml', 'cdm/cdm-test/links/src.yaml',
        'connections/dws.yaml',
        'jobs/daily.yaml', 'jobs/report.yaml', 'jobs/stream.yaml',
        'resources/app.yaml',
        'scripts/clean.sh', 'scripts/clean.yaml', 'scripts/load.sql', 'scripts/load.yaml',
    ]


def test_exported_passwords_are_references_and_listed_as_to_set(repo, hand_built):
    result = _export(repo, hand_built, selection.Scope(all=True))
    files = _tree(repo)
    everything = b''.join(files.values())
    for password in PASSWORDS:
        assert password.encode() not in everything
    assert b'Add password here' not in everything and b'*********' not in everything
    assert b'linkConfig.password: ${secret:env:SRC_PASSWORD}\n' in files['cdm/cdm-prod/links/src.yaml']
    assert b'  password: ${secret:env:DWS_PASSWORD}\n' in files['connections/dws.yaml']
    assert {(str(n.key), n.reference) for n in result.new_secrets} == {
        ('connection/dws', '${secret:env:DWS_PASSWORD}'),
        ('cdm-link/cdm-prod/src', '${secret:env:SRC_PASSWORD}'),
        ('cdm-link/cdm-prod/dst', '${secret:env:DST_PASSWORD}'),
        ('cdm-link/cdm-test/src', '${secret:env:SRC_PASSWORD}'),
    }
    # validate accepts what export wrote: no placeholder or literal password left
    assert load.load_repo(gitrepo.read_snapshot(repo)).desired


def test_service_fields_dropped_user_layout_kept(repo, hand_built):
    _export(repo, hand_built, selection.Scope(all=True))
    files = _tree(repo)
    daily = files['jobs/daily.yaml'].decode()
    for managed in ('lastUpdateUser', 'version:', '\nid:'):
        assert managed not in daily
    assert 'location: {x: "10", y: "10"}' in daily  # the canvas layout is the user's
    assert 'dw_name' not in files['connections/dws.yaml'].decode()  # the file name says it
    copy = files['cdm/cdm-prod/jobs/copy_a.yaml'].decode()
    assert 'creation-date' not in copy and 'group_name' not in copy and 'status' not in copy
    assert 'groupJobConfig.groupName: nightly' in copy
    assert files['scripts/clean.sh'] == b'rm -rf /tmp/landing/*\n'
    assert b'content' not in files['scripts/clean.yaml']


def test_exporting_twice_changes_no_byte(repo, hand_built):
    _export(repo, hand_built, selection.Scope(all=True))
    git_commit_all(repo, 'export')
    before = _tree(repo)
    again = _export(repo, hand_built, selection.Scope(all=True))
    assert again.files == {}
    assert {o.status for o in again.objects} == {'unchanged'}
    assert _tree(repo) == before


# --- an existing repo: its files, formats, references and style are kept --------------------------

def test_pulled_link_keeps_the_reference_the_repo_already_had(repo, hand_built):
    link = repo / 'cdm' / 'cdm-prod' / 'links'
    link.mkdir(parents=True)
    (link / 'src.yaml').write_text(
        '# Source link, owned by the data team.\n'
        'connector-name: generic-jdbc-connector\n'
        'enabled: true\n'
        'link-config-values:\n'
        '  configs:\n'
        '    linkConfig:\n'
        '      linkConfig.host: 10.0.0.6\n'
        '      linkConfig.username: etl\n'
        '      linkConfig.password: ${secret:file:cdm/src-password}\n')
    git_commit_all(repo, 'src link')
    result = _export(repo, hand_built, selection.Scope(names=('cdm-link/cdm-prod/src',)))
    assert [(str(o.key), o.status) for o in result.objects] == [('cdm-link/cdm-prod/src', 'changed')]
    assert [f.pointer for f in result.objects[0].fields] == ['/link-config-values/configs/linkConfig/linkConfig.host']
    assert result.new_secrets == ()
    assert (link / 'src.yaml').read_text() == (
        '# Source link, owned by the data team.\n'
        'connector-name: generic-jdbc-connector\n'
        'enabled: true\n'
        'link-config-values:\n'
        '  configs:\n'
        '    linkConfig:\n'
        '      linkConfig.host: 10.0.0.7\n'
        '      linkConfig.username: etl\n'
        '      linkConfig.password: ${secret:file:cdm/src-password}\n')


def test_a_console_job_file_stays_a_job_file_where_it_is(repo, hand_built, tmp_path):
    folder = repo / 'jobs' / 'etl'
    folder.mkdir(parents=True)
    console = {**_daily(), 'id': 100123, 'version': '7', 'lastUpdateUser': 'bob'}
    console['basicConfig'] = {'owner': 'alice', 'priority': 2}
    import json
    (folder / 'daily.job').write_text(json.dumps(console, indent=2))
    git_commit_all(repo, 'console job')
    result = _export(repo, hand_built, selection.Scope(names=('daily',), with_deps=False))
    assert [(str(o.key), o.status, o.paths) for o in result.objects] == [
        ('job/daily', 'changed', ('jobs/etl/daily.job',))]
    written = json.loads((folder / 'daily.job').read_text())
    assert written['name'] == 'daily' and written['basicConfig']['priority'] == 0
    assert 'id' not in written and 'version' not in written
    assert written['nodes'][0]['properties'][0] == {'name': 'scriptName', 'value': 'load'}  # API form, as the console
    assert not (repo / 'jobs' / 'daily.yaml').exists()
    git_commit_all(repo, 'export')
    assert _export(repo, hand_built, selection.Scope(names=('daily',), with_deps=False)).files == {}


def test_a_changed_field_rewrites_one_line_keeping_quotes_order_and_comments(repo, hand_built):
    _export(repo, hand_built, selection.Scope(all=True))
    path = repo / 'jobs' / 'daily.yaml'
    text = path.read_text()
    path.write_text('# Daily load, see the runbook.\n' + text)
    git_commit_all(repo, 'export, commented')
    live = hand_built.read([DAILY])[DAILY].spec
    live['schedule']['cron']['expression'] = '0 30 2 * * ?'
    hand_built.import_objects([(DAILY, live)])
    result = _export(repo, hand_built, selection.Scope(names=('daily',), with_deps=False))
    assert [f.pointer for f in result.objects[0].fields] == ['/schedule/cron/expression']
    new = path.read_text()
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines()[1:], strict=True) if a != b]
    assert changed == [('    expression: 0 0 2 * * ?', '    expression: 0 30 2 * * ?')]
    assert new.startswith('# Daily load, see the runbook.\n')


def test_a_script_keeps_its_sidecar_and_a_new_shell_script_gets_sh(repo, hand_built):
    scripts = repo / 'scripts'
    scripts.mkdir()
    (scripts / 'load.yaml').write_text('type: DWSSQL\ndirectory: /\nconnectionName: dws\n')
    (scripts / 'load.txt.sql').write_text('unrelated\n')
    (scripts / 'load.py').write_text('SELECT 0;\n')  # an unusual but accepted sidecar suffix
    git_commit_all(repo, 'script')
    result = _export(repo, hand_built, selection.Scope(names=('script/load', 'script/clean'), with_deps=False))
    assert {str(o.key): o.paths for o in result.objects} == {
        'script/load': ('scripts/load.yaml', 'scripts/load.py'),
        'script/clean': ('scripts/clean.yaml', 'scripts/clean.sh'),
    }
    assert (scripts / 'load.py').read_text() == 'SELECT 1;\nSELECT 2;\n'
    assert (scripts / 'load.yaml').read_text() == 'type: DWSSQL\ndirectory: /\nconnectionName: dws\n'


def test_a_reference_the_workspace_omits_is_put_back(repo):
    (repo / 'connections').mkdir()
    (repo / 'connections' / 'dws.yaml').write_text(
        'dw_type: DWS\ndw_config:\n  host: 10.0.0.5\n  password: ${secret:env:DWS_PW}\n')
    index = export.index_repo(gitrepo.read_snapshot(repo).files)
    live = {CONN: LiveObject(CONN, {'dw_name': 'dws', 'dw_type': 'DWS', 'dw_config': {'host': '10.0.0.9'}}, 1)}
    result = export.export_objects(live, index)
    assert result.files['connections/dws.yaml'] == (
        b'dw_type: DWS\ndw_config:\n  host: 10.0.0.9\n  password: ${secret:env:DWS_PW}\n')


def test_a_literal_secret_is_never_written(repo):
    live = {SRC: LiveObject(SRC, link_spec('src', password='real-password-123'), 0)}
    result = export.export_objects(live, {})
    text = result.files['cdm/cdm-prod/links/src.yaml']
    assert b'real-password-123' not in text and b'${secret:env:SRC_PASSWORD}' in text
    assert [n.literal for n in result.secrets] == [True]
    assert any('literal secret' in w.summary for w in result.warnings)


def test_objects_missing_from_the_workspace_are_reported_never_deleted(repo, hand_built):
    (repo / 'jobs').mkdir()
    (repo / 'jobs' / 'old.yaml').write_text('processType: BATCH\nnodes: [{name: a, type: Dummy}]\n')
    (repo / 'scripts').mkdir()
    (repo / 'scripts' / 'gone.yaml').write_text('type: DWSSQL\n')
    git_commit_all(repo, 'old definitions')
    result = _export(repo, hand_built, selection.Scope(jobs=True, with_deps=False))
    assert [str(e.key) for e in result.missing] == ['job/old']  # scripts are outside --jobs
    assert (repo / 'jobs' / 'old.yaml').exists() and (repo / 'scripts' / 'gone.yaml').exists()


def test_a_name_that_is_no_file_name_is_refused():
    bad = ObjectKey('cdm-job', '../../etc/passwd', 'cdm-prod')
    result = export.export_objects({bad: LiveObject(bad, {'name': bad.name}, 0)}, {})
    assert result.files == {} and 'cannot write' in result.refused[0].summary


def test_write_files_refuses_symlinks_and_escapes_before_writing(tmp_path):
    repo = tmp_path / 'repo'
    outside = tmp_path / 'outside'
    repo.mkdir()
    outside.mkdir()
    (repo / 'jobs').symlink_to(outside)
    with pytest.raises(UsageError, match='symbolic link'):
        safewrite.write_files(repo, {'connections/a.yaml': b'x', 'jobs/a.yaml': b'x'})
    with pytest.raises(UsageError, match='not a plain relative path'):
        safewrite.write_files(repo, {'../x.yaml': b'x'})
    assert list(outside.iterdir()) == [] and not (repo / 'connections').exists()


# --- each console scope exports exactly its objects ------------------------------------------------

ALL = {k for k, _ in HAND_BUILT}
JOBS = {DAILY, REPORT, STREAM, COPY_A, COPY_B, COPY_C, TEST_COPY}


@pytest.mark.parametrize(('the_scope', 'expected'), [
    pytest.param(selection.Scope(all=True), ALL, id='all'),
    pytest.param(selection.Scope(jobs=True, with_deps=False), JOBS, id='jobs-only'),
    pytest.param(selection.Scope(jobs=True), JOBS | {LOAD, CLEAN, CONN, APP, SRC, DST, TEST_LINK}, id='jobs-with-deps'),
    pytest.param(selection.Scope(links=True), {SRC, DST, TEST_LINK, CONN}, id='links'),
    pytest.param(selection.Scope(names=('daily',), with_deps=False), {DAILY}, id='name-jobs-only'),
    pytest.param(selection.Scope(names=('daily',)), {DAILY, LOAD, CONN, APP}, id='name-with-deps'),
    pytest.param(selection.Scope(names=('report',)), {REPORT, CLEAN, DAILY, LOAD, CONN, APP}, id='name-upstream-jobs'),
    pytest.param(selection.Scope(names=('script/clean', 'copy_c')), {CLEAN, CONN, COPY_C, SRC, DST}, id='name-keys'),
    pytest.param(selection.Scope(groups=('nightly',), with_deps=False), {COPY_A, COPY_B, TEST_COPY}, id='group'),
    pytest.param(selection.Scope(groups=('DEFAULT',), with_deps=False), {COPY_C}, id='group-default'),
    pytest.param(selection.Scope(groups=('nightly',), clusters=('cdm-prod',)), {COPY_A, COPY_B, SRC, DST},
                 id='group-in-cluster-with-links'),
])
def test_each_scope_exports_exactly_its_objects(repo, hand_built, the_scope, expected):
    result = _export(repo, hand_built, the_scope)
    assert {o.key for o in result.objects} == expected
    written = {export.locate(p) for p in _tree(repo) if p.endswith('.yaml')}
    assert {ObjectKey(loc.kind, loc.stem, loc.cluster) for loc in written if loc} == expected


def test_an_unknown_name_is_an_error_before_any_content_is_read(hand_built):
    hand_built.calls.clear()
    with pytest.raises(UsageError, match=r'not in the workspace .*: nope$'):
        selection.read_scope(hand_built, selection.Scope(names=('daily', 'nope')))
    assert hand_built.calls['POST /v1/{pid}/jobs/batch-export'] == 0


def test_export_reads_jobs_in_batches_of_at_most_100(repo, local_workspace):
    jobs = [(ObjectKey('job', f'j{i:03}'), job_spec(f'j{i:03}')) for i in range(150)]
    local_workspace.import_objects(jobs)
    local_workspace.calls.clear()
    result = _export(repo, local_workspace, selection.Scope(jobs=True))
    assert result.count('added') == 150
    assert local_workspace.calls['POST /v1/{pid}/jobs/batch-export'] == 2


def test_fields_marked_secret_in_jobsync_yaml_are_written_as_references(repo, local_workspace):
    (repo / 'jobsync.yaml').write_text('secret_fields:\n  job: [/nodes/*/properties/token]\n')
    spec = job_spec('api_pull')
    spec['nodes'][0]['properties'] = [{'name': 'token', 'value': 'tok-2f9c1e77'}]
    key = ObjectKey('job', 'api_pull')
    local_workspace.import_objects([(key, spec)])
    config = load.load_config(gitrepo.read_snapshot(repo))
    result = export.export_objects(local_workspace.read([key]), {}, secret_fields=config.secret_fields)
    text = result.files['jobs/api_pull.yaml'].decode()
    assert 'tok-2f9c1e77' not in text and 'token: ${secret:env:API_PULL_TOKEN}' in text
    assert [(n.pointer, n.literal) for n in result.secrets] == [('/nodes/0/properties/token', True)]
    safewrite.write_files(repo, result.files)
    assert not _plan(repo, local_workspace).has_changes


def test_inline_script_content_stays_inline_and_in_place(repo, hand_built):
    (repo / 'scripts').mkdir()
    (repo / 'scripts' / 'load.yaml').write_text(
        'type: DWSSQL\ncontent: |\n  SELECT 0;\nconnectionName: dws\ndirectory: /\n')
    result = _export(repo, hand_built, selection.Scope(names=('script/load',), with_deps=False))
    assert result.objects[0].paths == ('scripts/load.yaml',)
    assert (repo / 'scripts' / 'load.yaml').read_text() == (
        'type: DWSSQL\ncontent: |\n  SELECT 1;\n  SELECT 2;\nconnectionName: dws\ndirectory: /\n')


def test_a_remapping_that_cannot_be_undone_is_a_warning():
    back, problems = export.invert_remap({'connections': {'dws_a': 'dws', 'dws_b': 'dws', 'hive': 'hive_prod'},
                                          'cdm_clusters': {'cdm-prod': 'cdm-prod-01'}})
    assert back == {'connections': {'hive_prod': 'hive'}, 'cdm_clusters': {'cdm-prod-01': 'cdm-prod'}}
    assert len(problems) == 1 and "several names in git become 'dws'" in problems[0].summary


def test_a_repo_that_does_not_validate_is_still_exported_into_by_name(repo, hand_built):
    (repo / 'jobs').mkdir()
    (repo / 'jobs' / 'daily.yaml').write_text('processType: BATCH\nnodes: [{name: a, type: Dummy}]\n')
    (repo / 'jobs' / 'broken.yaml').write_text('nodes: [\n')
    snapshot = gitrepo.read_snapshot(repo)
    desired, notes = export.load_for_target(snapshot, None)
    assert desired is None and 'does not validate' in notes[0].summary
    live = hand_built.read([DAILY])
    result = export.export_objects(live, export.index_repo(snapshot.files), desired=desired)
    assert [(o.status, o.paths) for o in result.objects] == [('changed', ('jobs/daily.yaml',))]


def test_only_the_targets_scope_is_exported(hand_built):
    from jobsync.scope import Scope as TargetScope

    by_prefix = selection.read_scope(hand_built, selection.Scope(all=True), within=TargetScope(prefixes=('copy_',)))
    assert set(by_prefix) == {COPY_A, COPY_B, COPY_C, TEST_COPY}
    by_folder = selection.read_scope(hand_built, selection.Scope(all=True), within=TargetScope(directories=('/etl',)))
    assert set(by_folder) == ALL - {LOAD, CLEAN, APP}  # jobs sit in /etl; scripts and resources elsewhere
    with pytest.raises(UsageError, match=r"outside the target's scope \(name prefixes copy_\): daily"):
        selection.read_scope(hand_built, selection.Scope(names=('daily',)), within=TargetScope(prefixes=('copy_',)))
