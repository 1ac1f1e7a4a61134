"""A git repo of N Factory jobs (each running a script of its own) plus CDM links and jobs, for
plan_scale.py and the call-count tests: definitions as a user writes them (YAML + SQL files).

    write_repo(root, n, url=..., project=...)   # files and jobsync.yaml (not committed)
    edit_jobs(root, k)                           # reschedule the first k jobs (k changes)
"""

from __future__ import annotations

from pathlib import Path

CLUSTER = 'cdm-prod'  # a cluster the test emulator has; plan_scale starts its emulator with it
TARGET = 'bench'
AK, SK = 'AKBENCHMARK000001', 'SKbenchmark0000000000000000000000000001'
ENV = {'HUAWEICLOUD_SDK_AK': AK, 'HUAWEICLOUD_SDK_SK': SK}


def sizes(n: int) -> tuple[int, int]:
    """CDM links and jobs next to n Factory jobs (10,000 jobs: 100 links, 500 CDM jobs)."""
    return max(2, n // 100), max(2, n // 20)


def config(url: str, project: str, *, limits: bool) -> str:
    """jobsync.yaml: one `dataarts` target on the emulator at `url`; client rate limits on or off."""
    off = '{factory: 0, management: 0, cdm: 0, cdm_job_create: 0, cdm_job_start: 0}'
    rate = '' if limits else f'\n      rate_limits: {off}'
    return f'''default_target: {TARGET}
targets:
  {TARGET}:
    workspace: dataarts
    expressionTimeZone: GMT+8
    dataarts:
      project_id: {project}
      endpoints: {{factory: "{url}", management: "{url}", cdm: "{url}"}}
      backoff_seconds: 0.05{rate}
'''


def _job(i: int, hour: int = 2) -> str:
    return f'''processType: BATCH
directory: /bench/{i % 20}
params:
  - name: bizdate
    value: '#{{DateUtil.format(Job.planTime,"yyyyMMdd")}}'
    type: variable
schedule:
  type: CRON
  cron:
    startTime: "2025-01-01T00:00:00+08"
    expression: "0 {i % 60} {hour} * * ?"
nodes:
  - name: run
    type: DWSSQL
    location: {{x: "0", y: "0"}}
    preNodeName: []
    properties:
      scriptName: sql_{i:05}
      connectionName: dws_main
      database: dw
'''


def _link(i: int) -> str:
    return f'''connector-name: generic-jdbc-connector
enabled: true
link-config-values:
  configs:
    linkConfig:
      linkConfig.databaseType: MYSQL
      linkConfig.host: 10.0.{i // 250}.{i % 250}
      linkConfig.port: "3306"
      linkConfig.database: app{i}
'''


def _cdm_job(i: int, links: int) -> str:
    return f'''job_type: NORMAL_JOB
from-connector-name: generic-jdbc-connector
from-link-name: link_{i % links:04}
to-connector-name: generic-jdbc-connector
to-link-name: link_{(i + 1) % links:04}
from-config-values:
  configs:
    fromJobConfig:
      fromJobConfig.tableName: orders_{i}
to-config-values:
  configs:
    toJobConfig:
      toJobConfig.tableName: orders_{i}
driver-config-values:
  configs:
    groupJobConfig:
      groupJobConfig.groupName: bench
'''


def write_repo(root: Path, n: int, *, url: str, project: str, limits: bool = False) -> None:
    """The definitions of n jobs, n scripts, one connection and the CDM objects of `sizes(n)`."""
    for folder in ('jobs', 'scripts', 'connections', f'cdm/{CLUSTER}/links', f'cdm/{CLUSTER}/jobs'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / 'jobsync.yaml').write_text(config(url, project, limits=limits), encoding='utf-8')
    (root / 'connections' / 'dws_main.yaml').write_text(
        'dw_type: DWS\ndw_config:\n  host: 10.0.0.1\n  port: "8000"\n', encoding='utf-8')
    for i in range(n):
        (root / 'scripts' / f'sql_{i:05}.yaml').write_text(
            'type: DWSSQL\ndirectory: /bench\nconnectionName: dws_main\ndatabase: dw\n', encoding='utf-8')
        (root / 'scripts' / f'sql_{i:05}.sql').write_text(
            f'-- step {i}\nINSERT INTO mart_{i % 50} SELECT * FROM stage_{i % 50};\n', encoding='utf-8')
        (root / 'jobs' / f'job_{i:05}.yaml').write_text(_job(i), encoding='utf-8')
    links, cdm_jobs = sizes(n)
    for i in range(links):
        (root / 'cdm' / CLUSTER / 'links' / f'link_{i:04}.yaml').write_text(_link(i), encoding='utf-8')
    for i in range(cdm_jobs):
        (root / 'cdm' / CLUSTER / 'jobs' / f'copy_{i:05}.yaml').write_text(_cdm_job(i, links), encoding='utf-8')


def edit_jobs(root: Path, k: int, *, hour: int = 3) -> None:
    """Reschedule the first k jobs (to `hour`): k changes for the next apply."""
    for i in range(k):
        (root / 'jobs' / f'job_{i:05}.yaml').write_text(_job(i, hour), encoding='utf-8')
