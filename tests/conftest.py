"""Shared fixtures. Keep them generic and clearly named; spec builders live in workspace_specs.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jobsync.workspace.engine import Engine
from jobsync.workspace.local import LocalWorkspace


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
