from __future__ import annotations

from pathlib import Path

import pytest

from jobsync import secrets
from jobsync.errors import SecretError


def test_reference_inside_a_longer_string() -> None:
    value = secrets.parse_text('jdbc:mysql://etl:${secret:env:DB_PW}@db:3306/x')
    assert isinstance(value, secrets.SecretText)
    assert value.refs == (secrets.SecretRef('env', 'DB_PW'),)
    assert str(value) == 'jdbc:mysql://etl:${secret:env:DB_PW}@db:3306/x'
    resolver = secrets.default_resolver(secrets.Redactor(), {'DB_PW': 'hunter22'})
    assert secrets.fill_secrets({'url': value}, resolver) == {'url': 'jdbc:mysql://etl:hunter22@db:3306/x'}


def test_plain_strings_stay_strings() -> None:
    assert secrets.parse_placeholders({'a': ['x', '${var:Y}']}) == {'a': ['x', '${var:Y}']}


def test_missing_env_names_the_reference_only() -> None:
    resolver = secrets.default_resolver(secrets.Redactor(), {})
    with pytest.raises(SecretError, match=r'\$\{secret:env:NOPE\}'):
        resolver.resolve(secrets.SecretRef('env', 'NOPE'))
    assert resolver.missing({secrets.SecretRef('env', 'NOPE')}) == [secrets.SecretRef('env', 'NOPE')]


def test_file_provider_strips_one_newline_and_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / 'dws').mkdir()
    (tmp_path / 'dws' / 'password').write_text('s3cret-value\n\n')
    resolver = secrets.default_resolver(secrets.Redactor(), {}, tmp_path)
    assert resolver.resolve(secrets.SecretRef('file', 'dws/password')) == 's3cret-value\n'
    for bad in ('/etc/passwd', '../outside'):
        with pytest.raises(SecretError, match='relative'):
            resolver.resolve(secrets.SecretRef('file', bad))


def test_short_values_are_refused_and_resolved_values_scrubbed() -> None:
    redactor = secrets.Redactor()
    resolver = secrets.default_resolver(redactor, {'SHORT': 'abc', 'LONG': 'canary-1234'})
    with pytest.raises(SecretError, match='shorter than 4'):
        resolver.resolve(secrets.SecretRef('env', 'SHORT'))
    resolver.resolve(secrets.SecretRef('env', 'LONG'))
    assert redactor.scrub('error: bad password canary-1234 for user') == 'error: bad password ******** for user'
