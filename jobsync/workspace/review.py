"""Review mode: what job and script writes carry for a workspace with the review switch on.

With the approval ("review") switch on, the service needs `approvers` on every job and script
write and a `targetStatus` on creates (reference §4.4; [SDK dgc] `JobInfo`, `ScriptInfo` take
`targetStatus` and `approvers: [JobApprover{approverName}]`, `DeleteReq` takes `approvers`). A
target declares them once in jobsync.yaml (`review: {approvers, target_status}`); the client adds
them to each write body. They are request parameters, not part of a definition: never in git.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobsync.model import Kind

REVIEWED_KINDS: frozenset[Kind] = frozenset({'job', 'script'})  # the models that take them [SDK dgc]
DEFAULT_TARGET_STATUS = 'SUBMITTED'


@dataclass(frozen=True)
class Review:
    approvers: tuple[str, ...]
    target_status: str = DEFAULT_TARGET_STATUS

    def _approvers(self) -> list[dict[str, str]]:
        return [{'approverName': name} for name in self.approvers]

    def write_body(self, kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
        """A create or update body with the review parameters (jobs and scripts only)."""
        if kind not in REVIEWED_KINDS:
            return dict(body)
        return {**body, 'targetStatus': self.target_status, 'approvers': self._approvers()}

    def delete_body(self, kind: Kind) -> dict[str, Any] | None:
        """The DeleteReq body of a job or script delete (None: the delete sends no body)."""
        return {'approvers': self._approvers()} if kind in REVIEWED_KINDS else None


def review_of(settings: Mapping[str, Any]) -> Review | None:
    """The target's `review:` (schema-checked by load), or None when the target has none."""
    raw = settings.get('review')
    if not isinstance(raw, Mapping):
        return None
    return Review(tuple(str(a) for a in raw.get('approvers') or ()),
                  str(raw.get('target_status') or DEFAULT_TARGET_STATUS))
