"""The import/export package (a zip), in one place: build it, read it, bound its size.

Layout written by `build_package` (it extends the documented single-job export layout,
reference §4.6, with data connections and CDM):

```
jobs/<name>.job               job JSON, as show-job returns it / create-job takes it
scripts/<name>.script         script JSON with its content
resources/<name>.resource     resource JSON
connections/<name>.conn       Management-Center DataSourceVo JSON
cdm/<cluster-name>.json       {"links": [...], "jobs": [...]}: the CDM console export shape (§9.5)
```

`read_package` also reads the documented batch-export layout (`jobs/<job>/<job>.job` with the
job's scripts and resources next to it): it locates `*.job`, `*.script`, `*.resource` and
`*.conn` anywhere in the archive, and `<cluster>.json` in any folder named `cdm`. Other files
are ignored. The object's name comes from its JSON (`name`, `dw_name`), the file stem when absent.

The reader trusts nothing in the archive: absolute paths, `..` segments, symlink entries,
encrypted entries and archives that inflate past a limit are refused with `PackageError`;
sizes are counted while inflating, not taken from the headers.
"""

from __future__ import annotations

import io
import json
import posixpath
import stat
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from jobsync.codec import NAME_FIELD
from jobsync.errors import WorkspaceError
from jobsync.model import Kind, ObjectKey, Spec

MAX_UNCOMPRESSED_BYTES = 10 * 1024 * 1024  # the service's "≤ 10 MB after decompression" (reference §4.7, §10)
# jobsync's own bound for reading one batch-export answer, inflated. Not the import limit above:
# that one is the service's for what it reads; an export answer may be larger (scripts are up to
# 4 MB each, a batch holds up to 100 jobs with their scripts). 64 MB keeps one answer's memory
# bounded; a batch whose answer inflates past it is split and read in halves (reader.py).
MAX_EXPORT_READ_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 10_000

SUFFIX: dict[Kind, str] = {
    'job': '.job',
    'script': '.script',
    'resource': '.resource',
    'connection': '.conn',
}
_FOLDER: dict[Kind, str] = {
    'job': 'jobs',
    'script': 'scripts',
    'resource': 'resources',
    'connection': 'connections',
}
_KIND_BY_SUFFIX: dict[str, Kind] = {suffix: kind for kind, suffix in SUFFIX.items()}
_CDM_FOLDER = 'cdm'
_CDM_LISTS: dict[Kind, str] = {'cdm-link': 'links', 'cdm-job': 'jobs'}

# Fixed timestamp so the same items always give the same bytes (reproducible packages).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Per-entry zip overhead: local header (30) + central directory header (46), each carrying the
# name once; plus room for a data descriptor (16) and a zip64 extra field (32) should the
# writer ever add them. The end-of-central-directory record is 22 bytes (+ 56 + 20 for zip64).
_ENTRY_OVERHEAD = 30 + 46 + 16 + 32
_ARCHIVE_OVERHEAD = 22 + 56 + 20


class PackageError(WorkspaceError):
    """An archive cannot be used as a package: unsafe, too large, or not readable JSON."""


class PackageTooLarge(PackageError):
    """The archive inflates past the bound it is read with (a reader may split its request)."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(',', ':')).encode('utf-8')


def _check_name(key: ObjectKey, name: str, what: str) -> None:
    if not name or name in ('.', '..') or any(c in name for c in '/\\\0'):
        raise PackageError(f'{key}: {what} {name!r} cannot be a file name in a package')


def _named_spec(key: ObjectKey, spec: Spec) -> Spec:
    """The spec with its name field set to the key's name (refuses a contradicting name)."""
    field = NAME_FIELD[key.kind]
    current = spec.get(field)
    if current is not None and current != key.name:
        raise PackageError(f'{key}: its {field} field says {current!r}')
    if current is None:
        return {field: key.name, **spec}
    return spec


def _entries(items: Iterable[tuple[ObjectKey, Spec]]) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every zip entry `build_package` writes, in a deterministic order."""
    cdm: dict[str, dict[str, list[Spec]]] = {}
    seen: set[ObjectKey] = set()
    for key, spec in sorted(items, key=lambda item: item[0]):
        if key in seen:
            raise PackageError(f'{key} appears twice in one package')
        seen.add(key)
        named = _named_spec(key, spec)
        if key.kind in _CDM_LISTS:  # inside a JSON file: only the cluster name is a file name
            _check_name(key, key.cluster, 'cluster name')
            lists = cdm.setdefault(key.cluster, {'links': [], 'jobs': []})
            lists[_CDM_LISTS[key.kind]].append(named)
        else:
            _check_name(key, key.name, 'name')
            yield f'{_FOLDER[key.kind]}/{key.name}{SUFFIX[key.kind]}', _dumps(named)
    for cluster in sorted(cdm):
        yield f'{_CDM_FOLDER}/{cluster}.json', _dumps(cdm[cluster])


def _zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def build_package(items: Sequence[tuple[ObjectKey, Spec]]) -> bytes:
    """A zip holding `items` in the package layout; the same items always give the same bytes.

    Raises `PackageError` for a key given twice, a name that cannot be a file name, or a spec
    whose name field contradicts its key.
    """
    return _zip(_entries(items))


def _deflate_bound(size: int) -> int:
    # zlib's compressBound(): the most deflate can ever emit for `size` input bytes, even for
    # incompressible data (it falls back to stored blocks). zipfile writes raw deflate, which
    # is 6 bytes smaller still (no zlib header and checksum).
    return size + (size >> 12) + (size >> 14) + (size >> 25) + 13


def estimate_item_bytes(key: ObjectKey, spec: Spec) -> int:
    """An upper bound of what one item adds to a package; sum it and add `PACKAGE_OVERHEAD`.

    CDM items share one file per cluster; each is charged a whole entry, which only makes the
    bound looser.
    """
    named = spec if NAME_FIELD[key.kind] in spec else {NAME_FIELD[key.kind]: key.name, **spec}
    if key.kind in _CDM_LISTS:
        path = f'{_CDM_FOLDER}/{key.cluster}.json'
        # The element plus its separating comma and the cluster file's wrapper, charged to each.
        size = len(_dumps(named)) + 1 + len(_dumps({'links': [], 'jobs': []}))
    else:
        path = f'{_FOLDER[key.kind]}/{key.name}{SUFFIX[key.kind]}'
        size = len(_dumps(named))
    return _ENTRY_OVERHEAD + 2 * len(path.encode('utf-8')) + _deflate_bound(size)


PACKAGE_OVERHEAD = _ARCHIVE_OVERHEAD


def estimate_package_bytes(items: Iterable[tuple[ObjectKey, Spec]]) -> int:
    """A cheap upper bound of `len(build_package(items))`, without compressing anything.

    A planner packs batches under the import size limit with it: the bound holds for any
    content, incompressible included (it assumes deflate gains nothing).
    """
    return PACKAGE_OVERHEAD + sum(estimate_item_bytes(key, spec) for key, spec in items)


def build_job_export(
        jobs: Sequence[tuple[Spec, Sequence[Spec], Sequence[Spec]]],
        *,
        layout: Literal['single', 'batch'],
) -> bytes:
    """A job export zip as the service streams it (reference §4.6).

    `jobs` holds (job, its scripts, its resources). `single`: `jobs/<job>.job`,
    `scripts/<s>.script`, `resources/<r>.resource`; `batch`: everything of a job in
    `jobs/<job>/`. A script shared by two jobs appears once per job in the batch layout.
    """
    entries: dict[str, bytes] = {}
    for job, scripts, resources in jobs:
        job_name = str(job['name'])
        _check_name(ObjectKey('job', job_name), job_name, 'name')
        folder = f'jobs/{job_name}/' if layout == 'batch' else ''
        entries[f'{folder or "jobs/"}{job_name}.job'] = _dumps(job)
        dependencies = [('script', spec) for spec in scripts] + [('resource', spec) for spec in resources]
        for kind, spec in dependencies:
            name = str(spec['name'])
            key = ObjectKey('script', name) if kind == 'script' else ObjectKey('resource', name)
            _check_name(key, name, 'name')
            entries[f'{folder or _FOLDER[key.kind] + "/"}{name}{SUFFIX[key.kind]}'] = _dumps(spec)
    return _zip(sorted(entries.items()))


def _unsafe_reason(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if name.startswith(('/', '\\')) or (len(name) > 1 and name[1] == ':'):
        return 'an absolute path'
    if '..' in name.replace('\\', '/').split('/'):
        return 'a ".." path segment'
    if stat.S_ISLNK(info.external_attr >> 16):
        return 'a symbolic link'
    if info.flag_bits & 0x1:
        return 'encrypted'
    return ''


def _read_entries(data: bytes, max_uncompressed: int) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise PackageError(f'the package is not a readable zip archive: {exc}') from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise PackageError(f'the package has {len(infos)} entries; at most {MAX_ENTRIES} are read')
        for info in infos:
            reason = _unsafe_reason(info)
            if reason:
                raise PackageError(f'the package entry {info.filename!r} is {reason}; refusing the package')
        declared = sum(info.file_size for info in infos)
        if declared > max_uncompressed:
            raise PackageTooLarge(
                f'the package inflates to {declared} bytes, more than the {max_uncompressed}-byte limit')
        total = 0
        entries: list[tuple[str, bytes]] = []
        for info in infos:
            if info.is_dir():
                continue
            chunks: list[bytes] = []
            try:
                with archive.open(info) as stream:
                    # Count while inflating: header sizes can lie.
                    while chunk := stream.read(64 * 1024):
                        total += len(chunk)
                        if total > max_uncompressed:
                            raise PackageTooLarge(
                                f'the package inflates to more than the {max_uncompressed}-byte limit')
                        chunks.append(chunk)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                raise PackageError(f'the package entry {info.filename!r} cannot be read: {exc}') from exc
            entries.append((info.filename, b''.join(chunks)))
    return entries


def _load_json(path: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode('utf-8-sig'))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f'the package entry {path!r} is not JSON: {exc}') from exc


def _key_for(kind: Kind, spec: Any, stem: str, cluster: str, path: str) -> ObjectKey:
    if not isinstance(spec, dict):
        raise PackageError(
            f'the package entry {path!r} holds a {type(spec).__name__} where an object belongs')
    name = spec.get(NAME_FIELD[kind], stem)
    if not isinstance(name, str) or not name:
        raise PackageError(f'the package entry {path!r} has no usable {NAME_FIELD[kind]}')
    return ObjectKey(kind, name, cluster)


def read_package(
        data: bytes, *, max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
) -> list[tuple[ObjectKey, Spec]]:
    """The objects in a package, sorted by key (apply order, then cluster and name).

    Accepts the package layout and the service's single and batch job-export layouts. The same
    object twice with identical JSON (a script shared by two jobs of a batch export) is read
    once; twice with different JSON is an error. Raises `PackageError` on anything unsafe or
    unreadable, naming the entry.
    """
    found: dict[ObjectKey, tuple[str, Spec]] = {}

    def add(key: ObjectKey, spec: Spec, path: str) -> None:
        if key in found and found[key][1] != spec:
            raise PackageError(f'{key} appears twice with different content ({found[key][0]!r} and {path!r})')
        found.setdefault(key, (path, spec))

    for path, raw in _read_entries(data, max_uncompressed):
        norm = path.replace('\\', '/')
        folder, base = posixpath.split(norm)
        stem, suffix = posixpath.splitext(base)
        if suffix in _KIND_BY_SUFFIX:
            kind = _KIND_BY_SUFFIX[suffix]
            spec = _load_json(path, raw)
            add(_key_for(kind, spec, stem, '', path), spec, path)
        elif suffix == '.json' and posixpath.basename(folder) == _CDM_FOLDER:
            doc = _load_json(path, raw)
            if not isinstance(doc, dict):
                raise PackageError(
                    f'the package entry {path!r} is not a {{"links": [...], "jobs": [...]}} object')
            for kind, field in _CDM_LISTS.items():
                elements = doc.get(field, [])
                if not isinstance(elements, list):
                    raise PackageError(f'the package entry {path!r}: "{field}" is not a list')
                for element in elements:
                    add(_key_for(kind, element, '', stem, path), element, path)
    return [(key, found[key][1]) for key in sorted(found)]
