"""Issue 11: exports are read within their own bound (package.MAX_EXPORT_READ_BYTES), and a batch
whose answer inflates past it is split, never failed (reader `_export`)."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest
from workspace_specs import job_spec, script_spec

from jobsync.model import ObjectKey
from jobsync.workspace import package
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.transport import ApiError

EXPORT = 'POST /v1/{pid}/jobs/batch-export'


def _content(size: int, seed: int) -> str:
    rng = random.Random(seed)  # incompressible-ish text, so the zip's size tracks the content
    return '-- ' + ''.join(rng.choice(string.ascii_letters) for _ in range(size))


def test_read_bound_is_its_own_and_larger_than_the_import_limit() -> None:
    assert package.MAX_EXPORT_READ_BYTES > package.MAX_UNCOMPRESSED_BYTES


def test_a_batch_past_the_bound_is_split(tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / 'ws.db')
    try:
        items: list[tuple[ObjectKey, dict[str, object]]] = []
        for i in range(4):
            items.append((ObjectKey('script', f's{i}'), script_spec(f's{i}', content=_content(20_000, i))))
            items.append((ObjectKey('job', f'j{i}'), job_spec(f'j{i}', scripts=(f's{i}',))))
        ws.import_objects(items)
        ws.export_read_bytes = 30_000  # one job with its script fits, two do not
        live = ws.read(ws.list_objects())
        assert {ObjectKey('job', f'j{i}') for i in range(4)} <= set(live)
        assert live[ObjectKey('script', 's2')].spec['content'] == _content(20_000, 2)
        assert ws.http.calls[EXPORT] > 1
        ws.export_read_bytes = 10_000  # not even one job fits: a clear error naming it
        with pytest.raises(ApiError, match='read bound'):
            ws.read([ObjectKey('job', 'j0')])
    finally:
        ws.close()
