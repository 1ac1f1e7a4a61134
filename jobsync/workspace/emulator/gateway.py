"""The emulator's API gateway: what stands in front of the service model, for HTTP and in-process.

`Gateway.handle` takes one request as bytes (method, raw path, query string, headers, body) and
answers bytes (`Answer`), or None for a connection dropped mid-answer. In order:

* size limit (12 MB, reference §2.2) and a throttle answering 429 `APIG.0308` with `Retry-After`;
* auth (§2, §11.2): `SDK-HMAC-SHA256` verified against the configured AK/SK pairs
  (`signer.verify`, with the gateway's 15-minute skew), or an `X-Auth-Token` from the configured
  set; anything else is 401 `APIGW.0301`. The AK (or `token-user`) is the user the engine
  records. An in-process gateway (`verify=False`, for `local:`) trusts its one caller instead;
* routing by the table of `jobsync.workspace.routes` (all three services on one port: a client
  points its factory, management and cdm endpoints at the same URL [INF]); an unknown route is
  404 `APIGW.0101`;
* spaces: every request is served by `engine.scoped(project, workspace)`, the project from the
  path, the workspace from the `workspace` header (absent: `default`). CDM ignores the header
  (the service only has the default workspace for CDM, §2.3). Any project id is accepted;
* faults (for tests and benchmarks; bounded, seeded): 5xx answers and dropped connections at
  given rates, each either before the request reaches the engine or after it was processed
  (the answer is lost: what a client must survive without duplicating a write);
* the service's error bodies per family (§3.1);
* CDM's link check: a link written (create or update) whose `linkConfig.host` is one of
  `unreachable_hosts` (a test hook, off the wire) is refused with HTTP 500 and only a
  `validation-result` body, as the api-cdm CreateLink/ModifyLink "Example Responses" show
  [DOC; SDK `CreateLinkResponse.validation_result`; GSDK link `results.go`];
* failing CDM runs: a start of a CDM job named in `failing_cdm_jobs` (a test hook, off the wire)
  answers 200 with its submission `FAILURE_ON_SUBMIT` and records no run, the answer the
  provider checks for [TF `resource_huaweicloud_cdm_job.go` l.712-720; SDK
  `StartJobSubmission.status`]. Run durations are the engine's (`cdm_run_ms`, `instance_run_ms`);
* workspaces: the Management Center refuses a call without a `workspace` header (the SDK's
  requests assign it unconditionally, the docs say "Mandatory: Yes", the provider requires
  `workspace_id` [SDK `ListDataconnectionsRequest` & co.; DOC; TF]): 400 `DAYU.4402`-shaped
  `errors[]` body [INF: no doc gives the code; the family's error shape is the SDK's]. A
  `workspace` header naming none of `workspaces` (always holding `default`) is 400
  `DLF.0819` "The workspace ID does not exist." on DLF and Management Center routes
  [TF `resource_huaweicloud_dataarts_factory_job_action.go` reads it as a 400 flat
  `error_code`]; CDM ignores the header. Both checks are always on (issue 11): a client that
  leaves the header out, or names a workspace nobody made, fails here as against the service.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jobsync.errors import WorkspaceError
from jobsync.workspace import signer
from jobsync.workspace.emulator.routes import HANDLERS, Call, Reply, match_route
from jobsync.workspace.service import Engine, EngineError
from jobsync.workspace.service.errors import Family

MAX_BODY_BYTES = 12 * 1024 * 1024  # AK/SK request bodies (reference §2.2)
MAX_RATE = 0.9  # fault rates above this would starve every client: refused
TOKEN_USER = 'token-user'
_FAMILY: dict[str, Family] = {'factory': 'dlf', 'management': 'dayu', 'cdm': 'cdm'}


@dataclass(frozen=True)
class Faults:
    """Injected trouble. Rates are fractions of requests (0 ≤ rate ≤ 0.9); `max_faults` bounds
    how many 5xx and drops are injected in all (None: no bound); `seed` makes runs repeatable."""

    latency_ms: float = 0.0
    throttle_rps: float = 0.0  # 0: off
    throttle_burst: int = 0  # 0: one second's worth
    fault_rate: float = 0.0
    drop_rate: float = 0.0
    max_faults: int | None = None
    seed: int | None = None
    phase: str = 'both'  # when a 5xx or drop strikes: 'before' processing, 'after' it, or 'both' (at random)

    def __post_init__(self) -> None:
        if self.phase not in ('before', 'after', 'both'):
            raise ValueError(f"phase must be 'before', 'after' or 'both', not {self.phase!r}")
        for name in ('fault_rate', 'drop_rate'):
            value = getattr(self, name)
            if not 0.0 <= value <= MAX_RATE:
                raise ValueError(f'{name} must be between 0 and {MAX_RATE}, not {value}')
        if self.latency_ms < 0 or self.throttle_rps < 0:
            raise ValueError('latency and throttle must not be negative')
        if self.fault_rate + self.drop_rate > MAX_RATE:
            raise ValueError(f'fault_rate + drop_rate must be at most {MAX_RATE}')


@dataclass(frozen=True)
class Answer:
    """One answer as bytes. `headers` keep their case (`X-Request-Id`, `Retry-After`)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b''
    content_type: str = 'application/json;charset=UTF-8'


class GatewayError(Exception):
    """An answer from the API gateway, not the service: `{"error_code","error_msg","request_id"}`."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})


class _Bucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, max(1, burst or math.ceil(rate)), clock
        self.tokens = float(self.burst)
        self.last = clock()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 if a token was taken, else the seconds until one will be there."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class Gateway:
    """The emulated service behind its gateway, over `engine` (see the module docstring).

    `credentials` maps AK → SK; `tokens` are accepted `X-Auth-Token`s; with `verify=False` no
    signature is checked and `engine.user` is the caller. `clusters` (name → id, or None for a
    generated one) are created in every project on its first CDM request, as CDM clusters bought
    beforehand would be. `script_errors='list'` answers script GET errors in the
    `{"errors":[...]}` shape; `paging='pages'` reads list `offset`s as page numbers. `stats`
    counts requests, faults and auth failures; `obs` is the fake OBS.
    """

    def __init__(
            self, engine: Engine, *, credentials: Mapping[str, str] | None = None,
            tokens: set[str] | frozenset[str] = frozenset(), clusters: Mapping[str, str | None] | None = None,
            faults: Faults | None = None, script_errors: str = 'flat', paging: str = 'records',
            clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), verify: bool = True,
            unreachable_hosts: frozenset[str] | set[str] = frozenset(),
            workspaces: Mapping[str, str] | None = None, failing_cdm_jobs: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.engine = engine
        self.failing_cdm_jobs = frozenset(failing_cdm_jobs)
        self.unreachable_hosts = frozenset(unreachable_hosts)
        # workspace id -> name: the workspaces of every project (another id: DLF.0819)
        self.workspaces: dict[str, str] = {'default': 'default', **(workspaces or {})}
        self.credentials = dict(credentials or {})
        self.tokens = frozenset(tokens)
        self.clusters = dict(clusters or {})
        self.script_errors = script_errors
        self.paging = paging
        self.clock = clock
        # What the throttle's token bucket counts seconds with: tests move it instead of waiting.
        self.throttle_clock: Callable[[], float] = time.monotonic
        self.verify = verify
        self.obs: dict[str, bytes] = {}
        # Tests only: called with each routed request (op, path params, body) before it is served;
        # True drops it unanswered. A test holds a named request there, to kill its client mid-call
        # at a known point instead of racing a timer.
        self.hold: Callable[[str, Mapping[str, str], bytes], bool] | None = None
        self.stats: Counter[str] = Counter()
        self._seeded: set[str] = set()
        self._lock = threading.Lock()
        self.faults = faults or Faults()

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Change the injected faults (takes effect on the next request)."""
        with self._lock:
            self._faults = faults
            self._rng = random.Random(faults.seed)
            self._bucket = _Bucket(faults.throttle_rps, faults.throttle_burst, self.throttle_clock) \
                if faults.throttle_rps > 0 else None
            self._faults_injected = 0

    def close(self) -> None:
        self.engine.close()

    # --- the gateway's checks ------------------------------------------------------------------

    def _authenticate(self, method: str, raw_path: str, query: str, headers: Mapping[str, str], body: bytes) -> str:
        if not self.verify:
            return self.engine.user
        token = headers.get('x-auth-token')
        if token is not None:
            if token in self.tokens:
                return TOKEN_USER
            raise GatewayError(401, 'APIGW.0301', 'Incorrect IAM authentication information: decrypt token fail')
        if 'authorization' not in headers:
            raise GatewayError(401, 'APIGW.0301', 'Incorrect IAM authentication information: '
                                                  'no Authorization or X-Auth-Token header')
        try:
            return signer.verify(method=method, path=raw_path, query=query, headers=headers, body=body,
                                 secret_for=self.credentials.get, now=self.clock())
        except signer.SignatureError as exc:
            raise GatewayError(401, 'APIGW.0301', f'Incorrect IAM authentication information: {exc}') from None

    def _throttle(self) -> None:
        bucket = self._bucket
        if bucket is None:
            return
        wait = bucket.take()
        if wait > 0:
            self.stats['throttled'] += 1
            raise GatewayError(
                429, 'APIG.0308',
                f'The throttling threshold has been reached: policy user over ratelimit,limit:'
                f'{self.faults.throttle_rps:g},time:1 second',
                {'Retry-After': str(max(1, math.ceil(wait)))})

    def _fault(self) -> str:
        """'' (none), or one of '5xx-before', '5xx-after', 'drop-before', 'drop-after'."""
        with self._lock:
            faults = self._faults
            if faults.max_faults is not None and self._faults_injected >= faults.max_faults:
                return ''
            if not faults.fault_rate and not faults.drop_rate:
                return ''
            roll = self._rng.random()
            when = faults.phase if faults.phase != 'both' else 'before' if self._rng.random() < 0.5 else 'after'
            if roll < faults.fault_rate:
                kind = '5xx'
            elif roll < faults.fault_rate + faults.drop_rate:
                kind = 'drop'
            else:
                return ''
            self._faults_injected += 1
        self.stats[f'{kind}-{when}'] += 1
        return f'{kind}-{when}'

    def _seed(self, project: str) -> None:
        if project in self._seeded or not self.clusters:
            return
        with self._lock:
            if project in self._seeded:
                return
            engine = self.engine.scoped(project, 'default')
            existing = {c['name'] for c in engine.list_clusters()['clusters']}
            for name, id_ in self.clusters.items():
                if name not in existing:
                    engine.create_cluster(name, id_ or str(uuid.uuid5(uuid.NAMESPACE_URL, f'{project}/{name}')))
            self._seeded.add(project)

    # --- one request ----------------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, query: str, headers: Mapping[str, str],
               body: bytes) -> Answer | None:
        """Answer one request (`headers` with lower-case names); None: drop the connection."""
        request_id = uuid.uuid4().hex
        self.stats['requests'] += 1
        if len(body) > MAX_BODY_BYTES:
            return gateway_answer(GatewayError(413, 'APIGW.0201', 'Request entity too large'), request_id)
        try:
            self._throttle()
            user = self._authenticate(method, raw_path, query, headers, body)
        except GatewayError as err:
            if err.status == 401:
                self.stats['unauthorized'] += 1
            return gateway_answer(err, request_id)
        matched = match_route(method, raw_path)
        if matched is None:
            return gateway_answer(GatewayError(404, 'APIGW.0101', 'The API does not exist or has not been'
                                                                   ' published in the environment'), request_id)
        route, params = matched
        if self.hold is not None and self.hold(route.op, params, body):
            return None
        family = _FAMILY[route.service]
        fault = self._fault()
        if fault == '5xx-before':
            return gateway_answer(GatewayError(503, 'APIGW.0201', 'Backend unavailable'), request_id)
        if fault == 'drop-before':
            return None
        reply = self._serve(route.op, family, method, params, query, headers, body, user)
        if fault == '5xx-after':
            return gateway_answer(GatewayError(504, 'APIGW.0201', 'Backend timeout'), request_id)
        if fault == 'drop-after':
            return None
        return _answer(reply, request_id)

    def _serve(self, op: str, family: Family, method: str, params: dict[str, str], query: str,
               headers: Mapping[str, str], body: bytes, user: str) -> Reply:
        try:
            parsed: Any = json.loads(body.decode('utf-8')) if body and op != 'put_obs' else None
        except (UnicodeDecodeError, ValueError):
            return _error_reply(EngineError('DLF.3051', 'The request parameter is invalid: the body is not JSON.',
                                            family=family))
        project = params.get('pid', '')
        refused = self._check_workspace(op, family, headers) or self._check_link(op, parsed) \
            or self._check_start(op, params, user)
        if refused is not None:
            return refused
        workspace = 'default' if family == 'cdm' else headers.get('workspace') or 'default'
        call = Call(self.engine.scoped(project, workspace, user=user), params,
                    dict(signer.parse_query(query)), parsed, body, headers)
        try:
            if family == 'cdm':
                self._seed(project)
            return HANDLERS[op](self, call)
        except EngineError as err:
            if family == 'cdm' and err.family != 'cdm':  # a parameter check shared with DLF
                err = EngineError('Cdm.0004', err.message, family='cdm')
            return _error_reply(err)
        except WorkspaceError as err:  # a package problem and the like: a bad request
            return _error_reply(EngineError(err.code or 'DLF.3051', err.message, family=family))


    def _check_workspace(self, op: str, family: Family, headers: Mapping[str, str]) -> Reply | None:
        """The `workspace` header's checks (module docstring); None: it passes."""
        if family == 'cdm' or op in WORKSPACE_FREE_OPS:
            return None
        given = headers.get('workspace')
        if not given:
            if family == 'dayu':
                return _error_reply(EngineError('DAYU.4402', 'The workspace header is required.', family='dayu'))
            return None
        if given not in self.workspaces:
            return Reply(400, {'error_code': 'DLF.0819', 'error_msg': 'The workspace ID does not exist.'})
        return None

    def _check_link(self, op: str, parsed: Any) -> Reply | None:
        """CDM's link connectivity check (module docstring); None: it passes."""
        if op not in ('create_link', 'update_link') or not self.unreachable_hosts or not isinstance(parsed, dict):
            return None
        for link in parsed.get('links') or []:
            host = _link_input(link, 'linkConfig.host')
            if host in self.unreachable_hosts:
                message = (f"Can't connect to the database with given credentials: Communications link failure"
                           f' (host {host}).')
                return Reply(500, {'validation-result': [{'linkConfig': [{'message': message, 'status': 'ERROR'}]}]})
        return None


    def _check_start(self, op: str, params: Mapping[str, str], user: str) -> Reply | None:
        """A failing CDM start (module docstring); None: the start goes to the engine."""
        if op != 'start_cdm_job' or params.get('job_name') not in self.failing_cdm_jobs:
            return None
        now = int(self.clock().timestamp() * 1000)
        sub = {'job-name': params['job_name'], 'creation-user': user, 'creation-date': now, 'progress': -1,
               'status': 'FAILURE_ON_SUBMIT', 'error-summary': 'Submission failed: the cluster refused the job.'}
        return Reply(200, {'submissions': [sub]})


# Routes that take no `workspace` header: the instance and workspace lists (facts §4).
WORKSPACE_FREE_OPS = frozenset({'list_instances', 'list_workspaces'})


def _link_input(link: Any, name: str) -> str | None:
    """The value of input `name` in a link body's `link-config-values`."""
    values = link.get('link-config-values') if isinstance(link, dict) else None
    for config in (values or {}).get('configs') or [] if isinstance(values, dict) else []:
        for item in config.get('inputs') or [] if isinstance(config, dict) else []:
            if isinstance(item, dict) and item.get('name') == name:
                return str(item.get('value'))
    return None


def _error_reply(err: EngineError) -> Reply:
    """The service's error body for its family (reference §3.1)."""
    if err.family == 'cdm':
        body: Any = {'code': err.code, 'errCode': err.code, 'message': err.message, 'externalMessage': err.message}
    elif err.family == 'dayu':
        body = {'errors': [{'error_code': err.code, 'error_msg': err.message}]}
    else:
        body = {'error_code': err.code, 'error_msg': err.message}
    return Reply(err.status or 400, body)


def _answer(reply: Reply, request_id: str) -> Answer:
    headers = {'X-Request-Id': request_id, **reply.headers}
    if reply.status == 204 or reply.body is None:
        return Answer(reply.status, headers, b'')
    content = reply.body if isinstance(reply.body, bytes) else \
        json.dumps(reply.body, ensure_ascii=False).encode('utf-8')
    return Answer(reply.status, headers, content, reply.content_type)


def gateway_answer(err: GatewayError, request_id: str) -> Answer:
    return _answer(Reply(err.status, {'error_code': err.code, 'error_msg': err.message, 'request_id': request_id},
                         headers=err.headers), request_id)
