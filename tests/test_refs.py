"""refs.py knows every name a definition uses; remap.py rewrites them in either property form."""

from __future__ import annotations

from typing import Any

from jobsync.model import ObjectKey
from jobsync.refs import name_uses, references
from jobsync.remap import apply_remap

JOB = ObjectKey('job', 'daily')


def test_name_uses_in_the_repo_form_and_the_api_form_agree() -> None:
    repo_form = {'nodes': [{'name': 'c', 'type': 'CDMJob', 'properties': {'clusterName': 'cdm-a', 'jobName': 'copy'}}]}
    api_form = {'nodes': [{'name': 'c', 'type': 'CDMJob', 'properties': [
        {'name': 'clusterName', 'value': 'cdm-a'}, {'name': 'jobName', 'value': 'copy'}]}]}
    repo_uses = list(name_uses(JOB, repo_form))
    api_uses = list(name_uses(JOB, api_form))
    assert [(u.pointer, u.category, u.name, u.cluster) for u in repo_uses] == \
        [(u.pointer, u.category, u.name, u.cluster) for u in api_uses] == [
            ('/nodes/0/properties/clusterName', 'cdm-cluster', 'cdm-a', ''),
            ('/nodes/0/properties/jobName', 'cdm-job', 'copy', 'cdm-a')]
    assert [u.path for u in repo_uses] == [('nodes', 0, 'properties', 'clusterName'),
                                           ('nodes', 0, 'properties', 'jobName')]
    assert [u.path for u in api_uses] == [('nodes', 0, 'properties', 0, 'value'),
                                          ('nodes', 0, 'properties', 1, 'value')]
    # Only objects jobsync keeps are references; the cluster is not.
    assert [str(r.target) for r in references(JOB, api_form)] == ['cdm-job/cdm-a/copy']


def test_remap_moves_a_cdm_job_reference_with_its_cluster() -> None:
    spec: dict[str, Any] = {
        'nodes': [{'name': 'c', 'type': 'CDMJob', 'properties': {'clusterName': 'cdm-a', 'jobName': 'copy'}}]}
    remapped = apply_remap(JOB, spec, {'cdm_clusters': {'cdm-a': 'cdm-prod-01'}})
    assert remapped.spec['nodes'][0]['properties'] == {'clusterName': 'cdm-prod-01', 'jobName': 'copy'}
    assert spec['nodes'][0]['properties']['clusterName'] == 'cdm-a'  # the input is not changed
    assert [str(r.target) for r in references(remapped.key, remapped.spec)] == ['cdm-job/cdm-prod-01/copy']
    assert [(r.pointer, r.old, r.new) for r in remapped.renamed] == [
        ('/nodes/0/properties/clusterName', 'cdm-a', 'cdm-prod-01')]


def test_cdm_job_links_follow_the_remapped_cluster() -> None:
    key = ObjectKey('cdm-job', 'copy', 'cdm-a')
    remapped = apply_remap(key, {'name': 'copy', 'from-link-name': 'src', 'to-link-name': 'dst'},
                           {'cdm_clusters': {'cdm-a': 'cdm-b'}})
    assert remapped.key == ObjectKey('cdm-job', 'copy', 'cdm-b')
    assert [str(r.target) for r in references(remapped.key, remapped.spec)] == ['cdm-link/cdm-b/src',
                                                                                'cdm-link/cdm-b/dst']
