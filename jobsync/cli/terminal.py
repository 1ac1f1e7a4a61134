"""What the streams are: a terminal that wants colour or a live display, or a file or pipe.

Colour follows the NO_COLOR convention (https://no-color.org: set and not empty means none) and
`TERM=dumb`; a live display needs stderr to be a terminal. Files, pipes and CI logs get plain
text, so what a pipeline reads never holds an escape code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # imported for a terminal only
    from rich.console import Console


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream is no terminal
        return False


def wants_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Whether text written to `stream` may carry colour."""
    return _is_tty(stream) and not env.get('NO_COLOR') and env.get('TERM') != 'dumb'


def live_console(stream: TextIO, env: Mapping[str, str]) -> Console | None:
    """A rich console for a live display on `stream` (stderr), or None when it is no terminal."""
    if not _is_tty(stream) or env.get('TERM') == 'dumb':
        return None
    from rich.console import Console

    return Console(file=stream, no_color=bool(env.get('NO_COLOR')), highlight=False, emoji=False,
                   markup=False)
