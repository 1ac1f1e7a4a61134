"""AK/SK request signing, `SDK-HMAC-SHA256`, exactly as the Huawei Cloud SDK does it (reference §2.2).

Pure functions over strings and bytes: no clock, no network. The client signs with `sign`;
the emulator checks with `verify`; both build the same canonical request, so a request the
official SDK signs verifies here and a request signed here verifies at the gateway.

The canonical request is::

    METHOD \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n SignedHeaders \\n HashedPayload

* CanonicalURI: the percent-encoded path, unquoted, split on `/`, each segment re-quoted with
  `quote(seg, safe='~')`, joined, with a trailing `/` added when missing;
* CanonicalQueryString: `(key, value)` pairs sorted, each `quote(k,'~')=quote(v,'~')`, joined by `&`
  (booleans as `true`/`false`, list values one pair per element). The SDK sends exactly this
  string on the wire, so a client should too (`canonical_query`);
* CanonicalHeaders: `name:value.strip()\\n` for each signed header (lower-case names, sorted);
  SignedHeaders: those names joined by `;` (the SDK signs every header whose name has no `_`);
* HashedPayload: lower-hex SHA-256 of the body; the empty-body constant for no body; the
  `X-Sdk-Content-Sha256` header's value (`UNSIGNED-PAYLOAD`) when the body is not empty and the
  header is present.

The signature is lower-hex HMAC-SHA256 keyed with the SK itself over
`SDK-HMAC-SHA256\\n<X-Sdk-Date>\\n<hex sha256 of the canonical request>`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, unquote

ALGORITHM = 'SDK-HMAC-SHA256'
DATE_FORMAT = '%Y%m%dT%H%M%SZ'
EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
HEADER_DATE = 'X-Sdk-Date'
HEADER_CONTENT = 'X-Sdk-Content-Sha256'
MAX_SKEW_SECONDS = 15 * 60  # the gateway refuses a request signed more than 15 minutes off (§2.2)

QueryPairs = Sequence[tuple[str, Any]]


class SignatureError(Exception):
    """A request's signature cannot be accepted; the message says why (never the SK)."""


def _quote(text: str) -> str:
    return quote(text, safe='~')


def canonical_uri(path: str) -> str:
    """The path as signed: unquote, re-quote each segment (RFC 3986 unreserved kept), trailing `/`."""
    url_path = '/'.join(_quote(segment) for segment in unquote(path).split('/'))
    return url_path if url_path.endswith('/') else url_path + '/'


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def canonical_query(pairs: QueryPairs) -> str:
    """Query pairs as signed, and as the SDK sends them on the wire.

    Sorted by key then value, as the SDK sorts its `(key, value)` tuples; a list value gives one
    pair per element, in sorted order. Space becomes `%20`, `/` becomes `%2F`.
    """
    out: list[str] = []
    for key, value in _sorted(pairs):
        k = _quote(key)
        if isinstance(value, (list, tuple)):
            out.extend(f'{k}={_quote(_render(v))}' for v in _sorted(value))
        else:
            out.append(f'{k}={_quote(_render(value))}')
    return '&'.join(out)


def _sorted(items: Iterable[Any]) -> list[Any]:
    # The SDK sorts the raw Python values (`list.sort()`); values of mixed types, which it
    # would fail on, are ordered by their text instead.
    items = list(items)
    try:
        return sorted(items)
    except TypeError:
        return sorted(items, key=repr)


def parse_query(raw: str) -> list[tuple[str, str]]:
    """A received query string as pairs, percent-decoded (`+` stays `+`: the SDK encodes space as %20)."""
    pairs: list[tuple[str, str]] = []
    for part in raw.split('&'):
        if not part:
            continue
        key, _, value = part.partition('=')
        pairs.append((unquote(key), unquote(value)))
    return pairs


def signed_header_names(headers: Iterable[str]) -> list[str]:
    """Every header name without `_`, lower-cased and sorted: what the SDK signs."""
    return sorted({name.lower() for name in headers if '_' not in name})


def _header_lookup(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def canonical_headers(headers: Mapping[str, str], signed: Sequence[str]) -> str:
    """`name:value\\n` for each signed header; raises `SignatureError` if one is absent."""
    lookup = _header_lookup(headers)
    lines = []
    for name in signed:
        if name not in lookup:
            raise SignatureError(f'signed header {name!r} is not in the request')
        lines.append(f'{name}:{lookup[name].strip()}')
    return '\n'.join(lines) + '\n'


def hashed_payload(body: bytes, headers: Mapping[str, str]) -> str:
    if not body:
        return EMPTY_HASH
    declared = _header_lookup(headers).get(HEADER_CONTENT.lower())
    if declared:
        return declared
    return hashlib.sha256(body).hexdigest()


def canonical_request(
        method: str, path: str, query: str | QueryPairs, headers: Mapping[str, str],
        signed: Sequence[str], body: bytes,
) -> str:
    """The canonical request; `query` is pairs, or a raw received query string (re-canonicalised)."""
    pairs = parse_query(query) if isinstance(query, str) else query
    return '\n'.join((
        method.upper(), canonical_uri(path), canonical_query(pairs),
        canonical_headers(headers, signed), ';'.join(signed), hashed_payload(body, headers),
    ))


def string_to_sign(canonical: str, sdk_date: str) -> str:
    return f'{ALGORITHM}\n{sdk_date}\n{hashlib.sha256(canonical.encode("utf-8")).hexdigest()}'


def signature(sk: str, to_sign: str) -> str:
    return hmac.new(sk.encode('utf-8'), to_sign.encode('utf-8'), hashlib.sha256).hexdigest()


def authorization(ak: str, signed: Sequence[str], sig: str) -> str:
    return f'{ALGORITHM} Access={ak}, SignedHeaders={";".join(signed)}, Signature={sig}'


def format_date(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime(DATE_FORMAT)


@dataclass(frozen=True)
class Signed:
    """What to send: every header (the given ones plus `X-Sdk-Date`, `Host`, `Authorization`)
    and the query string for the wire (the canonical one, as the SDK sends it)."""

    headers: dict[str, str]
    query: str
    canonical_request: str
    string_to_sign: str


def sign(
        ak: str, sk: str, *, method: str, host: str, path: str, query: QueryPairs = (),
        headers: Mapping[str, str] | None = None, body: bytes = b'', now: datetime | None = None,
) -> Signed:
    """Sign a request as the SDK's `Signer.sign` does.

    `host` is the URL's netloc (with `:port` when there is one); `path` is percent-encoded as it
    goes on the wire. `X-Sdk-Date` and `Host` already in `headers` are kept; `now` (default:
    the current UTC time) dates the request otherwise.
    """
    if not ak or not sk:
        raise ValueError('both an access key (AK) and a secret key (SK) are needed to sign')
    out = dict(headers or {})
    lookup = _header_lookup(out)
    if HEADER_DATE.lower() not in lookup:
        out[HEADER_DATE] = format_date(now or datetime.now(timezone.utc))
    if 'host' not in lookup:
        out['Host'] = host
    date = _header_lookup(out)[HEADER_DATE.lower()]
    signed = signed_header_names(out)
    canonical = canonical_request(method, path, query, out, signed, body)
    to_sign = string_to_sign(canonical, date)
    out['Authorization'] = authorization(ak, signed, signature(sk, to_sign))
    return Signed(out, canonical_query(query), canonical, to_sign)


@dataclass(frozen=True)
class Authorization:
    ak: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization:
    """`SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex` → its parts."""
    algorithm, _, rest = value.strip().partition(' ')
    if algorithm != ALGORITHM:
        raise SignatureError(f'unsupported signing algorithm {algorithm!r} (only {ALGORITHM} is accepted)')
    fields: dict[str, str] = {}
    for part in rest.split(','):
        name, sep, val = part.strip().partition('=')
        if sep:
            fields[name] = val
    missing = [f for f in ('Access', 'SignedHeaders', 'Signature') if not fields.get(f)]
    if missing:
        raise SignatureError(f'Authorization header lacks {", ".join(missing)}')
    return Authorization(fields['Access'], tuple(fields['SignedHeaders'].split(';')), fields['Signature'])


def verify(
        *, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes,
        secret_for: Callable[[str], str | None], now: datetime, max_skew: int = MAX_SKEW_SECONDS,
) -> str:
    """Check a received request's signature; return its AK. Raises `SignatureError` saying why.

    `path` and `query` are the raw (percent-encoded) ones received; `secret_for` maps an AK to
    its SK (None: unknown AK). Rebuilds the canonical request from exactly the signed headers
    the request lists, compares in constant time, and refuses a date off by more than
    `max_skew` seconds (the gateway's 15 minutes).
    """
    lookup = _header_lookup(headers)
    auth = parse_authorization(lookup.get('authorization', ''))
    sk = secret_for(auth.ak)
    if sk is None:
        raise SignatureError(f'unknown access key {auth.ak}')
    date = lookup.get(HEADER_DATE.lower())
    if not date:
        raise SignatureError(f'{HEADER_DATE} header is missing')
    if HEADER_DATE.lower() not in auth.signed_headers:
        raise SignatureError(f'{HEADER_DATE} is not among the signed headers')
    try:
        when = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureError(f'{HEADER_DATE} {date!r} is not in the format {DATE_FORMAT}') from None
    if abs((now - when).total_seconds()) > max_skew:
        raise SignatureError(f'signature expired: {HEADER_DATE} {date} is more than {max_skew // 60} minutes'
                             ' from the server time')
    canonical = canonical_request(method, path, query, headers, auth.signed_headers, body)
    expected = signature(sk, string_to_sign(canonical, date))
    if not hmac.compare_digest(expected, auth.signature):
        raise SignatureError('verify aksk signature fail')
    return auth.ak
