"""`agent_id` for data connections that use a CDM cluster as their agent.

The service wants the agent's id, not only its name: the SDK's `ApigDataSourceVo.agent_id` is
"required when an agent is used", the docs call it the CDM cluster id ("see Querying the Cluster
List"), and the provider sends both `agent_id` and `agent_name` on create and update
(notes/issue11-facts.md §3). Git holds only `agent_name`; jobsync resolves the id from the CDM
cluster list (`GET /v1.1/{pid}/clusters`, one call per command, cached by the reader) and
sends it. A name that matches no cluster is sent as it is, without an id: the service's answer
then says what is wrong. The service fills `agent_id` on reads, so the field rules treat it as
the service's (kinds.FIELD_RULES, connection `/agent_id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jobsync.model import Kind


def with_agent_id(kind: Kind, body: dict[str, Any], clusters: Callable[[], Mapping[str, str]]) -> dict[str, Any]:
    """`body` with `agent_id` filled from its `agent_name` (connections only; see the docstring)."""
    if kind != 'connection' or body.get('agent_id') or not body.get('agent_name'):
        return body
    agent_id = clusters().get(str(body['agent_name']))
    return {**body, 'agent_id': agent_id} if agent_id else body
