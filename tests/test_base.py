"""plan --base REV: tell the branch's own changes from what was already pending in the workspace."""

from __future__ import annotations

from pathlib import Path

import git
from conftest import EXAMPLE_SECRETS, git_commit_all, run_jobsync

from jobsync.workspace.service import Engine


def test_base_separates_the_branchs_changes_from_drift(example_repo: Path) -> None:
    assert run_jobsync('apply', '--repo', str(example_repo), '--auto-approve', env=EXAMPLE_SECRETS).code == 0
    repo = git.Repo(example_repo)
    repo.git.branch('-M', 'main')
    main = repo.head.commit.hexsha
    repo.git.checkout('-b', 'feature')
    job = example_repo / 'jobs' / 'job_batch.yaml'
    job.write_text(job.read_text().replace('"0 0 2 * * ?"', '"0 30 2 * * ?"'))
    git_commit_all(example_repo, 'later sales run')
    # Meanwhile someone edited a script in the console: drift, not this branch's doing.
    engine = Engine(example_repo / '.jobsync' / 'workspace.db')
    spec = engine.show_script('merge_orders')
    engine.update_script('merge_orders', {**{k: v for k, v in spec.items() if k not in ('id', 'version', 'createUser')},
                                          'content': 'SELECT 1;\n'})
    engine.close()

    text = run_jobsync('plan', '--repo', str(example_repo), '--base', main)
    assert text.code == 0, text
    assert '~ job/job_batch  (1 field differs from the workspace: changed in git)  [this branch]' in text.stdout
    assert '~ script/merge_orders' in text.stdout and '[not from this branch]' in text.stdout
    assert f'This branch changes 1 definition(s) relative to {main}; 1 of the 2 change(s) above come from it.' \
        in text.stdout

    md = run_jobsync('plan', '--repo', str(example_repo), '--base', 'main', '--format', 'markdown')
    assert md.code == 0, md
    assert 'come from it, and 1 were already pending in the workspace' in md.stdout
    assert '<code>job/job_batch</code>' in md.stdout and '· this branch</summary>' in md.stdout
    assert '· drift · not from this branch</summary>' in md.stdout

    doc = run_jobsync('plan', '--repo', str(example_repo), '--base', 'main', '--format', 'json')
    assert '"branch_changes": [\n    "job/job_batch"\n  ]' in doc.stdout


def test_an_unknown_base_is_a_clear_error(example_repo: Path) -> None:
    result = run_jobsync('plan', '--repo', str(example_repo), '--base', 'no-such-branch')
    assert result.code == 1 and "git revision 'no-such-branch' not found" in result.stderr, result
