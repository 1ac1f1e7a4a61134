"""Issue 12 items 4 and 11: credentials go only to the region's service hosts or loopback, and
import-bundle reads only bounded regular files."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git_commit_all, run_jobsync

from jobsync import bundle
from jobsync.config import Target
from jobsync.errors import UsageError
from jobsync.workspace.connect import DataArtsConfig
from jobsync.workspace.endpoints import check_endpoints

PROJECT = '0123456789abcdef0123456789abcdef'
AK, SK = 'AKCANARY1234567890', 'SKCANARY-secret-0987654321'


def _target(**dataarts: object) -> Target:
    return Target(name='svc', workspace='dataarts', settings={'dataarts': {'project_id': PROJECT, **dataarts}})


def test_the_regions_own_hosts_and_loopback_are_trusted() -> None:
    config = DataArtsConfig.from_target(_target(region='cn-north-4'))
    assert config.endpoints is not None and config.endpoints['factory'].endswith('.cn-north-4.myhuaweicloud.com')
    local = {'factory': 'http://127.0.0.1:9', 'management': 'http://[::1]:9', 'cdm': 'http://localhost:9'}
    DataArtsConfig.from_target(_target(endpoints=local))
    check_endpoints('t', 'eu-west-101', {'factory': 'https://dayu.eu-west-101.myhuaweicloud.eu'}, ())


@pytest.mark.parametrize('url', [
    'https://evil.example',
    'http://dayu.cn-north-4.myhuaweicloud.com',             # not https
    'https://dayu.cn-east-3.myhuaweicloud.com',              # another region
    'https://dayu.cn-north-4.myhuaweicloud.com.evil.example',
    'https://a.b.cn-north-4.myhuaweicloud.com',
    'https://cn-north-4.myhuaweicloud.com@evil.example',
])
def test_any_other_endpoint_is_refused_naming_it_and_the_field(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        DataArtsConfig.from_target(_target(region='cn-north-4', endpoints={'factory': url}))
    assert url in caught.value.message and 'factory' in caught.value.message
    assert 'untrusted_endpoints_allowed' in (caught.value.hint or '')


def test_an_endpoint_named_in_the_exception_field_is_allowed() -> None:
    config = DataArtsConfig.from_target(_target(
        region='cn-north-4', endpoints={'factory': 'https://vpcep.example/'},
        untrusted_endpoints_allowed=['https://vpcep.example']))
    assert config.endpoints is not None and config.endpoints['factory'] == 'https://vpcep.example/'


def test_no_region_trusts_only_loopback() -> None:
    hosts = {s: 'https://dayu.cn-north-4.myhuaweicloud.com' for s in ('factory', 'management', 'cdm')}
    with pytest.raises(UsageError, match='no region'):
        DataArtsConfig.from_target(_target(endpoints=hosts))


def test_plan_refuses_before_any_request_and_leaks_nothing(tmp_path: Path) -> None:
    repo = tmp_path / 'repo'
    (repo / 'jobs').mkdir(parents=True)
    (repo / 'jobsync.yaml').write_text(
        f'default_target: svc\ntargets:\n  svc:\n    workspace: dataarts\n    dataarts:\n'
        f'      project_id: {PROJECT}\n      region: cn-north-4\n'
        f'      endpoints: {{factory: "https://collector.evil.example"}}\n', encoding='utf-8')
    git_commit_all(repo, 'hostile endpoint')
    result = run_jobsync('plan', '--repo', str(repo), env={'HUAWEICLOUD_SDK_AK': AK, 'HUAWEICLOUD_SDK_SK': SK})
    assert result.code == 1, result
    text = result.stdout + result.stderr
    assert 'https://collector.evil.example' in text and 'untrusted_endpoints_allowed' in text
    assert AK not in text and SK not in text and 'Traceback' not in text


def test_the_token_is_redacted_when_an_answer_echoes_it() -> None:
    from jobsync.secrets import Redactor

    token = 'MIIToken-canary-abcdefghijklmnop'
    redactor = Redactor.for_credentials({'JOBSYNC_DATAARTS_TOKEN': token})
    assert token not in redactor.scrub(f'error: {{"token": "{token}"}}')


# --- import-bundle reads only regular files, bounded ----------------------------------------------

@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / 'repo'
    (path / 'jobs').mkdir(parents=True)
    (path / 'jobs' / '.keep').write_text('')
    git_commit_all(path, 'empty')
    return path


@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason='needs FIFOs')
def test_a_fifo_is_refused_without_hanging(repo: Path, tmp_path: Path) -> None:
    fifo = tmp_path / 'bundle.zip'
    os.mkfifo(fifo)
    result = run_jobsync('import-bundle', str(fifo), '--repo', str(repo))
    assert result.code == 1 and 'not a regular file' in result.stderr and str(fifo) in result.stderr, result


@pytest.mark.skipif(not Path('/dev/zero').exists(), reason='needs /dev/zero')
def test_a_device_is_refused_without_reading_it(repo: Path) -> None:
    result = run_jobsync('import-bundle', '/dev/zero', '--repo', str(repo))
    assert result.code == 1 and 'not a regular file' in result.stderr, result


def test_a_symlink_is_refused(repo: Path, tmp_path: Path) -> None:
    (tmp_path / 'real.json').write_text('{"links": [], "jobs": []}')
    (tmp_path / 'link.json').symlink_to(tmp_path / 'real.json')
    result = run_jobsync('import-bundle', str(tmp_path / 'link.json'), '--repo', str(repo), '--cluster', 'c')
    assert result.code == 1 and 'symbolic link' in result.stderr, result


def test_the_read_is_bounded(tmp_path: Path) -> None:
    big = tmp_path / 'big.zip'
    big.write_bytes(b'x' * 2000)
    with pytest.raises(bundle.BundleError, match='more than the 1000-byte limit'):
        bundle.read_bundle_file(big, max_bytes=1000)
    assert bundle.read_bundle_file(big, max_bytes=2000) == b'x' * 2000


# --- git in bounded batches -----------------------------------------------------------------------

def test_many_paths_are_committed_in_bounded_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobsync import gitrepo

    repo = tmp_path / 'repo'
    (repo / 'jobs').mkdir(parents=True)
    (repo / 'jobs' / '.keep').write_text('')
    git_commit_all(repo, 'empty')
    monkeypatch.setattr(gitrepo, 'GIT_ARG_BATCH', 7)
    monkeypatch.setattr(gitrepo._batches, '__defaults__', (7,))
    paths = [f'jobs/j{i:03}.yaml' for i in range(40)]
    for p in paths:
        (repo / p).write_text('x: 1\n')
    assert gitrepo.dirty_paths(repo, paths) == set(paths)
    assert gitrepo.commit_paths(repo, paths, 'many') is not None
    assert gitrepo.dirty_paths(repo, paths) == set()


def test_sixty_thousand_paths_do_not_exceed_the_argument_limit(tmp_path: Path) -> None:
    from jobsync import gitrepo

    repo = tmp_path / 'repo'
    (repo / 'jobs').mkdir(parents=True)
    (repo / 'jobs' / '.keep').write_text('')
    git_commit_all(repo, 'empty')
    long = 'x' * 60
    assert gitrepo.dirty_paths(repo, [f'jobs/{long}{i}.yaml' for i in range(60_000)]) == set()


# --- local: paths stay under the repo -------------------------------------------------------------

@pytest.mark.parametrize('given', ['../outside.db', 'a/../../outside.db', 'escape/ws.db'])
def test_a_local_path_out_of_the_repo_is_refused_and_nothing_is_created(tmp_path: Path, given: str) -> None:
    repo = tmp_path / 'repo'
    (repo / 'jobs').mkdir(parents=True)
    (repo / 'jobs' / '.keep').write_text('')
    outside = tmp_path / 'elsewhere'
    outside.mkdir()
    (repo / 'escape').symlink_to(outside)
    (repo / 'jobsync.yaml').write_text(f'default_target: t\ntargets:\n  t:\n    workspace: "local:{given}"\n')
    git_commit_all(repo, 'hostile local path')
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_jobsync('plan', '--repo', str(repo))
    assert result.code == 1 and 'outside the repo' in result.stderr and given in result.stderr, result
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not any(outside.iterdir())
