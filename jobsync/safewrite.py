"""Writing files into the repo safely: the one way jobsync writes a file there (export, import-bundle).

A pull request may commit symbolic links anywhere in the tree, including at the names jobsync
writes (issue 12): a link at `jobs/x.yaml`, at the temporary name `jobs/.x.yaml.jobsync-tmp`, or
a linked folder `jobs -> /etc`. So:

* every path is checked before anything is written: a plain relative path (no `..`, `.`, empty
  or absolute part, no NUL or backslash), each part (and the temporary name) at most 255 bytes,
  the whole at most `MAX_PATH_BYTES`; no symbolic link or non-directory on the way, nothing but a
  regular file at the target, nothing but a regular file at the temporary name;
* the writing itself opens each folder relative to the one before with O_NOFOLLOW (a link put
  there after the check is refused, not followed), creates the temporary file with
  O_CREAT|O_EXCL|O_NOFOLLOW in the target's folder, fsyncs it and renames it into place, so a
  reader sees the old file or the new one, never half of one, and no link is written through or
  replaced.

A refusal is a `UnsafePathError` naming the path: exit 1, and (when found by the checks, which
see everything a committed tree can hold) nothing written.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from jobsync.errors import UsageError

MAX_NAME_BYTES = 255  # one path component on common file systems (ext4, xfs, btrfs, apfs, ntfs)
MAX_PATH_BYTES = 4095  # PATH_MAX on Linux, less the terminating NUL
TMP_SUFFIX = '.jobsync-tmp'
_HINT = 'jobsync writes only regular files inside the repo; remove or rename what is there'
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePathError(UsageError):
    """A file cannot be written where asked without leaving the repo or replacing something that is not a file."""


def temp_name(name: str) -> str:
    """The temporary name a file is written under before it is renamed into place."""
    return f'.{name}{TMP_SUFFIX}'


def path_problem(root: Path, rel: str) -> str:
    """Why `rel` cannot be a file path inside `root` ('' when it can); the file system is not looked at."""
    pure = PurePosixPath(rel)
    if '\0' in rel or '\\' in rel:
        return 'it holds a NUL or a backslash'
    if pure.is_absolute() or not pure.parts or any(p in ('', '.', '..') for p in rel.split('/')):
        return 'it is not a plain relative path inside the repo'
    for part in (*pure.parts, temp_name(pure.name)):
        if len(part.encode('utf-8', errors='surrogateescape')) > MAX_NAME_BYTES:
            return f'the name {part[:40]!r}... is longer than {MAX_NAME_BYTES} bytes'
    full = len(str(root).encode('utf-8', errors='surrogateescape')) + 1 + len(rel.encode('utf-8'))
    if full > MAX_PATH_BYTES:
        return f'the path is longer than {MAX_PATH_BYTES} bytes'
    return ''


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return path.lstat()
    except FileNotFoundError:
        return None


def _refuse(rel: str, why: str, *, checked: bool = True) -> UnsafePathError:
    """`checked`: found by the checks, before any write (else: found while writing, after the checks)."""
    tail = 'nothing was written' if checked else 'it changed after the checks; files before it were written'
    return UnsafePathError(f'refusing to write {rel}: {why}; {tail}', hint=_HINT)


def check_paths(repo: Path, rels: list[str]) -> None:
    """Refuse (UnsafePathError naming the first bad path) unless every path can be written safely."""
    root = repo.resolve()
    for rel in sorted(rels):
        why = path_problem(root, rel)
        if why:
            raise _refuse(repr(rel), why)
        parts = PurePosixPath(rel).parts
        current = root
        for part in parts[:-1]:
            current = current / part
            st = _lstat(current)
            if st is None:
                break  # created by the write, as a real directory
            if stat.S_ISLNK(st.st_mode):
                raise _refuse(rel, f'{current.relative_to(root).as_posix()} is a symbolic link')
            if not stat.S_ISDIR(st.st_mode):
                raise _refuse(rel, f'{current.relative_to(root).as_posix()} is not a directory')
        else:
            folder = root.joinpath(*parts[:-1])
            for name, what in ((parts[-1], 'the file'), (temp_name(parts[-1]), 'its temporary name')):
                st = _lstat(folder / name)
                if st is not None and stat.S_ISLNK(st.st_mode):
                    raise _refuse(rel, f'{what} {(folder / name).relative_to(root).as_posix()} is a symbolic link')
                if st is not None and not stat.S_ISREG(st.st_mode):
                    raise _refuse(rel, f'{what} {(folder / name).relative_to(root).as_posix()} is not a regular file')


def write_files(repo: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write `files` (POSIX paths relative to `repo`) safely; every path is checked before any is written.

    Returns the paths written, sorted.
    """
    root = repo.resolve()
    rels = sorted(files)
    check_paths(root, rels)
    for rel in rels:
        _write_one(root, rel, files[rel])
    return rels


def _open_folder(root: Path, rel: str) -> int:
    """A descriptor of `rel`'s folder, reached part by part without following a link (created as needed)."""
    fd = os.open(root, _DIR_FLAGS)
    walked = ''
    try:
        for part in PurePosixPath(rel).parts[:-1]:
            walked = f'{walked}/{part}' if walked else part
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o777, dir_fd=fd)
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as err:  # ELOOP: a link; ENOTDIR: a file
                why = f'{walked} is a symbolic link or not a directory ({err.strerror})'
                raise _refuse(rel, why, checked=False) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _write_one(root: Path, rel: str, data: bytes) -> None:
    name = PurePosixPath(rel).name
    tmp = temp_name(name)
    folder = _open_folder(root, rel)
    try:
        mode = _existing_mode(folder, rel, name)
        try:
            old = os.stat(tmp, dir_fd=folder, follow_symlinks=False)
        except FileNotFoundError:
            old = None
        if old is not None:
            if not stat.S_ISREG(old.st_mode):
                raise _refuse(rel, f'its temporary name {tmp} is a symbolic link or not a regular file', checked=False)
            os.unlink(tmp, dir_fd=folder)  # left by an interrupted write; unlink never follows a link
        try:
            out = os.open(tmp, _FILE_FLAGS, 0o666, dir_fd=folder)
        except OSError as err:
            raise _refuse(rel, f'cannot create {tmp} ({err.strerror})', checked=False) from None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(out, view):]
            if mode is not None:
                os.fchmod(out, mode)  # a rewritten file keeps its permissions (an executable .sh stays one)
            os.fsync(out)
        finally:
            os.close(out)
        try:
            _existing_mode(folder, rel, name)  # checked again: nothing became a link meanwhile
            os.rename(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.unlink(tmp, dir_fd=folder)
            raise
        os.fsync(folder)  # the rename itself survives a crash
    finally:
        os.close(folder)


def _existing_mode(folder: int, rel: str, name: str) -> int | None:
    """The permissions of the file being replaced (None when new); refused unless it is a regular file."""
    try:
        st = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse(rel, 'a symbolic link or something other than a regular file is there', checked=False)
    return stat.S_IMODE(st.st_mode)
