"""The loader's two shortcuts: `subst.may_hold_placeholders` (a file it says holds no `${` yields no value
holding one) and the parse without lines (the same values, the same problems).

The loader skips its placeholder and reference walks for such files, so a false "no" would let a
`${secret:...}` reach the service unresolved or a `${var:...}` stay unfilled. Checked against the
real parsers, for text written by YAML and JSON dumpers in every style and by hand with escapes.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from jobsync import yamlio
from jobsync.subst import may_hold_placeholders

_text = st.text(alphabet='${}a:\\ \n\t"\'x', max_size=10)
_values = st.recursive(_text | st.integers(), lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(alphabet='ab', min_size=1, max_size=2), inner, max_size=3),
                       max_leaves=8)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _check(path: str, raw: bytes) -> None:
    doc, _ = yamlio.parse(path, raw)
    if doc is not None and any('${' in s for s in _strings(doc.data)):
        assert may_hold_placeholders(raw), raw


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(['a', 'b', 'c']), _values, min_size=1),
       st.sampled_from([None, '"', "'", '|', '>']), st.booleans())
def test_no_dollar_brace_in_the_file_means_none_in_its_values(doc: dict[str, Any], style: str | None,
                                                              flow: bool) -> None:
    _check('jobs/x.yaml', yaml.safe_dump(doc, default_style=style, default_flow_style=flow,
                                         allow_unicode=True, width=8).encode())
    _check('jobs/x.json', json.dumps(doc).encode())
    _check('jobs/x.json', json.dumps(doc, ensure_ascii=False).encode())


def test_escapes_and_folds_by_hand() -> None:
    for raw in (b'a: "\\x24{secret:env:X}"\n', b'a: "$\\\n  {secret:env:X}"\n', b'a: "\\u0024{var:x}"\n',
                b'{"a": "\\u0024{var:x}"}', b'a: "${var:x}"\n'):
        doc, _ = yamlio.parse('jobs/x.json' if raw.startswith(b'{') else 'jobs/x.yaml', raw)
        assert doc is not None and '${' in doc.data['a'], raw
        assert may_hold_placeholders(raw)
    for raw in (b'a: $\n  {secret:env:X}\n', b"a: '$\n\n  {x'\n"):  # folded: a space or a line break between
        doc, _ = yamlio.parse('jobs/x.yaml', raw)
        assert doc is not None and '${' not in doc.data['a']
        assert not may_hold_placeholders(raw)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(['a', 'b', 'c']), _values, min_size=1),
       st.sampled_from([None, '"', "'", '|']), st.booleans())
def test_a_parse_without_lines_reads_the_same_values(doc: dict[str, Any], style: str | None, flow: bool) -> None:
    # load.py parses without lines and parses again only for a file that has something to say.
    raw = yaml.safe_dump(doc, default_style=style, default_flow_style=flow, allow_unicode=True).encode()
    fast, fast_problems = yamlio.parse('jobs/x.yaml', raw, lines=False)
    full, full_problems = yamlio.parse('jobs/x.yaml', raw)
    assert (fast is None) == (full is None) and fast_problems == full_problems
    if fast is not None and full is not None:
        assert fast.data == full.data and fast.lines == {}


def test_a_duplicate_key_keeps_its_pointer_and_line_without_lines_asked() -> None:
    raw = b'a: 1\nb:\n  c: 1\n  c: 2\n'
    doc, problems = yamlio.parse('jobs/d.yaml', raw, lines=False)
    assert doc is not None and doc.data == {'a': 1, 'b': {'c': 2}}
    assert [(p.summary, p.where) for p in problems] == [("duplicate key 'c'", 'jobs/d.yaml:4#/b/c')]
