"""The client rate limiter (issue 14): never more calls in a one-second window than the limit,
no burst above it; a limit per route family where the service documents one. A fake clock, no
sleeping."""

from __future__ import annotations

import bisect
import threading

import pytest

from jobsync.workspace import routes as r
from jobsync.workspace.ratelimit import DEFAULT_RATE_LIMITS, RateLimiter, family, limiters
from jobsync.workspace.transport import Exchange, RetryingTransport


class FakeClock:
    """Time moves only when someone sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def most_in_a_window(starts: list[float], window: float = 1.0) -> int:
    """The most start times in any half-open window [t, t + window)."""
    ordered = sorted(starts)
    return max(bisect.bisect_left(ordered, t + window - 1e-9) - i for i, t in enumerate(ordered))


@pytest.mark.parametrize('rate', [30.0, 20.0, 2.0, 2.5, 1.0])
def test_no_one_second_window_holds_more_than_the_limit(rate: float) -> None:
    clock = FakeClock()
    starts: list[float] = []
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    for _ in range(200):
        limiter.acquire()
        starts.append(clock())
    assert most_in_a_window(starts) == int(rate)  # the limit, and no burst above it
    # ... and it is not slower than the limit allows: 200 calls at `floor(rate)` a second.
    assert clock() == pytest.approx((200 - 1) // int(rate))


def test_an_idle_limiter_lets_a_full_window_through_at_once_but_no_more() -> None:
    clock = FakeClock()
    limiter = RateLimiter(30, clock=clock, sleep=clock.sleep)
    clock.now = 100.0  # idle for a long time: a token bucket would have a full burst saved up
    waits = [limiter.acquire() for _ in range(31)]
    assert waits[:30] == [0.0] * 30
    assert waits[30] == pytest.approx(1.0)


def test_a_rate_under_one_spaces_calls_by_its_inverse() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.5, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(clock())
    assert starts == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_concurrent_callers_never_exceed_the_limit() -> None:
    """Threads reserve start times; the time never moves, so every reservation is in the future."""
    clock = FakeClock()
    limiter = RateLimiter(20, clock=clock, sleep=lambda _: None)
    starts: list[float] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(25):
            at = clock() + limiter.reserve()
            with lock:
                starts.append(at)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 200
    assert most_in_a_window(starts) == 20
    assert max(starts) == pytest.approx(9.0)


def test_zero_means_no_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    assert all(limiter.acquire() == 0.0 for _ in range(1000))
    assert clock() == 0.0


def test_cdm_job_create_and_start_have_their_own_documented_limit() -> None:
    assert family(r.CREATE_CDM_JOB) == 'cdm_job_create'
    assert family(r.START_CDM_JOB) == family(r.STOP_CDM_JOB) == 'cdm_job_start'
    # CDM documents its other limits per API (120 a minute each): a limiter per route.
    assert family(r.CREATE_LINK) == 'cdm:create_link' and family(r.LIST_CDM_JOBS) == 'cdm:list_cdm_jobs'
    assert family(r.LIST_JOBS) == family(r.UPDATE_SCRIPT) == 'factory'
    # Under the documented per-user limits (reference §3.4): 1,200 a minute is 20 a second.
    assert DEFAULT_RATE_LIMITS['cdm_job_create'] * 60 <= 1200
    assert DEFAULT_RATE_LIMITS['cdm_job_start'] * 60 <= 1200
    assert DEFAULT_RATE_LIMITS['cdm'] * 60 <= 120
    assert DEFAULT_RATE_LIMITS['factory'] <= 30
    assert DEFAULT_RATE_LIMITS['management'] <= 10
    built = limiters({'cdm': 3})
    assert built['cdm:list_links'].rate == 3 and built['factory'].rate == 0  # a limit not given: none
    assert built['cdm:list_links'] is built[family(r.LIST_LINKS)]  # made once


class _Echo(RetryingTransport):
    """Answers every call with 200 at once; the limiters alone decide when calls start."""

    def __init__(self, clock: FakeClock, limits: dict[str, float]) -> None:
        super().__init__(project_id='p', rate_limits=limits, sleep=clock.sleep)
        self.clock = clock
        self.starts: dict[str, list[float]] = {}
        # The transport's limiters, on the fake clock.
        self._limiters = limiters(limits, clock=clock, sleep=clock.sleep)

    def _send(self, route: r.Route, path: str, query: object, body: bytes | None) -> Exchange:
        self.starts.setdefault(route.op, []).append(self.clock())
        return Exchange(200, {}, b'{}')


def test_the_transport_waits_for_the_route_familys_limit_not_the_services() -> None:
    clock = FakeClock()
    transport = _Echo(clock, DEFAULT_RATE_LIMITS)
    for _ in range(100):
        transport.call(r.CREATE_CDM_JOB, {'cluster_id': 'c'}, body={'jobs': []})
    # 100 creates at 18 a second: about 5.5 s, not the 50 s that CDM's 2 a second would take.
    assert clock() == pytest.approx(5.0)
    assert most_in_a_window(transport.starts['create_cdm_job']) == 18
    start = clock()
    for _ in range(5):
        transport.call(r.CREATE_LINK, {'cluster_id': 'c'}, body={'links': []})
    assert most_in_a_window(transport.starts['create_link']) == 2
    assert clock() - start == pytest.approx(2.0)
    # Another CDM API has its own 120 a minute: it does not wait behind the link creates.
    start = clock()
    transport.call(r.LIST_LINKS, {'cluster_id': 'c'})
    transport.call(r.LIST_LINKS, {'cluster_id': 'c'})
    assert clock() == start
