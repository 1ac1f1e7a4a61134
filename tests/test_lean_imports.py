"""What a plan does not import (issue 14: importing is memory and CPU of every command): the
working tree's revision comes from `git` itself, not gitpython, and httpx comes without its
command-line tool (rich and pygments where click is installed). Each check runs in a fresh
interpreter, so nothing an earlier test imported counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import git_commit_all

PROBE = '''
import json, sys
from pathlib import Path
from jobsync.gitrepo import read_snapshot
from jobsync.workspace.http import AkSk, HttpSettings, HttpTransport
snapshot = read_snapshot(Path(sys.argv[1]))
transport = HttpTransport(HttpSettings(project_id='p', endpoints={'factory': 'http://127.0.0.1:9'},
                                       credentials=AkSk('ak', 'sk')))
transport.close()
loaded = sorted(m for m, module in sys.modules.items()
                if module is not None and m.split('.')[0] in ('git', 'httpx', 'rich', 'pygments'))
print(json.dumps({'rev': snapshot.rev, 'modules': loaded}))
'''


def test_a_working_tree_and_an_http_transport_import_neither_gitpython_nor_httpx_s_cli(tmp_path: Path) -> None:
    repo = tmp_path / 'defs'
    (repo / 'jobs').mkdir(parents=True)
    (repo / 'jobs' / 'a.yaml').write_text('processType: BATCH\n', encoding='utf-8')
    git_commit_all(repo, 'first')
    done = subprocess.run([sys.executable, '-c', PROBE, str(repo)], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert len(seen['rev']) == 40  # the commit, read without gitpython
    modules = set(seen['modules'])
    assert 'httpx' in modules and 'httpx._main' not in modules
    assert not {m for m in modules if m.split('.')[0] in ('git', 'rich', 'pygments')}, modules
