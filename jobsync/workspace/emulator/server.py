"""`jobsync emulator`'s HTTP face: the gateway as a Starlette app, served by uvicorn on 127.0.0.1.

`Emulator` is a `Gateway` over an engine database of its own, with an ASGI `app`: it adds the
injected latency (awaited, so a slow answer holds no worker), hands the request's bytes to
`Gateway.handle` in a worker thread, and writes the answer, or drops the connection mid-answer
(a response that starts and then loses its connection) when the gateway says so.
`EmulatorServer` serves it in a background thread (tests) or in the foreground (the CLI).

`starlette` and `uvicorn` are imported lazily (the `emulator` extra).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jobsync.workspace.emulator.gateway import MAX_BODY_BYTES, Answer, Faults, Gateway, GatewayError, gateway_answer
from jobsync.workspace.service import Engine

log = logging.getLogger('jobsync.emulator')


class _Dropped(Exception):
    """Raised after the response started: the server closes the connection mid-answer."""


class _DropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, _Dropped)


class Emulator(Gateway):
    """The emulated service over an engine database at `db_path`, as an ASGI app (`app`).

    Options are the `Gateway`'s; `engine_options` go to the `Engine` (clock, run times).
    """

    def __init__(
            self, db_path: str | Path, *, credentials: Mapping[str, str] | None = None,
            tokens: set[str] | frozenset[str] = frozenset(), clusters: Mapping[str, str | None] | None = None,
            faults: Faults | None = None, script_errors: str = 'flat', paging: str = 'records',
            clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
            unreachable_hosts: frozenset[str] | set[str] = frozenset(),
            workspaces: Mapping[str, str] | None = None,
            failing_cdm_jobs: frozenset[str] | set[str] = frozenset(),
            **engine_options: Any,
    ) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Route

        super().__init__(Engine(db_path, **engine_options), credentials=credentials, tokens=tokens,
                         clusters=clusters, faults=faults, script_errors=script_errors, paging=paging, clock=clock,
                         unreachable_hosts=unreachable_hosts, workspaces=workspaces,
                         failing_cdm_jobs=failing_cdm_jobs)
        self.app = Starlette(routes=[Route('/{path:path}', self._endpoint,
                                           methods=['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'])])

    async def _endpoint(self, request: Any) -> Any:
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import Response

        def respond(answer: Answer) -> Any:
            if not answer.content:
                return Response(status_code=answer.status, headers=answer.headers)
            return Response(answer.content, status_code=answer.status, media_type=answer.content_type,
                            headers=answer.headers)

        faults = self.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        raw_path = request.scope.get('raw_path', b'').decode('latin-1').split('?', 1)[0] or request.url.path
        query = request.scope.get('query_string', b'').decode('latin-1')
        # Header values arrive as latin-1 text; the signer saw them as UTF-8 (the SDK sends UTF-8).
        headers = {k.lower(): v.encode('latin-1').decode('utf-8', 'replace') for k, v in request.headers.items()}
        try:
            length = int(headers.get('content-length') or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:  # refused before reading it
            self.stats['requests'] += 1
            return respond(gateway_answer(GatewayError(413, 'APIGW.0201', 'Request entity too large'), ''))
        body = await request.body()
        answer = await run_in_threadpool(self.handle, request.method, raw_path, query, headers, body)
        return _drop() if answer is None else respond(answer)


def _drop() -> Any:
    """A response that starts and then loses its connection (uvicorn closes it on the exception)."""
    async def app(scope: Any, receive: Any, send: Callable[[Any], Awaitable[None]]) -> None:
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'application/json'), (b'content-length', b'1024')]})
        await send({'type': 'http.response.body', 'body': b'{"', 'more_body': True})
        raise _Dropped('connection dropped on purpose (emulator fault injection)')
    return app


class EmulatorServer:
    """Serve an `Emulator` with uvicorn on 127.0.0.1 in a background thread.

    `port=0` picks a free port; `url` is known once `start()` returns. Use as a context
    manager, or call `stop()`.
    """

    def __init__(self, emulator: Emulator, *, port: int = 0, log_level: str = 'warning') -> None:
        self.emulator = emulator
        # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only when the
        # proto says TCP, and without it every answer with a body waits ~40 ms for a delayed ACK.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(('127.0.0.1', port))
        self._sock.listen(1024)  # from now on connections queue, even before uvicorn serves them
        self.port: int = self._sock.getsockname()[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self._log_level = log_level
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        import uvicorn

        logging.getLogger('uvicorn.error').addFilter(_DropFilter())
        config = uvicorn.Config(self.emulator.app, log_level=self._log_level, lifespan='off', access_log=False,
                                timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={'sockets': [self._sock]},
                                        name=f'jobsync-emulator-{self.port}', daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f'the emulator did not start on {self.url}')
            time.sleep(0.01)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def run_forever(self) -> None:
        """Serve in this thread until interrupted (what `jobsync emulator` does)."""
        import uvicorn

        logging.getLogger('uvicorn.error').addFilter(_DropFilter())
        config = uvicorn.Config(self.emulator.app, log_level=self._log_level, lifespan='off', access_log=False)
        self._server = uvicorn.Server(config)
        self._server.run(sockets=[self._sock])

    def __enter__(self) -> EmulatorServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
