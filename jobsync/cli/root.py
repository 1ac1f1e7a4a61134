"""Where the definitions repo is: found the way git finds its top level.

From the given folder (the cwd, or --repo) upward, the first folder holding jobsync.yaml is the
root; else the git top level, when it holds definitions; else the folder itself, when it holds
definitions. A folder with none of these is an error before anything is read or created (no
`.jobsync/workspace.db` appears in a wrong folder, and "No changes" never means "wrong folder").
"""

from __future__ import annotations

from pathlib import Path

from jobsync.errors import UsageError

CONFIG_NAMES = ('jobsync.yaml', 'jobsync.yml')
DEFINITION_DIRS = ('jobs', 'scripts', 'resources', 'connections', 'cdm')


def _has_definitions(folder: Path) -> bool:
    return any((folder / name).is_dir() for name in DEFINITION_DIRS)


def git_top(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a directory, or a worktree's file)."""
    for folder in (start, *start.parents):
        if (folder / '.git').exists():
            return folder
    return None


def find_root(given: Path, *, lenient: bool = False) -> Path:
    """The repo root for `given` (see the module docstring). `lenient` (commands that create
    definitions, such as import-bundle) accepts the git top level or `given` without definitions."""
    if not given.is_dir():
        return given  # the command's own check names a missing --repo
    start = given.resolve()
    for folder in (start, *start.parents):
        if any((folder / name).is_file() for name in CONFIG_NAMES):
            return _relative_if_given(given, start, folder)
    top = git_top(start)
    if top is not None and (lenient or _has_definitions(top)):
        return _relative_if_given(given, start, top)
    if lenient or _has_definitions(start):
        return given
    where = f'the git top level {top}' if top is not None else 'it (not a git repo)'
    raise UsageError(
        f'{start} is not a jobsync repo: no jobsync.yaml in it or above, and no definitions '
        f'({"/, ".join(DEFINITION_DIRS)}/) in {where}',
        hint='run `jobsync init` to start one here, or pass --repo PATH (the folder holding jobsync.yaml)')


def _relative_if_given(given: Path, start: Path, found: Path) -> Path:
    """`given` itself when it is the root (messages keep naming paths as the user wrote them)."""
    return given if found == start else found
