"""ObjectKey: one identity per object, ordered by apply order, cluster and name (model.py)."""

from __future__ import annotations

import copy
import pickle

import pytest

from jobsync.model import APPLY_ORDER, ObjectKey


def test_keys_sort_in_apply_order_then_cluster_then_name() -> None:
    keys = [ObjectKey('job', 'b'), ObjectKey('cdm-job', 'x', 'c2'), ObjectKey('job', 'a'),
            ObjectKey('cdm-job', 'y', 'c1'), ObjectKey('connection', 'z'), ObjectKey('cdm-link', 'l', 'c1')]
    ordered = sorted(keys)
    assert [k.kind for k in ordered] == sorted((k.kind for k in keys), key=APPLY_ORDER.index)
    assert [str(k) for k in ordered] == ['connection/z', 'cdm-link/c1/l', 'cdm-job/c1/y', 'cdm-job/c2/x',
                                         'job/a', 'job/b']
    assert ordered == sorted(keys, key=ObjectKey.sort_key)
    assert ObjectKey('job', 'a') < ObjectKey('job', 'b')


def test_equal_keys_are_one_key_and_round_trip_as_text_copy_and_pickle() -> None:
    key = ObjectKey('cdm-link', 'mysql_src', 'cdm-prod')
    assert key == ObjectKey('cdm-link', 'mysql_src', 'cdm-prod') and len({key, ObjectKey(*key.__getnewargs__())}) == 1
    assert (key.kind, key.name, key.cluster) == ('cdm-link', 'mysql_src', 'cdm-prod')
    assert ObjectKey.parse(str(key)) == key
    assert copy.deepcopy(key) == key and pickle.loads(pickle.dumps(key)) == key
    assert type(copy.copy(key)) is ObjectKey
    assert repr(key) == "ObjectKey(kind='cdm-link', name='mysql_src', cluster='cdm-prod')"
    assert ObjectKey('job', 'a') != ObjectKey('script', 'a')
    match key:
        case ObjectKey(kind='cdm-link', name=name):
            assert name == 'mysql_src'
        case _:
            pytest.fail('no match')


@pytest.mark.parametrize(('kind', 'cluster', 'words'), [('nope', '', 'unknown kind'),
                                                        ('cdm-job', '', 'need cluster'),
                                                        ('job', 'c', 'take no cluster')])
def test_a_key_that_cannot_be_is_refused(kind: str, cluster: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ObjectKey(kind, 'x', cluster)  # type: ignore[arg-type]
