"""export, drift, run/stop/delete/groups through the real command on a real git repo and workspace."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from test_export import HAND_BUILT, PASSWORDS

from jobsync.model import ObjectKey
from jobsync.workspace.local import LocalWorkspace

JOB_BATCH = ObjectKey('job', 'job_batch')


@pytest.fixture
def applied_repo(example_repo: Path) -> Path:
    """examples/repo applied to its local workspace, and committed."""
    result = run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS)
    assert result.code == 0, result
    return example_repo


def _console_edit(repo: Path, key: ObjectKey, edit) -> None:
    """Change an object in the workspace, as someone in the console would."""
    ws = LocalWorkspace(repo / '.jobsync' / 'workspace.db')
    try:
        spec = ws.read([key])[key].spec
        edit(spec)
        ws.import_objects([(key, spec)])
    finally:
        ws.close()


def _set_cron(spec: dict) -> None:
    spec['schedule']['cron']['expression'] = '0 45 2 * * ?'


def test_hand_built_workspace_export_all_then_plan_has_nothing_to_do(tmp_path):
    ws = LocalWorkspace(tmp_path / 'console.db')
    ws.import_objects(HAND_BUILT)
    ws.close()
    repo = tmp_path / 'repo'
    repo.mkdir()
    (repo / 'jobsync.yaml').write_text(f'targets:\n  prod:\n    workspace: local:{tmp_path / "console.db"}\n')
    git_commit_all(repo, 'config')
    exported = run_jobsync('export', '--all', '--repo', str(repo))
    assert exported.code == 0, exported
    assert f'{len(HAND_BUILT)} added, 0 changed, 0 unchanged' in exported.stdout
    assert 'Secrets to set before apply' in exported.stdout and '${secret:env:SRC_PASSWORD}' in exported.stdout
    planned = run_jobsync('plan', '--repo', str(repo), '--detailed-exitcode')
    assert planned.code == 0, planned
    assert 'No changes. The workspace matches git.' in planned.stdout
    files = b''.join(p.read_bytes() for p in repo.rglob('*') if p.is_file() and '.git' not in p.parts)
    assert not any(pw.encode() in files for pw in PASSWORDS)
    assert run_jobsync('drift', '--repo', str(repo)).code == 0


def test_export_of_an_applied_repo_writes_nothing(applied_repo):
    result = run_jobsync('export', '--all', '--repo', str(applied_repo))
    assert result.code == 0, result
    assert '0 added, 0 changed, 22 unchanged' in result.stdout and 'Nothing to write' in result.stdout
    assert not git.Repo(applied_repo).is_dirty(untracked_files=True)


def test_drift_then_export_on_a_branch_with_a_commit(applied_repo):
    _console_edit(applied_repo, JOB_BATCH, _set_cron)
    drift = run_jobsync('drift', '--repo', str(applied_repo))
    assert drift.code == 2, drift
    assert '~ job/job_batch  (1 field changed in the workspace)' in drift.stdout
    assert '    ~ /schedule/cron/expression: "0 0 2 * * ?" -> "0 45 2 * * ?"' in drift.stdout
    md = run_jobsync('drift', '--repo', str(applied_repo), '--format', 'markdown')
    assert md.code == 2 and '| ~ | `job/job_batch` |' in md.stdout
    doc = json.loads(run_jobsync('drift', '--repo', str(applied_repo), '--format', 'json').stdout)
    assert doc['summary']['changed'] == 1

    result = run_jobsync('export', '--all', '--repo', str(applied_repo), '--branch', 'jobsync/drift', '--commit')
    assert result.code == 0, result
    assert '0 added, 1 changed, 21 unchanged' in result.stdout
    repo = git.Repo(applied_repo)
    assert repo.active_branch.name == 'jobsync/drift'
    head = repo.head.commit
    assert isinstance(head.message, str) and head.message.startswith('jobsync export: 0 added, 1 changed\n')
    assert 'job/job_batch: /schedule/cron/expression' in head.message
    assert list(head.stats.files) == ['jobs/job_batch.yaml']
    stats = head.stats.files['jobs/job_batch.yaml']
    assert (stats['insertions'], stats['deletions']) == (1, 1)
    assert not repo.is_dirty(untracked_files=True)
    assert run_jobsync('drift', '--repo', str(applied_repo)).code == 0
    assert run_jobsync('plan', '--repo', str(applied_repo), '--detailed-exitcode').code == 0


def test_export_never_overwrites_uncommitted_edits_unless_forced(applied_repo):
    _console_edit(applied_repo, JOB_BATCH, _set_cron)
    path = applied_repo / 'jobs' / 'job_batch.yaml'
    # An edit that changes no field: one that did would be a conflict (changed in git and in the
    # workspace since the last apply), which export never writes, forced or not.
    mine = '# my note\n' + path.read_text()
    path.write_text(mine)
    refused = run_jobsync('export', '--jobs', '--repo', str(applied_repo))
    assert refused.code == 1
    assert 'uncommitted edits: jobs/job_batch.yaml; nothing was written' in refused.stderr
    assert '--force' in refused.stderr
    assert path.read_text() == mine
    forced = run_jobsync('export', '--jobs', '--repo', str(applied_repo), '--force')
    assert forced.code == 0, forced
    assert '0 45 2 * * ?' in path.read_text() and path.read_text().startswith('# my note\n')


def test_export_needs_a_scope_and_an_existing_branch_is_refused(applied_repo):
    assert 'use --all, --jobs' in run_jobsync('export', '--repo', str(applied_repo)).stderr
    git.Repo(applied_repo).create_head('taken')
    _console_edit(applied_repo, JOB_BATCH, _set_cron)
    result = run_jobsync('export', '--all', '--repo', str(applied_repo), '--branch', 'taken')
    assert result.code == 1 and 'branch taken already exists' in result.stderr
    assert git.Repo(applied_repo).active_branch.name != 'taken'
    assert not git.Repo(applied_repo).is_dirty()


def test_drift_on_an_invalid_repo_is_an_error_not_drift(applied_repo):
    (applied_repo / 'jobs' / 'broken.yaml').write_text('nodes: [\n')
    result = run_jobsync('drift', '--repo', str(applied_repo))
    assert result.code == 1 and 'YAML syntax error' in result.stderr


def test_run_a_group_and_wait_starts_every_job_and_reports_each(applied_repo):
    result = run_jobsync('run', '--group', 'master_data', '--wait', '--interval', '0.01', '--repo', str(applied_repo))
    assert result.code == 0, result
    assert result.stdout.splitlines() == [
        'ok     cdm-job/cdm-prod/customers: SUCCEEDED',
        'ok     cdm-job/cdm-prod/products: SUCCEEDED',
        'Run: 2 ok, 0 failed.',
    ]
    assert '  cdm-job/cdm-prod/customers: started\n' in result.stderr
    unknown = run_jobsync('run', '--group', 'nope', '--repo', str(applied_repo))
    assert unknown.code == 1 and 'no CDM job in group nope' in unknown.stderr


def test_run_once_runs_an_instance_and_waits_for_its_success(applied_repo):
    result = run_jobsync('run', '--once', 'job_batch', '--wait', '--interval', '0.01', '--repo', str(applied_repo))
    assert result.code == 0, result
    assert result.stdout.splitlines() == [
        'ok     job/job_batch: success (instance 1000001)',
        'Run: 1 ok, 0 failed.',
    ]
    assert '  job/job_batch: running once: instance 1000001\n' in result.stderr
    assert '  job/job_batch: success\n' in result.stderr
    ws = LocalWorkspace(applied_repo / '.jobsync' / 'workspace.db')
    try:
        assert ws.job_status(JOB_BATCH) == 'STOPPED'  # its schedule was not started
    finally:
        ws.close()


def test_a_job_scheduled_execute_once_is_run_once_without_asking(applied_repo):
    _console_edit(applied_repo, ObjectKey('job', 'doc1'), lambda spec: spec.update(schedule={'type': 'EXECUTE_ONCE'}))
    result = run_jobsync('run', 'doc1', 'job_stream', '--wait', '--interval', '0.01', '--repo', str(applied_repo))
    assert result.code == 0, result
    assert result.stdout.splitlines() == [
        'ok     job/doc1: success (instance 1000001)',
        'ok     job/job_stream: NORMAL',  # real-time: EXECUTE_ONCE is no reason to run it once
        'Run: 2 ok, 0 failed.',
    ]


def test_delete_asks_and_warns_what_git_still_defines(applied_repo):
    refused = run_jobsync('delete', 'doc1', '--repo', str(applied_repo), stdin='y\n')
    assert refused.code == 1 and '--yes' in refused.stderr
    assert 'jobs/doc1.yaml' in refused.stderr and 'the next apply will create them again' in refused.stderr
    deleted = run_jobsync('delete', 'doc1', '--yes', '--repo', str(applied_repo))
    assert deleted.code == 0, deleted
    assert 'ok     job/doc1: deleted' in deleted.stdout
    drift = run_jobsync('drift', '--repo', str(applied_repo))
    assert drift.code == 2 and '- job/doc1  (in git, missing from the workspace)' in drift.stdout


def test_groups_lists_and_deletes_a_group_with_its_jobs(applied_repo):
    listed = run_jobsync('groups', '--repo', str(applied_repo))
    assert listed.stdout == ('cdm-prod  master_data  (2 jobs): customers, products\n'
                             'cdm-prod  sales  (1 job): orders\n')
    # A Factory job still runs a master_data CDM job: refused, naming it, unless --force (issue 16 item 5).
    refused = run_jobsync('groups', 'delete', 'master_data', '--yes', '--repo', str(applied_repo))
    assert refused.code == 1 and 'is used by job/' in refused.stderr, refused
    gone = run_jobsync('groups', 'delete', 'master_data', '--yes', '--force', '--repo', str(applied_repo))
    assert gone.code == 0, gone
    assert run_jobsync('groups', '--repo', str(applied_repo)).stdout == 'cdm-prod  sales  (1 job): orders\n'


def test_the_ci_example_runs_commands_and_options_that_exist():
    import re

    import yaml

    workflow = Path(__file__).resolve().parents[1] / 'examples' / 'ci' / 'drift-export.yml'
    doc = yaml.safe_load(workflow.read_text())
    scripts = '\n'.join(step.get('run', '') for job in doc['jobs'].values() for step in job['steps'])
    calls = re.findall(r'jobsync ([a-z-]+)((?: +(?:--[a-z-]+|"[^"]*"|[\w/.$-]+))*)', scripts)
    assert {cmd for cmd, _ in calls} == {'drift', 'export'}
    for cmd, args in calls:
        help_text = run_jobsync(cmd, '--help', env={'COLUMNS': '200'}).stdout
        for option in re.findall(r'--[a-z-]+', args):
            assert option in help_text, (cmd, option)


def test_export_for_a_remapped_target_keeps_git_names_variables_and_templates(example_repo):
    """prod remaps doctest -> dws_prod and cdm-prod -> cdm-prod-01; git keeps its own names."""
    import copy

    assert run_jobsync('apply', '--repo', str(example_repo), '--target', 'prod', '--auto-approve',
                       env=EXAMPLE_SECRETS).code == 0
    ws = LocalWorkspace(example_repo / '.jobsync' / 'prod.db')
    try:
        live = ws.read(ws.list_objects())
        conn = live[ObjectKey('connection', 'dws_prod')].spec
        conn['dw_config']['port'] = '8001'
        customers = live[ObjectKey('cdm-job', 'customers', 'cdm-prod-01')].spec  # generated by a template
        customers['to-config-values']['configs'][0]['inputs'][0]['value'] = 'elsewhere'
        orders_copy = {**copy.deepcopy(live[ObjectKey('cdm-job', 'orders', 'cdm-prod-01')].spec),
                       'name': 'orders_copy'}
        doc2 = {**copy.deepcopy(live[ObjectKey('job', 'doc1')].spec), 'name': 'doc2'}
        ws.import_objects([
            (ObjectKey('connection', 'dws_prod'), conn),
            (ObjectKey('cdm-job', 'customers', 'cdm-prod-01'), customers),
            (ObjectKey('cdm-job', 'orders_copy', 'cdm-prod-01'), orders_copy),
            (ObjectKey('job', 'doc2'), doc2),
        ])
    finally:
        ws.close()
    doctest_before = (example_repo / 'connections' / 'doctest.yaml').read_text()
    template_before = (example_repo / 'cdm' / 'cdm-prod' / 'jobs' / 'master_data.template.yaml').read_text()

    result = run_jobsync('export', '--all', '--target', 'prod', '--repo', str(example_repo))
    assert result.code == 0, result
    assert '2 added, 1 changed, 20 unchanged, 1 changed but generated by a template (not written)' in result.stdout
    assert ('! cdm-job/cdm-prod-01/customers  cdm/cdm-prod/jobs/master_data.template.yaml#/params/0 (1 field)'
            in result.stdout)
    assert (example_repo / 'cdm' / 'cdm-prod' / 'jobs' / 'master_data.template.yaml').read_text() == template_before
    doctest = (example_repo / 'connections' / 'doctest.yaml').read_text()
    changed = [(a, b) for a, b in zip(doctest_before.splitlines(), doctest.splitlines(), strict=True) if a != b]
    assert changed == [('  port: "8000"', '  port: "8001"')]  # ${var:dws_host} and the name stay git's
    assert (example_repo / 'cdm' / 'cdm-prod' / 'jobs' / 'orders_copy.yaml').exists()  # git's cluster name
    assert not (example_repo / 'cdm' / 'cdm-prod-01').exists()
    assert 'connectionName: doctest' in (example_repo / 'jobs' / 'doc2.yaml').read_text()
    for target in ('prod', 'dev', 'local'):
        assert run_jobsync('validate', '--repo', str(example_repo), '--target', target).code == 0, target

    warned = run_jobsync('delete', 'cdm-job/cdm-prod-01/orders_copy', '--target', 'prod',
                         '--repo', str(example_repo))
    assert '  cdm-job/cdm-prod-01/orders_copy  cdm/cdm-prod/jobs/orders_copy.yaml\n' in warned.stderr


def test_batch_operations_stay_inside_the_targets_scope(tmp_path):
    ws = LocalWorkspace(tmp_path / 'shared.db')
    ws.import_objects(HAND_BUILT)
    ws.close()
    repo = tmp_path / 'repo'
    repo.mkdir()
    (repo / 'jobsync.yaml').write_text(
        f'targets:\n  team:\n    workspace: local:{tmp_path / "shared.db"}\n'
        '    scope: {prefixes: [copy_a, copy_b]}\n')
    refused = run_jobsync('delete', 'daily', '--yes', '--repo', str(repo))
    assert refused.code == 1 and 'outside the scope of target team' in refused.stderr, refused
    listed = run_jobsync('groups', '--repo', str(repo))
    assert listed.stdout == 'cdm-prod  nightly  (2 jobs): copy_a, copy_b\n'
    ran = run_jobsync('run', '--group', 'nightly', '--wait', '--interval', '0.01', '--repo', str(repo))
    assert ran.code == 0 and 'Run: 2 ok, 0 failed.' in ran.stdout, ran
