"""The emulated DataArts service: routes (handlers bound to `jobsync.workspace.routes` by name),
gateway (signatures, throttle, faults, error bodies), server (Starlette app, uvicorn).

The gateway and the routes import neither starlette nor uvicorn: `local:` dispatches to them in
process (`jobsync.workspace.inprocess`); only `server` needs the `emulator` extra, and it is
imported here lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobsync.workspace.emulator.gateway import Faults, Gateway
from jobsync.workspace.emulator.routes import encode_cdm_values, match_route

if TYPE_CHECKING:
    from jobsync.workspace.emulator.server import Emulator, EmulatorServer


def __getattr__(name: str) -> Any:
    if name in ('Emulator', 'EmulatorServer'):
        from jobsync.workspace.emulator import server

        return getattr(server, name)
    raise AttributeError(name)


__all__ = ['Emulator', 'EmulatorServer', 'Faults', 'Gateway', 'encode_cdm_values', 'match_route']
