"""Fixtures for the HTTP backend: the emulator as a real HTTP server on 127.0.0.1, and
`dataarts` workspaces talking to it. Imported by conftest.py.

One emulator serves the whole session; every test gets its own project id (the emulator keeps
projects apart), so tests never see each other's objects. Faults are reset after each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import pytest
import yaml

from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.emulator import Emulator, EmulatorServer, Faults
from jobsync.workspace.http import AkSk, HttpSettings, HttpTransport

EMULATOR_AK = 'AKTESTEMULATOR00001'
EMULATOR_SK = 'SKtestEmulatorSecret000000000000000000001'
EMULATOR_TOKEN = 'test-iam-token-0001'
# Clusters every project has, as if bought beforehand (the example repo uses cdm-prod).
EMULATOR_CLUSTERS = ('cdm-prod', 'cdm-dev')
# The DataArts workspaces the tests' targets name, as if made in the console beforehand: the
# emulator refuses any other id (DLF.0819) and a Management Center call without one (issue 11).
EMULATOR_WORKSPACES = {'ws-test': 'test', 'ws-example': 'example', 'ws-a': 'team a', 'ws-b': 'team b',
                       'ws-soak': 'soak', 'ws1': 'one', 'wa': 'a', 'wb': 'b', 'ws-kill': 'kill',
                       'ws-json': 'json', 'ws-state': 'state'}


@dataclass
class RunningEmulator:
    server: EmulatorServer
    emulator: Emulator

    @property
    def url(self) -> str:
        return self.server.url

    def workspace(self, project: str | None = None, *, workspace_id: str = 'ws-test', max_attempts: int = 6,
                  concurrency: int = 4, backoff: float = 0.01,
                  clock: Callable[[], int] | None = None) -> DataArtsClient:
        """A `dataarts` workspace on a project of its own (fresh unless `project` is given)."""
        settings = HttpSettings(
            project_id=project or uuid.uuid4().hex,
            endpoints={'factory': self.url, 'management': self.url, 'cdm': self.url},
            credentials=AkSk(EMULATOR_AK, EMULATOR_SK), workspace_id=workspace_id,
            rate_limits={'factory': 0, 'management': 0, 'cdm': 0}, max_attempts=max_attempts,
            backoff_base=backoff, timeout=30,
        )
        url = f'dataarts:{self.url}/{settings.project_id}/{workspace_id or "default"}'
        if clock is None:
            return DataArtsClient(HttpTransport(settings), url=url, concurrency=concurrency)
        return DataArtsClient(HttpTransport(settings), url=url, concurrency=concurrency, clock=clock)


@pytest.fixture(scope='session')
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """The emulator on a free loopback port, for the whole session."""
    db = Path(tmp_path_factory.mktemp('emulator')) / 'emulator.db'
    em = Emulator(db, credentials={EMULATOR_AK: EMULATOR_SK}, tokens={EMULATOR_TOKEN},
                  clusters={name: None for name in EMULATOR_CLUSTERS}, workspaces=EMULATOR_WORKSPACES)
    server = EmulatorServer(em)
    server.start()
    yield RunningEmulator(server, em)
    server.stop()
    em.close()


@pytest.fixture
def running_emulator(emulator: RunningEmulator) -> Iterator[RunningEmulator]:
    """The session emulator, its counters zeroed for the test and its faults reset after it."""
    emulator.emulator.stats.clear()
    yield emulator
    emulator.emulator.faults = Faults()
    emulator.emulator.hold = None
    emulator.emulator.script_errors = 'flat'
    emulator.emulator.paging = 'records'


@pytest.fixture
def dataarts_workspace(running_emulator: RunningEmulator) -> Iterator[DataArtsClient]:
    """A `dataarts` workspace on a fresh project of the session emulator."""
    ws = running_emulator.workspace()
    yield ws
    ws.close()


EMULATOR_ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK}


def point_at_emulator(repo: Path, emulator: RunningEmulator) -> str:
    """Point the example repo's `emulator` target at a fresh project of `emulator` (committed);
    the project id. Credentials: `EMULATOR_ENV`."""
    config = repo / 'jobsync.yaml'
    project = uuid.uuid4().hex
    text = config.read_text(encoding='utf-8')
    assert '0123456789abcdef0123456789abcdef' in text and 'http://127.0.0.1:8443' in text
    config.write_text(text.replace('0123456789abcdef0123456789abcdef', project)
                      .replace('http://127.0.0.1:8443', emulator.url), encoding='utf-8')
    import git

    g = git.Repo(repo)  # committed by the example_repo fixture, user configured there
    g.git.add(A=True)
    g.index.commit('the test emulator')
    return project


def target_the_emulator(repo: Path, url: str, project: str | None = None, workspace_id: str = 'ws-example', *,
                        commit: bool = True, **settings: Any) -> str:
    """Make a git repo's default target a `dataarts` target on the emulator at `url` (a project of its
    own, unless given; `settings` added to its `dataarts:` block), committed unless told not to;
    returns the project id. The workspace must be one of `EMULATOR_WORKSPACES`."""
    project = project or uuid.uuid4().hex
    config = yaml.safe_load((repo / 'jobsync.yaml').read_text(encoding='utf-8'))
    config['default_target'] = 'cloud'
    config['targets']['cloud'] = {'workspace': 'dataarts', 'expressionTimeZone': 'GMT+8', 'dataarts': {
        'project_id': project, 'workspace_id': workspace_id,
        'endpoints': {'factory': url, 'management': url, 'cdm': url},
        'rate_limits': {'factory': 0, 'management': 0, 'cdm': 0}, 'backoff_seconds': 0.01, **settings}}
    (repo / 'jobsync.yaml').write_text(yaml.safe_dump(config), encoding='utf-8')
    if commit:
        repo_git = git.Repo(repo)
        repo_git.index.add(['jobsync.yaml'])
        repo_git.index.commit('target the emulator')
    return project
