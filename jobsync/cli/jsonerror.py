"""JSON documents for `--format json`: diagnostics, and the error document a failed command prints.

A pipeline reading `--format json` always gets one JSON document on stdout, also on failure:
`{"ok": false, "error": {...}, "diagnostics": [...]}` (the text message still goes to stderr).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from jobsync import jsontext
from jobsync.errors import Diagnostic

# Diagnostic.where: 'jobs/daily.yaml:12#/schedule/cron/expression', 'jobsync.yaml', or an object key.
_WHERE = re.compile(r'^(?P<file>[^:#]+?)(?::(?P<line>\d+))?(?:#(?P<pointer>/.*|))?$')
_FILE_SUFFIXES = ('.yaml', '.yml', '.json', '.sql', '.sh', '.py', '.job', '.zip')


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """One diagnostic with its place split: file, line (1-based), JSON pointer, or the object key."""
    doc: dict[str, Any] = {'severity': diagnostic.severity, 'message': diagnostic.summary,
                           'file': None, 'line': None, 'pointer': None, 'object': None,
                           'hint': diagnostic.hint or None}
    match = _WHERE.match(diagnostic.where) if diagnostic.where else None
    if match is None:
        if diagnostic.where:
            doc['object'] = diagnostic.where
        return doc
    place = match['file']
    if match['line'] or match['pointer'] is not None or place.endswith(_FILE_SUFFIXES):
        doc['file'] = place
        doc['line'] = int(match['line']) if match['line'] else None
        doc['pointer'] = match['pointer'] if match['pointer'] is not None else None
    else:
        doc['object'] = place
    return doc


def diagnostics_json(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    return [diagnostic_json(d) for d in diagnostics]


def error_document(kind: str, message: str, hint: str = '', diagnostics: Iterable[Diagnostic] = ()) -> str:
    """`kind`: config (the repo has problems), error, interrupted or bug."""
    doc = {'ok': False, 'error': {'kind': kind, 'message': message, 'hint': hint or None},
           'diagnostics': diagnostics_json(diagnostics)}
    return jsontext.pretty(doc) + '\n'
