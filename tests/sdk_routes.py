"""Every route jobsync or its emulator speaks, and the official SDK operation that covers it.

Keyed by (method, path template) as jobsync writes them (`jobsync/workspace/dataarts.py`
`Route(...)`, the emulator's `_ROUTES`): `{pid}` is the SDK's `{project_id}`. `operation` is the
SDK client's method, `response` its response model class in `sdk` (None where no model
describes a JSON answer, with the docs' word in `note`).

SDKs: huaweicloudsdkdgc.v1 (DataArts Factory v1), huaweicloudsdkdataartsstudio.v1 (Management
Center data connections and workspaces), huaweicloudsdkcdm.v1 (CDM v1.1), all 3.1.219.
Operation ↔ route was read from each client's `_<operation>_http_info` (method,
`resource_path`, `response_type`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field

DGC = 'huaweicloudsdkdgc.v1'
CDM = 'huaweicloudsdkcdm.v1'
STUDIO = 'huaweicloudsdkdataartsstudio.v1'


@dataclass(frozen=True)
class SdkOperation:
    sdk: str
    operation: str | None  # the client method; None: no SDK operation at all
    response: str | None  # the response model class; None: the answer is not a JSON model
    note: str = ''
    # Deviations from the SDK model that the docs or the provider document, JSON pointer (`*` any
    # position) → the evidence. The rule: where docs and SDK disagree, follow the docs.
    allowed: Mapping[str, str] = field(default_factory=dict)

    def model(self) -> type | None:
        """The response model class, imported from the SDK."""
        if self.response is None:
            return None
        found: type = getattr(importlib.import_module(self.sdk), self.response)
        return found


Key = tuple[str, str]

_ZIP = ('the answer is the export file itself (application/octet-stream, a zip; docs "Exporting a '
        'Job"/"Batch Exporting Jobs": "Response: none", the file is the body); with `obsPath` the docs '
        'give no JSON body either. The SDK response model is empty and its client streams the body.')

SDK_ROUTES: dict[Key, SdkOperation] = {
    # --- DataArts Factory v1: jobs ------------------------------------------------------------
    ('GET', '/v1/{pid}/jobs'): SdkOperation(DGC, 'list_jobs', 'ListJobsResponse'),
    ('POST', '/v1/{pid}/jobs'): SdkOperation(DGC, 'create_job', 'CreateJobResponse', 'no body (204)'),
    ('GET', '/v1/{pid}/jobs/{job_name}'): SdkOperation(DGC, 'show_job', 'ShowJobResponse'),
    ('PUT', '/v1/{pid}/jobs/{job_name}'): SdkOperation(DGC, 'update_job', 'UpdateJobResponse', 'no body (204)'),
    ('DELETE', '/v1/{pid}/jobs/{job_name}'): SdkOperation(DGC, 'delete_job', 'DeleteJobResponse', 'no body'),
    ('POST', '/v1/{pid}/jobs/{job_name}/start'): SdkOperation(DGC, 'start_job', 'StartJobResponse', 'no body'),
    ('POST', '/v1/{pid}/jobs/{job_name}/stop'): SdkOperation(DGC, 'stop_job', 'StopJobResponse', 'no body'),
    ('POST', '/v1/{pid}/jobs/{job_name}/run-immediate'): SdkOperation(DGC, 'run_once', 'RunOnceResponse'),
    ('GET', '/v1/{pid}/jobs/{job_name}/status'): SdkOperation(DGC, 'show_job_status', 'ShowJobStatusResponse',
                                                              'real-time jobs only in the docs'),
    ('GET', '/v1/{pid}/jobs/{job_name}/instances/{instance_id}'): SdkOperation(
        DGC, 'show_job_instance', 'ShowJobInstanceResponse'),
    ('POST', '/v1/{pid}/jobs/batch-export'): SdkOperation(DGC, 'export_job_list', None, _ZIP),
    ('POST', '/v1/{pid}/jobs/{job_name}/export'): SdkOperation(DGC, 'export_job', None, _ZIP),
    ('POST', '/v1/{pid}/jobs/import'): SdkOperation(DGC, 'import_job', 'ImportJobResponse'),
    ('GET', '/v1/{pid}/system-tasks/{task_id}'): SdkOperation(DGC, 'list_system_tasks', 'ListSystemTasksResponse'),
    # --- scripts ------------------------------------------------------------------------------
    ('GET', '/v1/{pid}/scripts'): SdkOperation(DGC, 'list_scripts', 'ListScriptsResponse'),
    ('POST', '/v1/{pid}/scripts'): SdkOperation(DGC, 'create_script', 'CreateScriptResponse', 'no body'),
    ('GET', '/v1/{pid}/scripts/{script_name}'): SdkOperation(DGC, 'show_script', 'ShowScriptResponse'),
    ('PUT', '/v1/{pid}/scripts/{script_name}'): SdkOperation(DGC, 'update_script', 'UpdateScriptResponse',
                                                             'no body'),
    ('DELETE', '/v1/{pid}/scripts/{script_name}'): SdkOperation(DGC, 'delete_script', 'DeleteScriptResponse',
                                                                'no body'),
    # --- resources ----------------------------------------------------------------------------
    ('GET', '/v1/{pid}/resources'): SdkOperation(DGC, 'list_resources', 'ListResourcesResponse'),
    ('POST', '/v1/{pid}/resources'): SdkOperation(
        DGC, 'create_resource', None, 'the SDK model is `body: str` (the whole answer a string), the docs '
        '("Creating a Resource") answer {"resourceId": "..."}: the docs are followed, not checked here'),
    ('GET', '/v1/{pid}/resources/{resource_id}'): SdkOperation(DGC, 'show_resource', 'ShowResourceResponse'),
    ('PUT', '/v1/{pid}/resources/{resource_id}'): SdkOperation(DGC, 'update_resource', 'UpdateResourceResponse',
                                                               'no body'),
    ('DELETE', '/v1/{pid}/resources/{resource_id}'): SdkOperation(DGC, 'delete_resource',
                                                                  'DeleteResourceResponse', 'no body'),
    # --- Management Center: data connections (the `workspace` header is required by the SDK) ----
    ('GET', '/v1/{pid}/data-connections'): SdkOperation(STUDIO, 'list_dataconnections',
                                                        'ListDataconnectionsResponse'),
    ('POST', '/v1/{pid}/data-connections'): SdkOperation(
        STUDIO, 'create_connections', 'CreateConnectionsResponse', 'the SDK model is empty',
        allowed={'/data_connection_id': 'golangsdk dayu/v1/connections/results.go createResp; the terraform '
                                        'provider takes the new id from it (no other way to learn it)'}),
    ('POST', '/v1/{pid}/data-connections/validation'): SdkOperation(
        STUDIO, 'debug_dataconnection', 'DebugDataconnectionResponse', 'the SDK model is empty',
        allowed={'/is_success': 'golangsdk ValidateResp; the provider refuses the create when false',
                 '/message': 'golangsdk ValidateResp.Message, shown by the provider'}),
    ('GET', '/v1/{pid}/data-connections/{data_connection_id}'): SdkOperation(
        STUDIO, 'show_dataconnection', 'ShowDataconnectionResponse'),
    ('PUT', '/v1/{pid}/data-connections/{data_connection_id}'): SdkOperation(
        STUDIO, 'update_dataconnection', 'UpdateDataconnectionResponse', 'no body'),
    ('DELETE', '/v1/{pid}/data-connections/{data_connection_id}'): SdkOperation(
        STUDIO, 'delete_dataconnection', 'DeleteDataconnectionResponse', 'no body'),
    # --- CDM v1.1 (no workspace: the default one) --------------------------------------------
    ('GET', '/v1.1/{pid}/clusters'): SdkOperation(CDM, 'list_clusters', 'ListClustersResponse'),
    ('POST', '/v1.1/{pid}/clusters'): SdkOperation(
        CDM, 'create_cluster', None, 'emulator-only stand-in for buying a cluster ({"cluster": {"name"}}); the SDK\'s '
        'create_cluster takes a full order (CreateClusterResponse: id, name, task) and jobsync never calls it'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}'): SdkOperation(CDM, 'show_cluster_detail',
                                                               'ShowClusterDetailResponse'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/all'): SdkOperation(
        CDM, 'show_link', 'ShowLinkResponse', 'link_name=all: not documented for links (only for jobs); '
        'the SDK has no list-links operation'),
    ('POST', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link'): SdkOperation(CDM, 'create_link', 'CreateLinkResponse'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}'): SdkOperation(CDM, 'show_link',
                                                                                    'ShowLinkResponse'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}'): SdkOperation(CDM, 'update_link',
                                                                                    'UpdateLinkResponse'),
    ('DELETE', '/v1.1/{pid}/clusters/{cluster_id}/cdm/link/{link_name}'): SdkOperation(CDM, 'delete_link',
                                                                                       'DeleteLinkResponse'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/all'): SdkOperation(
        CDM, 'show_jobs', 'ShowJobsResponse', 'job_name=all lists (ShowJobsRequest doc)'),
    ('POST', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job'): SdkOperation(CDM, 'create_job', 'CreateJobResponse'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/submissions'): SdkOperation(CDM, 'show_submissions',
                                                                               'ShowSubmissionsResponse'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}'): SdkOperation(CDM, 'show_jobs',
                                                                                  'ShowJobsResponse'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}'): SdkOperation(CDM, 'update_job',
                                                                                  'UpdateJobResponse'),
    ('DELETE', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}'): SdkOperation(CDM, 'delete_job',
                                                                                     'DeleteJobResponse'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/start'): SdkOperation(CDM, 'start_job',
                                                                                        'StartJobResponse'),
    ('PUT', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/stop'): SdkOperation(CDM, 'stop_job',
                                                                                       'StopJobResponse'),
    ('GET', '/v1.1/{pid}/clusters/{cluster_id}/cdm/job/{job_name}/status'): SdkOperation(
        CDM, 'show_job_status', 'ShowJobStatusResponse'),
    # --- emulator-only ------------------------------------------------------------------------
    ('PUT', '/_emulator/obs/{bucket}/{key*}'): SdkOperation('', None, None, 'a fake OBS for jobs/import; no service'),
    ('PUT', '/_emulator/{pid}/settings'): SdkOperation('', None, None, 'console-only settings: review, locked tags'),
    ('GET', '/_emulator/{pid}/settings'): SdkOperation('', None, None, 'console-only settings: review, locked tags'),
    ('PUT', '/_emulator/{pid}/scripts/{script_name}/lock'): SdkOperation('', None, None,
                                                                         'a console user opening a script for edit'),
    ('DELETE', '/_emulator/{pid}/scripts/{script_name}/lock'): SdkOperation('', None, None,
                                                                            'a console user releasing a script'),
}

# Not used by jobsync yet; issue 11 needs them to find the default workspace (Management Center).
PLANNED_ROUTES: dict[Key, SdkOperation] = {
    ('GET', '/v1/{pid}/instances'): SdkOperation(
        STUDIO, 'list_data_arts_studio_instances', 'ListDataArtsStudioInstancesResponse',
        'the DataArts Studio instances (commodity_orders[].resource_id is the instance id)'),
    ('GET', '/v1/{pid}/workspaces/{instance_id}'): SdkOperation(
        STUDIO, 'list_manager_work_spaces', 'ListManagerWorkSpacesResponse',
        'data[] are Workspacebody: id, name, is_default (int), ...; limit/offset paging'),
}

# Used since issue 11 (jobsync/workspace/workspaces.py finds the default workspace with them).
SDK_ROUTES.update(PLANNED_ROUTES)


def checked_routes() -> dict[Key, SdkOperation]:
    """The routes whose answers have an SDK model to check against."""
    return {key: op for key, op in SDK_ROUTES.items() if op.response is not None}


__all__ = ['CDM', 'DGC', 'PLANNED_ROUTES', 'SDK_ROUTES', 'STUDIO', 'SdkOperation', 'checked_routes']
