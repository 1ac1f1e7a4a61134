"""A `local:` workspace file that does not exist yet is created by the first write to it, never by
a command that only reads or that refuses first (issue 12, item 10).

Until then the workspace is an empty SQLite file in a private temporary directory (`Scratch`):
reading it answers as an empty workspace does, and a command that refuses (a repo error, a bad
target, a saved plan refused, nothing to act on) leaves nothing behind. The first write (apply's
lock is the first) closes the scratch and opens the real file, so jobsync's lock works across
processes from that write on exactly as for a file that existed (local.py).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


class Scratch:
    """An empty workspace file standing in for a missing one; `remove` when done with it."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix='jobsync-empty-workspace-'))
        self.path = self._dir / 'workspace.db'

    def remove(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)
