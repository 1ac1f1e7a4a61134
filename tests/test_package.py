from __future__ import annotations

import io
import json
import random
import stat
import string
import struct
import zipfile

import pytest
from workspace_specs import cdm_job_spec, connection_spec, job_spec, link_spec, resource_spec, script_spec

from jobsync.model import ObjectKey
from jobsync.workspace.package import (
    PackageError,
    build_job_export,
    build_package,
    estimate_package_bytes,
    read_package,
)

ITEMS = [
    (ObjectKey('job', 'daily'), job_spec('daily', scripts=('load',), connection='dws')),
    (ObjectKey('script', 'load'), script_spec('load', connection='dws')),
    (ObjectKey('resource', 'app'), resource_spec('app')),
    (ObjectKey('connection', 'dws'), connection_spec('dws')),
    (ObjectKey('cdm-link', 'src', 'cdm-prod'), link_spec('src')),
    (ObjectKey('cdm-link', 'dst', 'cdm-prod'), link_spec('dst')),
    (ObjectKey('cdm-job', 'copy', 'cdm-prod'), cdm_job_spec('copy', source='src', target='dst')),
    (ObjectKey('cdm-link', 'src', 'cdm-test'), link_spec('src')),
]


def _zip(files: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_round_trip_keeps_every_object_and_its_json():
    data = build_package(ITEMS)
    assert read_package(data) == sorted(ITEMS, key=lambda item: item[0])


def test_layout_is_the_documented_one():
    names = zipfile.ZipFile(io.BytesIO(build_package(ITEMS))).namelist()
    assert sorted(names) == [
        'cdm/cdm-prod.json', 'cdm/cdm-test.json', 'connections/dws.conn', 'jobs/daily.job',
        'resources/app.resource', 'scripts/load.script',
    ]
    cdm = json.loads(zipfile.ZipFile(io.BytesIO(build_package(ITEMS))).read('cdm/cdm-prod.json'))
    assert [link['name'] for link in cdm['links']] == ['dst', 'src']
    assert [job['name'] for job in cdm['jobs']] == ['copy']


def test_same_items_give_the_same_bytes_in_any_order():
    assert build_package(ITEMS) == build_package(list(reversed(ITEMS)))


def test_build_fills_a_missing_name_and_refuses_a_contradicting_one():
    read = read_package(build_package([(ObjectKey('script', 's'), {'type': 'Shell', 'content': 'echo'})]))
    assert read == [(ObjectKey('script', 's'), {'name': 's', 'type': 'Shell', 'content': 'echo'})]
    with pytest.raises(PackageError, match='name'):
        build_package([(ObjectKey('job', 'a'), job_spec('b'))])


@pytest.mark.parametrize('name', ['a/b', '..', 'back\\slash'])
def test_build_refuses_names_that_are_not_file_names(name):
    with pytest.raises(PackageError):
        build_package([(ObjectKey('script', name), script_spec(name))])


def test_build_refuses_the_same_key_twice():
    with pytest.raises(PackageError, match='twice'):
        build_package([(ObjectKey('script', 's'), script_spec('s')), (ObjectKey('script', 's'), script_spec('s'))])


def test_reads_the_batch_export_layout():
    shared = json.dumps(script_spec('dws_sql'))
    data = _zip({
        'jobs/job_batch/job_batch.job': json.dumps(job_spec('job_batch', scripts=('dws_sql',))),
        'jobs/job_batch/dws_sql.script': shared,
        'jobs/job_batch/app.resource': json.dumps(resource_spec('app')),
        'jobs/job_stream/job_stream.job': json.dumps(job_spec('job_stream', scripts=('dws_sql',))),
        'jobs/job_stream/dws_sql.script': shared,  # a shared script appears in each job's folder
        'README.txt': 'ignored',
    })
    assert [key for key, _ in read_package(data)] == [
        ObjectKey('resource', 'app'), ObjectKey('script', 'dws_sql'),
        ObjectKey('job', 'job_batch'), ObjectKey('job', 'job_stream'),
    ]


def test_reads_what_the_job_export_builders_write():
    job = job_spec('j', scripts=('s',))
    for layout in ('single', 'batch'):
        data = build_job_export([(job, [script_spec('s')], [resource_spec('r')])], layout=layout)
        assert {key for key, _ in read_package(data)} == {
            ObjectKey('job', 'j'), ObjectKey('script', 's'), ObjectKey('resource', 'r')}


def test_the_name_inside_wins_over_the_file_name():
    data = _zip({'jobs/j/dli_sql.script': json.dumps(script_spec('dws_sql'))})
    assert read_package(data)[0][0] == ObjectKey('script', 'dws_sql')


def test_refuses_the_same_object_twice_with_different_content():
    data = _zip({
        'jobs/a/s.script': json.dumps(script_spec('s', content='SELECT 1;')),
        'jobs/b/s.script': json.dumps(script_spec('s', content='SELECT 2;')),
    })
    with pytest.raises(PackageError, match='different content'):
        read_package(data)


@pytest.mark.parametrize('entry', ['/etc/evil.job', '../evil.job', 'jobs/../../evil.job', 'C:/evil.job',
                                   '..\\evil.job'])
def test_refuses_paths_that_leave_the_archive(entry):
    with pytest.raises(PackageError, match=r'absolute|\.\.'):
        read_package(_zip({entry: json.dumps(job_spec('evil'))}))


def test_refuses_symlink_entries():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        info = zipfile.ZipInfo('jobs/link.job')
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, '/etc/passwd')
    with pytest.raises(PackageError, match='symbolic link'):
        read_package(buffer.getvalue())


def test_refuses_archives_that_inflate_past_the_limit():
    data = _zip({'scripts/big.script': json.dumps(script_spec('big', content='0' * (11 * 1024 * 1024)))})
    assert len(data) < 100_000  # tiny on the wire, 11 MiB inflated
    with pytest.raises(PackageError, match='limit'):
        read_package(data)
    assert read_package(data, max_uncompressed=12 * 1024 * 1024)[0][0] == ObjectKey('script', 'big')


def _patch_sizes(data: bytes, size: int) -> bytes:
    """Make every header claim `size` uncompressed bytes (a zip bomb's lie)."""
    out = bytearray(data)
    for signature, offset in ((b'PK\x03\x04', 22), (b'PK\x01\x02', 24)):
        start = 0
        while (start := out.find(signature, start)) != -1:
            out[start + offset:start + offset + 4] = struct.pack('<I', size)
            start += 4
    return bytes(out)


def test_does_not_trust_header_sizes():
    honest = _zip({'scripts/big.script': json.dumps(script_spec('big', content='0' * 200_000))})
    lying = _patch_sizes(honest, 100)
    with pytest.raises(PackageError):
        read_package(lying, max_uncompressed=1000)


@pytest.mark.parametrize(('data', 'match'), [
    (b'not a zip at all', 'not a readable zip'),
    (_zip({'jobs/j.job': '{"name": "j", '}), 'not JSON'),
    (_zip({'jobs/j.job': '["a list"]'}), 'where an object belongs'),
    (_zip({'cdm/c.json': '{"links": {"name": "x"}}'}), 'not a list'),
])
def test_unreadable_content_is_refused_with_the_entry_named(data, match):
    with pytest.raises(PackageError, match=match):
        read_package(data)


def _random_text(rng: random.Random, size: int) -> str:
    # Mostly incompressible: random code points from a wide range (no surrogates).
    return ''.join(chr(rng.choice((rng.randrange(0x21, 0x7f), rng.randrange(0x4e00, 0x9fff))))
                   for _ in range(size))


def _varied_inputs():
    rng = random.Random(7)
    yield 'empty', []
    yield 'documented items', ITEMS
    yield 'one incompressible script', [
        (ObjectKey('script', 'noise'), script_spec('noise', content=_random_text(rng, 300_000)))]
    yield 'random ascii', [
        (ObjectKey('script', f's{i}'), script_spec(f's{i}', content=''.join(
            rng.choice(string.printable) for _ in range(rng.randrange(0, 5000))))) for i in range(40)]
    yield 'many tiny objects', [(ObjectKey('resource', f'r{i}'), {'type': 'file'}) for i in range(500)]
    yield 'unicode names', [(ObjectKey('job', '作业_一'), job_spec('作业_一')),
                            (ObjectKey('cdm-link', '链接', '集群'), link_spec('链接'))]
    yield 'many cdm objects in one cluster', [
        (ObjectKey('cdm-link', f'l{i}', 'c'), link_spec(f'l{i}', password=_random_text(rng, 500)))
        for i in range(60)]


@pytest.mark.parametrize(('label', 'items'), list(_varied_inputs()), ids=[label for label, _ in _varied_inputs()])
def test_estimate_is_an_upper_bound_of_the_real_size(label, items):
    real = len(build_package(items))
    estimate = estimate_package_bytes(items)
    assert estimate >= real, f'{label}: estimated {estimate}, built {real}'


def test_estimate_is_tight_enough_for_incompressible_content():
    rng = random.Random(11)
    items = [(ObjectKey('script', f's{i}'), script_spec(f's{i}', content=_random_text(rng, 50_000)))
             for i in range(5)]
    real = len(build_package(items))
    assert real <= estimate_package_bytes(items) <= real * 1.5


def test_cdm_names_need_not_be_file_names():
    items = [(ObjectKey('cdm-job', 'mysql/orders -> dws', 'cdm-prod'),
              cdm_job_spec('mysql/orders -> dws', source='a', target='b'))]
    assert read_package(build_package(items)) == items
