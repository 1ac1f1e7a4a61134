"""load.locate reads a repo path the way PurePosixPath would, with str methods (it runs per file)."""

from __future__ import annotations

from pathlib import PurePosixPath

from hypothesis import given, settings
from hypothesis import strategies as st

from jobsync.load import Located, locate

_segment = st.sampled_from(['jobs', 'scripts', 'cdm', 'links', 'connections', 'resources', 'x', '.', '',
                            'a.yaml', 'a.template.yaml', '.hidden', 'b.', 'c.sql', 'd..yaml', 'é.json'])


def _by_pathlib(rel: str) -> Located | None:
    path = PurePosixPath(rel)
    parts = path.parts
    folders = {'connections': 'connection', 'resources': 'resource', 'scripts': 'script', 'jobs': 'job'}
    if len(parts) >= 2 and parts[0] in folders:
        return Located(folders[parts[0]], '', path.stem, path.suffix, str(path.parent))  # type: ignore[arg-type]
    cdm = {'links': 'cdm-link', 'jobs': 'cdm-job'}
    if len(parts) >= 4 and parts[0] == 'cdm' and parts[2] in cdm:
        return Located(cdm[parts[2]], parts[1], path.stem, path.suffix, str(path.parent))  # type: ignore[arg-type]
    return None


@settings(max_examples=500, deadline=None)
@given(st.lists(_segment, min_size=1, max_size=5))
def test_locate_agrees_with_pathlib(segments: list[str]) -> None:
    rel = '/'.join(segments)
    if not segments[-1] or segments[-1] == '.':
        return  # not a file's path
    assert locate(rel) == _by_pathlib(rel)


def test_the_layout() -> None:
    assert locate('jobs/etl/daily.yaml') == Located('job', '', 'daily', '.yaml', 'jobs/etl')
    assert locate('cdm/prod/jobs/orders.template.yaml') == Located('cdm-job', 'prod', 'orders.template', '.yaml',
                                                                   'cdm/prod/jobs')
    assert locate('scripts/.hidden') == Located('script', '', '.hidden', '', 'scripts')
    assert locate('README.md') is None and locate('cdm/prod/x.yaml') is None
