"""Shared fixtures. Keep them generic and clearly named; spec builders live in workspace_specs.py."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# The definition cache's seal key (defcache.py) lives in the user's cache directory: the tests
# keep theirs in a directory of their own, never the user's.
os.environ['XDG_CACHE_HOME'] = tempfile.mkdtemp(prefix='jobsync-tests-cache-')

# The command line as a user meets it: `run_jobsync` runs it in this process (fast, and coverage
# sees jobsync/cli); `run_jobsync_process` / `start_jobsync_process` start a real one.
from cli_runner import (  # noqa: F401
    EXAMPLE_SECRETS,
    CliResult,
    JobsyncProcess,
    run_jobsync,
    run_jobsync_process,
    start_jobsync_process,
)

# The emulator and `dataarts` workspace fixtures (emulator, running_emulator, dataarts_workspace).
from dataarts_fixtures import dataarts_workspace, emulator, running_emulator  # noqa: F401

from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine


class FakeClock:
    """An epoch-millisecond clock that moves only when told to."""

    def __init__(self, start: int = 1_735_689_600_000) -> None:  # 2025-01-01T00:00:00Z
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int = 1) -> int:
        self.now += ms
        return self.now


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(tmp_path: Path, fake_clock: FakeClock) -> Iterator[Engine]:
    """A fresh engine (project `local`, workspace `default`, user `jobsync`) on a real SQLite file."""
    eng = Engine(tmp_path / 'engine.db', clock=fake_clock)
    yield eng
    eng.close()


@pytest.fixture
def local_workspace(tmp_path: Path, fake_clock: FakeClock) -> Iterator[LocalWorkspace]:
    """An empty `local:` workspace on a real SQLite file, driven by `fake_clock`."""
    ws = LocalWorkspace(tmp_path / 'workspace.db', clock=fake_clock)
    yield ws
    ws.close()


# --- repos and the command line, as a user meets them ------------------------------------------

EXAMPLE_REPO = Path(__file__).resolve().parents[1] / 'examples' / 'repo'


def git_commit_all(repo: Path, message: str = 'definitions') -> str:
    """Commit everything in `repo` (initialising git if needed); returns the commit sha."""
    import git

    g = git.Repo(repo) if (repo / '.git').exists() else git.Repo.init(repo)
    with g.config_writer() as cw:
        cw.set_value('user', 'name', 'jobsync tests')
        cw.set_value('user', 'email', 'tests@jobsync.invalid')
    g.git.add(A=True)
    g.index.commit(message)
    return g.head.commit.hexsha


@pytest.fixture
def example_repo(tmp_path: Path) -> Path:
    """A git copy of examples/repo (committed), with its workspace under `.jobsync/`."""
    import shutil

    repo = tmp_path / 'repo'
    shutil.copytree(EXAMPLE_REPO, repo, ignore=shutil.ignore_patterns('.jobsync'))
    git_commit_all(repo)
    return repo
