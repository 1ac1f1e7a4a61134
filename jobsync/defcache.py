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
FORMAT = 4  # 2: entries say whether their spec holds a secret reference (`refs`); 3: a file per target;
# 4: idents digest the bytes themselves
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
        self._old: dict[str, Any] = self._read() if self._key is not None else {}
        self._used: dict[str, Any] = {}
        self._changed = False

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
        entry = _entry(raw) if raw is not None else None
        if entry is None:
            self.misses += 1
            return None
        self.hits += 1
        self._used[ident] = raw
        return entry

    def put(self, ident: str, key: ObjectKey, spec: Spec, renamed: tuple[Renamed, ...], *, refs: bool) -> None:
        """Keep a definition that loaded without a diagnostic; `refs`: whether its spec may hold a
        `${secret:...}` reference (False only when the loader knows it holds none)."""
        if self._key is None:
            return
        self._used[ident] = {'key': [key.kind, key.name, key.cluster], 'spec': spec,
                             'renamed': [[r.pointer, r.section, r.old, r.new] for r in renamed], 'refs': refs}
        self._changed = True

    def save(self) -> None:
        """Write the entries used by this load first, then older ones, within the bounds."""
        if self._key is None:
            return
        kept = dict(self._used)
        bound = min(MAX_ENTRIES, 2 * len(self._used))
        for ident, value in self._old.items():
            if len(kept) >= bound:
                break
            kept.setdefault(ident, value)
        if not self._changed and len(kept) == len(self._old):
            return
        body = self._body(kept)
        if len(body) > MAX_BYTES:
            body = self._body(self._used)
            if len(body) > MAX_BYTES:
                return
        seal = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()
        # A read-only checkout, a link in the way: no cache, the load stands.
        with contextlib.suppress(OSError, UsageError):
            write_files(self.root, {self._file: seal + b'\n' + body})

    def _body(self, entries: dict[str, Any]) -> bytes:
        """The file's JSON: one write of every entry; should one hold a value JSON has no word for
        (an integer past 64 bits, a lone surrogate), without the entries that do."""
        doc = {'format': FORMAT, 'context': self._context.hex(), 'entries': entries}
        try:
            return orjson.dumps(doc)
        except TypeError:  # orjson.JSONEncodeError
            doc['entries'] = {ident: value for ident, value in entries.items() if _writable(value)}
            return orjson.dumps(doc)

    def _read(self) -> dict[str, Any]:
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
        seal, _, body = data.partition(b'\n')
        if not hmac.compare_digest(seal, hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()):
            return {}  # not written by this user's jobsync (committed, edited, truncated): not believed
        try:
            doc = orjson.loads(body)  # twice as fast as json.loads on a file of 20,000 definitions
        except ValueError:
            return {}
        ours = isinstance(doc, dict) and doc.get('format') == FORMAT and doc.get('context') == self._context.hex()
        entries = doc.get('entries') if ours else None  # another context's entries could never be used
        return entries if isinstance(entries, dict) else {}


def _is_folder(path: Path) -> bool:
    """A real directory (not a link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _writable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


def _entry(raw: Any) -> Entry | None:
    """A cached value back as (key, spec, renamed); None when it is not one."""
    try:
        kind, name, cluster = raw['key']
        renamed = tuple(Renamed(*(str(x) for x in r)) for r in raw['renamed'])
        spec = raw['spec']
        if not isinstance(spec, dict):
            return None
        return ObjectKey(kind, name, cluster), spec, renamed, raw.get('refs') is not False
    except (KeyError, TypeError, ValueError):
        return None
