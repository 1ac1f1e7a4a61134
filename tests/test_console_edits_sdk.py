"""A console edit of one object of each kind, made with the OFFICIAL SDK over signed HTTP on the
emulator, is reported by `plan` and `drift`; the same object edited in git too is a conflict that
apply refuses, leaving the console's edit in place (issue 11, "Done when").

The edits go through `huaweicloudsdkdgc` (job, script, resource), `huaweicloudsdkdataartsstudio`
(data connection) and `huaweicloudsdkcdm` (link, CDM job) as a console user's tooling would: show
the object, change one field on the SDK's own model, send the update. No request is built by
jobsync here. tests/test_console_edits.py makes the same edits on `local:` through the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip('huaweicloudsdkdgc')
pytest.importorskip('huaweicloudsdkcdm')
pytest.importorskip('huaweicloudsdkdataartsstudio')

import huaweicloudsdkcdm.v1 as cdm
import huaweicloudsdkdataartsstudio.v1 as studio
import huaweicloudsdkdgc.v1 as dgc
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, RunningEmulator, target_the_emulator
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig

WORKSPACE = 'ws-example'
ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}


@dataclass
class Sdk:
    """The three official clients on one project of the emulator."""

    dgc: Any
    studio: Any
    cdm: Any

    def cluster_id(self, name: str) -> str:
        clusters = self.cdm.list_clusters(cdm.ListClustersRequest()).clusters
        return next(str(c.id) for c in clusters if c.name == name)


def _sdk(url: str, project: str) -> Sdk:
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 30)

    def build(builder: Any) -> Any:
        return (builder.with_credentials(BasicCredentials(EMULATOR_AK, EMULATOR_SK, project))
                .with_http_config(config).with_endpoints([url]).build())

    return Sdk(build(dgc.DgcClient.new_builder()), build(studio.DataArtsStudioClient.new_builder()),
               build(cdm.CdmClient.new_builder()))


def _as(model: Any, answer: Any) -> Any:
    """`model` filled from an SDK answer's attributes of the same names (what a console tool does
    to send back what it read)."""
    names: dict[str, str] = model.openapi_types
    return model(**{name: getattr(answer, name) for name in names
                    if getattr(answer, name, None) is not None})


def _input(configs: Any, name: str) -> Any:
    return next(i for config in configs for i in config.inputs if i.name == name)


# --- one console edit per kind, each with the SDK, and what it leaves to check -----------------------

def _edit_job(sdk: Sdk) -> Callable[[], bool]:
    shown = sdk.dgc.show_job(dgc.ShowJobRequest(workspace=WORKSPACE, job_name='job_batch'))
    job = _as(dgc.JobInfo, shown)
    job.nodes[0].retry_times = 4
    sdk.dgc.update_job(dgc.UpdateJobRequest(workspace=WORKSPACE, job_name='job_batch', body=job))
    return lambda: sdk.dgc.show_job(dgc.ShowJobRequest(workspace=WORKSPACE, job_name='job_batch')) \
        .nodes[0].retry_times == 4


def _edit_script(sdk: Sdk) -> Callable[[], bool]:
    shown = sdk.dgc.show_script(dgc.ShowScriptRequest(workspace=WORKSPACE, script_name='dws_sql'))
    script = _as(dgc.ScriptInfo, shown)
    script.content = f'{script.content}\n-- edited in the console\n'
    sdk.dgc.update_script(dgc.UpdateScriptRequest(workspace=WORKSPACE, script_name='dws_sql', body=script))
    return lambda: 'edited in the console' in sdk.dgc.show_script(
        dgc.ShowScriptRequest(workspace=WORKSPACE, script_name='dws_sql')).content


def _edit_resource(sdk: Sdk) -> Callable[[], bool]:
    listed = sdk.dgc.list_resources(dgc.ListResourcesRequest(workspace=WORKSPACE, resource_name='spark_etl'))
    rid = next(str(r.id) for r in listed.resources if r.name == 'spark_etl')
    shown = sdk.dgc.show_resource(dgc.ShowResourceRequest(workspace=WORKSPACE, resource_id=rid))
    resource = _as(dgc.ResourceInfo, shown)
    resource.desc = 'edited in the console'
    sdk.dgc.update_resource(dgc.UpdateResourceRequest(workspace=WORKSPACE, resource_id=rid, body=resource))
    return lambda: sdk.dgc.show_resource(dgc.ShowResourceRequest(workspace=WORKSPACE, resource_id=rid)) \
        .desc == 'edited in the console'


def _edit_connection(sdk: Sdk) -> Callable[[], bool]:
    # A dw_config edit: the list entry (ApigDataSourceView) has no dw_config, only a show sees it.
    listed = sdk.studio.list_dataconnections(studio.ListDataconnectionsRequest(workspace=WORKSPACE, name='doctest'))
    cid = next(str(c.dw_id) for c in listed.data_connection_lists if c.dw_name == 'doctest')
    shown = sdk.studio.show_dataconnection(studio.ShowDataconnectionRequest(workspace=WORKSPACE,
                                                                            data_connection_id=cid))
    vo = _as(studio.ApigDataSourceVo, shown)
    vo.dw_config = {**shown.dw_config, 'port': '8001'}
    sdk.studio.update_dataconnection(studio.UpdateDataconnectionRequest(
        workspace=WORKSPACE, data_connection_id=cid, body=studio.ApigDataSourcesVo(data_source_vos=[vo])))
    return lambda: sdk.studio.show_dataconnection(studio.ShowDataconnectionRequest(
        workspace=WORKSPACE, data_connection_id=cid)).dw_config['port'] == '8001'


def _edit_link(sdk: Sdk) -> Callable[[], bool]:
    cluster = sdk.cluster_id('cdm-prod')
    (link,) = sdk.cdm.show_link(cdm.ShowLinkRequest(cluster_id=cluster, link_name='mysql_src')).links
    _input(link.link_config_values.configs, 'linkConfig.fetchSize').value = '50000'
    sdk.cdm.update_link(cdm.UpdateLinkRequest(cluster_id=cluster, link_name='mysql_src',
                                              body=cdm.CdmCreateAndUpdateLinkReq(links=[link])))

    def kept() -> bool:
        (now,) = sdk.cdm.show_link(cdm.ShowLinkRequest(cluster_id=cluster, link_name='mysql_src')).links
        return str(_input(now.link_config_values.configs, 'linkConfig.fetchSize').value) == '50000'
    return kept


def _edit_cdm_job(sdk: Sdk) -> Callable[[], bool]:
    cluster = sdk.cluster_id('cdm-prod')
    (job,) = sdk.cdm.show_jobs(cdm.ShowJobsRequest(cluster_id=cluster, job_name='orders')).jobs
    _input(job.driver_config_values.configs, 'throttlingConfig.numExtractors').value = '6'
    sdk.cdm.update_job(cdm.UpdateJobRequest(cluster_id=cluster, job_name='orders',
                                            body=cdm.CdmUpdateJobJsonReq(jobs=[job])))

    def kept() -> bool:
        (now,) = sdk.cdm.show_jobs(cdm.ShowJobsRequest(cluster_id=cluster, job_name='orders')).jobs
        return str(_input(now.driver_config_values.configs, 'throttlingConfig.numExtractors').value) == '6'
    return kept


@dataclass(frozen=True)
class Case:
    key: str
    console: Callable[[Sdk], Callable[[], bool]]
    file: str  # the object's file in git, and a one-value edit of it
    old: str
    new: str


CASES = {case.key.split('/')[0]: case for case in (
    Case('job/job_batch', _edit_job, 'jobs/job_batch.yaml', 'priority: 1', 'priority: 2'),
    Case('script/dws_sql', _edit_script, 'scripts/dws_sql.sql', ';', '; -- edited in git'),
    Case('resource/spark_etl', _edit_resource, 'resources/spark_etl.yaml', 'desc: Spark jobs', 'desc: Spark work'),
    Case('connection/doctest', _edit_connection, 'connections/doctest.yaml', 'ssl_enable: "false"',
         'ssl_enable: "true"'),
    Case('cdm-link/cdm-prod/mysql_src', _edit_link, 'cdm/cdm-prod/links/mysql_src.yaml',
         'fetchSize: "100000"', 'fetchSize: "200000"'),
    Case('cdm-job/cdm-prod/orders', _edit_cdm_job, 'cdm/cdm-prod/jobs/orders.yaml',
         'numExtractors: "4"', 'numExtractors: "8"'),
)}


def _applied(repo: Path, emulator: RunningEmulator) -> Sdk:
    project = target_the_emulator(repo, emulator.url, workspace_id=WORKSPACE)
    applied = run_jobsync('apply', '--repo', str(repo), '--auto-approve', env=ENV)
    assert applied.code == 0, applied
    settled = run_jobsync('plan', '--repo', str(repo), '--detailed-exitcode', env=ENV)
    assert settled.code == 0, settled
    return _sdk(emulator.url, project)


@pytest.mark.parametrize('kind', sorted(CASES))
def test_an_sdk_console_edit_is_reported_and_a_git_edit_of_it_is_a_conflict(
        example_repo: Path, running_emulator: RunningEmulator, kind: str) -> None:
    case = CASES[kind]
    sdk = _applied(example_repo, running_emulator)
    kept = case.console(sdk)
    assert kept()

    planned = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode', env=ENV)
    assert planned.code == 2, planned
    assert case.key in planned.stdout, planned.stdout
    drift = run_jobsync('drift', '--repo', str(example_repo), env=ENV)
    assert drift.code == 2, drift
    assert case.key in drift.stdout, drift.stdout

    path = example_repo / case.file
    text = path.read_text(encoding='utf-8')
    assert case.old in text
    path.write_text(text.replace(case.old, case.new, 1), encoding='utf-8')
    git_commit_all(example_repo, f'{case.key} edited in git too')
    conflict = run_jobsync('plan', '--repo', str(example_repo), env=ENV)
    assert conflict.code == 1, conflict
    assert case.key in conflict.stdout + conflict.stderr and 'conflict' in (conflict.stdout + conflict.stderr).lower()
    refused = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=ENV)
    assert refused.code == 1, refused
    assert kept(), 'the console edit was overwritten'
