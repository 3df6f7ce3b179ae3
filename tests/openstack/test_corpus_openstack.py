"""One package of the corpus matrix (tests/corpus) on the OpenStack test bed, as
``bench/corpus.py --vim openstack`` runs every one: instantiate with hooks off at the
default level, scale the aspect to the highest level its VDU allows, heal one VNFC,
terminate, the VNFCs checked against the plan after each step and nothing of the instance
left in the cloud (the driver's own discovery, in the member project the VNFM used).

mgmt_driver__ansible__ansible_vnf_package: one VDU with a Cinder volume, CPs without
``order``, an aspect whose max_scale_level asks more than its VDU's max.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from tests.corpus import corpus
from tests.corpus.matrix import (
    STEPS,
    openstack_residue,
    provide_flavors,
    register_openstack,
    run_matrix,
)
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
    vim = register_openstack(lifecycle, clouds, cloud, model, openstack_cloud.cloud)
    residue = openstack_residue(clouds, cloud)
    try:
        outcome = run_matrix(lifecycle, path, "default", None, vim=vim, residue=residue)
    finally:  # a failed step must not leave servers in the shared bed
        for inst in lifecycle.instance_ids:
            if residue(inst):
                lifecycle.cli("terminate", inst, "--forceful", "-q")
    assert outcome.steps == {s: "ok" for s in STEPS}


def test_flavors_a_package_names_are_provided_once(openstack_cloud: OpenStackCloud) -> None:
    """Three Tacker packages name flavors larger than the bed's (m1.medium: 2 vCPU, 4 GiB,
    45 GB): the harness creates what the driver could not pick, and only that."""
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
        Flavor,
        pick_flavor,
    )

    hint = f"corpus-test-{uuid.uuid4().hex[:8]}"
    big = SimpleNamespace(
        id="VDU1",
        num_virtual_cpu=3,
        virtual_mem_size_mb=6144.0,
        local_storage_gb=7.0,
        flavour_hints=[hint],
    )
    small = SimpleNamespace(  # m1.tiny serves it: nothing to create
        id="VDU2",
        num_virtual_cpu=1,
        virtual_mem_size_mb=512.0,
        local_storage_gb=1.0,
        flavour_hints=["absent-but-small"],
    )
    model = SimpleNamespace(flavours=[SimpleNamespace(vdus=[big, small])])
    clouds = str(openstack_cloud.clouds_yaml)
    conn = openstack_cloud.connect()
    try:
        assert provide_flavors(clouds, openstack_cloud.cloud, model) == [hint]
        made = conn.compute.find_flavor(hint, ignore_missing=False)
        assert (made.vcpus, made.ram, made.disk, made.is_public) == (3, 6144, 7, True)
        # the member project sees it, and the driver now picks it by its hint
        demo = openstack_cloud.connect(openstack_cloud.demo_cloud)
        seen = [Flavor(f.id, f.name, f.vcpus, f.ram, f.disk) for f in demo.compute.flavors()]
        compute = {"numVirtualCpu": 3, "virtualMemSizeMb": 6144, "flavourHint": hint}
        assert pick_flavor({"id": "VDU1-0", "compute": compute}, seen, {}).name == hint
        assert provide_flavors(clouds, openstack_cloud.cloud, model) == []
    finally:
        found = conn.compute.find_flavor(hint)
        if found is not None:
            conn.compute.delete_flavor(found)
