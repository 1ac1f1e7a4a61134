"""Client-side rate limits: per service, and per route family where the service documents one.

The services count calls per user in windows (DLF: per second; CDM: per minute, reference
§3.4). A token bucket lets a full bucket plus a second's refill into one second (burst 20 plus
20/s is 40 calls in a second, above DLF's documented 30), so `RateLimiter` is a sliding window
instead: at most `n = floor(rate)` calls start in any window of one second (a rate under 1:
one call per `1 / rate` seconds). It remembers the start times of the last `n` calls and makes
the next one wait until the oldest of them is a window old. A per-minute limit of `m` is
honoured by a per-second rate of `m / 60` (at most `m / 60` in each of 60 one-second windows).

Which limiter a call waits for (`family`): its route's family when it has one, else its
service's. Families exist where the docs give a limit of their own: CDM "create job in a
cluster" 1,200 a minute, "start job" and "stop job" 1,200 a minute each (they share one limiter
here, which is under both); and CDM documents its other limits per API (link create, query,
modify, delete 120 a minute; query job 120; ...), so every other CDM route has a limiter of its
own at the `cdm` rate. DLF and Management Center limits are per API too, but DLF's 30 a second
is assumed for jobs and resources [INF], so one limiter per service there stays under it
whatever the mix. Every limit is configurable per target (`rate_limits`, requests per second).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from jobsync.workspace.routes import SERVICES, Route

# Route families with a documented limit of their own (reference §3.4): op -> family.
FAMILIES: dict[str, str] = {
    'create_cdm_job': 'cdm_job_create',
    'start_cdm_job': 'cdm_job_start',
    'stop_cdm_job': 'cdm_job_start',
}

# Default limits, requests per second, a little under the documented per-user limits
# (reference §3.4): DLF v1 30/s (script APIs; assumed for jobs and resources), Management
# Center 10/s, CDM link and query APIs 120/min; CDM job create, start and stop 1,200/min.
DEFAULT_RATE_LIMITS: dict[str, float] = {
    'factory': 20.0, 'management': 8.0, 'cdm': 2.0, 'cdm_job_create': 18.0, 'cdm_job_start': 18.0,
}
LIMIT_NAMES: tuple[str, ...] = (*SERVICES, *sorted(set(FAMILIES.values())))


def family(route: Route) -> str:
    """The limiter a call of `route` waits for: its family's; a CDM route's own; else its service's."""
    if route.op in FAMILIES:
        return FAMILIES[route.op]
    return f'cdm:{route.op}' if route.service == 'cdm' else route.service


def limit_name(family_name: str) -> str:
    """The `rate_limits` entry that sets a family's rate (`cdm:list_links` -> `cdm`)."""
    return family_name.split(':', 1)[0]


class RateLimiter:
    """At most `floor(rate)` call starts in any one-second window (see the module). Thread-safe.

    `rate` 0 (or less) means no limit. `acquire` reserves the next free start time and sleeps
    until it; reservations never decrease, so calls start in the order they asked.
    """

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate = rate
        self.per_window = max(1, math.floor(rate)) if rate > 0 else 0
        self.window = max(1.0, self.per_window / rate) if rate > 0 else 0.0
        self._starts: deque[float] = deque(maxlen=self.per_window or 1)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next start slot; returns the seconds until it (0: now). Does not sleep."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            at = now
            if len(self._starts) == self.per_window:
                at = max(now, self._starts[0] + self.window)
            self._starts.append(at)  # maxlen drops the oldest
            return at - now

    def acquire(self) -> float:
        """Wait for a start slot; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait


class Limiters:
    """The limiters of one transport, made on first use (one per family). Thread-safe."""

    def __init__(self, limits: Mapping[str, float], *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = {name: float(limits.get(name, 0.0)) for name in LIMIT_NAMES}  # missing: unlimited
        self._clock, self._sleep = clock, sleep
        self._made: dict[str, RateLimiter] = {}
        self._lock = threading.Lock()

    def __getitem__(self, family_name: str) -> RateLimiter:
        with self._lock:
            made = self._made.get(family_name)
            if made is None:
                made = RateLimiter(self.limits.get(limit_name(family_name), 0.0), clock=self._clock, sleep=self._sleep)
                self._made[family_name] = made
            return made

    def acquire(self, route: Route) -> float:
        return self[family(route)].acquire()


def limiters(limits: Mapping[str, float], *, clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> Limiters:
    """The limiters for `limits`; a name missing from `limits` is unlimited."""
    return Limiters(limits, clock=clock, sleep=sleep)
