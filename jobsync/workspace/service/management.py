"""Management Center: data connections.

`list_connections` is `GET /v1/{pid}/data-connections`, and so on (reference §7); errors are
the Management Center's (`{"errors": [...]}` bodies). The rules here: a connection needs a
name and a type, names are unique, a connection is addressed by a 32-hex `dw_id`, and its
secret `dw_config` values read back as `*********` (`masking.py`).
"""

from __future__ import annotations

import copy
import sqlite3
import uuid
from typing import Any

from jobsync.model import Spec
from jobsync.workspace.service.errors import check_paging, dayu
from jobsync.workspace.service.masking import mask_connection
from jobsync.workspace.service.store import Row, Space


class Management(Space):
    """The Management Center routes of one (project, workspace)."""

    # --- data connections (Management Center) -----------------------------------------------

    def _require_connection(self, conn: sqlite3.Connection, dw_id: str) -> Row:
        row = self._get_by_id(conn, 'connection', dw_id)
        if row is None:
            raise dayu('DAYU.1005', f'The data connection does not exist: {dw_id}.')
        return row

    def _agent_id(self, conn: sqlite3.Connection, spec: Spec) -> str:
        """The connection's `agent_id` as the service reads it back: the one sent, else the id of
        the CDM cluster named `agent_name` (CDM clusters live in the project's default space).

        The service fills it: the SDK's `ApigDataSourceVo.agent_id` is "required when an agent is
        used", the docs call it the CDM cluster id ("see Querying the Cluster List"), the provider
        marks it Optional+Computed and reads it back from show (notes/issue11-facts.md §3).
        """
        given = spec.get('agent_id')
        if given:
            return str(given)
        name = spec.get('agent_name')
        if not name:
            return ''
        row = conn.execute(
            "SELECT id FROM objects WHERE project=? AND workspace='default' AND kind='cluster' AND scope='' AND name=?",
            (self._space[0], str(name)),
        ).fetchone()
        return str(row['id']) if row else ''

    def _connection_view(self, conn: sqlite3.Connection, row: Row) -> Spec:
        spec = mask_connection(row.spec)
        if isinstance(spec.get('dw_config'), dict):
            spec['dw_config']['update_time'] = row.update_time  # the service adds it on every write
        spec.update(dw_id=row.id, create_user=row.create_user, create_time=row.create_time)
        if spec.get('agent_name') or spec.get('agent_id'):
            spec['agent_id'] = self._agent_id(conn, row.spec)
        return spec

    def list_connections(self, *, name: str = '', limit: int = 10, offset: int = 0) -> dict[str, Any]:
        """`GET /v1/{pid}/data-connections`: `{"count", "max_records", "total_size",
        "data_connection_lists": [...]}`; entries are ApigDataSourceViews ([SDK] dataartsstudio): no `dw_config`, and
        no update time (only `create_time`; issue 11 point 1)."""
        check_paging(limit, offset)
        with self._store.read() as conn:
            rows = [r for r in self._all(conn, 'connection') if name in r.name]
            page = rows[offset:offset + limit]
            entries = [{
                'dw_name': r.name, 'dw_type': r.spec.get('dw_type', ''), 'dw_id': r.id,
                'create_user': r.create_user, 'create_time': r.create_time,
                'agent_id': self._agent_id(conn, r.spec), 'agent_name': r.spec.get('agent_name', ''),
                'qualified_name': r.name, 'description': r.spec.get('description', ''),
            } for r in page]
        return {'count': len(entries), 'max_records': 50, 'total_size': len(rows), 'data_connection_lists': entries}

    def show_connection(self, dw_id: str) -> Spec:
        """`GET /v1/{pid}/data-connections/{id}`: passwords read back as `*********`."""
        with self._store.read() as conn:
            return self._connection_view(conn, self._require_connection(conn, dw_id))


    def create_connection(self, spec: Spec) -> str:
        """`POST /v1/{pid}/data-connections` (one DataSourceVo): its new 32-hex `dw_id`."""
        name = spec.get('dw_name')
        if not isinstance(name, str) or not name or not spec.get('dw_type'):
            raise dayu('DLF.3051', 'The request parameter is invalid: dw_name and dw_type are required.')
        with self._store.write() as conn:
            if self._get(conn, 'connection', name) is not None:
                raise dayu('DLF.6309', f'The connection name is in use: {name}.')
            id_ = uuid.uuid4().hex
            self._insert(conn, 'connection', name, copy.deepcopy(spec), id_=id_)
        return id_

    def update_connection(self, dw_id: str, spec: Spec) -> None:
        """`PUT /v1/{pid}/data-connections/{id}`: the whole DataSourceVo; it may be renamed."""
        with self._store.write() as conn:
            row = self._require_connection(conn, dw_id)
            spec = self._named(spec, 'dw_name', row.name) if 'dw_name' not in spec else copy.deepcopy(spec)
            name = str(spec['dw_name'])
            if name != row.name and self._get(conn, 'connection', name) is not None:
                raise dayu('DLF.6309', f'The connection name is in use: {name}.')
            self._rewrite(conn, row, spec, name=name)

    def delete_connection(self, dw_id: str) -> None:
        """`DELETE /v1/{pid}/data-connections/{id}`."""
        with self._store.write() as conn:
            self._delete(conn, self._require_connection(conn, dw_id))
