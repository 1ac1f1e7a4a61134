"""Cron expressions and time zones checked as the service documents them (jobsync/cron.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run_jobsync

from jobsync.cron import expression_problems, time_zone_problem


@pytest.mark.parametrize('expression', [
    '0 0 2 * * ?', '0 */10 * * * ?', '0 30 3 ? * MON-FRI', '0 0 1 1,15 * ?', '0 0 8 L * ?', '0 0 8 15W * ?',
    '0 0 8 ? * 2#1', '0 0 8 ? * 6L', '0 5-55/5 0-23 * * ?', '0 0 0 ? * 1-7',
])
def test_good_expressions(expression: str) -> None:
    assert expression_problems(expression) == []


@pytest.mark.parametrize(('expression', 'problem'), [
    ('0 99 25 * * ?', 'minute 99 is out of range 0-59'),
    ('0 0 25 * * ?', 'hour 25 is out of range 0-23'),
    ('0 0 2 32 * ?', 'day 32 is out of range 1-31'),
    ('0 0 2 ? * 8', 'week 8 is out of range 1-7'),
    ('0 0 2 ? * FUNDAY', "week 'FUNDAY' is not a number"),
    ('0 */0 * * * ?', "minute step '0' must be a number 1-59"),
    ('0 30-10 * * * ?', 'minute range 30-10 runs backwards'),
    ('0 0 2 1 * 2', 'day and week are both set'),
    ('0 0 ? * * ?', "hour '?' is not a number"),
])
def test_bad_expressions(expression: str, problem: str) -> None:
    assert any(problem in found for found in expression_problems(expression)), expression_problems(expression)


@pytest.mark.parametrize('zone', ['Asia/Shanghai', 'GMT+8', 'UTC', 'GMT-05:30', 'Europe/Berlin'])
def test_good_time_zones(zone: str) -> None:
    assert time_zone_problem(zone) is None


def test_a_misspelt_zone_is_refused_with_a_suggestion() -> None:
    found = time_zone_problem('Asia/Shanghia')
    assert found is not None and "'Asia/Shanghai'" in found[1]
    assert time_zone_problem('GMT+25') is not None


def test_validate_refuses_a_bad_cron_and_zone(example_repo: Path) -> None:
    job = example_repo / 'jobs' / 'job_batch.yaml'
    text = job.read_text()
    assert '"0 0 2 * * ?"' in text
    job.write_text(text.replace('"0 0 2 * * ?"', '"0 99 25 * * ?"'))
    result = run_jobsync('validate', '--repo', str(example_repo))
    assert result.code == 1
    assert 'minute 99 is out of range 0-59' in result.stderr and 'hour 25' in result.stderr
    assert 'jobs/job_batch.yaml:' in result.stderr and '#/schedule/cron/expression' in result.stderr


def test_validate_refuses_a_target_zone(example_repo: Path) -> None:
    config = example_repo / 'jobsync.yaml'
    config.write_text(config.read_text().replace('expressionTimeZone: GMT+8', 'expressionTimeZone: Asia/Shanghia', 1))
    result = run_jobsync('validate', '--repo', str(example_repo), '--target', 'dev')
    assert result.code == 1 and "unknown time zone 'Asia/Shanghia'" in result.stderr, result
    assert 'jobsync.yaml:' in result.stderr and "'Asia/Shanghai'" in result.stderr
