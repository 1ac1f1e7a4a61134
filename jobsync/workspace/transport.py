"""What every transport under the DataArts client shares: the `Transport` protocol the client
talks to, the `ApiError` it raises, and the retrying core (`RetryingTransport`) behind both the
HTTPS transport (`http.py`) and the in-process one (`inprocess.py`).

`RetryingTransport.call` renders a route template (routes.py) into a path, waits for its
service's (or route family's) client-side rate limit (ratelimit.py), counts every call by route
name, retries what is safe to retry, and turns every error body the service family uses into
one `ApiError` carrying status, code, message, request id and a hint. A subclass only sends bytes and hands back bytes
(`_send`), or says the exchange was lost (`Lost`). So the client meets the same answers, the
same errors and the same lost answers whichever way its requests travel.

Retry rules (reference §3.4, §13):

* a connection that could not be opened (the request was never sent) and a 429 from the
  gateway (refused before it reached the service) are retried for every call;
* a 5xx answer without a service error code (gateway, backend down), a dropped connection
  or a read timeout are retried only for calls safe to repeat (`GET`, `PUT`, `DELETE`, or a
  route marked `idempotent`); for the others the transport raises `ApiError(ambiguous=True)`
  and the caller decides, by checking what exists, whether the write happened;
* a 4xx (other than 429), or a 5xx carrying a service code (`Cdm.0100` on delete), is an
  answer, never retried; so is CDM's link check failure, a 500 whose body is only a
  `validation-result` holding an `ERROR` (the api-cdm CreateLink/ModifyLink "Example Responses"
  [DOC]; SDK `CreateLinkResponse`/`UpdateLinkResponse`): a final refusal with the service's
  message (code `VALIDATION_CODE`), never an ambiguous or transient one.

Waits grow exponentially with full jitter; `Retry-After` is honoured (capped). Attempts are
bounded; the error after the last one says how many were made.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote

from jobsync import jsontext
from jobsync.errors import WorkspaceError
from jobsync.workspace.ratelimit import DEFAULT_RATE_LIMITS, limiters
from jobsync.workspace.routes import Route

DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_CAP = 20.0
MAX_RETRY_AFTER = 120.0

# "Not found" codes, whatever HTTP status carries them (reference §3.1, §9.4, §9.6, §11): the
# services answer 400 (sometimes 500) for a missing object; only the gateway uses 404.
NOT_FOUND_CODES = frozenset({
    'DLF.0100', 'DLF.0137', 'DLF.0810', 'DLF.20810', 'DLF.6201', 'DLF.6205', 'DLF.6241', 'DLF.6322',
    'DAYU.1005',
    'Cdm.0054', 'Cdm.0095', 'Cdm.00095', 'Cdm.0100', 'Cdm.0101', 'Cdm.0316', 'Cdm.0319',
})
GATEWAY_PREFIXES = ('APIGW.', 'APIG.')
# The code jobsync gives CDM's link check failure, which carries none of its own (see above).
VALIDATION_CODE = 'Cdm.validation'

_HINTS: dict[str, str] = {
    'APIGW.0101': 'the endpoint does not serve this route: check `endpoints` for the target (the DLF v1 routes '
                  'live on dayu-dlf.{region} in most regions, reference §1)',
    'APIGW.0301': 'check HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK (or the token) and that this machine\'s clock '
                  'is right: a signature more than 15 minutes off is refused',
    'APIGW.0302': 'the IAM user lacks permission for this API: grant DataArts Studio / CDM permissions',
    'APIGW.0201': 'the request was refused by the gateway (too large, or the backend is unavailable)',
    'APIG.0308': 'the service throttled the calls: lower `rate_limits` for this target or retry later',
    'APIGW.0308': 'the service throttled the calls: lower `rate_limits` for this target or retry later',
    'DLF.0819': 'the DataArts workspace does not exist: check `workspace_id` for the target',
    'DLF.20819': 'the DataArts workspace does not exist: check `workspace_id` for the target',
    'DAYU.3601': 'the IAM user has no permission in this DataArts workspace',
    'Cdm.0052': 'the CDM job is running: stop it first',
    'Cdm.0001': 'the CDM cluster does not exist: check `cdm_clusters` for the target',
}


class ApiError(WorkspaceError):
    """A DataArts call failed: the service's answer (status, code, message, request id) or the
    transport's (status 0 then).

    `ambiguous` is set when a write may or may not have happened (the connection dropped, or a
    5xx came back, after the request was sent); `attempts` counts the HTTP requests made.
    """

    def __init__(
            self, message: str, *, code: str = '', status: int = 0, request_id: str = '', hint: str = '',
            not_found: bool = False, ambiguous: bool = False, attempts: int = 1, route: str = '',
    ) -> None:
        super().__init__(message, code=code, status=status, request_id=request_id, hint=hint, not_found=not_found)
        self.ambiguous = ambiguous
        self.attempts = attempts
        self.route = route


def may_have_happened(err: ApiError) -> bool:
    """Whether a write may have gone through without our hearing it: a dropped answer, or a
    transient answer (the gateway's 5xx, throttling) that outlasted the retries. A service's own
    refusal (a 4xx, a CDM validation 500) is final."""
    transient = err.status >= 500 and (not err.code or err.code.startswith(GATEWAY_PREFIXES)) \
        and err.code != VALIDATION_CODE
    return err.ambiguous or err.status == 429 or transient


def _first_error(body: Any, depth: int = 0) -> tuple[str, str] | None:
    """(code, message) from any error body shape the services use (reference §3.1).

    In order: DLF/gateway flat `error_code`+`error_msg`; `errorCode`+`errorMsg`; Management
    Center `errors[0]`; CDM `errCode`/`code` + `externalMessage`/`message`; then nested objects,
    as the SDK's own parser does.
    """
    if not isinstance(body, dict) or depth > 3:
        return None
    for code_key, msg_keys in (('error_code', ('error_msg', 'error_message')), ('errorCode', ('errorMsg',)),
                               ('errCode', ('externalMessage', 'message')), ('code', ('message', 'externalMessage'))):
        code = body.get(code_key)
        if isinstance(code, str) and code:
            message = next((str(body[k]) for k in msg_keys if body.get(k)), '')
            return code, message
    errors = body.get('errors')
    if isinstance(errors, list) and errors:
        found = _first_error(errors[0], depth + 1)
        if found:
            return found
    for value in body.values():
        if isinstance(value, dict):
            found = _first_error(value, depth + 1)
            if found:
                return found
    return None


def _validation_message(body: Any) -> str:
    """CDM's `{"validation-result": [{"linkConfig": [{"message", "status": "ERROR"}]}]}` as text."""
    results = body.get('validation-result') if isinstance(body, dict) else None
    messages = []
    for result in results if isinstance(results, list) else []:
        for items in result.values() if isinstance(result, dict) else []:
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get('status') == 'ERROR' and item.get('message'):
                    messages.append(str(item['message']))
    return '; '.join(messages)


def parse_error(status: int, content: bytes, headers: Mapping[str, str], route: str = '') -> ApiError:
    """One `ApiError` from any failed answer: DLF flat, `errors[]`, CDM, CDM validation, gateway."""
    try:
        body = json.loads(content.decode('utf-8')) if content else None
    except (UnicodeDecodeError, ValueError):
        body = None
    request_id = headers.get('x-request-id') or headers.get('X-Request-Id') or ''
    if not request_id and isinstance(body, dict) and isinstance(body.get('request_id'), str):
        request_id = body['request_id']
    found = _first_error(body)
    if found:
        code, message = found
    else:
        code, message = '', _validation_message(body)
        if message:
            code = VALIDATION_CODE
        else:
            text = content.decode('utf-8', 'replace').strip() if content else ''
            message = text[:300] or f'HTTP {status}'
    not_found = code in NOT_FOUND_CODES or (status == 404 and not code.startswith(GATEWAY_PREFIXES))
    hint = _HINTS.get(code, '')
    if code == VALIDATION_CODE:
        hint = 'CDM could not connect with this link\'s settings: check its host, port and credentials'
    if not hint and status == 401:
        hint = _HINTS['APIGW.0301']
    return ApiError(message, code=code, status=status, request_id=request_id, hint=hint,
                    not_found=not_found, route=route)


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    content: bytes
    attempts: int

    @property
    def request_id(self) -> str:
        return self.headers.get('x-request-id', '')

    def json(self) -> Any:
        if not self.content:
            return None
        return jsontext.loads(self.content)  # listings are most of a plan's bytes: C speed



class Transport(Protocol):
    """What the DataArts client needs of the wire (HTTPS, or in-process into the emulator)."""

    calls: Counter[str]  # calls made, by route name ('GET /v1/{pid}/jobs'), failed ones included

    def call(self, route: Route, params: Mapping[str, str] | None = None, *,
             query: Sequence[tuple[str, Any]] = (), body: Any = None) -> Response: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Exchange:
    """One request's answer as bytes: status, headers (lower-case names), content."""

    status: int
    headers: Mapping[str, str]
    content: bytes


class Lost(Exception):
    """The exchange failed on the way: `sent` False if the request never left (safe to repeat),
    True if it may have reached the service and only the answer was lost."""

    def __init__(self, detail: str, *, sent: bool, hint: str = '', final: bool = False) -> None:
        super().__init__(detail)
        self.detail, self.sent, self.hint = detail, sent, hint
        self.final = final  # no retry can help (nothing listens on this machine's port): fail at once


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(',', ':')).encode('utf-8')


class RetryingTransport:
    """Rate-limited, retrying, counted calls; subclasses implement `_send`. Thread-safe."""

    def __init__(
            self, *, project_id: str, rate_limits: Mapping[str, float] | None = None,
            max_attempts: int = DEFAULT_MAX_ATTEMPTS, backoff_base: float = DEFAULT_BACKOFF_BASE,
            backoff_cap: float = DEFAULT_BACKOFF_CAP, sleep: Callable[[float], None] = time.sleep,
            rng: random.Random | None = None,
    ) -> None:
        self.project_id = project_id
        self.calls: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        # 429 answers waited out, by route name (what apply reports as throttle waits).
        self.throttled: Counter[str] = Counter()
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self._lock = threading.Lock()
        self._sleep = sleep
        self._rng = rng or random.Random()
        # Per service and per documented route family (ratelimit.py); a name not given is unlimited.
        self._limiters = limiters(DEFAULT_RATE_LIMITS if rate_limits is None else rate_limits, sleep=sleep)

    def close(self) -> None:
        pass

    def path(self, route: Route, params: Mapping[str, str]) -> str:
        """The route's path with `{pid}` and each parameter filled in, each percent-encoded with
        `quote(v, safe='')` as the SDK does (a `/` in a name becomes `%2F`)."""
        values = {'pid': self.project_id, **params}
        out = route.template
        for name, value in params.items():
            # '', '.' and '..' survive percent-encoding, and a server (or proxy) resolving dot
            # segments would send the call to another resource (`DELETE .../jobs/..`): refused
            # before anything is sent, as a 400 of this one call (issue 12, item 9).
            if str(value) in ('', '.', '..'):
                raise ApiError(f'{route.name}: {name} {str(value)!r} cannot be put in a URL path', status=400,
                               code='NAME', route=route.name,
                               hint='rename the object in the console, then run the command again')
        for name, value in values.items():
            out = out.replace('{' + name + '}', quote(str(value), safe=''))
        if '{' in out:
            raise ValueError(f'route {route.name} needs parameters it was not given: {out}')
        return out

    def _send(self, route: Route, path: str, query: Sequence[tuple[str, Any]], body: bytes | None) -> Exchange:
        raise NotImplementedError

    def call(
            self, route: Route, params: Mapping[str, str] | None = None, *,
            query: Sequence[tuple[str, Any]] = (), body: Any = None,
    ) -> Response:
        """Make the call, retrying what the rules allow; the answer, or `ApiError`."""
        path = self.path(route, params or {})
        data = json_bytes(body) if body is not None else None
        attempts = 0
        last: ApiError | None = None
        while attempts < max(1, self.max_attempts):
            attempts += 1
            if attempts > 1:
                with self._lock:
                    self.retries[route.name] += 1
            self._limiters.acquire(route)
            with self._lock:
                self.calls[route.name] += 1
            try:
                answer = self._send(route, path, query, data)
            except Lost as lost:
                last = ApiError(
                    f'{route.method} {path}: {"the connection failed" if lost.sent else "could not connect"}'
                    f' ({lost.detail})', hint=lost.hint or 'check the endpoint and the network', ambiguous=lost.sent,
                    attempts=attempts, route=route.name,
                )
                if not lost.final and (not lost.sent or route.safe_to_repeat):
                    self._backoff(attempts, None)
                    continue
                raise last from None
            if 200 <= answer.status < 300:
                return Response(answer.status, answer.headers, answer.content, attempts)
            err = parse_error(answer.status, answer.content, answer.headers, route.name)
            err.attempts = attempts
            if answer.status == 429:
                last = err
                with self._lock:
                    self.throttled[route.name] += 1
                self._backoff(attempts, _retry_after(answer.headers.get('retry-after')))
                continue
            transient = answer.status >= 500 and (not err.code or err.code.startswith(GATEWAY_PREFIXES)) \
                and err.code != VALIDATION_CODE
            if transient:
                last = err
                if route.safe_to_repeat:
                    self._backoff(attempts, _retry_after(answer.headers.get('retry-after')))
                    continue
                err.ambiguous = True
            raise err
        assert last is not None
        last.attempts = attempts
        last.message = f'{last.message} (gave up after {attempts} attempts)'
        if not last.hint:
            last.hint = 'the service kept failing or throttling; try again later or lower `rate_limits`'
        raise last

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        if attempt >= self.max_attempts:
            return  # no wait before giving up
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        wait = self._rng.uniform(0, ceiling)  # full jitter
        if retry_after is not None:
            wait = min(retry_after, MAX_RETRY_AFTER) + self._rng.uniform(0, self.backoff_base / 4)
        if wait > 0:
            self._sleep(wait)


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


