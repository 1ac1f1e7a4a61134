"""The README's command examples name objects and groups the example repo has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / 'examples' / 'repo'
FOLDERS = {'job': 'jobs', 'script': 'scripts', 'resource': 'resources', 'connection': 'connections'}


def _exists(name: str) -> bool:
    parts = name.split('/')
    if len(parts) == 1:  # a job by name, Factory or CDM
        return (EXAMPLE / 'jobs' / f'{name}.yaml').exists() or any(EXAMPLE.glob(f'cdm/*/jobs/{name}.yaml'))
    if len(parts) == 2:
        return any((EXAMPLE / FOLDERS[parts[0]]).glob(f'{parts[1]}.*'))  # .yaml, or a console .job file
    kind, cluster, short = parts
    return (EXAMPLE / 'cdm' / cluster / ('jobs' if kind == 'cdm-job' else 'links') / f'{short}.yaml').exists()


def _groups() -> set[str]:
    return {m for p in EXAMPLE.glob('cdm/*/jobs/*.yaml')
            for m in re.findall(r'groupJobConfig\.groupName: (\S+)', p.read_text())}


def test_readme_examples_use_names_of_the_example_repo() -> None:
    lines = [line.split('#')[0] for line in (ROOT / 'README.md').read_text().splitlines()
             if line.startswith('jobsync ') and line.split()[1] in ('run', 'stop', 'delete', 'export', 'groups')]
    assert lines
    groups = _groups()
    for line in lines:
        words = shlex.split(line)[1:]
        command, rest = words[0], words[1:]
        if command == 'groups':
            if rest[:1] == ['delete']:
                assert all(g in groups for g in rest[1:] if not g.startswith('-')), line
            continue
        i = 0
        while i < len(rest):
            word = rest[i]
            if word in ('--name', '--group'):
                value = rest[i + 1]
                assert (value in groups) if word == '--group' else _exists(value), line
                i += 2
            elif word.startswith('-'):
                i += 2 if word in ('--cluster', '--branch', '--target', '--repo', '--format') else 1
            else:
                if command in ('run', 'stop', 'delete'):
                    assert _exists(word), line
                i += 1
