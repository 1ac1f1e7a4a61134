"""import-bundle: console and API exports become repo files; hostile archives are refused whole."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest
from conftest import git_commit_all, run_jobsync
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, resource_spec, script_spec

from jobsync import bundle, gitrepo
from jobsync.model import ObjectKey
from jobsync.workspace.service import Engine

DAILY = job_spec('daily', scripts=('load',), connection='dws')
LOAD = script_spec('load', connection='dws', content='SELECT 1;\n')
APP = resource_spec('app')


def _zip(entries: dict[str, bytes], *, symlinks: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = stat.S_IFLNK | 0o777 if name in symlinks else stat.S_IFREG | 0o644
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


SINGLE_LAYOUT = {  # DLF_daily.zip, from POST /jobs/{job_name}/export (reference §4.6)
    'jobs/daily.job': _json({**DAILY, 'id': 1001, 'version': '3', 'lastUpdateUser': 'alice'}),
    'scripts/load.script': _json({**LOAD, 'id': 7, 'version': 2, 'createUser': 'alice'}),
    'resources/app.resource': _json(APP),
}
BATCH_LAYOUT = {  # jobs.zip, from POST /jobs/batch-export: one folder per job, dependencies next to it
    'jobs/daily/daily.job': _json(DAILY),
    'jobs/daily/load.script': _json(LOAD),
    'jobs/report/report.job': _json(job_spec('report', scripts=('load',), connection='dws')),
    'jobs/report/load.script': _json(LOAD),
}
CDM_EXPORT = {  # the CDM console's "All jobs and links" JSON (reference §9.5)
    'links': [link_spec('src', password='Add password here'), link_spec('dst', password='Add password here')],
    'jobs': [{**cdm_job_spec('copy', source='src', target='dst', group='nightly'), 'status': 'SUCCEEDED',
              'creation-user': 'cdm', 'creation-date': 1516674482640}],
}


@pytest.mark.parametrize(('entries', 'expected'), [
    pytest.param(SINGLE_LAYOUT, ['resource/app', 'script/load', 'job/daily'], id='single-job-export'),
    pytest.param(BATCH_LAYOUT, ['script/load', 'job/daily', 'job/report'], id='batch-export'),
])
def test_reads_both_documented_job_export_layouts(entries, expected):
    items = bundle.read_bundle('jobs.zip', _zip(entries))
    assert [str(k) for k, _ in items] == expected


def test_reads_what_the_service_really_exports(engine: Engine):
    engine.create_connection(connection_spec('dws'))
    engine.create_script(LOAD)
    engine.create_job(DAILY)
    for data in (engine.export_job('daily'), engine.export_jobs(['daily'])):
        assert [str(k) for k, _ in bundle.read_bundle('x.zip', data)] == ['script/load', 'job/daily']


def test_reads_a_cdm_json_export_into_the_cluster_named():
    items = bundle.read_bundle('cdm.json', _json(CDM_EXPORT), cluster='cdm-prod')
    assert [str(k) for k, _ in items] == ['cdm-link/cdm-prod/dst', 'cdm-link/cdm-prod/src', 'cdm-job/cdm-prod/copy']


def test_a_cdm_json_export_needs_a_cluster():
    with pytest.raises(bundle.BundleError, match='does not say which cluster') as err:
        bundle.read_bundle('cdm.json', _json(CDM_EXPORT))
    assert '--cluster' in err.value.hint


@pytest.mark.parametrize(('data', 'message'), [
    pytest.param(_zip({'../../evil.job': _json(DAILY)}), '".." path segment', id='zip-slip'),
    pytest.param(_zip({'/etc/cron.d/evil.job': _json(DAILY)}), 'absolute path', id='absolute-path'),
    pytest.param(_zip({'jobs/daily.job': b'/etc/passwd'}, symlinks=('jobs/daily.job',)), 'symbolic link',
                 id='symlink'),
    pytest.param(_zip({'jobs/x.job': _json({**DAILY, 'name': '../../x'})}), 'cannot be a file name',
                 id='name-escaping-the-repo'),
    pytest.param(_json({'links': [{'name': 'a/b'}], 'jobs': []}), 'cannot be a file name', id='cdm-name-with-slash'),
    pytest.param(b'\x00\x01 neither', 'neither a zip archive nor JSON', id='garbage'),
    pytest.param(_json({'something': 'else'}), 'not a CDM export', id='other-json'),
])
def test_hostile_or_unknown_bundles_are_refused(data, message):
    with pytest.raises(bundle.BundleError, match=message) as err:
        bundle.read_bundle('bundle', data, cluster='cdm-prod')
    assert 'nothing was written' in err.value.message


def test_an_archive_that_inflates_past_the_limit_is_refused():
    bomb = _zip({'jobs/big.job': b'0' * 200_000})
    assert len(bomb) < 10_000
    with pytest.raises(bundle.BundleError, match='more than the 100000-byte limit'):
        bundle.read_bundle('big.zip', bomb, max_bytes=100_000)


# --- the command ---------------------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / 'repo'
    (path / 'connections').mkdir(parents=True)
    (path / 'connections' / 'dws.yaml').write_text(
        'dw_type: DWS\nagent_name: cdm-agent\ndw_config:\n  host: 10.0.0.5\n  password: ${secret:env:DWS}\n')
    git_commit_all(path, 'a connection')
    return path


def test_import_bundle_writes_repo_files_that_validate(repo, tmp_path):
    (tmp_path / 'DLF_daily.zip').write_bytes(_zip(SINGLE_LAYOUT))
    result = run_jobsync('import-bundle', str(tmp_path / 'DLF_daily.zip'), '--repo', str(repo))
    assert result.code == 0, result
    assert '3 added, 0 changed, 0 unchanged' in result.stdout
    files = gitrepo.read_snapshot(repo).files
    assert files['scripts/load.sql'] == b'SELECT 1;\n'
    assert b'id:' not in files['jobs/daily.yaml'] and b'version' not in files['scripts/load.yaml']
    assert run_jobsync('validate', '--repo', str(repo)).code == 0


def test_import_bundle_cdm_json_writes_references_for_passwords(repo, tmp_path):
    path = tmp_path / 'cdm_20250905101652.json'
    path.write_bytes(_json(CDM_EXPORT))
    result = run_jobsync('import-bundle', str(path), '--repo', str(repo), '--cluster', 'cdm-prod')
    assert result.code == 0, result
    link = (repo / 'cdm' / 'cdm-prod' / 'links' / 'src.yaml').read_text()
    assert 'linkConfig.password: ${secret:env:SRC_PASSWORD}' in link and 'Add password here' not in link
    assert '${secret:env:SRC_PASSWORD}' in result.stdout and '${secret:env:DST_PASSWORD}' in result.stdout
    job = (repo / 'cdm' / 'cdm-prod' / 'jobs' / 'copy.yaml').read_text()
    assert 'status' not in job and 'creation-user' not in job
    assert run_jobsync('validate', '--repo', str(repo)).code == 0


@pytest.mark.parametrize('entries', [
    pytest.param({'jobs/daily.job': _json(DAILY), '../../escaped.job': _json(DAILY)}, id='zip-slip'),
    pytest.param({'jobs/daily.job': _json(DAILY), 'jobs/big.job': b' ' * (11 * 1024 * 1024)}, id='oversized'),
])
def test_import_bundle_refuses_with_a_clear_error_and_writes_nothing(repo, tmp_path, entries):
    before = gitrepo.read_snapshot(repo).files
    (tmp_path / 'jobs.zip').write_bytes(_zip(entries))
    result = run_jobsync('import-bundle', str(tmp_path / 'jobs.zip'), '--repo', str(repo))
    assert result.code == 1, result
    assert result.stderr.startswith('Error: refusing jobs.zip: ') and 'nothing was written' in result.stderr
    assert 'Traceback' not in result.stderr
    assert gitrepo.read_snapshot(repo).files == before
    assert not (tmp_path / 'escaped.job').exists()


def test_import_bundle_keeps_the_repo_reference_and_path_of_known_objects(repo, tmp_path):
    conn = {**connection_spec('dws'), 'dw_config': {'host': '10.0.0.6', 'password': '*********'}}
    (tmp_path / 'conn.zip').write_bytes(_zip({'connections/dws.conn': _json(conn)}))
    result = run_jobsync('import-bundle', str(tmp_path / 'conn.zip'), '--repo', str(repo))
    assert result.code == 0, result
    text = (repo / 'connections' / 'dws.yaml').read_text()
    assert 'host: 10.0.0.6' in text and 'password: ${secret:env:DWS}' in text
    assert 'Secrets to set' not in result.stdout


def test_import_bundle_does_not_overwrite_uncommitted_edits(repo, tmp_path):
    conn = {**connection_spec('dws'), 'dw_config': {'host': '10.0.0.6', 'password': '*********'}}
    (tmp_path / 'conn.zip').write_bytes(_zip({'connections/dws.conn': _json(conn)}))
    edited = (repo / 'connections' / 'dws.yaml').read_text().replace('10.0.0.5', '10.0.0.99')
    (repo / 'connections' / 'dws.yaml').write_text(edited)
    refused = run_jobsync('import-bundle', str(tmp_path / 'conn.zip'), '--repo', str(repo))
    assert refused.code == 1 and 'uncommitted edits: connections/dws.yaml' in refused.stderr, refused
    assert (repo / 'connections' / 'dws.yaml').read_text() == edited
    forced = run_jobsync('import-bundle', str(tmp_path / 'conn.zip'), '--repo', str(repo), '--force')
    assert forced.code == 0 and 'host: 10.0.0.6' in (repo / 'connections' / 'dws.yaml').read_text()


def test_a_cdm_export_without_cluster_is_a_usage_error_naming_the_option(repo, tmp_path):
    (tmp_path / 'cdm.json').write_bytes(_json(CDM_EXPORT))
    result = run_jobsync('import-bundle', str(tmp_path / 'cdm.json'), '--repo', str(repo))
    assert result.code == 1 and '--cluster NAME' in result.stderr
    assert not (repo / 'cdm').exists()


def test_bundle_keys_carry_their_cluster():
    items = dict(bundle.read_bundle('x.json', _json(CDM_EXPORT), cluster='c1'))
    assert ObjectKey('cdm-job', 'copy', 'c1') in items
