"""Escaping of names and content that come from git or a workspace, for every renderer. Pure.

Names, reasons and script content reach a terminal or a pull-request comment; both are
attackable (issue 12 item 8). In text output every control character (C0 but newline and tab,
DEL, C1 such as the one-byte CSI U+009B) and every bidi control (U+202A-202E, U+2066-2069 and
the marks U+200E, U+200F, U+061C) is shown as a visible `\\xNN` / `\\uNNNN` escape, so no ESC,
CSI or OSC sequence, CR, BEL or NUL from workspace content can move the cursor, colour a line,
set a title or hide text. Markdown takes the same escapes, and code spans and fences are sized
so that a backtick in a name or content cannot end them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# Line separators other than \n are controls too: str.splitlines() would split on them, a
# terminal moves on them (\x0b, \x0c, \x85, U+2028, U+2029).
_UNSAFE = re.compile('[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]')
_UNSAFE_IN_LINE = re.compile('[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]')
# Inside JSON strings: json.dumps already escapes C0; these it leaves raw.
_UNSAFE_JSON = re.compile('[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]')


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f'\\x{code:02x}' if code < 0x100 else f'\\u{code:04x}'


def text(output: str) -> str:
    """Rendered text (many lines) with every control and bidi character but newline and tab made visible."""
    return _UNSAFE.sub(_visible, output)


def line(value: str) -> str:
    """One value on one line: as `text`, and a newline shown as `\\x0a` too (a name, a reason)."""
    return _UNSAFE_IN_LINE.sub(_visible, value)


def join_lines(lines: Iterable[str]) -> str:
    """Rendered lines as text output: each made safe with `line` (an embedded newline cannot start a
    line of its own, such as a fake `Plan: 0 to create`), one newline after each."""
    return ''.join(f'{line(value)}\n' for value in lines)


def json_text(document: str) -> str:
    """A JSON document whose strings hold no raw DEL, C1 or bidi character (each as a `\\uNNNN` escape).

    Those characters can only stand inside JSON strings, where `\\uNNNN` means the same value.
    """
    return _UNSAFE_JSON.sub(lambda m: f'\\u{ord(m.group()):04x}', document)


def longest_backticks(lines: Iterable[str]) -> int:
    return max((len(m) for value in lines for m in re.findall(r'`+', value)), default=0)


def fence(lines: Iterable[str]) -> str:
    """A code fence longer than any run of backticks in `lines` (at least three)."""
    return '`' * max(3, longest_backticks(lines) + 1)


def md_code(value: str, *, table: bool = False) -> str:
    """`value` as a markdown code span that no backtick inside can end; `table`: also safe in a table cell."""
    shown = line(value)
    ticks = '`' * (longest_backticks([shown]) + 1)
    # CommonMark strips one space on each side, so padding keeps a leading or trailing backtick apart.
    pad = ' ' if shown.startswith('`') or shown.endswith('`') or not shown.strip() else ''
    span = f'{ticks}{pad}{shown}{pad}{ticks}'
    return span.replace('|', '\\|') if table else span


# Characters that make links, code or table cells in markdown, as HTML entities: inert both in markdown and in an HTML
# block such as `<summary>` (where a backslash escape would show as a backslash).
_MD_ENTITIES = str.maketrans({c: f'&#{ord(c)};' for c in '\\`[]|'})


def md_text(value: str) -> str:
    """Free text (a reason, a note) for markdown or HTML: one line, no markup of its own."""
    return html.escape(line(value), quote=False).translate(_MD_ENTITIES)


def md_inline(value: str) -> str:
    """Like `md_text`, but `name` spans written by jobsync itself become `<code>name</code>`."""
    parts = re.split(r'`([^`]+)`', html.escape(line(value), quote=False))
    return ''.join(part.translate(_MD_ENTITIES) if i % 2 == 0 else f'<code>{part.translate(_MD_ENTITIES)}</code>'
                   for i, part in enumerate(parts))


def html_code(value: str) -> str:
    """`value` inside `<code>` in an HTML context (a `<summary>`): one line, escaped."""
    return f'<code>{html.escape(line(value))}</code>'
