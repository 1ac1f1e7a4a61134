"""Live objects -> repo files: the pull direction (design.md §1, §3). Pure: values in, bytes out.

`export_objects` turns what the workspace (or a console bundle) holds into the files a user keeps
in git, in the repo form `load.py` reads back:

* fields the service manages (ids, timestamps, users, versions; `fields.FIELD_RULES`) are
  dropped; fields the comparison merely ignores (canvas `location`) are kept: they are the user's;
* pair lists become mappings and script content goes to a sidecar file (`codec.to_repo`);
* a secret field never carries a value into git: the placeholder the service reads back (`Add
  password here`, `*********`), or a literal found in a bundle, becomes the reference the repo
  already has for that field, or else a suggested `${secret:env:<OBJECT>_<FIELD>}`, listed in
  `ExportResult.secrets` so the caller can say what must be set;
* an object git already has keeps its file: same path, same format (a console `.job` stays a
  `.job`), and a YAML file is patched, not rewritten: only the fields the workspace changed
  change, and its comments, quoting, flow style, key order and indentation stay byte for byte
  (ruamel.yaml's round-trip mode, `roundtrip.py`); when git already matches the workspace (what
  `plan` would call a no-op) its files are not rewritten at all;
* nothing is ever deleted: objects git has (inside the scope) that the workspace lacks are
  reported in `ExportResult.missing`.

The rooms: `index.py` finds each object's files in the repo (leniently: a file that does not
parse still tells where its object lives), `merge.py` merges live values into git's (git's text
wherever the workspace agrees; secrets as references), `write.py` renders one object's files
(`roundtrip.py` patches YAML in place), `objects.py` does it for a set of objects.
"""

from __future__ import annotations

from jobsync.export.index import (
    MAX_FILE_NAME_BYTES,
    RepoEntry,
    default_path,
    entry_spec,
    index_repo,
    load_for_target,
    unsafe_name,
)
from jobsync.export.merge import SecretNote, invert_remap
from jobsync.export.objects import ExportedObject, ExportResult, Missing, Status, export_objects
from jobsync.load import locate

__all__ = [
    'MAX_FILE_NAME_BYTES',
    'ExportResult',
    'ExportedObject',
    'Missing',
    'RepoEntry',
    'SecretNote',
    'Status',
    'default_path',
    'entry_spec',
    'export_objects',
    'index_repo',
    'invert_remap',
    'load_for_target',
    'locate',
    'unsafe_name',
]
