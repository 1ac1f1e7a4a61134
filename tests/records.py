"""Reaching under a `local:` workspace to its record store, for tests that must (raw SQL on the
state table, the current lock row), typed so mypy checks what those tests call."""

from __future__ import annotations

from jobsync.workspace.base import RecordStore
from jobsync.workspace.statestore import SqliteStateStore


def sqlite_records(records: RecordStore) -> SqliteStateStore:
    """`records` as the SQLite store `local:` keeps (a test on another backend fails here, clearly)."""
    assert isinstance(records, SqliteStateStore), f'not a local: record store: {records!r}'
    return records
