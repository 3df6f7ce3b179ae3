"""One package of the corpus matrix (tests/corpus) on the OpenStack test bed, as
``bench/corpus.py --vim openstack`` runs every one: instantiate with hooks off at the
default level, scale the aspect to the highest level its VDU allows, heal one VNFC,
terminate, the VNFCs checked against the plan after each step and nothing of the instance
left in the cloud (the driver's own discovery, in the member project the VNFM used).

mgmt_driver__ansible__ansible_vnf_package: one VDU with a Cinder volume, CPs without
``order``, an aspect whose max_scale_level asks more than its VDU's max.
"""

from __future__ import annotations

import pytest

from tests.corpus import corpus
from tests.corpus.matrix import STEPS, openstack_residue, register_openstack, run_matrix
from tests.integration.conftest import Lifecycle, lifecycle
from tests.openstack.conftest import OpenStackCloud
from vnfm_runner.core import load_vnf

__all__ = ["lifecycle"]  # the end-to-end tests' fixture: the real CLI on a private home

PACKAGE = "mgmt_driver__ansible__ansible_vnf_package"

pytestmark = pytest.mark.openstack


def test_corpus_package_lifecycle_on_the_bed(
    lifecycle: Lifecycle, openstack_cloud: OpenStackCloud
) -> None:
    path = corpus.SHARED / PACKAGE
    if not path.is_dir():
        pytest.skip("../shared/conformance is not present")
    clouds, cloud = str(openstack_cloud.clouds_yaml), openstack_cloud.demo_cloud
    model, _ = load_vnf(path)
    vim = register_openstack(lifecycle, clouds, cloud, model)
    residue = openstack_residue(clouds, cloud)
    try:
        outcome = run_matrix(lifecycle, path, "default", None, vim=vim, residue=residue)
    finally:  # a failed step must not leave servers in the shared bed
        for inst in lifecycle.instance_ids:
            if residue(inst):
                lifecycle.cli("terminate", inst, "--forceful", "-q")
    assert outcome.steps == {s: "ok" for s in STEPS}
