"""SDK-HMAC-SHA256 signing: the reference's test vectors (§2.2), canonical forms, verification.

The comparison with the official SDK's own signer over many generated requests is in
test_sdk_fidelity.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobsync.workspace import signer

AK = 'AKEXAMPLE0000000'
SK = 'SKEXAMPLE0000000000000000000000000000000'
PID = '0123456789abcdef0123456789abcdef'
HOST = 'dayu-dlf.cn-north-4.myhuaweicloud.com'
WHEN = datetime(2025, 1, 1, tzinfo=timezone.utc)


def test_reference_vector_post_batch_export():
    signed = signer.sign(
        AK, SK, method='POST', host=HOST, path=f'/v1/{PID}/jobs/batch-export',
        headers={'Content-Type': 'application/json;charset=UTF-8', 'workspace': 'ws0001', 'X-Project-Id': PID,
                 'X-Sdk-Date': '20250101T000000Z'},
        body=b'{"jobList":["job_batch","job_stream"],"exportDepend":true}',
    )
    assert signed.canonical_request == (
        'POST\n'
        f'/v1/{PID}/jobs/batch-export/\n'
        '\n'
        'content-type:application/json;charset=UTF-8\n'
        f'host:{HOST}\n'
        'workspace:ws0001\n'
        f'x-project-id:{PID}\n'
        'x-sdk-date:20250101T000000Z\n'
        '\n'
        'content-type;host;workspace;x-project-id;x-sdk-date\n'
        '3d520f1c69cc2138e5310b51b97d133552c82482ea50ca4babb78ab4a7529425'
    )
    assert signed.string_to_sign == (
        'SDK-HMAC-SHA256\n20250101T000000Z\n0082e47df10132f8d700602bade079fc0fbf59dc601d4d1c16686b85a5f82a85')
    assert signed.headers['Authorization'] == (
        'SDK-HMAC-SHA256 Access=AKEXAMPLE0000000, SignedHeaders=content-type;host;workspace;x-project-id;x-sdk-date, '
        'Signature=f913527f921fd0312b4a7ef195bf2074777b0cbc4bc153f4e85dc57e238341ac')
    assert signed.headers['Host'] == HOST


def test_reference_vector_get_with_query():
    signed = signer.sign(
        AK, SK, method='GET', host=HOST, path=f'/v1/{PID}/jobs',
        query=[('jobName', 'a b/c'), ('jobType', 'BATCH'), ('limit', 100), ('offset', 0)],
        headers={'Content-Type': 'application/json', 'X-Sdk-Date': '20250101T000000Z'},
    )
    assert signed.query == 'jobName=a%20b%2Fc&jobType=BATCH&limit=100&offset=0'
    assert signed.headers['Authorization'].endswith(
        'SignedHeaders=content-type;host;x-sdk-date, '
        'Signature=dbfa308186d65e68df9c6b6bfddda8127636336f84a3309ff3fe603d7999464d')


@pytest.mark.parametrize(('path', 'expected'), [
    ('/v1/p/jobs', '/v1/p/jobs/'),
    ('/v1/p/jobs/', '/v1/p/jobs/'),
    ('/v1/pid/jobs/%E4%BD%9C%E4%B8%9A_1', '/v1/pid/jobs/%E4%BD%9C%E4%B8%9A_1/'),
    ('/v1/pid/jobs/作业_1', '/v1/pid/jobs/%E4%BD%9C%E4%B8%9A_1/'),
    ('/v1/p/jobs/a%20b', '/v1/p/jobs/a%20b/'),
    ('/v1/p/x~y.z-_', '/v1/p/x~y.z-_/'),
    # A %2F inside a name is unquoted and then split like any other `/`, as the SDK does.
    ('/v1/p/jobs/a%2Fb', '/v1/p/jobs/a/b/'),
], ids=['trailing-slash-added', 'kept', 'encoded-utf8', 'raw-utf8', 'space', 'unreserved', 'encoded-slash'])
def test_canonical_uri(path, expected):
    assert signer.canonical_uri(path) == expected


@pytest.mark.parametrize(('pairs', 'expected'), [
    ([], ''),
    ([('b', '2'), ('a', '1')], 'a=1&b=2'),
    ([('a', '2'), ('a', '1')], 'a=1&a=2'),
    ([('flag', True), ('off', False)], 'flag=true&off=false'),
    ([('tags', ['y', 'x'])], 'tags=x&tags=y'),
    ([('q', 'a+b c~d*')], 'q=a%2Bb%20c~d%2A'),
    ([('name', '作业')], 'name=%E4%BD%9C%E4%B8%9A'),
], ids=['empty', 'sorted', 'same-key-by-value', 'booleans', 'list', 'reserved', 'utf8'])
def test_canonical_query(pairs, expected):
    assert signer.canonical_query(pairs) == expected


def test_parse_query_keeps_plus_and_decodes_percent():
    assert signer.parse_query('a=1%202&b=x+y&c=&d') == [('a', '1 2'), ('b', 'x+y'), ('c', ''), ('d', '')]


def test_headers_with_underscores_are_not_signed():
    signed = signer.sign(AK, SK, method='GET', host=HOST, path='/v1/p/jobs',
                         headers={'X_Custom': 'x', 'X-Language': 'en-us'}, now=WHEN)
    assert 'SignedHeaders=host;x-language;x-sdk-date,' in signed.headers['Authorization']
    assert signed.headers['X-Sdk-Date'] == '20250101T000000Z'


def test_unsigned_payload_header_replaces_the_body_hash():
    headers = {'Content-Type': 'multipart/form-data', 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD',
               'X-Sdk-Date': '20250101T000000Z'}
    signed = signer.sign(AK, SK, method='POST', host=HOST, path='/v1/p/x', headers=headers, body=b'data')
    assert signed.canonical_request.endswith('\nUNSIGNED-PAYLOAD')
    empty = signer.sign(AK, SK, method='POST', host=HOST, path='/v1/p/x', headers=headers, body=b'')
    assert empty.canonical_request.endswith('\n' + signer.EMPTY_HASH)


# --- verification ------------------------------------------------------------------------------


def _signed_request(body: bytes = b'{"a":1}', when: datetime = WHEN) -> dict:
    signed = signer.sign(AK, SK, method='POST', host='127.0.0.1:8443', path='/v1/p/jobs/%E4%BD%9C',
                         query=[('x', 'a b')], headers={'Content-Type': 'application/json', 'workspace': 'w'},
                         body=body, now=when)
    return {'method': 'POST', 'path': '/v1/p/jobs/%E4%BD%9C', 'query': signed.query,
            'headers': signed.headers, 'body': body}


def _verify(request: dict, *, now: datetime = WHEN, keys: dict | None = None) -> str:
    return signer.verify(**request, secret_for=(keys if keys is not None else {AK: SK}).get, now=now)


def test_verify_accepts_what_sign_made():
    assert _verify(_signed_request()) == AK


@pytest.mark.parametrize(('tamper', 'reason'), [
    (lambda r: r.update(body=b'{"a":2}'), 'verify aksk signature fail'),
    (lambda r: r.update(method='PUT'), 'verify aksk signature fail'),
    (lambda r: r.update(query='x=a%20c'), 'verify aksk signature fail'),
    (lambda r: r['headers'].update(workspace='other'), 'verify aksk signature fail'),
    (lambda r: r['headers'].pop('workspace'), "signed header 'workspace' is not in the request"),
    (lambda r: r['headers'].pop('X-Sdk-Date'), 'X-Sdk-Date header is missing'),
    (lambda r: r['headers'].update(Authorization='V11-HMAC-SHA256 Credential=x'), 'unsupported signing algorithm'),
    (lambda r: r['headers'].update(Authorization='SDK-HMAC-SHA256 Access=AK'), 'lacks SignedHeaders, Signature'),
], ids=['body', 'method', 'query', 'signed-header-value', 'signed-header-gone', 'no-date', 'algorithm', 'malformed'])
def test_verify_refuses_a_tampered_request(tamper, reason):
    request = _signed_request()
    tamper(request)
    with pytest.raises(signer.SignatureError, match=reason):
        _verify(request)


def test_verify_refuses_unknown_keys_and_wrong_secrets():
    with pytest.raises(signer.SignatureError, match='unknown access key'):
        _verify(_signed_request(), keys={})
    with pytest.raises(signer.SignatureError, match='signature fail'):
        _verify(_signed_request(), keys={AK: 'another-secret'})


def test_verify_allows_15_minutes_of_clock_skew_and_no_more():
    request = _signed_request()
    assert _verify(request, now=WHEN + timedelta(minutes=15)) == AK
    assert _verify(request, now=WHEN - timedelta(minutes=15)) == AK
    with pytest.raises(signer.SignatureError, match='signature expired'):
        _verify(request, now=WHEN + timedelta(minutes=15, seconds=1))


def test_verify_needs_the_date_among_signed_headers():
    request = _signed_request()
    auth = request['headers']['Authorization'].replace(';x-sdk-date', '')
    request['headers']['Authorization'] = auth
    with pytest.raises(signer.SignatureError, match='not among the signed headers'):
        _verify(request)


def test_sign_needs_both_keys():
    with pytest.raises(ValueError, match='both an access key'):
        signer.sign('', SK, method='GET', host=HOST, path='/')


_text = st.text(alphabet=st.characters(blacklist_categories=['Cs'], blacklist_characters='\x00'), max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(['GET', 'POST', 'PUT', 'DELETE']),
    segments=st.lists(_text.filter(lambda s: '/' not in s and s not in ('.', '..')), min_size=1, max_size=4),
    query=st.lists(st.tuples(_text.filter(bool), _text), max_size=4),
    body=st.binary(max_size=64),
    workspace=_text.map(str.strip).filter(lambda s: s and '\r' not in s and '\n' not in s),
)
def test_sign_then_verify_round_trips(method, segments, query, body, workspace):
    from urllib.parse import quote

    path = '/' + '/'.join(quote(s, safe='') for s in segments)
    signed = signer.sign(AK, SK, method=method, host='127.0.0.1:1', path=path, query=query,
                         headers={'Content-Type': 'application/json', 'workspace': workspace}, body=body, now=WHEN)
    assert signer.verify(method=method, path=path, query=signed.query, headers=signed.headers, body=body,
                         secret_for={AK: SK}.get, now=WHEN) == AK
