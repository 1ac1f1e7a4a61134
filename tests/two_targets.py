"""A small repo with two `local:` targets, both workspaces seeded alike, and an in-process CLI runner.

`main` (the default target) and `dev` hold the same objects: a Factory job `daily` with its
script and connection, and CDM jobs of group `nightly` whose names say which workspace they are in
(`copy_main`, `copy_dev`), so output tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conftest import git_commit_all
from typer.testing import CliRunner
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, script_spec

from jobsync.cli import app
from jobsync.model import ObjectKey
from jobsync.workspace.local import LocalWorkspace

CONFIG = """\
default_target: main
targets:
  main:
    workspace: local:.jobsync/main.db
  dev:
    workspace: local:.jobsync/dev.db
"""
CLUSTER = 'cdm-prod'
DAILY = ObjectKey('job', 'daily')
LOAD = ObjectKey('script', 'load')
CONN = ObjectKey('connection', 'dws')
SRC = ObjectKey('cdm-link', 'src', CLUSTER)


def copy_key(target: str) -> ObjectKey:
    return ObjectKey('cdm-job', f'copy_{target}', CLUSTER)


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


def invoke(*args: str, env: dict[str, str] | None = None) -> Ran:
    """The `jobsync` command in this process (typer's runner), with its exit code and both streams."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def make_repo(root: Path) -> Path:
    """The repo (committed) with both workspaces seeded."""
    repo = root / 'repo'
    repo.mkdir()
    (repo / 'jobsync.yaml').write_text(CONFIG, encoding='utf-8')
    (repo / '.gitignore').write_text('.jobsync/\n', encoding='utf-8')
    git_commit_all(repo)
    for target in ('main', 'dev'):
        ws = open_ws(repo, target)
        try:
            ws.import_objects([
                (CONN, connection_spec('dws')),
                (LOAD, script_spec('load', connection='dws')),
                (DAILY, job_spec('daily', scripts=('load',), connection='dws')),
                (SRC, link_spec('src')),
                (copy_key(target), cdm_job_spec(f'copy_{target}', source='src', target='src', group='nightly')),
            ])
        finally:
            ws.close()
    return repo


def open_ws(repo: Path, target: str) -> LocalWorkspace:
    (repo / '.jobsync').mkdir(exist_ok=True)
    return LocalWorkspace(repo / '.jobsync' / f'{target}.db')


def keys(repo: Path, target: str) -> set[ObjectKey]:
    ws = open_ws(repo, target)
    try:
        return set(ws.list_objects())
    finally:
        ws.close()


def status(repo: Path, target: str, key: ObjectKey) -> str:
    ws = open_ws(repo, target)
    try:
        return ws.job_status(key)
    finally:
        ws.close()
