"""The validated-definition cache (issue 14): a definition file read once is not parsed or
validated again while nothing it depends on changed.

An entry says "these bytes, loaded for this target by this jobsync, give this definition with
no problem at all". Its key (`ident`) is a SHA-256 over everything that can change the answer:

* the bytes of the file and of each of its content files (a script's `.sql`), with their
  paths (the file name is the object's name), each preceded by its length;
* the bytes of jobsync.yaml and the target's name (variables, remapping, scope, time zone,
  secret fields all come from there);
* jobsync's version, a digest of its schemas and a digest of its own source files, so a new
  or edited jobsync never reads an older one's answers.

So an entry is never stale: any change to its inputs is a different key, and a miss loads the
file as before. Only definitions that loaded without a single diagnostic are kept (a file with
a warning or an error is loaded every time, so its messages are always said), and only values
JSON can write (an integer past 64 bits is not kept: orjson refuses it). A definition is JSON
already (yamlio.py builds JSON values), so what the cache gives back is what loading gave.

The file is a line per entry (`<ident> <JSON>`), each parsed only when a load asks for it and
written back as the bytes it was read as: reading the file costs a split, not a parse of every
entry at once (whose transient memory was the peak of a no-op plan), and saving it serializes
only the new entries. Short strings read back are shared (as yamlio.py shares the parser's), so a
definition from the cache takes the memory of one just parsed.

Where: `.jobsync/cache/definitions-<digest of the target's name>.sealed` in the repo (one file
per target, git-ignored, like the local workspace), only when the repo's `.jobsync/` folder
exists already (a `local:` workspace's first write makes it; `mkdir .jobsync` turns the cache on
for a repo without one): reading commands create nothing in the repo. Written through
safewrite.py (no link followed, temporary file renamed into place: a reader sees the old file or
the new one). The repo may be untrusted (a pull request can commit a `.jobsync/` file), so the
file is sealed with an HMAC whose key lives outside the repo, in the user's cache directory
(`$XDG_CACHE_HOME/jobsync/cache.key`, made 0600): a committed or edited cache file fails the
seal and is ignored, never believed. The file names the context its entries were made in
(jobsync, config, target): a load reads only its own target's file, and a file of another
context (an older jobsync, an edited jobsync.yaml) is dropped whole, so neither the reading nor
the memory grows with the repo's history. Bounded: the entries this load used, then at most as
many older ones of the same context (the files of another branch), within `MAX_ENTRIES` entries
and `MAX_BYTES` bytes. Anything wrong with the cache (unreadable, too large, bad seal, no key)
means no cache, never an error.
`JOBSYNC_CACHE=off` turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets as pysecrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from jobsync import __version__, schema
from jobsync.errors import UsageError
from jobsync.model import ObjectKey, Spec
from jobsync.remap import Renamed
from jobsync.safewrite import write_files

CACHE_DIR = '.jobsync/cache'
FORMAT = 5  # 2: entries say whether their spec holds a secret reference (`refs`); 3: a file per target;
# 4: idents digest the bytes themselves; 5: a line per entry
MAX_ENTRIES = 200_000
MAX_BYTES = 512 * 1024 * 1024
ENV_SWITCH = 'JOBSYNC_CACHE'

Entry = tuple[ObjectKey, Spec, tuple[Renamed, ...], bool]
"""(key, spec, renamed, whether the spec may hold a `${secret:...}` reference: only then is it walked)."""


@functools.cache
def code_digest() -> str:
    """jobsync's version, schemas and source files, digested once per process."""
    digest = hashlib.sha256(__version__.encode())
    folder = schema.schema_dir()
    for name in sorted(entry.name for entry in folder.iterdir() if entry.name.endswith('.json')):
        digest.update(name.encode() + b'\0' + (folder / name).read_bytes())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob('*.py')):
        digest.update(str(path.relative_to(package)).encode() + b'\0' + path.read_bytes())
    return digest.hexdigest()


def _key_file() -> Path:
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base) / 'jobsync' / 'cache.key'


def _seal_key() -> bytes | None:
    """The HMAC key kept outside any repo; made on first use. None when it cannot be had."""
    path = _key_file()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, pysecrets.token_hex(32).encode())
            finally:
                os.close(fd)
        except OSError:
            return None
        return _seal_key()
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > 1024:
            return None
        key = os.read(fd, 1024).strip()
    finally:
        os.close(fd)
    return key if len(key) >= 32 else None


def cache_file(target: str) -> str:
    """The repo-relative cache file of one target (its name digested: any text makes a file name)."""
    return f'{CACHE_DIR}/definitions-{hashlib.sha256(target.encode()).hexdigest()[:16]}.sealed'


class DefinitionCache:
    """The cache of one load (one repo, one target); see the module."""

    def __init__(self, root: Path, config: bytes, target: str) -> None:
        self.root = root
        self.hits = 0
        self.misses = 0
        # Only in a repo whose `.jobsync/` exists already (a `local:` workspace made it, or the user
        # did): a command that only reads creates nothing in the repo (issue 12).
        wanted = os.environ.get(ENV_SWITCH, '').lower() != 'off' and _is_folder(root / '.jobsync')
        self._key = _seal_key() if wanted else None
        self._file = cache_file(target)
        self._context = hashlib.sha256(code_digest().encode() + b'\0' + target.encode() + b'\0' + config).digest()
        self._strings: dict[str, str] = {}
        self._old: dict[str, bytes] = self._read() if self._key is not None else {}
        self._used: dict[str, bytes] = {}
        self._new: dict[str, dict[str, Any]] = {}  # put by this load, written by save

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def ident(self, rel: str, raw: bytes, content_files: Sequence[tuple[str, bytes]]) -> str:
        digest = hashlib.sha256(self._context)
        for path, data in ((rel, raw), *content_files):
            name = path.encode()
            digest.update(b'%d:%d\0' % (len(name), len(data)) + name)  # lengths first: no two inputs run together
            digest.update(data)
        return digest.hexdigest()

    def get(self, ident: str) -> Entry | None:
        if self._key is None:
            return None
        raw = self._old.get(ident)
        entry = self._entry(raw) if raw is not None else None
        if raw is None or entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._used[ident] = raw
        return entry

    def put(self, ident: str, key: ObjectKey, spec: Spec, renamed: tuple[Renamed, ...], *, refs: bool) -> None:
        """Keep a definition that loaded without a diagnostic; `refs`: whether its spec may hold a
        `${secret:...}` reference (False only when the loader knows it holds none). A value JSON
        has no word for (an integer past 64 bits, a lone surrogate) is not kept."""
        if self._key is None:
            return
        self._new[ident] = {'key': [key.kind, key.name, key.cluster], 'spec': spec,
                            'renamed': [[r.pointer, r.section, r.old, r.new] for r in renamed], 'refs': refs}

    def save(self) -> None:
        """Write the entries used by this load first, then older ones, within the bounds."""
        if self._key is None:
            return
        used = len(self._used) + len(self._new)
        bound = min(MAX_ENTRIES, 2 * used)
        if not self._new and len(self._old) <= bound:
            return  # every entry read is written again as it was: the file would not change
        # One growing buffer: orjson gives each dumps a 4 KiB block, so 20,000 entries held apart
        # until a join would take 80 MB for a file of 10.
        body = bytearray(self._header())
        for ident, value in self._new.items():
            try:
                raw = orjson.dumps(value)
            except TypeError:  # orjson.JSONEncodeError: a value JSON has no word for, not kept
                continue
            _append(body, ident, raw)
        for ident, raw in self._used.items():
            _append(body, ident, raw)
        if len(body) > MAX_BYTES:
            return
        kept = used
        for ident, raw in self._old.items():
            if kept >= bound or len(body) + len(raw) + len(ident) + 2 > MAX_BYTES:
                break
            if ident not in self._used and ident not in self._new:
                _append(body, ident, raw)
                kept += 1
        seal = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()
        # A read-only checkout, a link in the way: no cache, the load stands.
        with contextlib.suppress(OSError, UsageError):
            write_files(self.root, {self._file: seal + b'\n' + body})

    def _header(self) -> bytes:
        return orjson.dumps({'format': FORMAT, 'context': self._context.hex()})

    def _read(self) -> dict[str, bytes]:
        """ident -> the entry's JSON, unparsed; empty when the file is not this user's, this context's."""
        assert self._key is not None
        try:
            fd = os.open(self.root / self._file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return {}
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES + 100:
                return {}
            with os.fdopen(fd, 'rb', closefd=False) as handle:
                data = handle.read(info.st_size)  # not MAX_BYTES: read(n) allocates n bytes first
        except OSError:
            return {}
        finally:
            os.close(fd)
        newline = data.find(b'\n')
        body = memoryview(data)[newline + 1:]  # sealed as written, not copied
        sealed = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()
        if newline < 0 or not hmac.compare_digest(data[:newline], sealed):
            return {}  # not written by this user's jobsync (committed, edited, truncated): not believed
        lines = data.split(b'\n')
        del data, body
        if len(lines) < 2 or lines[1] != self._header():
            return {}  # another format or context: its entries could never be used
        entries: dict[str, bytes] = {}
        for line in lines[2:]:
            ident, _, raw = line.partition(b' ')
            if raw:
                entries[ident.decode('ascii', 'replace')] = raw
        return entries

    def _entry(self, raw: bytes) -> Entry | None:
        """A cached entry back as (key, spec, renamed, refs); None when it is not one."""
        try:
            value = orjson.loads(raw)
            kind, name, cluster = value['key']
            renamed = tuple(Renamed(*(str(x) for x in r)) for r in value['renamed'])
            spec = value['spec']
            if not isinstance(spec, dict):
                return None
            _share_strings(spec, self._strings)
            return ObjectKey(kind, name, cluster), spec, renamed, value.get('refs') is not False
        except (KeyError, TypeError, ValueError):
            return None


def _append(body: bytearray, ident: str, raw: bytes) -> None:
    body += b'\n'
    body += ident.encode()
    body += b' '
    body += raw


SHARED_STRING_CHARS = 64  # as yamlio's plain-scalar cache: names, types, flags; not SQL


def _share_strings(value: dict[str, Any] | list[Any], seen: dict[str, str]) -> None:
    """Replace each short string in `value` with the first equal one `seen` (in place): the
    parsers make a new string per occurrence, and a repo repeats its connection names, types
    and flags in every file (a seventh of the memory of 20,000 cached definitions)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for at, item in items:
        if type(item) is str:
            if len(item) <= SHARED_STRING_CHARS:
                value[at] = seen.setdefault(item, item)  # type: ignore[index]
        elif type(item) is dict or type(item) is list:
            _share_strings(item, seen)


def _is_folder(path: Path) -> bool:
    """A real directory (not a link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
