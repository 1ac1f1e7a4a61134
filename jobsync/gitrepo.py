"""The only gitpython user: read the repo's files from the working tree or from a commit; write exported
files, check for uncommitted edits, create a branch and commit (export)."""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import TYPE_CHECKING

from jobsync.errors import ConfigError, Diagnostic, UsageError

if TYPE_CHECKING:
    import git


def _git() -> ModuleType:
    """gitpython, imported only when a command needs git: gitpython raises ImportError at import
    when no `git` executable is on PATH, and `validate`, `--help` and commands on a folder outside
    git must work on a slim CI image without it (issue 10 item 6). The executable is looked up on
    every call too: gitpython, once imported, would otherwise fail later with GitCommandNotFound."""
    try:
        if not (os.environ.get('GIT_PYTHON_GIT_EXECUTABLE') or shutil.which('git')):
            raise ImportError('git')
        import git
    except ImportError:
        raise UsageError('this needs the `git` executable, which is not on PATH',
                         hint='install git (e.g. `apt-get install git` or `apk add git`), or set '
                              'GIT_PYTHON_GIT_EXECUTABLE to its path') from None
    return git


def _in_git(path: Path) -> bool:
    """Whether `path` is inside a git working tree, told without git: a `.git` in it or above it."""
    return any((p / '.git').exists() for p in (path, *path.parents))

# Top-level entries jobsync reads; everything else in the repo (CI files, docs) is not its business.
TRACKED_ROOTS = ('jobsync.yaml', 'jobsync.yml', 'connections', 'resources', 'scripts', 'jobs', 'cdm')
CONFIG_FILE_NAMES = ('jobsync.yaml', 'jobsync.yml')
_SKIP_DIRS = {'.git', '.jobsync', '__pycache__'}
# A bound on any one file read (a definition, script content): a sidecar is sent whole in one request.
MAX_FILE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    """The repo's definition files at one point in time.

    `files` maps POSIX paths relative to the repo directory to bytes. `rev` is the commit sha
    (with `+dirty` when read from a working tree that differs from HEAD), `not-in-git` when the
    directory is not in git, `no-commits` in a git repo without a commit yet.
    """

    root: Path
    rev: str
    files: dict[str, bytes]


NOT_IN_GIT, NO_COMMITS = 'not-in-git', 'no-commits'


def _wanted(rel: str) -> bool:
    return PurePosixPath(rel).parts[0] in TRACKED_ROOTS


def read_snapshot(repo: Path, ref: str | None = None) -> Snapshot:
    """Read definition files from the working tree (`ref` None) or from commit `ref`.

    A commit is read from git's object store (the tree at that commit), never from the checkout,
    so `--ref main` plans exactly what main holds whatever is checked out.
    """
    repo = repo.resolve()
    if not repo.is_dir():
        raise UsageError(f'repo directory {repo} does not exist', hint='pass --repo PATH to a definitions repo')
    if ref is None:
        return Snapshot(repo, _worktree_rev(repo), _read_worktree(repo))
    return _read_commit(repo, ref)


def _read_worktree(repo: Path) -> dict[str, bytes]:
    """Every regular file under the tracked roots; ConfigError naming everything else found there.

    A symbolic link (to `/proc/self/environ`, to `../.git/config`, or a linked `jobs/` folder), a
    FIFO, a device or a socket is refused and never opened, so that a pull request cannot make a
    plan print a file of the machine it runs on (issue 12 item 1). Directories are opened
    relative to their parent with O_NOFOLLOW, so that nothing swapped in during the walk is
    followed either.
    """
    files: dict[str, bytes] = {}
    refused: list[Diagnostic] = []
    root_fd = os.open(repo, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in TRACKED_ROOTS:
            _read_entry(root_fd, name, name, files, refused, top=True)
    finally:
        os.close(root_fd)
    if refused:
        raise ConfigError(refused)
    return dict(sorted(files.items()))


_NOFOLLOW = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)


def _read_entry(dir_fd: int, name: str, rel: str, files: dict[str, bytes], refused: list[Diagnostic], *,
                top: bool = False) -> None:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        if name in _SKIP_DIRS or (top and name in CONFIG_FILE_NAMES):
            return
        try:
            fd = os.open(name, _NOFOLLOW | os.O_DIRECTORY, dir_fd=dir_fd)
        except OSError as err:
            refused.append(_refusal(rel, f'cannot be opened as a folder ({err.strerror})'))
            return
        try:
            for child in sorted(os.listdir(fd)):
                _read_entry(fd, child, f'{rel}/{child}', files, refused)
        finally:
            os.close(fd)
    elif stat.S_ISREG(mode):
        if top and name not in CONFIG_FILE_NAMES:
            refused.append(_refusal(rel, 'is a file where jobsync expects a folder'))
            return
        data = _read_regular(dir_fd, name, rel, refused)
        if data is not None:
            files[rel] = data
    else:
        refused.append(_refusal(rel, f'is {_file_kind(mode)}'))


def _read_regular(dir_fd: int, name: str, rel: str, refused: list[Diagnostic]) -> bytes | None:
    """The bytes of a regular file, checked again on the opened descriptor (it may have been swapped)."""
    try:
        fd = os.open(name, _NOFOLLOW | getattr(os, 'O_NONBLOCK', 0), dir_fd=dir_fd)
    except OSError as err:
        why = 'is a symbolic link' if err.errno == errno.ELOOP else f'cannot be read ({err.strerror})'
        refused.append(_refusal(rel, why))
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            refused.append(_refusal(rel, f'is {_file_kind(info.st_mode)}'))
            return None
        if info.st_size > MAX_FILE_BYTES:
            refused.append(_too_large(rel, info.st_size))
            return None
        # The size fstat says and a byte more, to see the end: a read of n bytes allocates n first.
        want = info.st_size + 1
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, want)
            chunks.append(chunk)
            size += len(chunk)
            if len(chunk) < want:  # a short read of a regular file: its end
                break
            want = 1 << 20  # it grew since fstat: read on in steps
        if size > MAX_FILE_BYTES:  # it grew while being read
            refused.append(_too_large(rel, size))
            return None
        return b''.join(chunks)
    finally:
        os.close(fd)


def _file_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return 'a symbolic link'
    if stat.S_ISFIFO(mode):
        return 'a FIFO (named pipe)'
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return 'a device'
    if stat.S_ISSOCK(mode):
        return 'a socket'
    return 'not a regular file'


def _refusal(rel: str, why: str) -> Diagnostic:
    return Diagnostic('error', f'{why}: jobsync reads only regular files inside the repo, and did not read it',
                      rel, 'replace it with the file itself (a copy, committed to git), or remove it')


def _too_large(rel: str, size: int) -> Diagnostic:
    return Diagnostic('error', f'is {size:,} bytes; a file jobsync reads may be at most {MAX_FILE_BYTES:,}', rel,
                      'split it, or keep large artifacts outside the definitions repo')


def _open_git(repo: Path) -> git.Repo | None:
    if not _in_git(repo):
        return None
    gitpython = _git()
    try:
        return gitpython.Repo(repo, search_parent_directories=True)  # type: ignore[no-any-return]
    except (gitpython.InvalidGitRepositoryError, gitpython.NoSuchPathError):
        return None


def _worktree_rev(repo: Path) -> str:
    """HEAD's sha, `+dirty` when the tree differs from it: two `git` commands and no gitpython
    (importing it is 14 MB and 0.07 s of a no-op plan, for what two commands say)."""
    if not _in_git(repo):  # said as it is: no revision to record (plans and state show it)
        return NOT_IN_GIT
    # The top of the work tree, then HEAD's commit: exit 1 with the top alone when there is no
    # commit yet, 128 (and no output) when `repo` is not in a work tree after all.
    code, out, err = _run_git(repo, 'rev-parse', '--show-toplevel', '--verify', '--quiet', 'HEAD^{commit}')
    lines = out.splitlines()
    if code not in (0, 1) or not lines:
        if 'not a git repository' in err:  # a `.git` above that is no repository's
            return NOT_IN_GIT
        raise UsageError(f'git cannot read the repository at {repo}: {_first_line(err)}',
                         hint='run `git status` there to see why')
    if code == 1 or len(lines) < 2:
        return NO_COMMITS
    top, sha = lines[0], lines[1]
    prefix = _relative_prefix(Path(top), repo)
    # Untracked files count only where definitions are read (a stray plan.json is not a change).
    roots = tuple(f'{prefix}/{name}' if prefix else name for name in TRACKED_ROOTS)
    return f'{sha}+dirty' if _is_dirty(repo, roots) else sha


def _run_git(repo: Path, *args: str) -> tuple[int, str, str]:
    """Run `git args` in `repo`: its exit code, output and error output. No optional locks: a
    reading command never rewrites the index."""
    executable = os.environ.get('GIT_PYTHON_GIT_EXECUTABLE') or shutil.which('git')
    if not executable:
        _git()  # raises the UsageError that says how to get git
    done = subprocess.run([str(executable), *args], cwd=repo, capture_output=True, check=False,
                          env={**os.environ, 'GIT_OPTIONAL_LOCKS': '0'})
    return done.returncode, done.stdout.decode('utf-8', 'surrogateescape'), done.stderr.decode('utf-8', 'replace')


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), 'no message')


def _is_dirty(repo: Path, roots: tuple[str, ...]) -> bool:
    """A staged or unstaged change under `repo`, or an untracked file under one of `roots` (paths
    from the top of the work tree): one `git status` (gitpython's is_dirty and untracked_files run
    three commands over the tree)."""
    code, out, err = _run_git(repo, 'status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.')
    if code != 0:
        raise UsageError(f'`git status` failed in {repo}: {_first_line(err)}', hint='run `git status` there to see why')
    fields = iter(out.split('\0'))
    for field in fields:
        if len(field) < 4:
            continue
        status, path = field[:2], field[3:]  # paths relative to the top of the repo
        if status[0] in 'RC':
            next(fields, None)  # a rename or copy: its old path follows
        if status != '??' or any(path == root or path.startswith(f'{root}/') for root in roots):
            return True
    return False


def _relative_prefix(top: Path, repo: Path) -> str:
    """`repo`'s folder relative to the top of its work tree ('' at the top)."""
    rel = repo.relative_to(top.resolve()).as_posix()
    return '' if rel == '.' else rel


def _prefix(g: git.Repo, repo: Path) -> str:
    return _relative_prefix(Path(str(g.working_tree_dir)), repo)


def _read_commit(repo: Path, ref: str) -> Snapshot:
    g = _open_git(repo)
    gitpython = _git()
    if g is None:
        raise UsageError(f'{repo} is not inside a git repository, so --ref {ref} cannot be read')
    try:
        commit = g.commit(ref)
    except (gitpython.BadName, ValueError, gitpython.GitCommandError):
        raise UsageError(f'git revision {ref!r} not found in {repo}', hint='try a branch, tag or commit sha') from None
    prefix = _prefix(g, repo)
    tree = commit.tree
    if prefix:
        try:
            tree = tree / prefix
        except KeyError:
            raise UsageError(f'{prefix}/ does not exist at {ref}') from None
    files: dict[str, bytes] = {}
    refused: list[Diagnostic] = []
    for item in tree.traverse():
        if isinstance(item, tuple):  # traverse() yields pairs only when asked for them
            continue
        item_path = str(item.path)
        rel = item_path[len(prefix) + 1:] if prefix else item_path
        if not _wanted(rel) or isinstance(item, gitpython.Tree):
            continue
        if not isinstance(item, gitpython.Blob):  # a submodule
            refused.append(_refusal(rel, f'is a submodule at {ref}'))
        elif stat.S_ISLNK(item.mode):  # git keeps the link's target as the blob: never content
            refused.append(_refusal(rel, f'is a symbolic link at {ref}'))
        elif item.size > MAX_FILE_BYTES:
            refused.append(_too_large(rel, item.size))
        else:
            files[rel] = item.data_stream.read()
    if refused:
        raise ConfigError(refused)
    return Snapshot(repo, commit.hexsha, dict(sorted(files.items())))


# --- writing (export): branches and commits (files: safewrite.py) ---------------------------------------------------

def is_git_repo(repo: Path) -> bool:
    return _open_git(repo.resolve()) is not None


def _require_git(repo: Path, what: str) -> git.Repo:
    g = _open_git(repo.resolve())
    if g is None:
        raise UsageError(f'{repo} is not inside a git repository, so {what} is not possible',
                         hint='run `git init` first, or leave out --branch/--commit')
    return g


GIT_ARG_BATCH = 1000  # paths per git invocation: far below any OS argument-length limit


def _batches(paths: list[str], size: int = GIT_ARG_BATCH) -> Iterable[list[str]]:
    for start in range(0, len(paths), size):
        yield paths[start:start + size]


def dirty_paths(repo: Path, paths: Iterable[str]) -> set[str]:
    """Which of `paths` (relative to `repo`) have uncommitted changes: staged, unstaged or untracked.

    Empty outside git (there is nothing to protect against then but the files themselves).
    """
    wanted = sorted(set(paths))
    g = _open_git(repo.resolve())
    if g is None or not wanted:
        return set()
    prefix = _prefix(g, repo.resolve())
    full = [f'{prefix}/{p}' if prefix else p for p in wanted]
    # Bounded batches: 60,000 paths on one command line exceed the OS argument limit (E2BIG).
    out = '\0'.join(g.git.status('--porcelain=v1', '-z', '--untracked-files=all', '--', *batch)
                     for batch in _batches(full))
    dirty: set[str] = set()
    records = out.split('\0')
    i = 0
    while i < len(records):
        record = records[i]
        i += 1
        if len(record) < 4:
            continue
        status, path = record[:2], record[3:]
        if status[0] in 'RC':  # a rename carries its source path in the next record
            i += 1
        rel = path[len(prefix) + 1:] if prefix and path.startswith(prefix + '/') else path
        dirty.add(rel)
    return dirty & set(wanted)


def create_branch(repo: Path, name: str) -> None:
    """Create branch `name` at HEAD and check it out; the working tree's edits stay as they are."""
    g = _require_git(repo, f'creating branch {name}')
    gitpython = _git()
    try:
        g.git.check_ref_format('--branch', name)
    except gitpython.GitCommandError:
        raise UsageError(f'{name!r} is not a valid branch name') from None
    if name in [h.name for h in g.heads]:
        raise UsageError(f'branch {name} already exists', hint='choose another name with --branch, or delete it')
    try:
        g.git.checkout('-b', name)
    except gitpython.GitCommandError as err:
        raise UsageError(f'cannot create branch {name}: {err.stderr.strip()}') from None


def commit_paths(repo: Path, paths: Iterable[str], message: str) -> str | None:
    """Commit exactly `paths` (other staged changes stay staged, uncommitted). None if nothing changed."""
    g = _require_git(repo, 'committing')
    gitpython = _git()
    prefix = _prefix(g, repo.resolve())
    full = [f'{prefix}/{p}' if prefix else p for p in sorted(set(paths))]
    if not full:
        return None
    for batch in _batches(full):
        g.git.add('--', *batch)
    if not any(g.git.diff('--cached', '--name-only', '--', *batch).strip() for batch in _batches(full)):
        return None
    try:
        # One commit of any number of paths: the pathspecs go on stdin, not on the command line.
        with tempfile.TemporaryFile() as pathspecs:
            pathspecs.write(b'\0'.join(p.encode('utf-8', 'surrogateescape') for p in full))
            pathspecs.seek(0)
            g.git.commit('-m', message, '--only', '--pathspec-from-file=-', '--pathspec-file-nul',
                         istream=pathspecs)
    except gitpython.GitCommandError as err:
        raise UsageError(f'git commit failed: {err.stderr.strip()}',
                         hint='the files are written; check `git config user.name` and `user.email`, '
                              'then commit them yourself') from None
    return str(g.head.commit.hexsha)
