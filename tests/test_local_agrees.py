"""`local:` tells the same truth as the service (issue 11 point 4): the same repo planned against
`local:` and over signed HTTP against the emulator gives the same changes, object for object and
field for field: before the first apply, after it (nothing), and after the same console edits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import yaml
from conftest import EXAMPLE_SECRETS, run_jobsync
from dataarts_fixtures import EMULATOR_AK, EMULATOR_SK, RunningEmulator, target_the_emulator

from jobsync.workspace.service import Engine

ENV = {'HUAWEICLOUD_SDK_AK': EMULATOR_AK, 'HUAWEICLOUD_SDK_SK': EMULATOR_SK, **EXAMPLE_SECRETS}


def _changes(repo: Path, target: str) -> dict[str, Any]:
    planned = run_jobsync('plan', '--repo', str(repo), '--target', target, '--format', 'json', env=ENV)
    assert planned.code == 0, planned
    doc = json.loads(planned.stdout)
    return {c['key']: (c['action'], c.get('side'), sorted((f['pointer'], json.dumps(f['before']),
                                                          json.dumps(f['after'])) for f in c['fields']))
            for c in doc['changes'] if c['action'] != 'noop'}


def _console_edits(engine: Engine) -> None:
    """The same edits, made on either side the way the console would."""
    script = engine.show_script('dws_sql')
    script['content'] = f'{script["content"]}\n-- console\n'
    engine.update_script('dws_sql', script)
    rid = engine.resource_id('spark_etl')
    resource = engine.show_resource(rid)
    resource['desc'] = 'edited in the console'
    engine.update_resource(rid, resource)
    job = engine.show_job('job_batch')
    for managed in ('id', 'lastUpdateUser', 'version'):
        job.pop(managed, None)
    job['basicConfig'] = {**job.get('basicConfig', {}), 'priority': 2}
    engine.update_job('job_batch', job)


def test_plans_on_local_and_over_http_agree(example_repo: Path, running_emulator: RunningEmulator) -> None:
    project = target_the_emulator(example_repo, running_emulator.url)
    config = yaml.safe_load((example_repo / 'jobsync.yaml').read_text(encoding='utf-8'))
    config['targets']['local']['expressionTimeZone'] = config['targets']['cloud']['expressionTimeZone']
    (example_repo / 'jobsync.yaml').write_text(yaml.safe_dump(config), encoding='utf-8')
    git.Repo(example_repo).git.commit('-am', 'the same time zone on both targets')

    fresh = _changes(example_repo, 'local')
    assert fresh and fresh == _changes(example_repo, 'cloud')
    for target in ('local', 'cloud'):
        applied = run_jobsync('apply', '--repo', str(example_repo), '--target', target, '--auto-approve', env=ENV)
        assert applied.code == 0, applied
    assert _changes(example_repo, 'local') == {} == _changes(example_repo, 'cloud')

    local = Engine(example_repo / '.jobsync' / 'workspace.db')
    try:
        _console_edits(local)
    finally:
        local.close()
    _console_edits(running_emulator.emulator.engine.scoped(project, 'ws-example'))
    edited = _changes(example_repo, 'local')
    assert set(edited) == {'script/dws_sql', 'resource/spark_etl', 'job/job_batch'}
    assert edited == _changes(example_repo, 'cloud')
