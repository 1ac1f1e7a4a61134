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

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jobsync.model import ObjectKey, Spec
from jobsync.state import Lock, State
from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.emulator.gateway import Gateway
from jobsync.workspace.firstwrite import Scratch
from jobsync.workspace.inprocess import InProcessTransport
from jobsync.workspace.service import Engine
from jobsync.workspace.service.errors import StoreError
from jobsync.workspace.statestore import SqliteStateStore

URL_SCHEME = 'local:'
DEFAULT_PATH = '.jobsync/workspace.db'


class LocalWorkspace(DataArtsClient):
    """The embedded workspace in the SQLite file at `path` (project `project`, DataArts workspace
    `workspace`, acting as `user`). `engine_options` go to the `Engine` (clock, run times).

    `engine` is the service model behind it and `gateway` its front, for tests that play "someone
    else in the console" or inject faults.

    With `create` False (how commands open it), a missing file is not created yet: the workspace
    reads as empty from a scratch file, and the file is created at `path` by the first write
    (firstwrite.py), so a command that reads, or refuses before writing, creates nothing.
    """

    def __init__(self, path: str | Path, *, project: str = 'local', workspace: str = 'default',
                 user: str = 'jobsync', create: bool = True, **engine_options: Any) -> None:
        self.path = Path(path)
        self._options: dict[str, Any] = dict(project=project, workspace=workspace, user=user, **engine_options)
        self._scratch = Scratch() if not create and not self.path.exists() else None
        self._open(self._scratch.path if self._scratch is not None else self.path)

    def _open(self, db: Path) -> None:
        options = dict(self._options)
        project, workspace = str(options.pop('project')), str(options.pop('workspace'))
        if db == self.path:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file where a folder should be, no permission
                raise StoreError(self.path, f'the folder of the workspace file cannot be created ({exc.strerror})',
                                 'point `local:` at a path where jobsync may create a file') from None
        url = f'{URL_SCHEME}{self.path}'
        self.engine = Engine(db, project=project, workspace=workspace, **options)
        # The gateway knows this one workspace (and `default`), and the header always names it, as
        # jobsync sends it to the service (issue 11: the workspace checks are on here too).
        self.gateway = Gateway(self.engine, verify=False, workspaces={workspace: workspace})
        transport = InProcessTransport(self.gateway, project_id=project, workspace_id=workspace)
        records = SqliteStateStore(db, project=project, workspace=workspace, where=url, clock=self.engine.now)
        # One call at a time: the engine is in this process, threads would only contend for the GIL.
        super().__init__(transport, url=url, concurrency=1, records=records, create_clusters=True)

    @property
    def exists(self) -> bool:
        """Whether the file is there (False until the first write of a `create=False` workspace)."""
        return self._scratch is None

    def _before_write(self) -> None:
        """The first write to a workspace that did not exist: from here on, the real file."""
        scratch, self._scratch = self._scratch, None
        if scratch is None:
            return
        counted = Counter(self.calls)  # the reads made so far still count in the command's report
        clusters = self._cluster_ids  # what was listed stays known (a missing cluster is looked up again)
        self._close_engine()
        scratch.remove()
        self._open(self.path)
        self.calls.update(counted)
        self._cluster_ids = clusters

    def acquire_lock(self, target: str, owner: str, run_url: str, ttl_ms: int) -> Lock:
        self._before_write()
        return super().acquire_lock(target, owner, run_url, ttl_ms)

    def write_state(self, state: State) -> None:
        self._before_write()
        super().write_state(state)

    def import_objects(self, items: Sequence[tuple[ObjectKey, Spec]], *,
                       on_written: Callable[[ObjectKey], None] = lambda _: None) -> None:
        self._before_write()
        super().import_objects(items, on_written=on_written)

    def delete(self, key: ObjectKey) -> None:
        self._before_write()
        super().delete(key)

    def __repr__(self) -> str:
        return f'LocalWorkspace({str(self.path)!r})'

    def _close_engine(self) -> None:
        super().close()
        self.engine.close()

    def close(self) -> None:
        self._close_engine()
        scratch, self._scratch = self._scratch, None
        if scratch is not None:
            scratch.remove()
