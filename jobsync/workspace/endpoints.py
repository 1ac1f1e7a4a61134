"""Where credentials may go: the endpoint allowlist of a `dataarts` target (issue 12, item 4).

Signatures, IAM tokens and secret values are sent only to a Huawei Cloud service endpoint of the
target's own region (`https://<service>.<region>.myhuaweicloud.com`, or `.myhuaweicloud.eu` for
the European regions the SDKs list), or to loopback (the emulator). Any other endpoint must be
named in `dataarts.untrusted_endpoints_allowed`, whose name says it is an exception, so that a
pull request that edits `endpoints:` alone cannot send the CI job's AK/SK anywhere. Pure.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from jobsync.errors import UsageError

EXCEPTION_FIELD = 'untrusted_endpoints_allowed'
_OFFICIAL_SUFFIXES = ('myhuaweicloud.com', 'myhuaweicloud.eu')


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, lower-cased; ValueError if it has no host."""
    split = urlsplit(url.strip())
    host = (split.hostname or '').lower().rstrip('.')
    if not host:
        raise ValueError(url)
    return split.scheme.lower(), host, split.port


def is_loopback(host: str) -> bool:
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host.strip('[]')).is_loopback
    except ValueError:
        return False


def is_official(scheme: str, host: str, region: str) -> bool:
    """An https host of a Huawei Cloud service in `region` (one DNS label before the region)."""
    if scheme != 'https' or not region:
        return False
    for suffix in _OFFICIAL_SUFFIXES:
        tail = f'.{region.lower()}.{suffix}'
        label = host.removesuffix(tail)
        if host.endswith(tail) and label and '.' not in label:
            return True
    return False


def check_endpoints(where: str, region: str, endpoints: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Refuse, before any request, an endpoint credentials must not reach. `UsageError` names the
    service, the endpoint and the field that would allow it."""
    exceptions: set[tuple[str, str, int | None]] = set()
    for entry in allowed:
        try:
            exceptions.add(_origin(str(entry)))
        except ValueError:
            raise UsageError(f'{where}: dataarts.{EXCEPTION_FIELD} entry {entry!r} is not a URL',
                             hint='give scheme://host[:port], e.g. https://vpcep.example') from None
    for service, url in sorted(endpoints.items()):
        try:
            scheme, host, port = _origin(url)
        except ValueError:
            raise UsageError(f'{where}: dataarts.endpoints.{service} {url!r} is not a URL',
                             hint='give scheme://host[:port]') from None
        if is_loopback(host) and scheme in ('http', 'https'):
            continue
        if is_official(scheme, host, region) or (scheme, host, port) in exceptions:
            continue
        why = ('it is not https' if scheme != 'https' and not is_loopback(host)
               else f'it is not a Huawei Cloud endpoint of region {region!r}' if region
               else 'no region is set, so only loopback endpoints are trusted')
        raise UsageError(
            f'{where}: refusing to send credentials to {service} endpoint {url!r}: {why}',
            hint=f'if this endpoint is meant, list it in dataarts.{EXCEPTION_FIELD} '
                 f'(e.g. {EXCEPTION_FIELD}: [{scheme}://{host}{f":{port}" if port else ""}])',
        )
