"""The HTTPS wire under the DataArts client: credentials, endpoints, signing, httpx.

`HttpTransport` is the `RetryingTransport` of transport.py (retries, rate limits, error mapping,
call counts) over real HTTPS: it adds the common headers (`X-Project-Id`, `workspace`,
`X-Language`), authenticates (AK/SK `SDK-HMAC-SHA256` through `signer.py`, re-signed on every
attempt so `X-Sdk-Date` is fresh, or an IAM token) and sends. It knows nothing of jobs or scripts.

`httpx` is imported lazily so that a core install (`pip install .`) runs local targets.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from jobsync import __version__
from jobsync.errors import UsageError
from jobsync.workspace import signer
from jobsync.workspace.ratelimit import DEFAULT_RATE_LIMITS
from jobsync.workspace.routes import Route, Service
from jobsync.workspace.transport import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_CAP,
    DEFAULT_MAX_ATTEMPTS,
    Exchange,
    Lost,
    RetryingTransport,
)

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT = 60.0
_NOT_SENT = ('ConnectError', 'ConnectTimeout', 'PoolTimeout', 'UnsupportedProtocol')

# --- credentials and endpoints -------------------------------------------------------------------

@dataclass(frozen=True)
class AkSk:
    """Access key pair (permanent, or temporary with `security_token`). Never printed."""

    ak: str
    sk: str = field(repr=False)
    security_token: str = field(default='', repr=False)


@dataclass(frozen=True)
class Token:
    """An IAM token (`X-Auth-Token`, reference §2.1), scoped to the project."""

    token: str = field(repr=False)


Credentials = AkSk | Token

ENV_AK = 'HUAWEICLOUD_SDK_AK'
ENV_SK = 'HUAWEICLOUD_SDK_SK'
ENV_SECURITY_TOKEN = 'HUAWEICLOUD_SDK_SECURITY_TOKEN'
ENV_TOKEN = 'JOBSYNC_DATAARTS_TOKEN'


def credentials_from_env(env: Mapping[str, str], where: str) -> Credentials:
    """AK/SK from `HUAWEICLOUD_SDK_AK`/`_SK` (+ `_SECURITY_TOKEN` for temporary keys), else an IAM
    token from `JOBSYNC_DATAARTS_TOKEN`. Raises `UsageError` when neither is set."""
    ak, sk = env.get(ENV_AK, ''), env.get(ENV_SK, '')
    if ak or sk:
        if not (ak and sk):
            missing = ENV_SK if ak else ENV_AK
            raise UsageError(f'{where}: {missing} is not set', hint=f'set both {ENV_AK} and {ENV_SK}')
        return AkSk(ak, sk, env.get(ENV_SECURITY_TOKEN, ''))
    token = env.get(ENV_TOKEN, '')
    if token:
        return Token(token)
    raise UsageError(
        f'{where}: no DataArts credentials in the environment',
        hint=f'set {ENV_AK} and {ENV_SK} (access keys), or {ENV_TOKEN} (an IAM token); '
             'credentials never go in jobsync.yaml',
    )


def default_endpoints(region: str) -> dict[Service, str]:
    """The hosts the official SDKs use for a region (reference §1): DLF v1 on `dayu-dlf`, except
    cn-east-4 where the dgc SDK lists `dayu`; Management Center on `dayu`; CDM on `cdm`."""
    factory_host = 'dayu' if region == 'cn-east-4' else 'dayu-dlf'
    return {
        'factory': f'https://{factory_host}.{region}.myhuaweicloud.com',
        'management': f'https://dayu.{region}.myhuaweicloud.com',
        'cdm': f'https://cdm.{region}.myhuaweicloud.com',
    }


@dataclass(frozen=True)
class HttpSettings:
    """How the transport behaves; every field has a sensible default for the real service."""

    project_id: str
    endpoints: Mapping[Service, str]
    credentials: Credentials
    workspace_id: str = ''
    rate_limits: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    timeout: float = DEFAULT_TIMEOUT
    language: str = 'en-us'
    verify_tls: bool = True


def _import_httpx() -> ModuleType:
    """httpx without its command-line tool: where click is installed, `import httpx` also imports
    `httpx._main`, and with it rich and pygments (about 70 modules, 8 MB and a tenth of a second
    of a no-op plan) that a library never uses. A None entry in sys.modules makes that one import
    fail, and httpx then defines a stub `main` in its place (its `__init__` expects the failure:
    `except ImportError`)."""
    if 'httpx' not in sys.modules:
        sys.modules.setdefault('httpx._main', None)  # type: ignore[arg-type]
    import httpx

    return httpx


class HttpTransport(RetryingTransport):
    """Authenticated, rate-limited, retrying HTTPS calls to the three DataArts services. Thread-safe."""

    def __init__(
            self, settings: HttpSettings, *, client: httpx.Client | None = None,
            sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
    ) -> None:
        httpx = _import_httpx()
        super().__init__(project_id=settings.project_id, rate_limits={**DEFAULT_RATE_LIMITS, **settings.rate_limits},
                         max_attempts=settings.max_attempts, backoff_base=settings.backoff_base,
                         backoff_cap=settings.backoff_cap, sleep=sleep, rng=rng)
        self.settings = settings
        self._httpx = httpx
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
            verify=settings.verify_tls, follow_redirects=False,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def close(self) -> None:
        self._client.close()

    def _headers(self, route: Route, body: bytes | None) -> dict[str, str]:
        headers = {
            'Content-Type': 'application/json;charset=UTF-8' if body else 'application/json',
            'User-Agent': f'jobsync/{__version__}',
            'X-Language': self.settings.language,
        }
        # CDM has no workspace: "only the default workspace can be used" (reference §2.3).
        if self.settings.workspace_id and route.service != 'cdm':
            headers['workspace'] = self.settings.workspace_id
        creds = self.settings.credentials
        if isinstance(creds, Token):
            headers['X-Auth-Token'] = creds.token
        else:
            # The SDK's BasicCredentials adds X-Project-Id to every AK/SK call (reference §2.3).
            headers['X-Project-Id'] = self.settings.project_id
            if creds.security_token:
                headers['X-Security-Token'] = creds.security_token
        return headers

    def _prepare(self, route: Route, path: str, query: Sequence[tuple[str, Any]],
                 body: bytes | None) -> tuple[str, dict[str, str]]:
        base = self.settings.endpoints[route.service].rstrip('/')
        split = urlsplit(base)
        full_path = split.path.rstrip('/') + path
        headers = self._headers(route, body)
        creds = self.settings.credentials
        if isinstance(creds, AkSk):
            signed = signer.sign(creds.ak, creds.sk, method=route.method, host=split.netloc, path=full_path,
                                 query=query, headers=headers, body=body or b'')
            headers, query_string = signed.headers, signed.query
        else:
            query_string = signer.canonical_query(query)
        url = f'{split.scheme}://{split.netloc}{full_path}' + (f'?{query_string}' if query_string else '')
        return url, headers

    def _send(self, route: Route, path: str, query: Sequence[tuple[str, Any]], body: bytes | None) -> Exchange:
        url, headers = self._prepare(route, path, query, body)  # re-signed: X-Sdk-Date is fresh
        try:
            answer = self._client.request(route.method, url, headers=headers, content=body)
        except self._httpx.TransportError as exc:
            detail, hint = _lost_detail(url, exc)
            # Refused on loopback: no server listens on that port, and none will within the retries.
            final = isinstance(exc, self._httpx.ConnectError) and _loopback(url) and _refused(exc)
            raise Lost(detail, sent=type(exc).__name__ not in _NOT_SENT, hint=hint, final=final) from None
        return Exchange(answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.content)


def _loopback(url: str) -> bool:
    return urlsplit(url).hostname in ('127.0.0.1', 'localhost', '::1')


def _refused(exc: BaseException) -> bool:
    """Whether the connection was refused (ECONNREFUSED somewhere in the cause chain, or its words)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError) or 'refused' in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _lost_detail(url: str, exc: Exception) -> tuple[str, str]:
    """(detail naming the endpoint, hint): a refused connection says where it went."""
    split = urlsplit(url)
    endpoint = f'{split.scheme}://{split.netloc}'
    detail = f'{type(exc).__name__} to {endpoint}: {exc}'
    if split.hostname in ('127.0.0.1', 'localhost', '::1'):
        return detail, f'nothing answers at {endpoint}: is `jobsync emulator` running (on port {split.port})?'
    return detail, f'check the endpoint {endpoint} (jobsync.yaml `dataarts.endpoints`) and the network'
