"""jobsync's own records in a DataArts workspace: each target's state and lock, as reserved scripts.

The documents are those of `jobsync.state` (`state_to_json`, `lock_to_json`), kept as the content
of Factory scripts named `jobsync_state_<key>` and `jobsync_lock_<key>` in directory `/jobsync`,
so that every CI runner using the workspace sees the same ones (state.py, base.py). The client
never lists them as objects.

The service offers no compare-and-swap: a script has a `version`, but it is the number of its
last *submission* (the SDK's ShowScriptResponse: "脚本最新提交版本"), and the update route takes
no expected version or If-Match (UpdateScriptRequest: workspace, script_name, body). What jobsync
builds from what the routes do give (notes/issue13-records.md says it in full):

* creating a script is atomic (a second create of the same name fails `DLF.0202`): of two
  writers of the first state, or of two takers of a free lock, exactly one wins;
* the lock is what serialises state writes: the state is written only by the lock's holder, who
  renews the lock (reading it back: still ours?) right before every state write. A state write
  then checks the stored serial, overwrites, and reads back: the script holding exactly the
  document sent is ours; anything else means another writer went past the lock, reported as such;
* a lost answer (dropped connection, 5xx) on any of these writes is resolved by reading back,
  never reported as another writer: the script holding our content (a lock carries its own
  random id) means the write went through; holding the content from before, it is sent again;
* taking over an expired lock first creates a claim script `jobsync_lock_<key>.claim.<old id>`:
  the create is atomic, so of two takers of the same expired lease only one gets the claim; it
  then checks the lock still holds that lease and overwrites it, then deletes the claim (a later
  taker of the same old lease gets the claim but finds the lock no longer holds it). What is
  left is a holder whose lease expired renewing at the very moment of a takeover (one round
  trip, after 15 minutes without renewing): the next renewal of either finds the other's id and
  stops before its next batch.

Script type `FlinkSQL`, the one script type for which the reference lists no mandatory
connection (§5) [INF]; content at most 4 MB, as for any script. A state larger than that (about
15,000 objects) is kept in parts: scripts `jobsync_state_<key>.s<serial>.<n>` written first, then
the script `jobsync_state_<key>` itself, holding a small manifest (serial, number of parts, digest)
as the commit point; the previous serial's parts are deleted after. A reader follows the manifest
and checks the digest, so it never sees half a state.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from jobsync import jsontext
from jobsync.errors import LockError, StateError
from jobsync.state import (
    LOCK_SCRIPT_PREFIX,
    STATE_SCRIPT_PREFIX,
    UNREADABLE_LOCK,
    Lock,
    State,
    lock_from_json,
    lock_to_json,
    reset_hint,
    state_from_json,
    state_to_dict,
    unreadable_lock,
)
from jobsync.workspace.review import Review
from jobsync.workspace.routes import CREATE_SCRIPT, DELETE_SCRIPT, LIST_SCRIPTS, SHOW_SCRIPT, UPDATE_SCRIPT
from jobsync.workspace.transport import ApiError, Transport, may_have_happened

RECORD_DIRECTORY = '/jobsync'
RECORD_SCRIPT_TYPE = 'FlinkSQL'
MAX_SCRIPT_CONTENT = 4 * 1024 * 1024  # reference §5
PART_BYTES = MAX_SCRIPT_CONTENT - 64 * 1024  # room to spare under the limit
MANIFEST_FORMAT = 'jobsync-state-parts'


# Rounds of create for one record whose answer keeps getting lost.
_CREATE_ROUNDS = 5


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class ScriptRecordStore:
    """State and locks of the targets applied to one DataArts workspace, in reserved scripts."""

    def __init__(self, http: Transport, *, where: str, clock: Callable[[], int] = now_ms) -> None:
        self.http = http
        self.where = where  # the workspace URL, for messages
        self.clock = clock
        self.review: Review | None = None  # review mode: the record scripts are scripts like any (review.py)

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
        body = {'name': name, 'type': RECORD_SCRIPT_TYPE, 'directory': RECORD_DIRECTORY, 'content': content,
                'description': f'jobsync {what}; written by jobsync, do not edit'}
        return self.review.write_body('script', body) if self.review is not None else body

    def _create(self, name: str, content: str, what: str) -> bool:
        """Create the script; False if the name was taken meanwhile (by content not ours).

        A create whose answer was lost is resolved by reading back, never reported as another
        writer: the script holding exactly our content (a lock's carries its own nonce) is ours;
        absent, the create is sent again; holding other content, someone else won.
        """
        last: ApiError | None = None
        for _ in range(_CREATE_ROUNDS):
            try:
                self.http.call(CREATE_SCRIPT, body=self._body(name, content, what))
            except ApiError as err:
                if err.code == 'DLF.0202':
                    return self._read(name) == content  # our own earlier lost attempt, or another's
                if not err.ambiguous:
                    raise
                last = err
                found = self._read(name)
                if found is None:
                    continue  # it was not written: send it again
                return found == content
            return True
        assert last is not None
        raise last

    def _update(self, name: str, content: str, what: str) -> None:
        self.http.call(UPDATE_SCRIPT, {'script_name': name}, body=self._body(name, content, what))

    def _overwrite(self, name: str, before: str, content: str, what: str) -> bool:
        """Replace `before` by `content`, then read back: True if the script now holds `content`.

        An update whose answer stays lost after the transport's retries is resolved by reading
        back too: still `before`, it is sent again; `content`, it went through; anything else is
        another writer's (False).
        """
        last: ApiError | None = None
        for _ in range(_CREATE_ROUNDS):
            try:
                self._update(name, content, what)
            except ApiError as err:
                if not may_have_happened(err):
                    raise
                last = err
            found = self._read(name)
            if found == content:
                return True
            if found != before:
                return False
        assert last is not None
        raise last

    def drop_state(self, target: str) -> bool:
        """Forget the target's state, readable or not: its script, and every part of it (also
        parts left over by an apply that died before it committed a new manifest)."""
        name = STATE_SCRIPT_PREFIX + target
        parts = [n for n in self._names(f'{name}.s') if n.startswith(f'{name}.s')]
        found = self._read(name) is not None
        for part in parts:
            self._delete(part)
        if found:
            self._delete(name)
        return found or bool(parts)

    def _delete(self, name: str) -> None:
        try:
            self.http.call(DELETE_SCRIPT, {'script_name': name},
                           body=self.review.delete_body('script') if self.review is not None else None)
        except ApiError as err:
            if not err.not_found:
                raise

    # --- state ---------------------------------------------------------------------------------

    def read_state(self, target: str) -> State | None:
        content = self._read(STATE_SCRIPT_PREFIX + target)
        if content is None:
            return None
        where = f'target {target} in {self.where}'
        manifest = _manifest(content)
        if manifest is not None:
            content = self._join_parts(target, manifest, where)
        return state_from_json(content, where=where, key=target, kept_in=self._kept_in(target))

    def _kept_in(self, target: str) -> str:
        return f'the script {STATE_SCRIPT_PREFIX}{target} in directory {RECORD_DIRECTORY} of {self.where}'

    def _join_parts(self, target: str, manifest: dict[str, Any], where: str) -> str:
        parts = []
        for name in _part_names(target, manifest):
            part = self._read(name)
            if part is None:
                raise StateError(f'the state of {where} is missing its part {name}',
                                 hint=reset_hint(target, self._kept_in(target)))
            parts.append(part)
        text = ''.join(parts)
        if hashlib.sha256(text.encode('utf-8')).hexdigest() != manifest.get('digest'):
            raise StateError(f'the state of {where} does not match its manifest (parts edited or mixed)',
                             hint=reset_hint(target, self._kept_in(target)))
        return text

    def write_state(self, state: State) -> None:
        name = STATE_SCRIPT_PREFIX + state.target
        current = self._read(name)
        where = f'target {state.target} in {self.where}'
        old_manifest = None if current is None else _manifest(current)
        if current is None:
            stored = 0
        elif old_manifest is not None:
            stored = int(old_manifest.get('serial', 0))
        else:
            stored = state_from_json(current, where=where, key=state.target,
                                     kept_in=self._kept_in(state.target)).serial
        changed = StateError(
            f'the state of {where} changed while this apply ran (serial {stored}, expected {state.serial - 1});'
            ' it was not overwritten',
            hint='another apply ran without the lock (or took over an expired one); run plan again')
        if stored != state.serial - 1:
            raise changed
        text = _compact(state)
        content = text
        if len(text.encode('utf-8')) > MAX_SCRIPT_CONTENT:
            chunks = _split_utf8(text, PART_BYTES)
            manifest = {'format': MANIFEST_FORMAT, 'serial': state.serial, 'parts': len(chunks),
                        'digest': hashlib.sha256(text.encode('utf-8')).hexdigest()}
            for part_name, chunk in zip(_part_names(state.target, manifest), chunks, strict=True):
                if not self._create(part_name, chunk, 'state part'):
                    self._update(part_name, chunk, 'state part')  # left over by an apply that died
            content = json.dumps(manifest)
        if current is None:
            if not self._create(name, content, 'state'):
                raise changed
        elif not self._overwrite(name, current, content, 'state'):  # the commit point
            raise changed
        if old_manifest is not None:
            for part_name in _part_names(state.target, old_manifest):
                self._delete(part_name)

    # --- locks ---------------------------------------------------------------------------------

    def _current(self, target: str) -> Lock | None:
        content = self._read(LOCK_SCRIPT_PREFIX + target)
        return None if content is None else lock_from_json(content, where=f'target {target} in {self.where}',
                                                            target=target)

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
        # Take over an expired lease: first claim it (an atomic create), so one taker only goes on.
        claim = f'{name}.claim.{held.id}'
        if not self._create(claim, lock_to_json(lock), 'lock claim'):
            raise LockError(f'target {target}: its expired lock {held.id} is being taken over by another apply',
                            hint='run apply again (or with --lock-timeout) to wait for that apply')
        now_held = self._current(target)
        if now_held is None or now_held.id != held.id:
            self._delete(claim)
            if now_held is not None:
                raise self._held(target, now_held)
            raise LockError(f'target {target}: the lock taken over was freed at the same moment',
                            hint='run apply again')
        before = lock_to_json(now_held)
        if not self._overwrite(name, before, lock_to_json(lock), 'lock'):
            raise LockError(f'target {target}: the lock taken over changed at the same moment', hint='run apply again')
        self._delete(claim)
        return lock

    def renew_lock(self, lock: Lock, ttl_ms: int) -> Lock:
        held = self._current(lock.target)
        if held is None or held.id != lock.id:
            who = f'now held by {held.describe()}' if held is not None else 'it was freed (force-unlock)'
            raise LockError(f'lost the lock on target {lock.target}: {who}', holder=held,
                            hint='another apply may be writing; run plan again once it is done')
        renewed = Lock(lock.id, lock.target, lock.owner, lock.acquired_at,
                       max(lock.expires_at, self.clock() + ttl_ms), lock.run_url)
        if not self._overwrite(LOCK_SCRIPT_PREFIX + lock.target, lock_to_json(held), lock_to_json(renewed), 'lock'):
            raise LockError(f'lost the lock on target {lock.target}: it changed while it was renewed',
                            hint='another apply may be writing; run plan again once it is done')
        return renewed

    def release_lock(self, lock: Lock) -> None:
        held = self._current(lock.target)
        if held is not None and held.id == lock.id:
            self._delete(LOCK_SCRIPT_PREFIX + lock.target)

    def _names(self, prefix: str) -> list[str]:
        """The names of the scripts starting with `prefix` (the list filters by substring)."""
        names: list[str] = []
        offset = 0
        while True:
            body = self.http.call(LIST_SCRIPTS, query=[('limit', 100), ('offset', offset),
                                                       ('scriptName', prefix)]).json() or {}
            page = body.get('scripts') or []
            names += [str(s['name']) for s in page if isinstance(s, dict) and str(s.get('name', '')).startswith(prefix)]
            if len(page) < 100:
                break
            offset += len(page)
        return names

    def _locks(self) -> list[Lock]:
        """Every lock in the workspace (the script list filtered by the lock prefix; no claims)."""
        locks = []
        for name in self._names(LOCK_SCRIPT_PREFIX):
            if '.claim.' in name:
                continue
            lock = self._current(name[len(LOCK_SCRIPT_PREFIX):])
            if lock is not None:
                locks.append(lock)
        return locks

    def force_unlock(self, lock_id: str) -> Lock:
        if lock_id.startswith(UNREADABLE_LOCK):
            target = lock_id.removeprefix(UNREADABLE_LOCK)
            try:
                held = self._current(target)
            except StateError:
                self._delete(LOCK_SCRIPT_PREFIX + target)
                return unreadable_lock(target)
            if held is None:
                raise LockError(f'target {target} is not locked in {self.where}', hint='nothing to free')
            raise LockError(f'the lock of target {target} can be read: it is held by {held.describe()}',
                            hint=f'free it by its id: `jobsync force-unlock {held.id}`')
        locks = self._locks()
        for lock in locks:
            if lock.id == lock_id:
                self._delete(LOCK_SCRIPT_PREFIX + lock.target)
                return lock
        current = '; '.join(f'{h.target}: {h.describe()}' for h in locks) or 'no target is locked'
        raise LockError(f'no lock with id {lock_id} in {self.where} ({current})',
                        hint='copy the lock id from the error of the apply that is waiting')


def _compact(state: State) -> str:
    """The state document without indentation: a workspace script holds at most 4 MB."""
    return jsontext.compact(state_to_dict(state))


def _manifest(content: str) -> dict[str, Any] | None:
    """The manifest a sharded state's main script holds, or None for a state kept whole."""
    if MANIFEST_FORMAT not in content[:200]:
        return None
    try:
        doc = json.loads(content)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get('format') == MANIFEST_FORMAT else None


def _part_names(target: str, manifest: dict[str, Any]) -> list[str]:
    serial, count = int(manifest.get('serial', 0)), int(manifest.get('parts', 0))
    return [f'{STATE_SCRIPT_PREFIX}{target}.s{serial}.{i}' for i in range(count)]


def _split_utf8(text: str, max_bytes: int) -> list[str]:
    """`text` in pieces of at most `max_bytes` UTF-8 bytes each, cut between characters."""
    data = text.encode('utf-8')
    pieces, start = [], 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # never inside a character
            end -= 1
        pieces.append(data[start:end].decode('utf-8'))
        start = end
    return pieces
