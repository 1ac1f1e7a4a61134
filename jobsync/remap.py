"""Per-target renaming of what definitions refer to: `doctest` in git is `dws_prod` in prod.

Pure. This is the declarative, reviewed form of what the console asks a person at import time
("the referenced data connection is missing, pick another") and of the import API's
`resources` replacements (reference §4.7: `[{"name", "type", "replace"}]` with types
DWS_CONNECTION, MRS_HIVE_CONNECTION, MRS_SPARK_CONNECTION, CDM_CLUSTER, MRS_CLUSTER,
DIS_STREAM, ...). jobsync.yaml declares it per target:

    targets:
      prod:
        remap:
          connections:  {doctest: dws_prod}        # DWS/MRS Hive/MRS Spark/... connections
          cdm_clusters: {cdm-prod: cdm-prod-01}    # CDM_CLUSTER
          mrs_clusters: {mrs-lake: mrs-lake-prod}  # MRS_CLUSTER
          dli_queues:   {etl: etl_prod}            # DLI queues (console: re-select on import)
          dis_streams:  {orders: orders-prod}      # DIS_STREAM

Every use refs.py knows is rewritten, and so is the object itself when git defines it: a
connection `doctest` is created as `dws_prod`, and `cdm/cdm-prod/...` definitions land in
cluster `cdm-prod-01` (their keys change with them).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobsync import codec
from jobsync.model import CDM_KINDS, ObjectKey, Spec
from jobsync.refs import Category, Path, name_uses

# jobsync.yaml `remap` sections and the category of names each renames.
SECTIONS: dict[str, Category] = {
    'connections': 'connection',
    'cdm_clusters': 'cdm-cluster',
    'mrs_clusters': 'mrs-cluster',
    'dli_queues': 'dli-queue',
    'dis_streams': 'dis-stream',
}
SECTION_OF: dict[Category, str] = {category: section for section, category in SECTIONS.items()}

Remap = Mapping[str, Mapping[str, str]]  # section -> {name in git: name in the target}


@dataclass(frozen=True)
class Renamed:
    """One rewritten value: where (repo-form pointer; '' for the object's own name) and from what."""

    pointer: str
    section: str
    old: str
    new: str


@dataclass(frozen=True)
class Remapped:
    key: ObjectKey
    spec: Spec
    renamed: tuple[Renamed, ...] = field(default=())

    def renamed_at(self, pointer: str) -> Renamed | None:
        return next((r for r in self.renamed if r.pointer == pointer), None)


def apply_remap(key: ObjectKey, spec: Spec, remap: Remap) -> Remapped:
    """`key` and `spec` (API form) with every remapped name replaced; the input is not changed."""
    if not any(remap.values()):
        return Remapped(key, spec)
    out = copy.deepcopy(spec)
    renamed: list[Renamed] = []
    for use in list(name_uses(key, spec)):
        section = SECTION_OF.get(use.category)
        new = (remap.get(section) or {}).get(use.name) if section else None
        if section and new is not None:
            _set(out, use.path, new)
            renamed.append(Renamed(use.pointer, section, use.name, new))
    new_key = remap_key(key, remap)
    if new_key.name != key.name:
        out[codec.NAME_FIELD[key.kind]] = new_key.name
        renamed.append(Renamed('', 'connections', key.name, new_key.name))
    elif new_key.cluster != key.cluster:
        renamed.append(Renamed('', 'cdm_clusters', key.cluster, new_key.cluster))
    return Remapped(new_key, out, tuple(renamed))


def remap_key(key: ObjectKey, remap: Remap) -> ObjectKey:
    """The key an object defined in git as `key` has in the target: connections and CDM clusters move."""
    connections = remap.get('connections') or {}
    clusters = remap.get('cdm_clusters') or {}
    if key.kind == 'connection' and key.name in connections:
        return ObjectKey('connection', connections[key.name])
    if key.kind in CDM_KINDS and key.cluster in clusters:
        return ObjectKey(key.kind, key.name, clusters[key.cluster])
    return key


def _set(spec: Any, path: Path, value: str) -> None:
    target = spec
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
