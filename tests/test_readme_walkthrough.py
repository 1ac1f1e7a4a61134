"""The README followed top to bottom, its commands as written, in a scratch copy of examples/repo.

Every `jobsync ...` line of the README's sh blocks runs in order, in one repo (so `apply` comes
before `run`, and `plan --out plan.json` before `apply plan.json`), through the real CLI on the
`local:` workspaces. A line the README says needs what a scratch repo lacks is listed in `SKIP`
with the reason; a new README line runs here by default, so an example that stops working fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import git
from cli_runner import EXAMPLE_SECRETS, PROCESS_TIMEOUT_S, run_jobsync
from conftest import git_commit_all

ROOT = Path(__file__).resolve().parents[1]

# Lines that need something a scratch repo cannot hold, and where they are tested instead.
SKIP = {
    'import-bundle': 'needs a console export file; tests/test_bundle.py runs each documented layout',
    'emulator': 'starts a server that runs until Ctrl-C; tests/test_emulator.py runs it',
    '--target emulator': 'needs `jobsync emulator` running; tests/test_dataarts.py covers the dataarts target',
    'pip ': 'installs the package; tests/test_package.py builds and installs the wheel',
}
# Exit codes the README itself gives the line (2: changes or drift present; 1: what it says refuses).
EXPECTED = {
    'jobsync groups delete sales --yes         # deletes its jobs, as the console does; refused here: '
    'job/mysql_to_dws_daily uses them': 1,
    'jobsync force-unlock 3f2a9c1e5b7d4a6c8e0f1a2b3c4d5e6f --target prod': 1,  # no such lock
}


def readme_commands() -> list[str]:
    """The README's command lines in order (a `\\` continuation joined), comments kept for SKIP/EXPECTED."""
    lines: list[str] = []
    in_sh = False
    pending = ''
    for line in (ROOT / 'README.md').read_text(encoding='utf-8').splitlines():
        if line.startswith('```'):
            in_sh = line.strip() == '```sh' and not in_sh
            continue
        if not in_sh:
            continue
        line = pending + line
        if line.endswith('\\'):
            pending = line[:-1]
            continue
        pending = ''
        if 'jobsync ' in line:
            lines.append(line.rstrip())
    return lines


def _run(line: str, repo: Path) -> tuple[int, str]:
    """Run one README line: `A && B` one after the other, `cd`, `git init`, `VAR=... jobsync ...`."""
    code, said = 0, ''
    cwd = repo
    for part in line.split('#')[0].split('&&'):
        words = shlex.split(part.replace('"$RUN_URL"', 'https://ci.invalid/run/1'))
        if words[:2] == ['git', 'init']:
            git.Repo.init(cwd / words[2])
            continue
        if words[:1] == ['cd']:
            cwd = cwd / words[1]
            continue
        while words and re.fullmatch(r'[A-Z_]+=.*', words[0]):  # `DWS_PASSWORD=... jobsync ...`
            words = words[1:]
        assert words[0].endswith('jobsync'), line
        result = run_jobsync(*words[1:], cwd=cwd, env={**EXAMPLE_SECRETS, 'COLUMNS': '100'})
        code, said = result.code, f'{result.stdout}\n{result.stderr}'
        if code not in (0, 2):
            break
    return code, said


def test_the_readme_runs_top_to_bottom_as_written(tmp_path: Path) -> None:
    repo = tmp_path / 'repo'
    shutil.copytree(ROOT / 'examples' / 'repo', repo, ignore=shutil.ignore_patterns('.jobsync'))
    git_commit_all(repo)
    git.Repo(repo).git.update_ref('refs/remotes/origin/main', 'HEAD')  # what a clone has
    ran = 0
    for line in readme_commands():
        if any(marker in line for marker in SKIP):
            continue
        # the README's own paths are relative to the jobsync checkout; here the repo is the cwd
        line = line.replace('--repo examples/repo', '--repo .').replace('.venv/bin/jobsync', 'jobsync')
        code, said = _run(line, repo)
        allowed = {EXPECTED[line]} if line in EXPECTED else {0, 2}
        asks = line.startswith('jobsync apply') and '--auto-approve' not in line and '.json' not in line
        if asks and 'refusing to apply without confirmation: there is no terminal' in said:
            allowed = {1}  # the README: it asks for confirmation; a test has no terminal to answer on
        assert code in allowed, f'README line `{line}` exited {code}:\n{said[-3000:]}'
        assert 'Traceback' not in said and 'Internal error' not in said, line
        ran += 1
    assert ran >= 35  # the walk really ran the README, not an empty list


def test_the_first_two_commands_run_in_either_order_on_a_fresh_clone(tmp_path: Path) -> None:
    """The README's first command (apply the example repo) leaves `.jobsync/` in examples/repo; its
    second (the tests) must still pass after it, and the first must still work after the second."""
    clone = tmp_path / 'clone'
    git.Repo.clone_from(ROOT, clone)  # what a user has: the committed tree, nothing else
    first = run_jobsync('apply', '--repo', 'examples/repo', '--auto-approve', cwd=clone, env=EXAMPLE_SECRETS)
    assert first.code == 0, first
    assert (clone / 'examples' / 'repo' / '.jobsync').is_dir()
    # the tests that read examples/repo, run from the clone (one process: the clone's own code)
    second = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests/test_schema.py',
         'tests/test_readme_names.py'], cwd=clone, capture_output=True, text=True, timeout=PROCESS_TIMEOUT_S,
        env={**os.environ, 'PYTHONPATH': str(clone)})
    assert second.returncode == 0, second.stdout[-3000:]
    again = run_jobsync('plan', '--repo', 'examples/repo', '--detailed-exitcode', cwd=clone)
    assert again.code == 0, again  # and the first command's plan half after the tests: nothing to do
