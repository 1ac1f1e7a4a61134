"""Colour for the text plan on a terminal: the markers `+ ~ - ! >` and the summary line. Pure.

Applied after escaping (escape.text would make the ANSI codes visible), and only when the CLI
decided the stream is a terminal that wants colour (cli/terminal.py); files, pipes and NO_COLOR
get the plain text, byte for byte.
"""

from __future__ import annotations

RESET = '\x1b[0m'
# git's and terraform's habits: green adds, red removes, yellow changes, bold red conflicts.
MARKER = {'+': '\x1b[32m', '-': '\x1b[31m', '~': '\x1b[33m', '!': '\x1b[1;31m', '>': '\x1b[36m'}
HUNK = '\x1b[36m'
SUMMARY = '\x1b[1m'


def paint_plan(text: str) -> str:
    """`text` (a rendered plan or apply result) with each marked line in its marker's colour."""
    return ''.join(_paint_line(line) for line in text.splitlines(keepends=True))


def _paint_line(line: str) -> str:
    body = line.rstrip('\n')
    end = line[len(body):]
    stripped = body.lstrip(' ')
    if stripped.startswith('@@'):
        code = HUNK
    elif stripped.startswith(('Plan:', 'Apply:', 'Run:', 'Stop:', 'Delete:')):
        code = SUMMARY
    else:
        code = MARKER.get(stripped[:1], '')
    if not code:
        return line
    indent = body[:len(body) - len(stripped)]
    return f'{indent}{code}{stripped}{RESET}{end}'
