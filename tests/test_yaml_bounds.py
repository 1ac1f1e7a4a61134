"""Bounded YAML and JSON (issue 12 item 5): every hostile file is a diagnostic naming file and line.

Each case from the issue (an alias bomb, a control character, deep nesting, a 4,300-digit
integer, a recursive alias) and the bounds around them, through both parsers (libyaml and the
pure-Python fallback), through `load_repo` (the other files are still checked) and once through
the real command (exit 1, no internal error).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE_REPO, run_jobsync
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobsync import yamlio
from jobsync.errors import ConfigError, JobsyncError
from jobsync.gitrepo import Snapshot
from jobsync.load import load_repo


def _alias_bomb() -> bytes:
    """The classic billion laughs, 446 bytes as in the issue: 9^9 strings once expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip('abcdefgh', 'bcdefghi', strict=True):
        lines.append(f'{name}: &{name} [' + ','.join([f'*{prev}'] * 9) + ']')
    return ('\n'.join(lines) + '\n').encode()


HOSTILE: dict[str, tuple[bytes, int, str]] = {
    # name: (file content, line the diagnostic names, words it says)
    'alias-bomb': (_alias_bomb(), 2, 'YAML aliases are not allowed in definitions'),
    'recursive-alias': (b'processType: BATCH\nnodes: &n [*n]\n', 2, 'YAML aliases are not allowed in definitions'),
    'alias-key': (b'a: &k x\n*k : 1\n', 2, 'YAML aliases are not allowed in definitions'),
    'merge-key': (b'base: {a: 1}\nother:\n  <<: {b: 2}\n', 3, 'merge keys (<<) are not allowed'),
    'control-character': (b'processType: BATCH\ndirectory: /a\x01b\n', 2, 'control character U+0001'),
    'nul': (b'processType: BATCH\n\x00\n', 2, 'control character U+0000'),
    'escape-sequence': (b'processType: BATCH\n\n\ndirectory: "\x1b[32m"\n', 4, 'control character U+001B'),
    'c1-control': ('directory: a\u009bb\n'.encode(), 1, 'control character U+009B'),
    'deep-flow': (b'nodes: ' + b'[' * 950 + b']' * 950 + b'\n', 1, 'nested deeper than 64 levels'),
    'deep-block': (b'- ' * 900 + b'x\n', 1, 'nested deeper than 64 levels'),
    'deeper-than-libyaml': (b'\n' + b'[' * 5000, 2, 'nesting depth'),
    'big-integer': (b'processType: BATCH\nretryTimes: ' + b'7' * 4300 + b'\n', 2, 'a number of 4,300 characters'),
    'big-hex': (b'retryTimes: 0x' + b'f' * 5000 + b'\n', 1, 'is too long'),
    'binary-tag': (b'processType: BATCH\nx: !!binary aGk=\n', 2, 'YAML tag !!binary is not allowed'),
    'python-tag': (b'x: !!python/object:os.system ls\n', 1, 'YAML tag !!python/object:os.system is not allowed'),
    'set-tag': (b'x: !!set {a, b}\n', 1, 'YAML tag !!set is not allowed'),
    'local-tag': (b'\nx: !secret y\n', 2, 'YAML tag !secret is not allowed'),
    'list-key': (b'? [a, b]\n: 1\n', 1, 'a mapping key must be text'),
    'two-documents': (b'a: 1\n---\nb: 2\n', 2, 'one YAML document'),
    'syntax': (b'a: [1, 2\nb: 3\n', 2, 'YAML syntax error'),
}

JSON_HOSTILE: dict[str, tuple[bytes, int, str]] = {
    'json-big-integer': (b'{"retryTimes":\n' + b'1' * 4300 + b'}', 2, 'a number of 4,300 characters'),
    'json-deep': (b'{"a":\n' + b'[' * 100 + b']' * 100 + b'}', 2, 'nested deeper than 64 levels'),
    'json-deeper-than-python': (b'\n\n' + b'[' * 100_000 + b']' * 100_000, 3, 'nested deeper than 64 levels'),
    'json-control-character': (b'{"name":\n"a\x07b"}', 2, 'control character U+0007'),
    'json-syntax': (b'{"a": 1,\n}', 2, 'JSON syntax error'),
}


@pytest.fixture(params=['libyaml', 'pure-python'])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both parsers give the same answers: libyaml where pyyaml has it, pyyaml's own otherwise."""
    if request.param == 'libyaml':
        if not yaml.__with_libyaml__:
            pytest.skip('pyyaml was built without libyaml')
        assert yamlio.USING_LIBYAML
    else:
        monkeypatch.setattr(yamlio, '_Loader', yamlio._PyLoader)
    yield str(request.param)


@pytest.mark.parametrize('name', [*HOSTILE, *JSON_HOSTILE])
def test_hostile_file_is_one_diagnostic_naming_file_and_line(name: str, loader: str) -> None:
    raw, line, words = {**HOSTILE, **JSON_HOSTILE}[name]
    if name == 'deeper-than-libyaml' and loader == 'pure-python':
        words = 'nested deeper than 64 levels'  # libyaml stops at 1,000 levels with its own words
    path = 'jobs/x.json' if name.startswith('json') else 'jobs/x.yaml'
    doc, problems = yamlio.parse(path, raw)
    assert doc is None
    assert len(problems) == 1, problems
    assert problems[0].severity == 'error' and words in problems[0].summary, problems[0]
    assert problems[0].where == f'{path}:{line}', problems[0]


def test_a_file_over_the_size_bound_is_refused_unread() -> None:
    raw = b'content: "' + b'x' * yamlio.MAX_DOCUMENT_BYTES + b'"\n'
    doc, problems = yamlio.parse('scripts/big.yaml', raw)
    assert doc is None and 'a definition may be at most 4,194,304' in problems[0].summary
    assert problems[0].where == 'scripts/big.yaml'


@pytest.mark.parametrize('path', ['jobs/many.yaml', 'jobs/many.json'])
def test_too_many_values_are_refused(path: str) -> None:
    raw = b'[' + b'1,' * yamlio.MAX_NODES + b'1]'
    doc, problems = yamlio.parse(path, raw)
    assert doc is None and f'more than {yamlio.MAX_NODES:,} values' in problems[0].summary


def test_bounds_leave_ordinary_yaml_alone(loader: str) -> None:
    raw = (b'# a comment\non: yes\n1: 2\n~: null\nhex: 0x1F\nunderscore: 1_000\nsexagesimal: 1:30\n'
           b'float: 1.5e+3\ndate: 2025-01-01\nquoted: "\\x1b is written as an escape"\n'
           b'unused_anchor: &a 5\nnested: ' + b'[' * 63 + b']' * 63 + b'\n')  # 64 levels with the root
    doc, problems = yamlio.parse('jobs/ok.yaml', raw)
    assert problems == [] and doc is not None
    data = doc.data
    # Keys are text, as JSON's are: `on` is the key 'on' (its value YAML 1.1's true).
    assert data['on'] is True and data['1'] == 2 and data['~'] is None
    assert (data['hex'], data['underscore'], data['sexagesimal']) == (31, 1000, 90)
    assert data['float'] == 1500.0 and data['date'] == '2025-01-01'
    assert data['quoted'].startswith('\x1b') and data['unused_anchor'] == 5
    assert doc.where('/nested') == 'jobs/ok.yaml:12#/nested'


def test_a_number_json_cannot_carry_is_refused_with_its_line(loader: str) -> None:
    # NaN and infinity are no JSON numbers: the service cannot store them, and JSON text of a plan
    # or a hash would have to invent a word for them.
    for raw, shown in ((b'a: 1\nb: .nan\n', '.nan'), (b'a: 1\nb: -.Inf\n', '-.Inf')):
        doc, problems = yamlio.parse('jobs/n.yaml', raw)
        assert doc is None
        assert [(p.summary, p.where) for p in problems] == [
            (f'{shown} is not a number JSON can carry', 'jobs/n.yaml:2')]
    for text in ('NaN', '-Infinity', '1e999'):
        doc, problems = yamlio.parse('jobs/n.json', f'{{"a": 1,\n "b": {text}}}'.encode())
        assert doc is None
        assert [(p.summary, p.where) for p in problems] == [(f'{text} is not a number JSON can carry', 'jobs/n.json:2')]


def test_duplicate_keys_keep_their_line(loader: str) -> None:
    doc, problems = yamlio.parse('jobs/d.yaml', b'a: 1\nb:\n  c: 1\n  c: 2\n')
    assert doc is not None and doc.data == {'a': 1, 'b': {'c': 2}}
    assert [(p.summary, p.where) for p in problems] == [("duplicate key 'c'", 'jobs/d.yaml:4#/b/c')]


def test_every_example_file_parses_the_same_with_both_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(p for p in EXAMPLE_REPO.rglob('*') if p.suffix in ('.yaml', '.yml', '.json', '.job'))
    with_c = [yamlio.parse(p.name, p.read_bytes()) for p in files]
    monkeypatch.setattr(yamlio, '_Loader', yamlio._PyLoader)
    with_python = [yamlio.parse(p.name, p.read_bytes()) for p in files]
    assert with_c == with_python
    for p, (doc, problems) in zip(files, with_c, strict=True):
        assert doc is not None and problems == [], p
        if p.suffix != '.job':
            assert doc.data == yaml.load(p.read_text(), Loader=yamlio._PyLoader)


# Scalars whose plain spelling pyyaml resolves to something other than text, and near misses.
_TRICKY_WORDS = ['yes', 'No', 'on', 'OFF', 'true', 'False', '~', 'null', 'Null', '', '0', '-1', '+7', '0o17', '017',
                 '0x1F', '0b101', '1_000', '1:30', '3.5', '.5', '1e3', '1.0e+3', '.inf', '-.Inf', '.nan',
                 '2025-01-01', '12:30:00', 'BATCH', '#{Job.planTime}', '0 0 2 * * ?', 'a: b', '- x', "it's"]
_scalars = st.one_of(st.sampled_from(_TRICKY_WORDS), st.text(max_size=12), st.integers(-10**6, 10**6),
                     st.booleans(), st.none(), st.floats(allow_nan=False, allow_infinity=False))
_documents = st.dictionaries(
    st.one_of(st.sampled_from(_TRICKY_WORDS), st.text(min_size=1, max_size=8)),
    st.recursive(_scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4)),
        max_leaves=12),
    max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_documents, style=st.sampled_from([None, False, True, "'", '"']))
def test_yaml_reads_as_pyyaml_reads_it(data: dict[str, object], style: bool | str | None, loader: str) -> None:
    """The event builder resolves scalars as pyyaml's own loader does (its cached plain-scalar tags
    included), with and without lines; written plain, quoted or in flow style."""
    if isinstance(style, bool) or style is None:
        text = yaml.safe_dump(data, default_flow_style=style, allow_unicode=True)
    else:
        text = yaml.safe_dump(data, default_style=style, allow_unicode=True)
    raw = text.encode()
    expected = yaml.load(text, Loader=yamlio._PyLoader)
    for lines in (False, True):
        doc, problems = yamlio.parse('jobs/p.yaml', raw, lines=lines)
        if doc is None:  # a bound or a refused number: the same refusal either way
            assert problems and problems == yamlio.parse('jobs/p.yaml', raw, lines=not lines)[1]
            continue
        assert problems == [] and doc.data == expected, text


@pytest.mark.parametrize('word', _TRICKY_WORDS)
def test_a_plain_word_reads_as_pyyaml_reads_it(word: str, loader: str) -> None:
    text = f'k: {word}\nl: [{word}]\n' if word and word[0] not in '#-' and ': ' not in word else f'k: "{word}"\n'
    try:
        expected = yaml.load(text, Loader=yamlio._PyLoader)
    except yaml.YAMLError:
        return
    doc, problems = yamlio.parse('jobs/w.yaml', text.encode())
    if doc is None:  # .inf and .nan: JSON cannot carry them
        assert problems and 'not a number JSON can carry' in problems[0].summary
        return
    assert doc.data == expected


def _repo_with(hostile: dict[str, bytes]) -> dict[str, bytes]:
    """A small repo: one valid script, a job with a dangling reference, and the hostile files."""
    return {
        'scripts/good.yaml': b'type: Shell\nconnectionName: host\n', 'scripts/good.sh': b'echo hi\n',
        'jobs/daily.yaml': (b'processType: BATCH\nschedule: {type: EXECUTE_ONCE}\nnodes:\n  - name: a\n'
                            b'    type: Shell\n    properties: {scriptName: missing_script}\n'),
        **hostile,
    }


def test_validation_goes_on_with_the_other_files() -> None:
    hostile = {f'jobs/{name}.yaml': raw for name, (raw, _, _) in HOSTILE.items()}
    hostile.update({f'jobs/{name}.job': raw for name, (raw, _, _) in JSON_HOSTILE.items()})
    with pytest.raises(ConfigError) as info:
        load_repo(Snapshot(Path('/repo'), 'test', _repo_with(hostile)))
    said = [str(d) for d in info.value.diagnostics]
    for name, (_, line, _words) in HOSTILE.items():
        assert any(f'jobs/{name}.yaml:{line}' in d for d in said), (name, said)
    for name, (_, line, _words) in JSON_HOSTILE.items():
        assert any(f'jobs/{name}.job:{line}' in d for d in said), (name, said)
    assert any("script 'missing_script' is not defined" in d for d in said)


def test_validate_command_reports_hostile_files_with_exit_1(tmp_path: Path) -> None:
    repo = tmp_path / 'repo'
    files = _repo_with({'jobs/bomb.yaml': HOSTILE['alias-bomb'][0], 'jobs/ctl.yaml': HOSTILE['nul'][0],
                        'jobs/int.yaml': HOSTILE['big-integer'][0], 'jobs/rec.yaml': HOSTILE['recursive-alias'][0],
                        'jobs/deep.yaml': HOSTILE['deep-flow'][0]})
    for rel, raw in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    result = run_jobsync('validate', '--repo', str(repo))
    assert result.code == 1, result
    assert 'Internal error' not in result.stderr and 'Traceback' not in result.stderr
    for rel in ('jobs/bomb.yaml:2', 'jobs/ctl.yaml:2', 'jobs/int.yaml:2', 'jobs/rec.yaml:2', 'jobs/deep.yaml:1'):
        assert rel in result.stderr, (rel, result)
    assert "script 'missing_script' is not defined" in result.stderr


# --- fuzz: mutated example files never give an internal error -------------------------------------

EXAMPLE_FILES = {p.relative_to(EXAMPLE_REPO).as_posix(): p.read_bytes()
                 for p in sorted(EXAMPLE_REPO.rglob('*')) if p.is_file()}
DEFINITIONS = sorted(rel for rel in EXAMPLE_FILES if rel.endswith(('.yaml', '.job')))
SNIPPETS = [b'&a ', b'*a', b'<<: ', b'!!binary ', b'!x ', b'\x00', b'\x1b', b'\t', b'[', b']', b'{', b'}', b'"', b"'",
            b'- ', b': ', b'\n', b'\n  ', b'---\n', b'? ', b'|\n', b'9' * 5000, b'\xff', b'\xe2\x80\xae', b'#',
            b'${var:', b'${secret:env:X}', b'~', b'null', b'0x', b'1e999', b'.nan', b'{"a":']


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(DEFINITIONS))
    raw = bytearray(EXAMPLE_FILES[rel])
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 4))):
        at = rng.randrange(len(raw) + 1)
        op = draw(st.sampled_from(['insert', 'delete', 'duplicate', 'flip']))
        if op == 'insert':
            raw[at:at] = draw(st.sampled_from(SNIPPETS))
        elif op == 'delete':
            del raw[at:at + rng.randrange(1, 40)]
        elif op == 'duplicate':
            raw[at:at] = raw[at:at + rng.randrange(1, 200)] * rng.randrange(1, 4)
        elif raw:
            raw[min(at, len(raw) - 1)] = rng.randrange(256)
    return rel, bytes(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_example_files_never_give_an_internal_error(case: tuple[str, bytes]) -> None:
    rel, raw = case
    try:
        load_repo(Snapshot(Path('/repo'), 'fuzz', {**EXAMPLE_FILES, rel: raw}))
    except ConfigError as err:  # every problem says where it is
        assert all(d.where for d in err.diagnostics if d.severity == 'error'), err.diagnostics
    except JobsyncError:  # another expected failure (a mutated jobsync.yaml naming no target, say): exit 1
        pass
