"""Listing runs concurrently (issue 14): the kinds at once, and the pages of one kind at once once
its total is known; the result does not depend on the order the answers came in.

Concurrency is proved without timing: the transport holds chosen calls at a barrier that only
opens when all of them are in flight together; listed one after another, the barrier breaks
(after a generous timeout that only a failing run ever waits for)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from dataarts_fixtures import RunningEmulator
from workspace_specs import job_spec, script_spec

from jobsync.model import ObjectKey
from jobsync.workspace import routes as r
from jobsync.workspace.client import DataArtsClient
from jobsync.workspace.http import HttpTransport
from jobsync.workspace.transport import Exchange


class Gate(HttpTransport):
    """Holds the calls `held` picks at one barrier: they must all be in flight at once."""

    def __init__(self, base: HttpTransport, held: Any, parties: int) -> None:
        super().__init__(base.settings)
        self.held = held
        self.barrier = threading.Barrier(parties, timeout=20)
        self.broken = False
        self.passed = 0

    def _send(self, route: r.Route, path: str, query: Sequence[tuple[str, Any]], body: bytes | None) -> Exchange:
        if self.held(route, dict(query)) and not self.broken:
            try:
                self.barrier.wait()
                self.passed += 1
            except threading.BrokenBarrierError:
                self.broken = True
        return super()._send(route, path, query, body)


def _client(running_emulator: RunningEmulator, project: str, held: Any, parties: int) -> DataArtsClient:
    base = running_emulator.workspace(project)
    transport = base.http
    assert isinstance(transport, HttpTransport)
    base.close()
    return DataArtsClient(Gate(transport, held, parties), url=base.url, concurrency=4)


def test_kinds_are_listed_at_once_and_pages_of_one_kind_too(running_emulator: RunningEmulator) -> None:
    seeding = running_emulator.workspace()
    project = seeding.http.project_id  # type: ignore[attr-defined]
    scripts = [(ObjectKey('script', f's{i:03}'), script_spec(f's{i:03}')) for i in range(250)]
    seeding.import_objects([*scripts, (ObjectKey('job', 'j'), job_spec('j', scripts=('s000',)))])
    expected = seeding.list_objects()
    seeding.close()

    # The first page of jobs and the first page of scripts: two kinds in flight together.
    def first_pages(route: r.Route, query: dict[str, Any]) -> bool:
        return route in (r.LIST_JOBS, r.LIST_SCRIPTS) and query.get('offset') == 0 and \
            query.get('jobType', 'BATCH') == 'BATCH'

    ws = _client(running_emulator, project, first_pages, 2)
    try:
        assert ws.list_objects() == expected
        assert ws.http.passed == 2 and not ws.http.broken  # type: ignore[attr-defined]
    finally:
        ws.close()

    # Scripts pages at offsets 100 and 200, once the first page gave the total: in flight together.
    def later_pages(route: r.Route, query: dict[str, Any]) -> bool:
        return route is r.LIST_SCRIPTS and query.get('offset') in (100, 200)

    ws = _client(running_emulator, project, later_pages, 2)
    try:
        listed = ws.list_objects()
        assert ws.http.passed == 2 and not ws.http.broken  # type: ignore[attr-defined]
        # Deterministic: the same keys in the same (sorted) order whatever the answer order.
        assert list(listed) == list(expected) == sorted(expected)
        assert len([k for k in listed if k.kind == 'script']) == 250
    finally:
        ws.close()
