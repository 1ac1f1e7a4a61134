"""examples/ci: the jobsync command lines the GitHub and GitLab pipelines run, run for real.

The workflows are parsed, every `jobsync ...` line (and the `export` lines that feed them) is
taken verbatim in the order the pipeline runs it, and executed with bash in a git copy of
examples/repo against its local target: a pull request from a feature branch (plan, comment
body, plan file), then the merge to main (plan, apply exactly that plan).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import git
import pytest
import yaml
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync
from records import sqlite_records

from jobsync.render.markdown import BUDGET
from jobsync.workspace.local import LocalWorkspace
from jobsync.workspace.service import Engine

CI = Path(__file__).resolve().parents[1] / 'examples' / 'ci'


def _lines(script: str | list[str]) -> list[str]:
    text = '\n'.join(script) if isinstance(script, list) else script
    return [line.strip() for line in text.splitlines() if line.strip().startswith(('jobsync ', 'export '))]


def github_phases() -> tuple[dict[str, str], list[str], list[str]]:
    """(workflow env, pull-request lines, merge lines) of plan-apply.yml."""
    doc = yaml.safe_load((CI / 'plan-apply.yml').read_text())
    triggers = doc.get('on', doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) == {'pull_request', 'push'}
    jobs = doc['jobs']
    assert 'pull_request' in jobs['plan']['if'] and "refs/heads/main" in jobs['apply']['if']
    assert jobs['apply']['concurrency']['cancel-in-progress'] is False
    phases = [[line for step in jobs[name]['steps'] if 'run' in step for line in _lines(step['run'])]
              for name in ('plan', 'apply')]
    return doc['env'], phases[0], phases[1]


def gitlab_phases() -> tuple[dict[str, str], list[str], list[str]]:
    doc = yaml.safe_load((CI / '.gitlab-ci.yml').read_text())
    plan, apply = doc['jobsync-plan'], doc['jobsync-apply']
    assert 'merge_request_event' in plan['rules'][0]['if'] and apply['resource_group']
    return doc['variables'], _lines(plan['script']), _lines(apply['script'])


PLATFORMS = {
    'github': (github_phases, {
        'BASE_REF': 'origin/main', 'PLAN_URL': 'https://github.example/acme/defs/actions/runs/7',
    }),
    'gitlab': (gitlab_phases, {
        'CI_MERGE_REQUEST_TARGET_BRANCH_NAME': 'main', 'CI_JOB_URL': 'https://gitlab.example/acme/defs/-/jobs/7',
    }),
}


def run_line(line: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One pipeline line, as the runner's shell runs it (bash -e), with jobsync on PATH."""
    return subprocess.run(['bash', '-e', '-c', line], cwd=repo, env=env, capture_output=True, text=True, timeout=120)


def run_phase(lines: list[str], repo: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    script = '\n'.join(lines)  # exports feed later lines, as in one job's script
    results = []
    for i in range(len(lines)):
        if lines[i].startswith('export '):
            continue
        prelude = [line for line in lines[:i] if line.startswith('export ')]
        result = run_line('\n'.join([*prelude, lines[i]]), repo, env)
        assert result.returncode == 0, (lines[i], result.stdout[-3000:], result.stderr[-3000:], script)
        results.append(result)
    return results


def _env(workflow_env: dict[str, Any], platform_env: dict[str, str], tmp: Path) -> dict[str, str]:
    assert workflow_env['JOBSYNC_TARGET'] == 'prod'  # the example's target; the test uses the repo's local one
    env = {k: v for k, v in os.environ.items() if not k.startswith('JOBSYNC_') and k not in EXAMPLE_SECRETS}
    env['PATH'] = f'{Path(sys.executable).parent}{os.pathsep}{env.get("PATH", "")}'
    env.update(platform_env, JOBSYNC_TARGET='local', GITHUB_STEP_SUMMARY=str(tmp / 'summary.md'))
    return env


def _variables(lines: list[str]) -> set[str]:
    return {m for line in lines for m in re.findall(r'\$\{?([A-Z_][A-Z0-9_]*)', line)}


@pytest.mark.parametrize('platform', sorted(PLATFORMS))
def test_pipeline_command_lines_plan_a_pull_request_then_apply_on_merge(
        platform: str, example_repo: Path, tmp_path: Path) -> None:
    phases, platform_env = PLATFORMS[platform]
    workflow_env, pr_lines, merge_lines = phases()
    assert [line.split()[1] for line in pr_lines if line.startswith('jobsync')] == ['plan']
    assert [line.split()[1] for line in merge_lines] == ['plan', 'apply']
    assert not any('${{' in line for line in pr_lines + merge_lines)  # shell variables only: runnable here
    env = _env(workflow_env, platform_env, tmp_path)
    exported = {m for line in pr_lines + merge_lines if line.startswith('export ')
                for m in re.findall(r'([A-Z_]+)=', line)}
    missing = _variables(pr_lines + merge_lines) - set(env) - exported - {'?'}
    assert not missing, f'the test does not provide {missing}'

    # main has been applied before; a feature branch changes a schedule; the console drifted a script.
    repo = git.Repo(example_repo)
    repo.git.branch('-M', 'main')
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    repo.git.update_ref('refs/remotes/origin/main', repo.head.commit.hexsha)
    repo.git.checkout('-b', 'feature')
    job = example_repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', '"0 30 2 * * ?"'))
    git_commit_all(example_repo, 'run the sales mart later')
    engine = Engine(example_repo / '.jobsync' / 'workspace.db')
    spec = engine.show_script('merge_orders')
    engine.update_script('merge_orders', {**{k: v for k, v in spec.items() if k not in ('id', 'version', 'createUser')},
                                          'content': 'SELECT 1;\n'})
    engine.close()

    # The pull request: a comment body and the plan artifact, no secret in the environment.
    run_phase(pr_lines, example_repo, env)
    comment = (example_repo / 'plan.md').read_text(encoding='utf-8')
    assert comment.startswith('<!-- jobsync-plan target=local -->') and len(comment) <= BUDGET
    assert '<code>job/job_batch</code>' in comment and '· this branch</summary>' in comment
    assert 'not from this branch' in comment  # the drifted script
    doc = json.loads((example_repo / 'plan.json').read_text())
    assert doc['target'] == 'local' and doc['branch_changes'] == ['job/job_batch']

    # The merge: plan on main, apply exactly that plan, with the secrets.
    (example_repo / 'plan.md').unlink()
    (example_repo / 'plan.json').unlink()
    repo.git.checkout('main')
    repo.git.merge('feature')
    results = run_phase(merge_lines, example_repo, {**env, **EXAMPLE_SECRETS})
    assert 'Apply: 2 applied, 0 failed, 0 skipped.' in results[-1].stdout
    final = run_jobsync('plan', '--repo', str(example_repo), '--detailed-exitcode')
    assert final.code == 0, final

    # A second run of the merge job (a re-run, or a merge with no definition change) does nothing.
    again = run_phase(merge_lines, example_repo, {**env, **EXAMPLE_SECRETS})
    assert again[-1].stdout == 'Nothing to apply: the plan has no changes.\n'
    ws = LocalWorkspace(example_repo / '.jobsync' / 'workspace.db')
    try:
        assert sqlite_records(ws.records).current_lock('local') is None
    finally:
        ws.close()
