"""Finding a `dataarts` target's default workspace when `workspace_id` is not given.

jobsync sends the `workspace` header on every Management Center call: the SDK's data-connection
requests assign it unconditionally, the docs mark it "Mandatory: Yes" and the provider makes
`workspace_id` required (notes/issue11-facts.md §4). So a target without `workspace_id` gets the
project's default workspace looked up once, when the workspace is opened, in two calls that take
no `workspace` header: `GET /v1/{pid}/instances` (the DataArts Studio instances) and
`GET /v1/{pid}/workspaces/{instance_id}` (its workspaces; `is_default == 1` marks the default)
[SDK dataartsstudio `list_data_arts_studio_instances`, `list_manager_work_spaces`; TF
`data_source_huaweicloud_dataarts_studio_workspaces.go`]. With no instance, several instances,
or no default workspace, the answer is ambiguous: `UsageError` asking for `workspace_id`.
"""

from __future__ import annotations

from typing import Any

from jobsync.errors import UsageError
from jobsync.workspace import routes as r
from jobsync.workspace.transport import Transport

PAGE = 100  # workspaces per page (the SDK's `limit`)
MAX_PAGES = 50  # a bound on the paging loop: a project has far fewer workspaces
_HINT = 'set dataarts.workspace_id for the target (the workspace id, see README "Using a dataarts target")'


def default_workspace_id(transport: Transport, where: str) -> str:
    """The id of the project's default workspace (see the module docstring)."""
    answer: Any = transport.call(r.LIST_INSTANCES).json() or {}
    orders = [o for o in answer.get('commodity_orders') or [] if isinstance(o, dict) and o.get('resource_id')]
    if len(orders) != 1:
        found = 'no DataArts Studio instance' if not orders else f'{len(orders)} DataArts Studio instances'
        raise UsageError(f'{where}: dataarts.workspace_id is not set and the project has {found}, so there is'
                         ' no one default workspace', hint=_HINT)
    instance = str(orders[0]['resource_id'])
    for page in range(MAX_PAGES):
        body: Any = transport.call(r.LIST_WORKSPACES, {'instance_id': instance},
                                   query=[('limit', PAGE), ('offset', page * PAGE)]).json() or {}
        data = [w for w in body.get('data') or [] if isinstance(w, dict)]
        for space in data:
            if space.get('is_default') == 1 and space.get('id'):
                return str(space['id'])
        if len(data) < PAGE or page + 1 >= int(body.get('total_page') or 1):
            break
    raise UsageError(f'{where}: dataarts.workspace_id is not set and instance {instance} lists no default'
                     ' workspace', hint=_HINT)
