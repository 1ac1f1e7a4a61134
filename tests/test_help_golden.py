"""The help of every command, pinned by a golden file (tests/golden/help/), at 80 columns.

A new command gets its golden file, and a changed help its diff, with
`JOBSYNC_UPDATE_GOLDEN=1 pytest tests/test_help_golden.py`; read the diff like code. A golden
file for a command that no longer exists fails too (the update deletes it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import typer
from cli_runner import run_jobsync

from jobsync.cli import app

HELP = Path(__file__).parent / 'golden' / 'help'


def _commands() -> list[tuple[str, ...]]:
    """Every command path: (), ('plan',), ('groups',), ('groups', 'delete'), ..."""
    out: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:  # typer's vendored click Command or Group
        out.append(path)
        for name, sub in sorted(getattr(command, 'commands', {}).items()):
            if not sub.hidden:
                walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return out


def _file(path: tuple[str, ...]) -> Path:
    return HELP / f'{"-".join(("jobsync", *path))}.txt'


@pytest.mark.parametrize('path', _commands(), ids=lambda p: ' '.join(p) or 'jobsync')
def test_help_matches_its_golden_file(path: tuple[str, ...]) -> None:
    result = run_jobsync(*path, '--help', env={'COLUMNS': '80', 'TERM': 'dumb'})
    assert result.code == 0, result
    golden = _file(path)
    if os.environ.get('JOBSYNC_UPDATE_GOLDEN'):
        golden.write_text(result.stdout, encoding='utf-8')
    assert golden.exists(), f'{golden.name} is missing (JOBSYNC_UPDATE_GOLDEN=1 writes it)'
    assert result.stdout == golden.read_text(encoding='utf-8'), \
        f'{golden.name} differs (JOBSYNC_UPDATE_GOLDEN=1 rewrites it)'


def test_every_golden_help_file_is_a_command() -> None:
    expected = {_file(p).name for p in _commands()}
    stale = sorted(p.name for p in HELP.glob('*.txt') if p.name not in expected)
    if os.environ.get('JOBSYNC_UPDATE_GOLDEN'):
        for name in stale:
            (HELP / name).unlink()
        stale = []
    assert not stale, f'golden help for commands that do not exist: {stale} (JOBSYNC_UPDATE_GOLDEN=1 deletes them)'
