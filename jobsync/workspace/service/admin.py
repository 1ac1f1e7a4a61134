"""Workspace settings the console sets and the API cannot: locked job tags and the review switch.

A DataArts administrator sets these in the console (DataArts Factory > Default Configuration);
no route of the service reads or writes them (the SDKs model none), so they are reached only
off the wire: the emulator's `/_emulator/...` admin routes (routes.py `emulator_only`) and
tests holding the `Engine`. They decide what the Factory routes accept (factory.py):

* a job carrying a locked tag (`basicConfig.tags`) cannot be written [DOC usermanual
  01_0438: "a job carrying a locked tag fails to import"; the code is not documented, `DLF.3051`
  (the generic "request parameter is invalid") is INF];
* with the review switch on, writes of jobs and scripts need `approvers`, and creates a
  `targetStatus` (SAVED | SUBMITTED | PRODUCTION) [SDK dgc `JobInfo`/`ScriptInfo`/`DeleteReq`/
  `ImportFileReq` doc strings: "needed once the approval switch is on"; refusal code INF `DLF.3051`].
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from jobsync.workspace.service.errors import dlf
from jobsync.workspace.service.store import Space

TARGET_STATUSES = ('SAVED', 'SUBMITTED', 'PRODUCTION')  # [SDK dgc script_info.py target_status]
REVIEW_FIELDS = ('targetStatus', 'approvers')  # request parameters of a write, not part of the object


def _read(conn: sqlite3.Connection, space: tuple[str, str], name: str, default: Any) -> Any:
    row = conn.execute('SELECT value FROM settings WHERE project=? AND workspace=? AND name=?',
                       (*space, name)).fetchone()
    return default if row is None else json.loads(row[0])


def locked_tags(conn: sqlite3.Connection, space: tuple[str, str]) -> list[str]:
    return list(_read(conn, space, 'locked_tags', []))


def review_on(conn: sqlite3.Connection, space: tuple[str, str]) -> bool:
    return bool(_read(conn, space, 'review', False))


def job_tags(spec: Mapping[str, Any]) -> list[str]:
    """`basicConfig.tags` (a list of strings in the SDK; the docs' `{}` holds none)."""
    basic = spec.get('basicConfig')
    tags = basic.get('tags') if isinstance(basic, dict) else None
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def check_locked_tags(conn: sqlite3.Connection, space: tuple[str, str], name: str,
                      *specs: Mapping[str, Any]) -> None:
    """Refuse to write the job `name` when one of `specs` (the stored job being overwritten, the
    job being written) carries a locked tag [DOC: "a job carrying a locked tag fails to import";
    which of the two the console looks at is not said, so both, INF]."""
    held = sorted({t for spec in specs for t in job_tags(spec)} & set(locked_tags(conn, space)))
    if held:
        raise dlf('DLF.3051', f'The request parameter is invalid: the job {name} carries the locked tag'
                              f' {", ".join(held)} and cannot be written.')


def check_review(conn: sqlite3.Connection, space: tuple[str, str], what: str, name: str,
                 body: Mapping[str, Any], *, create: bool) -> None:
    """With the review switch on: `approvers` on every write, a valid `targetStatus` on creates."""
    if not review_on(conn, space):
        return
    approvers = body.get('approvers')
    if not (isinstance(approvers, list) and approvers
            and all(isinstance(a, dict) and isinstance(a.get('approverName'), str) and a['approverName']
                    for a in approvers)):
        raise dlf('DLF.3051', f'The request parameter is invalid: the workspace requires approval; the {what}'
                              f' {name} needs approvers.')
    status = body.get('targetStatus')
    if (create or status is not None) and status not in TARGET_STATUSES:
        raise dlf('DLF.3051', f'The request parameter is invalid: the workspace requires approval; the {what}'
                              f' {name} needs targetStatus ({", ".join(TARGET_STATUSES)}).')


def without_review_fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The object as stored: the review parameters of the request are not part of it."""
    return {k: v for k, v in spec.items() if k not in REVIEW_FIELDS}


class Admin(Space):
    """The console's workspace settings, off the wire (see the module doc)."""

    def _set(self, name: str, value: Any) -> None:
        with self._store.write() as conn:
            conn.execute('INSERT OR REPLACE INTO settings (project, workspace, name, value) VALUES (?,?,?,?)',
                         (*self._space, name, json.dumps(value)))

    def set_review(self, on: bool) -> None:
        """Turn the workspace's review (approval) switch on or off."""
        self._set('review', bool(on))

    def lock_tag(self, tag: str) -> None:
        """Lock a job tag: jobs holding it can no longer be overwritten."""
        with self._store.read() as conn:
            tags = locked_tags(conn, self._space)
        self._set('locked_tags', sorted({*tags, tag}))

    def unlock_tag(self, tag: str) -> None:
        with self._store.read() as conn:
            tags = locked_tags(conn, self._space)
        self._set('locked_tags', sorted(set(tags) - {tag}))

    def configure(self, *, review: bool | None = None, locked_tags: list[str] | None = None) -> None:
        """Set what is given: the review switch, the whole list of locked tags."""
        if review is not None:
            self.set_review(review)
        if locked_tags is not None:
            self._set('locked_tags', sorted(set(locked_tags)))

    def require_review(self, what: str, name: str, body: Mapping[str, Any], *, create: bool) -> None:
        """`check_review` for a request the caller handles itself (a jobs/import)."""
        with self._store.read() as conn:
            check_review(conn, self._space, what, name, body, create=create)

    def settings(self) -> dict[str, Any]:
        """The review switch and the locked tags, for the admin route's answer."""
        with self._store.read() as conn:
            return {'review': review_on(conn, self._space), 'locked_tags': locked_tags(conn, self._space)}
