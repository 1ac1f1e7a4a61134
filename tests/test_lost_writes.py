"""Issue 13: writes that survive lost answers. A create or update whose answer is lost past the
transport's retries is resolved by reading back by name AND content before anything is sent again;
only an object that provably failed fails, with the service's real last error, and the rest of the
package is written."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from workspace_specs import script_spec

from jobsync.errors import ImportRefused
from jobsync.model import ObjectKey
from jobsync.workspace.emulator import Faults

UPDATE = 'PUT /v1/{pid}/scripts/{script_name}'
SHOW = 'GET /v1/{pid}/scripts/{script_name}'


def test_an_update_whose_answer_stays_lost_is_read_back_and_not_repeated(running_emulator: Any) -> None:
    ws = running_emulator.workspace(max_attempts=1)  # the transport gives up at once: the client resolves it
    key = ObjectKey('script', 's1')
    ws.import_objects([(key, script_spec('s1'))])
    ws.list_objects()
    changed = {**script_spec('s1'), 'content': 'echo changed'}
    running_emulator.emulator.faults = Faults(fault_rate=0.9, phase='after', max_faults=1, seed=1)
    before = ws.calls[UPDATE], ws.calls[SHOW]
    ws.import_objects([(key, changed)])
    running_emulator.emulator.faults = Faults()
    assert ws.calls[UPDATE] - before[0] == 1  # sent once: its 504 came after it was written
    assert ws.calls[SHOW] - before[1] == 1  # read back: it holds the content sent
    assert ws.read([key])[key].spec['content'] == 'echo changed'
    ws.close()


def test_a_lost_create_found_with_other_content_is_overwritten(running_emulator: Any) -> None:
    """Someone else's object of the same name appeared while the answer was lost: by name it would
    pass for ours; by content it does not, so it is updated to what git says."""
    ws = running_emulator.workspace(max_attempts=1)
    ws.list_objects()
    key = ObjectKey('script', 's2')
    engine = running_emulator.emulator.engine.scoped(ws.http.settings.project_id, 'ws-test')

    def someone_else_first(op: str, params: Mapping[str, str], body: bytes) -> bool:
        if op == 'create_script' and b'"s2"' in body:
            running_emulator.emulator.hold = None
            engine.create_script({**script_spec('s2'), 'content': 'echo theirs'})
            return True  # our create is dropped unanswered (and refused, had it been served)
        return False

    running_emulator.emulator.hold = someone_else_first
    ws.import_objects([(key, {**script_spec('s2'), 'content': 'echo ours'})])
    assert ws.read([key])[key].spec['content'] == 'echo ours'
    assert ws.calls[UPDATE] == 1
    ws.close()


def test_only_the_object_that_provably_failed_fails_with_the_real_error(running_emulator: Any) -> None:
    ws = running_emulator.workspace(max_attempts=2)
    ws.list_objects()

    def refuse_s4(op: str, params: Mapping[str, str], body: bytes) -> bool:
        return op == 'create_script' and b'"s4"' in body  # every create of s4 dropped before it is served

    running_emulator.emulator.hold = refuse_s4
    keys = [ObjectKey('script', f's{i}') for i in range(3, 7)]
    with pytest.raises(ImportRefused) as refused:
        ws.import_objects([(k, script_spec(k.name)) for k in keys])
    running_emulator.emulator.hold = None
    assert set(refused.value.reasons) == {'script/s4'}
    assert sorted(refused.value.written or []) == ['script/s3', 'script/s5', 'script/s6']
    assert 'POST' in refused.value.reasons['script/s4'] and 'connection' in refused.value.reasons['script/s4']
    assert 'not attempted' not in str(refused.value.reasons)
    assert sorted(ws.read(keys)) == [keys[0], *keys[2:]]
    ws.close()


def test_apply_reports_calls_retries_and_throttle_waits_in_json(example_repo: Any, running_emulator: Any) -> None:
    import json

    from conftest import EXAMPLE_SECRETS, run_jobsync
    from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, target_the_emulator

    target_the_emulator(example_repo, running_emulator.url, workspace_id='ws-json', max_attempts=8)
    ticks = iter(range(1_000_000))

    def throttle_clock() -> float:
        # Time jumps between requests (the bucket always refills), except once: that request finds
        # the bucket empty and is throttled, exactly once, with no real waiting to arrange it.
        tick = next(ticks)
        return float(tick * 10 if tick < 40 else (tick - 1) * 10)

    running_emulator.emulator.throttle_clock = throttle_clock
    running_emulator.emulator.faults = Faults(fault_rate=0.2, phase='before', throttle_rps=1, throttle_burst=1,
                                              seed=7)
    env = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}
    try:
        applied = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', '--format', 'json', env=env)
    finally:
        stats = dict(running_emulator.emulator.stats)
        running_emulator.emulator.faults = Faults()
        running_emulator.emulator.throttle_clock = time.monotonic
    assert applied.code == 0, applied
    api = json.loads(applied.stdout)['api']
    assert api['calls'] == stats['requests'] and api['retries'] > 0, (api, stats)
    assert api['throttle_waits'] == stats['throttled'] == 1, (api, stats)
