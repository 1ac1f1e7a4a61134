"""`local:PATH`: the embedded workspace, the DataArts client in process over a SQLite file.

`LocalWorkspace` is `client.DataArtsClient` over `inprocess.InProcessTransport` into an emulator
gateway (`emulator.gateway.Gateway`) over `engine.Engine` on the file at PATH (created if
missing). The requests, answers, paging, error mapping and call counts are those of the real
service: a plan made against `local:` reports the calls it would spend against DataArts, named
the same way.

Where `local:` differs from the service, on purpose:

* CDM clusters are made on first use: a written link or job naming a cluster that does not
  exist yet creates it (the client's `create_clusters`, through the emulator-only route
  `create_cluster`). The service needs a cluster bought and running first.
* jobsync's own state and lock are kept in two tables of the same SQLite file (statestore.py),
  not in reserved scripts as on the service (records.py): a SQLite transaction gives them a real
  compare-and-swap across processes, which the service's script routes cannot.
* No signatures (the gateway trusts its one caller), no client-side rate limits.

What `local:` no longer offers: an atomic multi-kind package import. The service has none for
these kinds (its `jobs/import` reads a zip from OBS and covers neither connections nor CDM), so
writes go object by object, as against the service, and a refused object is named with the
objects written before it (`ImportRefused.written`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.emulator.gateway import Gateway
from jobsync.workspace.inprocess import InProcessTransport
from jobsync.workspace.service import Engine
from jobsync.workspace.statestore import SqliteStateStore

URL_SCHEME = 'local:'
DEFAULT_PATH = '.jobsync/workspace.db'


class LocalWorkspace(DataArtsClient):
    """The embedded workspace in the SQLite file at `path` (project `project`, DataArts workspace
    `workspace`, acting as `user`). `engine_options` go to the `Engine` (clock, run times).

    `engine` is the service model behind it and `gateway` its front, for tests that play "someone
    else in the console" or inject faults.
    """

    def __init__(self, path: str | Path, *, project: str = 'local', workspace: str = 'default',
                 user: str = 'jobsync', **engine_options: Any) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        url = f'{URL_SCHEME}{path}'
        self.engine = Engine(self.path, project=project, workspace=workspace, user=user, **engine_options)
        # The gateway knows this one workspace (and `default`), and the header always names it, as
        # jobsync sends it to the service (issue 11: the workspace checks are on here too).
        self.gateway = Gateway(self.engine, verify=False, workspaces={workspace: workspace})
        transport = InProcessTransport(self.gateway, project_id=project, workspace_id=workspace)
        records = SqliteStateStore(self.path, project=project, workspace=workspace, where=url, clock=self.engine.now)
        # One call at a time: the engine is in this process, threads would only contend for the GIL.
        super().__init__(transport, url=url, concurrency=1, records=records, create_clusters=True)

    def __repr__(self) -> str:
        return f'LocalWorkspace({str(self.path)!r})'

    def close(self) -> None:
        super().close()
        self.engine.close()
