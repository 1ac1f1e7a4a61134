"""The in-process transport: the DataArts client's requests handed to the emulator's gateway as
bytes, without sockets.

`local:` runs exactly the client code the real service gets: the same route table, paths
percent-encoded the same way, JSON bodies as bytes, the same answers (status, headers, error
bodies per service family) parsed by the same `RetryingTransport`. Paging, error mapping,
retries and lost answers when faults are injected (`Gateway.faults`: a dropped connection is a
`Lost(sent=True)`, as httpx reports a connection closed mid-answer) are therefore the same as over
HTTPS. What it leaves out is what only a network has: signing (the gateway is built with
`verify=False` and trusts its one caller), TLS, and client-side rate limits (off: the engine is
the limit).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from jobsync.workspace import signer
from jobsync.workspace.emulator.gateway import Gateway
from jobsync.workspace.routes import Route
from jobsync.workspace.transport import Exchange, Lost, RetryingTransport


class InProcessTransport(RetryingTransport):
    """Calls into `gateway` in this process, for project `project_id` and DataArts workspace
    `workspace_id` (sent in the `workspace` header, as over HTTPS; '' for the default)."""

    def __init__(self, gateway: Gateway, *, project_id: str, workspace_id: str = '', max_attempts: int = 6,
                 backoff_base: float = 0.0) -> None:
        super().__init__(project_id=project_id, rate_limits={}, max_attempts=max_attempts,
                         backoff_base=backoff_base)
        self.gateway = gateway
        self.workspace_id = workspace_id

    def _send(self, route: Route, path: str, query: Sequence[tuple[str, Any]], body: bytes | None) -> Exchange:
        latency = self.gateway.faults.latency_ms
        if latency:
            time.sleep(latency / 1000)
        headers = {'content-type': 'application/json;charset=UTF-8' if body else 'application/json'}
        if self.workspace_id and route.service != 'cdm':
            headers['workspace'] = self.workspace_id
        answer = self.gateway.handle(route.method, path, signer.canonical_query(query), headers, body or b'')
        if answer is None:
            raise Lost('RemoteProtocolError: the emulator dropped the connection mid-answer', sent=True)
        return Exchange(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.content)
