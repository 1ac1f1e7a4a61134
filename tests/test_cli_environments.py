"""One repo, dev and prod: the real command on a git copy of examples/repo and real SQLite workspaces."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync


def planned_keys(repo: Path, target: str) -> set[str]:
    result = run_jobsync('plan', '--repo', str(repo), '--target', target, '--format', 'json')
    assert result.code == 0, result
    return {c['key'] for c in json.loads(result.stdout)['changes'] if c['action'] == 'create'}


def test_dev_and_prod_plan_their_own_names(example_repo: Path) -> None:
    dev, prod = planned_keys(example_repo, 'dev'), planned_keys(example_repo, 'prod')
    assert len(dev) == len(prod) == 22
    assert {'connection/dws_dev', 'cdm-link/cdm-dev/dws_dst', 'cdm-job/cdm-dev/customers'} <= dev
    assert {'connection/dws_prod', 'cdm-link/cdm-prod-01/dws_dst', 'cdm-job/cdm-prod-01/customers'} <= prod
    assert not any('doctest' in k or '/cdm-prod/' in k for k in dev | prod)
    text = run_jobsync('plan', '--repo', str(example_repo), '--target', 'prod').stdout
    assert '+ /nodes/load_orders/properties/clusterName: "cdm-prod-01"' in text
    assert '+ /nodes/sales_daily/properties/connectionName: "dws_prod"' in text
    assert '+ /logPath: "obs://dataarts-prod-logs/dlf/"' in text  # variables are shown resolved
    dev_text = run_jobsync('plan', '--repo', str(example_repo), '--target', 'dev').stdout
    assert '+ /nodes/customer_features/properties/clusterName: "mrs-lake-dev"' in dev_text
    assert '+ /logPath: "obs://dataarts-dev-logs/dlf/"' in dev_text


def test_applying_dev_and_prod_leaves_each_workspace_consistent(example_repo: Path) -> None:
    for target in ('dev', 'prod'):
        applied = run_jobsync('apply', '--repo', str(example_repo), '--target', target, '--auto-approve',
                              env=EXAMPLE_SECRETS)
        assert applied.code == 0, applied
        assert 'Apply: 22 applied, 0 failed, 0 skipped.' in applied.stdout
    assert (example_repo / '.jobsync' / 'dev.db').is_file() and (example_repo / '.jobsync' / 'prod.db').is_file()
    for target in ('dev', 'prod'):
        planned = run_jobsync('plan', '--repo', str(example_repo), '--target', target, '--detailed-exitcode')
        assert planned.code == 0, planned
        assert 'No changes. The workspace matches git.' in planned.stdout
        assert 'unmanaged' not in planned.stdout.lower()
    # The default target's workspace was never touched.
    fresh = run_jobsync('plan', '--repo', str(example_repo), '--format', 'json')
    assert json.loads(fresh.stdout)['summary']['create'] == 22


def test_a_change_to_a_variable_shows_in_one_target_only(example_repo: Path) -> None:
    for target in ('dev', 'prod'):
        assert run_jobsync('apply', '--repo', str(example_repo), '--target', target, '--auto-approve',
                           env=EXAMPLE_SECRETS).code == 0
    config = example_repo / 'jobsync.yaml'
    config.write_text(config.read_text().replace('log_bucket: dataarts-dev-logs', 'log_bucket: dataarts-dev-logs2'))
    dev = run_jobsync('plan', '--repo', str(example_repo), '--target', 'dev', '--detailed-exitcode')
    assert dev.code == 2, dev
    assert '~ /logPath: "obs://dataarts-dev-logs/dlf/" -> "obs://dataarts-dev-logs2/dlf/"' in dev.stdout
    assert run_jobsync('plan', '--repo', str(example_repo), '--target', 'prod', '--detailed-exitcode').code == 0


def test_validate_prod_reports_undefined_variable_and_unmapped_connection(example_repo: Path) -> None:
    job = example_repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('obs://${var:log_bucket}/dlf/', 'obs://${var:log_bukket}/dlf/'))
    script = example_repo / 'scripts' / 'kpi_refresh.yaml'
    script.write_text(script.read_text().replace('connectionName: doctest', 'connectionName: dws_realtime'))
    result = run_jobsync('validate', '--repo', str(example_repo), '--target', 'prod')
    assert result.code == 1, result
    assert 'Traceback' not in result.stderr
    assert ("error: jobs/job_batch.yaml:4#/logPath: variable 'log_bukket' is not defined for target 'prod'\n"
            "  hint: did you mean 'log_bucket'? define it under targets.prod.variables") in result.stderr
    assert ("error: scripts/kpi_refresh.yaml:4#/connectionName: connection 'dws_realtime' is not defined in the "
            "repo (connection/dws_realtime)\n"
            "  hint: define it under connections/, or map it to a connection of target 'prod': "
            "targets.prod.remap.connections: {dws_realtime: NAME} in jobsync.yaml") in result.stderr
    assert 'Error: 2 problem(s) in the repo.' in result.stderr


def test_validate_online_accepts_what_the_workspace_has(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--target', 'prod', '--auto-approve',
                       env=EXAMPLE_SECRETS).code == 0
    # The connection now lives in the workspace only (managed outside this repo): remap to it.
    (example_repo / 'connections' / 'doctest.yaml').unlink()
    offline = run_jobsync('validate', '--repo', str(example_repo), '--target', 'prod')
    assert offline.code == 1 and "connection 'dws_prod' is not defined in the repo" in offline.stderr, offline
    assert "'doctest' is remapped to 'dws_prod' by targets.prod.remap.connections" in offline.stderr
    online = run_jobsync('validate', '--repo', str(example_repo), '--target', 'prod', '--online')
    assert online.code == 0, online
    assert 'OK: 21 definitions valid for target prod.' in online.stdout
    # dev's workspace has no dws_dev: online does not help there.
    dev = run_jobsync('validate', '--repo', str(example_repo), '--target', 'dev', '--online')
    assert dev.code == 1 and 'is not defined in the repo nor in the workspace' in dev.stderr, dev
    # plan and apply read the workspace anyway, so they accept it too.
    planned = run_jobsync('plan', '--repo', str(example_repo), '--target', 'prod', '--detailed-exitcode')
    assert planned.code == 0, planned


def test_a_template_with_ten_parameter_sets_plans_ten_objects(example_repo: Path) -> None:
    path = example_repo / 'cdm' / 'cdm-prod' / 'jobs' / 'master_data.template.yaml'
    doc = yaml.safe_load(path.read_text())
    assert [p['table'] for p in doc['params']] == ['customers', 'products']
    doc['params'] += [{'table': f'table_{i}', 'columns': 'id&name', 'extractors': '1'} for i in range(8)]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    git_commit_all(example_repo, 'ten tables')
    prod = planned_keys(example_repo, 'prod')
    assert len(prod) == 22 - 2 + 10
    generated = sorted(k for k in prod if k.startswith('cdm-job/cdm-prod-01/') and k != 'cdm-job/cdm-prod-01/orders')
    assert generated == sorted(['cdm-job/cdm-prod-01/customers', 'cdm-job/cdm-prod-01/products',
                                *(f'cdm-job/cdm-prod-01/table_{i}' for i in range(8))])
    # A bad parameter set: reported with the template file and the set's index.
    doc['params'][3]['extractors'] = ['4']
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = run_jobsync('validate', '--repo', str(example_repo), '--target', 'prod')
    assert result.code == 1, result
    assert 'cdm/cdm-prod/jobs/master_data.template.yaml' in result.stderr
    assert '#/params/3/extractors' in result.stderr
