"""The only gitpython user: read the repo's files from the working tree or from a commit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from jobsync.errors import UsageError

# Top-level entries jobsync reads; everything else in the repo (CI files, docs) is not its business.
TRACKED_ROOTS = ('jobsync.yaml', 'jobsync.yml', 'connections', 'resources', 'scripts', 'jobs', 'cdm')
_SKIP_DIRS = {'.git', '.jobsync', '__pycache__'}


@dataclass(frozen=True)
class Snapshot:
    """The repo's definition files at one point in time.

    `files` maps POSIX paths relative to the repo directory to bytes. `rev` is the commit sha
    (with `+dirty` when read from a working tree that differs from HEAD), or `worktree` when the
    directory is not in git.
    """

    root: Path
    rev: str
    files: dict[str, bytes]


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
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for filename in sorted(filenames):
            path = Path(dirpath, filename)
            rel = path.relative_to(repo).as_posix()
            if _wanted(rel) and path.is_file():
                files[rel] = path.read_bytes()
    return files


def _open_git(repo: Path) -> git.Repo | None:
    try:
        return git.Repo(repo, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def _worktree_rev(repo: Path) -> str:
    g = _open_git(repo)
    if g is None:
        return 'worktree'
    try:
        sha = g.head.commit.hexsha
    except ValueError:  # no commits yet
        return 'worktree'
    prefix = _prefix(g, repo)
    dirty = g.is_dirty(untracked_files=True, path=prefix or None)
    return f'{sha}+dirty' if dirty else sha


def _prefix(g: git.Repo, repo: Path) -> str:
    top = Path(str(g.working_tree_dir)).resolve()
    rel = repo.relative_to(top).as_posix()
    return '' if rel == '.' else rel


def _read_commit(repo: Path, ref: str) -> Snapshot:
    g = _open_git(repo)
    if g is None:
        raise UsageError(f'{repo} is not inside a git repository, so --ref {ref} cannot be read')
    try:
        commit = g.commit(ref)
    except (git.BadName, ValueError, git.GitCommandError):
        raise UsageError(f'git revision {ref!r} not found in {repo}', hint='try a branch, tag or commit sha') from None
    prefix = _prefix(g, repo)
    tree = commit.tree
    if prefix:
        try:
            tree = tree / prefix
        except KeyError:
            raise UsageError(f'{prefix}/ does not exist at {ref}') from None
    files: dict[str, bytes] = {}
    for item in tree.traverse():
        if not isinstance(item, git.Blob):
            continue
        item_path = str(item.path)
        rel = item_path[len(prefix) + 1:] if prefix else item_path
        if _wanted(rel):
            files[rel] = item.data_stream.read()
    return Snapshot(repo, commit.hexsha, dict(sorted(files.items())))
