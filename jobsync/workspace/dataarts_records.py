"""jobsync's own records in a DataArts workspace: each target's state and lock, as reserved scripts.

The documents are those of `jobsync.state` (`state_to_json`, `lock_to_json`), kept as the content
of Factory scripts named `jobsync_state_<key>` and `jobsync_lock_<key>` in directory `/jobsync`,
so that every CI runner using the workspace sees the same ones (state.py, base.py). The HTTP
backend never lists them as objects.

The service offers no compare-and-swap, so these are as atomic as its REST routes allow:

* creating a script is atomic (a second create of the same name fails `DLF.0202`): the first
  state write and taking a free lock cannot both succeed for two writers;
* a state write checks the stored serial, then overwrites: two writers in the same instant could
  both pass the check. The target's lock is what keeps applies apart;
* taking over an expired lock overwrites it and reads it back: of two takers, the one whose
  lock id is not there fails. A taker that reads back before the other writes would not see it
  [INF: a window of one round trip, for locks that had already expired].

Script type `FlinkSQL`, the one script type for which the reference lists no mandatory
connection (§5) [INF]; content at most 4 MB, as for any script.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from jobsync.errors import LockError, StateError
from jobsync.state import (
    LOCK_SCRIPT_PREFIX,
    STATE_SCRIPT_PREFIX,
    Lock,
    State,
    lock_from_json,
    lock_to_json,
    state_from_json,
    state_to_json,
)
from jobsync.workspace.dataarts_http import ApiError, Route, Transport

RECORD_DIRECTORY = '/jobsync'
RECORD_SCRIPT_TYPE = 'FlinkSQL'
MAX_SCRIPT_CONTENT = 4 * 1024 * 1024  # reference §5

LIST_SCRIPTS = Route('factory', 'GET', '/v1/{pid}/scripts')
SHOW_SCRIPT = Route('factory', 'GET', '/v1/{pid}/scripts/{script_name}')
CREATE_SCRIPT = Route('factory', 'POST', '/v1/{pid}/scripts')
UPDATE_SCRIPT = Route('factory', 'PUT', '/v1/{pid}/scripts/{script_name}')
DELETE_SCRIPT = Route('factory', 'DELETE', '/v1/{pid}/scripts/{script_name}')


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ScriptRecordStore:
    """State and locks of the targets applied to one DataArts workspace, in reserved scripts."""

    def __init__(self, http: Transport, *, where: str, clock: Callable[[], int] = now_ms) -> None:
        self.http = http
        self.where = where  # the workspace URL, for messages
        self.clock = clock

    # --- scripts -------------------------------------------------------------------------------

    def _read(self, name: str) -> str | None:
        try:
            body = self.http.call(SHOW_SCRIPT, {'script_name': name}).json() or {}
        except ApiError as err:
            if err.not_found:
                return None
            raise
        content = body.get('content')
        return content if isinstance(content, str) else ''

    def _body(self, name: str, content: str, what: str) -> dict[str, Any]:
        if len(content.encode('utf-8')) > MAX_SCRIPT_CONTENT:
            raise StateError(f'the {what} of {self.where} would be {len(content.encode("utf-8"))} bytes; a script'
                             f' holds at most {MAX_SCRIPT_CONTENT}', hint='split the target into scopes')
        return {'name': name, 'type': RECORD_SCRIPT_TYPE, 'directory': RECORD_DIRECTORY, 'content': content,
                'description': f'jobsync {what}; written by jobsync, do not edit'}

    def _create(self, name: str, content: str, what: str) -> bool:
        """Create the script; False if the name was taken meanwhile."""
        try:
            self.http.call(CREATE_SCRIPT, body=self._body(name, content, what))
        except ApiError as err:
            if err.code == 'DLF.0202':
                return False
            if not err.ambiguous:
                raise
            # The answer was lost: whether it was created is known by reading it back.
            return self._read(name) == content
        return True

    def _update(self, name: str, content: str, what: str) -> None:
        self.http.call(UPDATE_SCRIPT, {'script_name': name}, body=self._body(name, content, what))

    def _delete(self, name: str) -> None:
        try:
            self.http.call(DELETE_SCRIPT, {'script_name': name})
        except ApiError as err:
            if not err.not_found:
                raise

    # --- state ---------------------------------------------------------------------------------

    def read_state(self, target: str) -> State | None:
        content = self._read(STATE_SCRIPT_PREFIX + target)
        return None if content is None else state_from_json(content, where=f'target {target} in {self.where}')

    def write_state(self, state: State) -> None:
        name = STATE_SCRIPT_PREFIX + state.target
        current = self._read(name)
        where = f'target {state.target} in {self.where}'
        stored = 0 if current is None else state_from_json(current, where=where).serial
        changed = StateError(
            f'the state of {where} changed while this apply ran (serial {stored}, expected {state.serial - 1});'
            ' it was not overwritten',
            hint='another apply ran without the lock (or took over an expired one); run plan again')
        if stored != state.serial - 1:
            raise changed
        if current is None:
            if not self._create(name, state_to_json(state), 'state'):
                raise changed
        else:
            self._update(name, state_to_json(state), 'state')

    # --- locks ---------------------------------------------------------------------------------

    def _current(self, target: str) -> Lock | None:
        content = self._read(LOCK_SCRIPT_PREFIX + target)
        return None if content is None else lock_from_json(content, where=f'target {target} in {self.where}')

    @staticmethod
    def _held(target: str, held: Lock) -> LockError:
        return LockError(f'target {target} is locked by {held.describe()}', holder=held,
                         hint=f'wait for that apply to finish; if it died, run `jobsync force-unlock {held.id}`')

    def acquire_lock(self, target: str, owner: str, run_url: str, ttl_ms: int) -> Lock:
        name = LOCK_SCRIPT_PREFIX + target
        held = self._current(target)
        now = self.clock()
        if held is not None and not held.expired(now):
            raise self._held(target, held)
        lock = Lock(uuid.uuid4().hex, target, owner, now, now + ttl_ms, run_url)
        if held is None:
            if not self._create(name, lock_to_json(lock), 'lock'):
                other = self._current(target)
                if other is not None:
                    raise self._held(target, other)
                raise LockError(f'target {target} was being locked by another apply at the same moment',
                                hint='run apply again')
            return lock
        self._update(name, lock_to_json(lock), 'lock')  # take over an expired lease
        now_held = self._current(target)
        if now_held is None or now_held.id != lock.id:
            if now_held is not None:
                raise self._held(target, now_held)
            raise LockError(f'target {target}: the lock taken over was freed at the same moment',
                            hint='run apply again')
        return lock

    def renew_lock(self, lock: Lock, ttl_ms: int) -> Lock:
        held = self._current(lock.target)
        if held is None or held.id != lock.id:
            who = f'now held by {held.describe()}' if held is not None else 'it was freed (force-unlock)'
            raise LockError(f'lost the lock on target {lock.target}: {who}', holder=held,
                            hint='another apply may be writing; run plan again once it is done')
        renewed = Lock(lock.id, lock.target, lock.owner, lock.acquired_at,
                       max(lock.expires_at, self.clock() + ttl_ms), lock.run_url)
        self._update(LOCK_SCRIPT_PREFIX + lock.target, lock_to_json(renewed), 'lock')
        return renewed

    def release_lock(self, lock: Lock) -> None:
        held = self._current(lock.target)
        if held is not None and held.id == lock.id:
            self._delete(LOCK_SCRIPT_PREFIX + lock.target)

    def _locks(self) -> list[Lock]:
        """Every lock in the workspace (the script list filtered by the lock prefix)."""
        names: list[str] = []
        offset = 0
        while True:
            body = self.http.call(LIST_SCRIPTS, query=[('limit', 100), ('offset', offset),
                                                       ('scriptName', LOCK_SCRIPT_PREFIX)]).json() or {}
            page = body.get('scripts') or []
            names += [s['name'] for s in page if isinstance(s, dict) and str(s.get('name', '')).startswith(
                LOCK_SCRIPT_PREFIX)]
            if len(page) < 100:
                break
            offset += len(page)
        locks = []
        for name in names:
            lock = self._current(name[len(LOCK_SCRIPT_PREFIX):])
            if lock is not None:
                locks.append(lock)
        return locks

    def force_unlock(self, lock_id: str) -> Lock:
        locks = self._locks()
        for lock in locks:
            if lock.id == lock_id:
                self._delete(LOCK_SCRIPT_PREFIX + lock.target)
                return lock
        current = '; '.join(f'{h.target}: {h.describe()}' for h in locks) or 'no target is locked'
        raise LockError(f'no lock with id {lock_id} in {self.where} ({current})',
                        hint='copy the lock id from the error of the apply that is waiting')
