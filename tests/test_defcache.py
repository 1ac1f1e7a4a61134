"""The validated-definition cache (issue 14, defcache.py): an unchanged repo is not parsed or
validated twice; an edit reparses only that file; a jobsync.yaml, version or schema change, or
a cache file jobsync did not seal, means loading from the files again. Never a stale answer."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from benchmark_modules import load_benchmark

from jobsync import defcache, schema, yamlio
from jobsync.errors import ConfigError
from jobsync.gitrepo import read_snapshot
from jobsync.load import LoadResult, load_repo
from jobsync.secrets import SecretText


def _scale_repo() -> ModuleType:
    return load_benchmark('scale_repo')


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / 'repo'
    _scale_repo().write_repo(root, 20, url='http://127.0.0.1:9', project='p')
    (root / '.jobsync').mkdir()  # the cache lives only where `.jobsync/` exists
    return root


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The files yamlio parses, counted (the real parser runs)."""
    seen: Counter[str] = Counter()
    real = yamlio.parse

    def counting(path: str, raw: bytes, *, lines: bool = True) -> Any:
        seen[path] += 1
        return real(path, raw, lines=lines)

    monkeypatch.setattr(yamlio, 'parse', counting)
    return seen


def _load(root: Path) -> LoadResult:
    return load_repo(read_snapshot(root))


def _definitions(root: Path) -> list[str]:
    return [p for p in read_snapshot(root).files if p.endswith('.yaml') and p != 'jobsync.yaml']


def test_an_unchanged_repo_is_parsed_once_and_loads_the_same(repo: Path, parsed: Counter[str]) -> None:
    cold = _load(repo)
    assert (repo / defcache.cache_file('bench')).is_file()
    assert set(_definitions(repo)) <= set(parsed)
    parsed.clear()
    warm = _load(repo)
    assert set(parsed) == {'jobsync.yaml'}  # no definition parsed or validated again
    assert warm.desired == cold.desired
    assert [d.source for d in warm.desired.values()] == [d.source for d in cold.desired.values()]


def test_a_warm_load_shares_short_strings_and_leaves_an_unchanged_file_alone(repo: Path) -> None:
    _load(repo)
    cache = repo / defcache.cache_file('bench')
    written = cache.stat().st_mtime_ns, cache.read_bytes()
    warm = _load(repo)
    scripts = [d.spec for k, d in warm.desired.items() if k.kind == 'script']
    # Each file's parse made its own 'dws_main'; from the cache they are one string.
    assert scripts[0]['connectionName'] == scripts[1]['connectionName'] == 'dws_main'
    assert scripts[0]['connectionName'] is scripts[1]['connectionName']
    assert (cache.stat().st_mtime_ns, cache.read_bytes()) == written  # nothing new: not written again


def test_an_edit_reparses_only_that_file_and_is_seen(repo: Path, parsed: Counter[str]) -> None:
    _load(repo)
    parsed.clear()
    _scale_repo().edit_jobs(repo, 1, hour=5)
    (repo / 'scripts' / 'sql_00003.sql').write_text('SELECT 3;\n', encoding='utf-8')  # a content file
    loaded = _load(repo)
    assert set(parsed) == {'jobsync.yaml', 'jobs/job_00000.yaml', 'scripts/sql_00003.yaml'}
    job = next(d for k, d in loaded.desired.items() if k.name == 'job_00000')
    assert job.spec['schedule']['cron']['expression'] == '0 0 5 * * ?'
    script = next(d for k, d in loaded.desired.items() if k.name == 'sql_00003')
    assert script.spec['content'] == 'SELECT 3;\n'


def test_a_config_version_or_schema_change_loads_everything_again(
        repo: Path, parsed: Counter[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    definitions = set(_definitions(repo))
    _load(repo)

    config = repo / 'jobsync.yaml'
    config.write_text(config.read_text(encoding='utf-8') + 'variables: {unused: x}\n', encoding='utf-8')
    parsed.clear()
    _load(repo)
    assert definitions <= set(parsed)

    monkeypatch.setattr(defcache, '__version__', '99.0.0')
    defcache.code_digest.cache_clear()
    parsed.clear()
    _load(repo)
    assert definitions <= set(parsed)

    schemas = tmp_path / 'schemas'
    shutil.copytree(schema.schema_dir(), schemas)  # type: ignore[arg-type]
    job_schema = schemas / 'job.schema.json'
    job_schema.write_text(job_schema.read_text(encoding='utf-8').replace('"description"', '"description" ', 1),
                          encoding='utf-8')
    monkeypatch.setattr(schema, 'schema_dir', lambda: schemas)
    defcache.code_digest.cache_clear()
    parsed.clear()
    _load(repo)
    assert definitions <= set(parsed)
    defcache.code_digest.cache_clear()


def test_a_cache_file_jobsync_did_not_seal_is_not_believed(repo: Path, parsed: Counter[str]) -> None:
    _load(repo)
    cache = repo / defcache.cache_file('bench')
    seal, _, body = cache.read_bytes().partition(b'\n')
    # A pull request commits a cache mapping job_00001's file to another schedule.
    cache.write_bytes(seal + b'\n' + body.replace(b'0 1 2 * * ?', b'0 1 9 * * ?'))
    parsed.clear()
    loaded = _load(repo)
    assert 'jobs/job_00001.yaml' in parsed
    job = next(d for k, d in loaded.desired.items() if k.name == 'job_00001')
    assert job.spec['schedule']['cron']['expression'] == '0 1 2 * * ?'


def test_problems_are_said_every_time_and_cached_files_keep_their_lines(repo: Path, parsed: Counter[str]) -> None:
    _load(repo)
    # A cached, clean job now points at a script that is gone: the reference check reports it
    # with the job's file and line, although that file came from the cache.
    (repo / 'scripts' / 'sql_00002.yaml').unlink()
    (repo / 'scripts' / 'sql_00002.sql').unlink()
    for _ in range(2):
        with pytest.raises(ConfigError) as failed:
            _load(repo)
        (problem,) = failed.value.diagnostics
        assert problem.where.startswith('jobs/job_00002.yaml:') and 'sql_00002' in problem.summary, problem


def test_no_cache_and_nothing_created_without_a_jobsync_folder(tmp_path: Path, parsed: Counter[str]) -> None:
    root = tmp_path / 'bare'
    _scale_repo().write_repo(root, 3, url='http://127.0.0.1:9', project='p')
    _load(root)
    parsed.clear()
    _load(root)
    assert set(_definitions(root)) <= set(parsed)  # loaded from the files again
    assert not (root / '.jobsync').exists()  # a reading command creates nothing in the repo


def test_the_cache_is_bounded_and_off_when_asked(repo: Path, parsed: Counter[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(defcache, 'MAX_ENTRIES', 10)
    _load(repo)
    first = (repo / defcache.cache_file('bench')).stat().st_size
    _scale_repo().edit_jobs(repo, 20, hour=7)  # 20 new entries; the bound keeps the size
    _load(repo)
    assert (repo / defcache.cache_file('bench')).stat().st_size < first * 1.5
    monkeypatch.setenv(defcache.ENV_SWITCH, 'off')
    parsed.clear()
    _load(repo)
    assert set(_definitions(repo)) <= set(parsed)


def test_a_secret_reference_comes_back_from_the_cache_as_a_reference(repo: Path, parsed: Counter[str]) -> None:
    (repo / 'connections' / 'ecs_host.yaml').write_text(
        'dw_type: HOST\nagent_name: cdm-prod\ndw_config:\n  ip: 192.168.30.15\n  port: "22"\n  username: etl\n'
        '  password: ${secret:env:ETL_HOST_PASSWORD}\n', encoding='utf-8')
    cold = _load(repo)
    parsed.clear()
    warm = _load(repo)
    assert set(parsed) == {'jobsync.yaml'}
    key = next(k for k in warm.desired if k.name == 'ecs_host')
    password = warm.desired[key].spec['dw_config']['password']
    assert isinstance(password, SecretText) and str(password) == '${secret:env:ETL_HOST_PASSWORD}'
    assert warm.desired == cold.desired
    # Only entries that may hold a reference are walked for one when they are read back.
    refs = {tuple(e['key']): e['refs'] for e in _entries(repo).values()}
    assert refs[('connection', 'ecs_host', '')] is True
    assert sum(refs.values()) == 1


def _entries(repo: Path, target: str = 'bench') -> dict[str, Any]:
    """The cache file's entries: a seal line, a header line, then `<ident> <JSON>` a line each."""
    _seal, header, *lines = (repo / defcache.cache_file(target)).read_text(encoding='utf-8').splitlines()
    assert json.loads(header)['format'] == defcache.FORMAT
    return {ident: json.loads(raw) for ident, _, raw in (line.partition(' ') for line in lines)}


def test_the_cache_holds_one_context_and_does_not_grow_with_history(repo: Path) -> None:
    _load(repo)
    clean = len(_entries(repo))
    assert clean == len(_definitions(repo))
    config = repo / 'jobsync.yaml'
    config.write_text(config.read_text(encoding='utf-8') + 'variables: {unused: x}\n', encoding='utf-8')
    _load(repo)
    assert len(_entries(repo)) == clean  # the older context's entries are dropped, not carried along
    for hour in (3, 4, 5):  # three rounds of edits to every job: older entries at most as many as used
        _scale_repo().edit_jobs(repo, 20, hour=hour)
        _load(repo)
        assert len(_entries(repo)) <= 2 * clean
    # Another target has its own file.
    config.write_text(config.read_text(encoding='utf-8').replace('targets:\n', 'targets:\n  other:\n'
                                                                 '    workspace: local:.jobsync/other.db\n', 1),
                      encoding='utf-8')
    load_repo(read_snapshot(repo), 'other')
    assert (repo / defcache.cache_file('other')).is_file()
    assert len(_entries(repo, 'other')) == clean


def test_a_value_json_cannot_write_is_not_kept_and_the_rest_is(repo: Path) -> None:
    from jobsync.model import ObjectKey

    cache = defcache.DefinitionCache(repo, b'config', 'bench')
    big, plain = cache.ident('jobs/big.yaml', b'a', []), cache.ident('jobs/plain.yaml', b'b', [])
    cache.put(big, ObjectKey('job', 'big'), {'retryTimes': 2**70}, (), refs=False)
    cache.put(plain, ObjectKey('job', 'plain'), {'retryTimes': 1}, (), refs=False)
    cache.save()
    again = defcache.DefinitionCache(repo, b'config', 'bench')
    assert again.get(big) is None
    assert again.get(plain) == (ObjectKey('job', 'plain'), {'retryTimes': 1}, (), False)


def test_idents_tell_apart_bytes_that_run_together(repo: Path) -> None:
    cache = defcache.DefinitionCache(repo, b'config', 'bench')
    assert cache.ident('scripts/a.yaml', b'xy', [('scripts/a.sql', b'z')]) != \
        cache.ident('scripts/a.yaml', b'x', [('scripts/a.sql', b'yz')])
    assert cache.ident('scripts/a.yaml', b'x', []) != cache.ident('scripts/a.yam', b'lx', [])
