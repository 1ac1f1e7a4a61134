"""A bounded, seeded fuzz of the command line (issue 12, "Done when"): mutated copies of the
examples/repo files, definitions, sidecars and jobsync.yaml alike, given to `validate` and to
`plan --format markdown` (what a pull request's comment shows) never give an internal error or a
traceback, never print a raw control character, and name a file in every error.

test_yaml_bounds.py fuzzes the loader with hypothesis; this one goes through the CLI, the way a
pull request's files reach it, with a fixed seed so a failure is repeatable.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import EXAMPLE_SECRETS, run_jobsync

CASES = 40  # bounded: each case is two in-process CLI runs
SEED = 12
SNIPPETS = [b'&a ', b'*a', b'<<: *a', b'!!python/object:os.system ', b'\x00', b'\x1b[32m', b'\r', b'\x07',
            b'\xe2\x80\xae', b'\xff\xfe', b'[' * 2000, b'9' * 5000, b'{"a":', b'---\n', b'\n  - ', b': ',
            b'${secret:env:HUAWEICLOUD_SDK_SK}', b'${var:', b'`' * 9, b'|\n', b'"', b'\t']
RAW_CONTROL = ('\x1b', '\x00', '\x07', '\r', '\u202e')


def _mutate(raw: bytes, rng: random.Random) -> bytes:
    out = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out) + 1)
        op = rng.choice(('insert', 'delete', 'duplicate', 'flip'))
        if op == 'insert':
            out[at:at] = rng.choice(SNIPPETS)
        elif op == 'delete':
            del out[at:at + rng.randrange(1, 40)]
        elif op == 'duplicate':
            out[at:at] = out[at:at + rng.randrange(1, 200)] * rng.randrange(1, 4)
        elif out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
    return bytes(out)


def _cases() -> list[tuple[int, int]]:
    return [(i, SEED * 1000 + i) for i in range(CASES)]


@pytest.fixture(scope='module')
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from conftest import EXAMPLE_REPO, git_commit_all

    repo = tmp_path_factory.mktemp('fuzz') / 'repo'
    shutil.copytree(EXAMPLE_REPO, repo, ignore=shutil.ignore_patterns('.jobsync'))
    git_commit_all(repo)
    return repo


@pytest.mark.parametrize(('case', 'seed'), _cases(), ids=[f'case{i}' for i, _ in _cases()])
def test_mutated_repo_files_never_give_an_internal_error(fuzz_repo: Path, case: int, seed: int) -> None:
    rng = random.Random(seed)
    files = sorted(p for p in fuzz_repo.rglob('*') if p.is_file() and '.git' not in p.parts
                   and '.jobsync' not in p.parts and p.name != 'README.md')
    target = rng.choice(files)
    original = target.read_bytes()
    target.write_bytes(_mutate(original, rng))
    rel = target.relative_to(fuzz_repo).as_posix()
    try:
        for args in (('validate',), ('plan', '--format', 'markdown')):
            result = run_jobsync(*args, '--repo', str(fuzz_repo), env=EXAMPLE_SECRETS)
            out = result.stdout + result.stderr
            assert result.code in (0, 1, 2), (rel, args, result)
            assert 'Internal error' not in out and 'Traceback' not in out, (rel, args, result)
            assert not any(c in out for c in RAW_CONTROL), (rel, args, out[:2000])
            if result.code == 1 and 'error:' in result.stderr:
                assert all(':' in line[len('error: '):] for line in result.stderr.splitlines()
                           if line.startswith('error: ')), (rel, result.stderr)
    finally:
        target.write_bytes(original)
    assert not (fuzz_repo / '.jobsync').exists()  # plan created no workspace either
