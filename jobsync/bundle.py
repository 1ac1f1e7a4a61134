"""What the console or the API exports, read as objects: the input of `jobsync import-bundle`. Pure.

Accepted bundles:

* a Factory job export zip, in either documented layout (reference §4.6): `DLF_<job>.zip`
  (`jobs/<job>.job`, `scripts/<s>.script`, `resources/<r>.resource`) or `jobs.zip` from batch
  export (`jobs/<job>/<job>.job` with its scripts and resources next to it); also jobsync's own
  package layout (`workspace/package.py`), which adds data connections and `cdm/<cluster>.json`;
* a CDM console export, one JSON file `{"links": [...], "jobs": [...]}` (reference §9.5). It does
  not say which cluster it came from, so the caller names one;
* a single console `.job` file (a JSON job with `nodes`).

Hostile input is refused whole, before anything is written: zip entries with absolute paths,
`..` segments or symbolic links, encrypted entries, archives that inflate past the limit
(counted while inflating, `package.read_package`), files larger than the limit, and object or
cluster names that could not be file names in the repo (`export.unsafe_name`).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from jobsync.codec import NAME_FIELD
from jobsync.errors import JobsyncError
from jobsync.export import unsafe_name
from jobsync.model import Kind, ObjectKey, Spec
from jobsync.workspace import package

MAX_BUNDLE_BYTES = package.MAX_UNCOMPRESSED_BYTES  # 10 MB, the service's own import limit (§4.7, §10)
_ZIP_MAGIC = (b'PK\x03\x04', b'PK\x05\x06')


class BundleError(JobsyncError):
    """A bundle cannot be imported; nothing was written."""


def _refuse(name: str, why: str, hint: str = '') -> BundleError:
    return BundleError(f'refusing {name}: {why}; nothing was written', hint=hint)


def read_bundle_file(path: Path, max_bytes: int = MAX_BUNDLE_BYTES) -> bytes:
    """The bytes of the bundle file at `path`: a regular file only, never through a symlink, at
    most `max_bytes`. O_NONBLOCK so that opening a FIFO cannot hang; the type is checked on the
    open descriptor (fstat), so a swap after a check cannot slip a device in. Raises BundleError."""
    flags = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0) | getattr(os, 'O_BINARY', 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if path.is_symlink():
            raise _refuse(str(path), 'it is a symbolic link', 'pass the file itself') from None
        raise BundleError(f'cannot read {path}: {err.strerror}; nothing was written') from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(str(path), 'it is not a regular file', 'pass an exported .zip, .job or CDM .json file')
        if info.st_size > max_bytes:
            raise _refuse(str(path), f'it is {info.st_size} bytes, more than the {max_bytes}-byte limit')
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:  # bounded even if the file grows while it is read
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as err:
        raise BundleError(f'cannot read {path}: {err.strerror}; nothing was written') from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise _refuse(str(path), f'it is more than the {max_bytes}-byte limit')
    return b''.join(chunks)


def read_bundle(
    name: str, data: bytes, *, cluster: str | None = None, max_bytes: int = MAX_BUNDLE_BYTES,
) -> list[tuple[ObjectKey, Spec]]:
    """The objects in a bundle (API form), sorted by key. `name` is for messages.

    `cluster` names the CDM cluster of a CDM JSON export (required for one). Raises BundleError.
    """
    if len(data) > max_bytes:
        raise _refuse(name, f'it is {len(data)} bytes, more than the {max_bytes}-byte limit')
    if data.startswith(_ZIP_MAGIC):
        try:
            items = package.read_package(data, max_uncompressed=max_bytes)
        except package.PackageError as err:
            raise _refuse(name, err.message.removesuffix('; refusing the package')) from None
        if not items:
            raise _refuse(name, 'the archive holds no .job, .script, .resource, .conn or cdm/<cluster>.json file',
                          'pass a job export (DLF_<job>.zip, jobs.zip) or a CDM JSON export')
    else:
        items = _read_json(name, data, cluster)
    for key, _ in items:
        for what, value in (('name', key.name), ('cluster name', key.cluster)):
            why = unsafe_name(value) if value or what == 'name' else ''
            if why:
                raise _refuse(name, f'the {what} {value!r} of {key.kind} cannot be a file name in the repo ({why})')
    return items


# A console file on its own (`load.script`, `etl.resource`, `dws.conn`) is read as the same file
# in an export's scripts/ (resources/, connections/) folder: the suffix says the kind.
_KIND_BY_SUFFIX: dict[str, Kind] = {suffix: kind for kind, suffix in package.SUFFIX.items()}


def _lone_file(name: str, doc: Any) -> tuple[ObjectKey, Spec] | None:
    kind = _KIND_BY_SUFFIX.get(Path(name).suffix.lower())
    if kind is None:
        return None
    field = NAME_FIELD[kind]
    if not isinstance(doc, dict):
        raise _refuse(name, f'a {Path(name).suffix} file holds one {kind} as a JSON object, not a '
                            f'{type(doc).__name__}')
    value = doc.get(field, Path(name).stem)
    if not isinstance(value, str) or not value:
        raise _refuse(name, f'the {kind} has no usable "{field}"',
                      f'the console\'s {kind} export names it in "{field}"')
    return ObjectKey(kind, value), doc


def _read_json(name: str, data: bytes, cluster: str | None) -> list[tuple[ObjectKey, Spec]]:
    try:
        doc = json.loads(data.decode('utf-8-sig'))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _refuse(name, f'it is neither a zip archive nor JSON ({err})',
                      'pass a job export zip or a CDM JSON export {"links": [...], "jobs": [...]}') from None
    if isinstance(doc, dict) and 'nodes' in doc and isinstance(doc.get('name'), str):
        return [(ObjectKey('job', doc['name']), doc)]
    lone = _lone_file(name, doc)
    if lone is not None:
        return [lone]
    if not (isinstance(doc, dict) and ('jobs' in doc or 'links' in doc)):
        raise _refuse(name, 'the JSON is not a CDM export (an object with "links" and "jobs" lists)')
    if not cluster:
        raise BundleError(f'{name} is a CDM export, which does not say which cluster it came from',
                          hint='name the cluster: import-bundle FILE --cluster NAME')
    found: dict[ObjectKey, Spec] = {}
    lists: dict[str, Kind] = {'links': 'cdm-link', 'jobs': 'cdm-job'}
    for field, kind in lists.items():
        elements = doc.get(field, [])
        if not isinstance(elements, list):
            raise _refuse(name, f'"{field}" is not a list')
        for i, element in enumerate(elements):
            obj_name = element.get('name') if isinstance(element, dict) else None
            if not isinstance(obj_name, str) or not obj_name:
                raise _refuse(name, f'{field}[{i}] has no name')
            key = ObjectKey(kind, obj_name, cluster)
            if key in found:
                raise _refuse(name, f'{key} appears twice')
            found[key] = _as_spec(element)
    return sorted(found.items())


def _as_spec(value: Any) -> Spec:
    assert isinstance(value, dict)
    return value
