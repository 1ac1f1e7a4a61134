"""Issue 13: jobsync's own records on the HTTP backend (reserved scripts, records.py). A lost answer
on the state's or the lock's write is resolved by reading back, never reported as another writer;
of two takers of one expired lease exactly one wins (the atomic claim script)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from jobsync.errors import LockError, StateError
from jobsync.state import State, state_to_json

MINUTE = 60_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def _lose_answers(running_emulator: Any, project: str, names: set[str]) -> list[str]:
    """The emulator serves the create of each script in `names` (once), then drops the connection:
    the write happened, its answer was lost. Returns the names it did that to."""
    engine = running_emulator.emulator.engine.scoped(project, 'ws-test')
    done: list[str] = []

    def served_then_dropped(op: str, params: Mapping[str, str], body: bytes) -> bool:
        doc = json.loads(body) if body else {}
        name = doc.get('name') if isinstance(doc, dict) else None
        if op == 'create_script' and name in names and name not in done:
            engine.create_script(doc)
            done.append(str(name))
            return True
        return False

    running_emulator.emulator.hold = served_then_dropped
    return done


def test_a_lost_answer_on_the_lock_create_and_the_first_state_write_is_no_other_writer(
        running_emulator: Any) -> None:
    ws = running_emulator.workspace()
    lost = _lose_answers(running_emulator, ws.http.settings.project_id, {'jobsync_lock_prod', 'jobsync_state_prod'})
    lock = ws.acquire_lock('prod', 'alice', '', 10 * MINUTE)  # not "locked by another apply at the same moment"
    ws.write_state(State('prod', 1, {}, 1))  # not "changed while this apply ran (serial 0, expected 0)"
    running_emulator.emulator.hold = None
    assert lost == ['jobsync_lock_prod', 'jobsync_state_prod']
    assert ws.read_state('prod') == State('prod', 1, {}, 1)
    ws.write_state(State('prod', 2, {}, 2))  # the serial moved on exactly once
    assert ws.renew_lock(lock, 10 * MINUTE).id == lock.id
    ws.close()


def test_a_state_write_overwritten_by_another_writer_is_reported(running_emulator: Any) -> None:
    """Two writers past the lock (a lease taken over under a stalled holder): the read-back after
    the write sees the other's document and says so; the state is not reported written."""
    ws = running_emulator.workspace()
    ws.write_state(State('prod', 1, {}, 1))
    engine = running_emulator.emulator.engine.scoped(ws.http.settings.project_id, 'ws-test')

    def theirs_lands_after_ours(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if op == 'show_script' and params.get('script_name') == 'jobsync_state_prod' and seen_update:
            running_emulator.emulator.hold = None
            # The other writer passed its serial check before ours landed; its update lands now.
            script = engine.show_script('jobsync_state_prod')
            for field in ('id', 'version', 'createUser'):
                script.pop(field, None)
            engine.update_script('jobsync_state_prod', {**script, 'content': state_to_json(State('prod', 2, {}, 99))})
        if op == 'update_script' and params.get('script_name') == 'jobsync_state_prod':
            seen_update.append(True)
        return False

    seen_update: list[bool] = []
    running_emulator.emulator.hold = theirs_lands_after_ours
    with pytest.raises(StateError, match='changed while this apply ran'):
        ws.write_state(State('prod', 2, {}, 2))
    running_emulator.emulator.hold = None
    assert ws.read_state('prod') == State('prod', 2, {}, 99)
    ws.close()


def test_two_takers_of_one_expired_lease_one_wins(running_emulator: Any) -> None:
    clock = Clock()
    project = running_emulator.workspace().http.settings.project_id
    old, a, b = (running_emulator.workspace(project, clock=clock) for _ in range(3))
    dead = old.acquire_lock('prod', 'dead-runner', '', MINUTE)
    clock.now += 2 * MINUTE  # expired
    won: list[str] = []

    def b_first(op: str, params: Mapping[str, str], body: bytes) -> bool:
        # A's claim arrives: B (who also saw the expired lease) takes it over before A's is served.
        if op == 'create_script' and b'.claim.' in body and not won:
            running_emulator.emulator.hold = None
            won.append(b.acquire_lock('prod', 'runner-b', '', 10 * MINUTE).id)
        return False

    running_emulator.emulator.hold = b_first
    with pytest.raises(LockError) as lost:
        a.acquire_lock('prod', 'runner-a', '', 10 * MINUTE)
    running_emulator.emulator.hold = None
    # B's takeover is complete (its claim deleted with it): A's claim goes through, but the lock no
    # longer holds the expired lease A saw, so A is told who holds it now.
    assert 'locked by runner-b' in lost.value.message
    current = b.records._current('prod')
    assert won and current is not None and current.id == won[0] and current.id != dead.id
    with pytest.raises(LockError):
        old.renew_lock(dead, MINUTE)  # the dead holder, back, finds it taken
    for ws in (old, a, b):
        ws.close()



def test_a_taker_while_another_holds_the_claim_is_told_so(running_emulator: Any) -> None:
    clock = Clock()
    project = running_emulator.workspace().http.settings.project_id
    old, a, b = (running_emulator.workspace(project, clock=clock) for _ in range(3))
    old.acquire_lock('prod', 'dead-runner', '', MINUTE)
    clock.now += 2 * MINUTE
    refused: list[LockError] = []

    def a_meanwhile(op: str, params: Mapping[str, str], body: bytes) -> bool:
        # B holds the claim and is about to overwrite the lock: A tries now.
        if op == 'update_script' and params.get('script_name') == 'jobsync_lock_prod':
            running_emulator.emulator.hold = None
            with pytest.raises(LockError) as caught:
                a.acquire_lock('prod', 'runner-a', '', 10 * MINUTE)
            refused.append(caught.value)
        return False

    running_emulator.emulator.hold = a_meanwhile
    mine = b.acquire_lock('prod', 'runner-b', '', 10 * MINUTE)
    running_emulator.emulator.hold = None
    assert refused and 'is being taken over by another apply' in refused[0].message
    assert b.renew_lock(mine, MINUTE).id == mine.id
    for ws in (old, a, b):
        ws.close()
