"""The Workspace protocol every backend implements, and runs the same contract tests against.

Reads and writes are batched the way the service allows: list calls find what exists (with
`lastUpdateTime`), content is fetched in batches (batch export takes at most 100 jobs a call),
and writes go object by object through the REST routes (one client for every backend: client.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from jobsync.model import LiveObject, ObjectKey, Spec
from jobsync.state import Lock, State


@dataclass(frozen=True, slots=True)
class ListEntry:
    """What a list call says about an object without fetching its content."""

    key: ObjectKey
    updated: int  # lastUpdateTime, epoch ms
    status: str | None = None  # jobs: schedule status; CDM jobs: last submission status
    # Factory directory of a job, script or resource when the listing carries it (jobs: `path`);
    # None when unknown (a scope by directory then needs the object's content).
    directory: str | None = None


class Workspace(Protocol):
    """A DataArts workspace seen through one backend.

    Specs go in and come out in API form. Write-only values come back masked
    (`Add password here`, `*********`); a backend never returns a real password.
    """

    url: str
    calls: Counter[str]  # API calls made so far, by route ('GET /v1/{pid}/jobs')

    def list_objects(self) -> dict[ObjectKey, ListEntry]:
        """Every object in the workspace, from list calls only."""
        ...

    def read_back(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, ListEntry]:
        """The list entries `list_objects` would give for `keys` now, at the fewest calls (gone: absent)."""
        ...

    def read(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, LiveObject]:
        """Content for `keys`, fetched in batches. Keys that do not exist are absent."""
        ...

    def import_objects(self, items: Sequence[tuple[ObjectKey, Spec]], *,
                       on_written: Callable[[ObjectKey], None] = lambda _: None) -> None:
        """Write one package of objects (secrets already filled in), overwriting same names;
        `on_written` hears of each object as it goes through (progress).

        Raises `ImportRefused` naming each refused object. Writes go object by object through the
        REST routes (the service has no atomic import for every kind); `written` lists the
        objects that went through.
        """
        ...

    def delete(self, key: ObjectKey) -> None:
        """Delete one object; raises `WorkspaceError` with `not_found` if it is absent."""
        ...

    def job_status(self, key: ObjectKey) -> str:
        """Schedule status of a Factory job, or last submission status of a CDM job."""
        ...

    def start_job(self, key: ObjectKey) -> None: ...

    def stop_job(self, key: ObjectKey) -> None: ...

    def run_once(self, key: ObjectKey) -> str:
        """Run a batch Factory job once now, beside its schedule (`run-immediate`, reference §4.5).

        Returns the new instance's id. Refused (`WorkspaceError`) for other kinds, and by the
        service for real-time jobs (`DLF.0136`). Not repeated when its answer is lost: a second
        call would make a second instance.
        """
        ...

    def instance_status(self, key: ObjectKey, instance_id: str) -> str:
        """The status of one instance of a Factory job (`waiting`, `running`, `success`, `fail`, ...;
        reference §4.5). `WorkspaceError` with `not_found` if the job or instance does not exist."""
        ...

    def job_version(self, name: str, version: int | None = None) -> Spec:
        """A Factory job as `show_job` answers it: the current one (its `version` is the latest
        submitted), or with `version` that submitted version (ShowJob's `version` query, [SDK dgc]).
        The service has no operation listing a job's versions. `WorkspaceError` with `not_found`
        when the job or that version does not exist."""
        ...

    def close(self) -> None: ...

    # --- jobsync's own records, kept in the workspace (state.py) --------------------------------
    # Every CI runner sees the same state and lock because they live in the workspace, not on a
    # runner's disk. `local:` keeps them in tables of its SQLite file; the real service keeps
    # each as the JSON document of state.py in a reserved script (`jobsync_state_<target>`,
    # `jobsync_lock_<target>`), which `list_objects` must not return.

    def read_state(self, target: str) -> State | None:
        """What jobsync last applied to `target`; None when it never applied there."""
        ...

    def write_state(self, state: State) -> None:
        """Store `state` if the stored serial is `state.serial - 1` (none stored: serial 1), atomically.

        Raises `StateError` otherwise (another apply wrote in between) and stores nothing.
        """
        ...

    def drop_state(self, target: str) -> bool:
        """Forget the target's state, readable or not (`jobsync state reset`); False if there was none."""
        ...

    def acquire_lock(self, target: str, owner: str, run_url: str, ttl_ms: int) -> Lock:
        """Take the lease on `target` for `ttl_ms`, atomically; an expired lease is taken over.

        Raises `LockError` with `holder` set when someone else holds an unexpired lease.
        """
        ...

    def renew_lock(self, lock: Lock, ttl_ms: int) -> Lock:
        """Extend a lease still held; raises `LockError` if it was taken over or freed."""
        ...

    def release_lock(self, lock: Lock) -> None:
        """Free a lease this apply holds; nothing happens if it is no longer ours."""
        ...

    def force_unlock(self, lock_id: str) -> Lock:
        """Free the lease `lock_id` whoever holds it; returns it. `LockError` if no lease has that id."""
        ...


class RecordStore(Protocol):
    """Where a backend keeps jobsync's own records (the targets' state and locks)."""

    def read_state(self, target: str) -> State | None: ...
    def write_state(self, state: State) -> None: ...
    def drop_state(self, target: str) -> bool: ...
    def acquire_lock(self, target: str, owner: str, run_url: str, ttl_ms: int) -> Lock: ...
    def renew_lock(self, lock: Lock, ttl_ms: int) -> Lock: ...
    def release_lock(self, lock: Lock) -> None: ...
    def force_unlock(self, lock_id: str) -> Lock: ...


class KeepsRecords:
    """The Workspace protocol's state and lock methods, delegated to the backend's `records` store.

    `local:` keeps them in tables of its SQLite file (statestore.py); the real service in reserved
    scripts of the workspace (records.py).
    """

    records: RecordStore

    def read_state(self, target: str) -> State | None:
        return self.records.read_state(target)

    def write_state(self, state: State) -> None:
        self.records.write_state(state)

    def drop_state(self, target: str) -> bool:
        return self.records.drop_state(target)

    def acquire_lock(self, target: str, owner: str, run_url: str, ttl_ms: int) -> Lock:
        return self.records.acquire_lock(target, owner, run_url, ttl_ms)

    def renew_lock(self, lock: Lock, ttl_ms: int) -> Lock:
        return self.records.renew_lock(lock, ttl_ms)

    def release_lock(self, lock: Lock) -> None:
        self.records.release_lock(lock)

    def force_unlock(self, lock_id: str) -> Lock:
        return self.records.force_unlock(lock_id)
