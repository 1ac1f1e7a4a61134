"""Packing CDM creates into batch requests (issue 14): which objects go in one create call.

The CDM create routes take a list: `POST .../cdm/job` a `{"jobs": [...]}` body (SDK cdm
`CdmCreateJobJsonReq.jobs: list[Job]`), `POST .../cdm/link` a `{"links": [...]}` body
(`CdmCreateAndUpdateLinkReq.links: list[Links]`); the docs call each "Array of ... objects" and
give no maximum length. The answer (`CreateJobResponse`/`CreateLinkResponse`) names a single
object, so it cannot say which of several exist after a refusal or a lost answer; the client
finds that out from the cluster's listing instead (client.py, `_create_pack`).

A pack holds consecutive creates of one kind and one cluster, in the order given, at most
`MAX_OBJECTS` objects and a body of at most `MAX_BYTES`:

* `MAX_BYTES`, the 1 MB the service takes as one package (the CDM console import of a jobs and
  links JSON, reference §9.5, §10; the DLF import package likewise), well under the gateway's
  12 MB for a signed body (§10). An object whose body alone is larger goes alone (plan refuses
  such objects first: planlimits.py).
* `MAX_OBJECTS` = 100 [INF]: no document gives a count, so jobsync keeps to the largest batch the
  same service family documents anywhere (batch export 100 jobs, a list page 100 records,
  §10). It also bounds what a refused or lost batch costs: one listing round, then at most 100
  one-object creates for the objects it did not leave behind. 500 CDM jobs are 5 calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from jobsync.model import MAX_PACKAGE_BYTES, ObjectKey, Spec
from jobsync.workspace.transport import json_bytes

MAX_OBJECTS = 100
MAX_BYTES = MAX_PACKAGE_BYTES


def packs(items: Sequence[tuple[ObjectKey, Spec]], wrapper: str, *, max_objects: int = MAX_OBJECTS,
          max_bytes: int = MAX_BYTES) -> Iterator[list[tuple[ObjectKey, Spec]]]:
    """`items` (creates of one kind and cluster) cut into packs, in order, each at most `max_objects`
    objects whose body `{wrapper: [...]}`, as the transport encodes it, is at most `max_bytes`."""
    overhead = len(json_bytes({wrapper: []}))
    pack: list[tuple[ObjectKey, Spec]] = []
    size = overhead
    for key, body in items:
        item_size = len(json_bytes(body)) + (1 if pack else 0)  # the comma before it
        if pack and (len(pack) >= max_objects or size + item_size > max_bytes):
            yield pack
            pack, size = [], overhead
            item_size -= 1
        pack.append((key, body))
        size += item_size
    if pack:
        yield pack
