"""The redactor (issue 12 item 6): every resolved secret and every credential, in every form it may
come back in, is scrubbed from what jobsync prints: canaries for each form."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from jobsync import secrets
from jobsync.cli.common import Output

CANARIES = [
    pytest.param('canary-plain-7f3a9c01', id='plain'),
    pytest.param('ca"na\\ry\nline2-5e1f', id='quote-backslash-newline'),
    pytest.param('kanärie-密码-0b5e', id='non-ascii'),
    pytest.param('a/b+c d&e=f?g%h#i', id='url-special'),
    pytest.param('\x1b[0mcanary\tx', id='control-characters'),
]


def _learned(value: str) -> secrets.Redactor:
    redactor = secrets.Redactor()
    redactor.learn(value)
    return redactor


def _forms(value: str) -> dict[str, str]:
    """Each form as a service's error body would carry it, inside other text."""
    return {
        'raw': f'error: {value} refused',
        'json': json.dumps({'error_msg': f'bad value {value}'}),
        'json-non-ascii': json.dumps({'error_msg': f'bad value {value}'}, ensure_ascii=False),
        'json-in-json': json.dumps({'body': json.dumps({'password': value})}),
        'url-quote': f'https://h/x?u=1&p={urllib.parse.quote(value, safe="")}&z=2',
        'url-quote-slash-safe': f'https://h/{urllib.parse.quote(value)}/x',
        'url-quote-plus': f'form: a=1&password={urllib.parse.quote_plus(value)}&b=2',
        'url-lower-hex': 'q=' + urllib.parse.quote(value, safe='').replace('%2F', '%2f').replace('%22', '%22'),
    }


@pytest.mark.parametrize('value', CANARIES)
def test_every_textual_form_is_scrubbed(value: str) -> None:
    redactor = _learned(value)
    for name, text in _forms(value).items():
        scrubbed = redactor.scrub(text)
        assert secrets.MASK in scrubbed, name
        for form in secrets.encoded_forms(value):
            assert form not in scrubbed, (name, form, scrubbed)


@pytest.mark.parametrize('value', CANARIES)
@pytest.mark.parametrize('offset', [0, 1, 2, 4, 5])
@pytest.mark.parametrize('encode', [base64.b64encode, base64.urlsafe_b64encode], ids=['standard', 'urlsafe'])
def test_base64_is_scrubbed_at_any_offset_inside_a_longer_payload(value: str, offset: int, encode: object) -> None:
    assert callable(encode)
    raw = value.encode()
    payload = encode(b'{"user":"x"'[:offset] + raw + b'","more":"tail"}').decode()
    scrubbed = _learned(value).scrub(f'Basic {payload}')
    assert secrets.MASK in scrubbed
    # No run of characters that depend on the secret alone survives.
    first = -(-offset * 4 // 3) + 1
    last = (offset + len(raw)) * 4 // 3 - 1
    secret_only = payload[first:last]
    for i in range(0, max(1, len(secret_only) - 5)):
        assert secret_only[i:i + 6] not in scrubbed, (i, secret_only, scrubbed)


def test_a_whole_base64_value_is_scrubbed_padded_or_not() -> None:
    value = 'canary-b64-9d2e'
    redactor = _learned(value)
    padded = base64.b64encode(value.encode()).decode()
    assert redactor.scrub(padded) == secrets.MASK
    assert redactor.scrub(padded.rstrip('=')) == secrets.MASK


def test_credentials_are_known_before_any_command_uses_them() -> None:
    env = {'HUAWEICLOUD_SDK_AK': 'AKCANARY0123456789', 'HUAWEICLOUD_SDK_SK': 'sk/canary+secret=',
           'HUAWEICLOUD_SDK_SECURITY_TOKEN': 'sectoken-canary', 'JOBSYNC_DATAARTS_TOKEN': 'MIIcanary"token',
           'JOBSYNC_PLAN_KEY': 'plan-key-canary', 'OTHER': 'not-a-credential'}
    redactor = secrets.Redactor.for_credentials(env)
    for name, value in env.items():
        text = json.dumps({'echo': value}) + urllib.parse.quote_plus(value) + base64.b64encode(value.encode()).decode()
        leaked = value in redactor.scrub(text) or json.dumps(value)[1:-1] in redactor.scrub(text)
        assert leaked is (name == 'OTHER'), name


def test_the_cli_output_scrubs_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv('JOBSYNC_DATAARTS_TOKEN', 'MIIE-canary-token/+=')
    output = Output()
    output.err(json.dumps({'error': 'token MIIE-canary-token/+= expired'}) + '\n')
    output.out(f'GET /x?token={urllib.parse.quote("MIIE-canary-token/+=", safe="")}\n')
    captured = capsys.readouterr()
    assert 'canary' not in captured.out + captured.err
    assert captured.err.count(secrets.MASK) == 1 and captured.out.count(secrets.MASK) == 1


def test_short_or_repeated_values_are_learned_once() -> None:
    redactor = secrets.Redactor()
    redactor.learn('canary-x1')
    forms = list(redactor._forms)
    redactor.learn('canary-x1')
    assert redactor._forms == forms
    assert redactor.scrub('the word canary alone') == 'the word canary alone'
