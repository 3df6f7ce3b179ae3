"""Smoke tests of the OpenStack test bed through openstacksdk, as the VIM driver will use it.

Every resource is named and tagged with a per-test id, and removed in ``finally`` even when
an assertion fails, so a failed run leaves nothing for the next one to trip over.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import openstack.exceptions
import pytest

if TYPE_CHECKING:  # conftest is not importable by name: every test directory has one
    from conftest import OpenStackCloud

# Setup of the first test may include the test bed's first install (several minutes).
pytestmark = [pytest.mark.openstack, pytest.mark.timeout(1800)]

WAIT = 180  # seconds for any status change; the test bed does them in 1-8 s


def absent(find: Callable[..., Any], name_or_id: str, wait: float = 30.0) -> bool:
    """Gone within ``wait`` seconds: Nova may answer a server in status DELETED for a
    moment after ``wait_for_delete`` returned (seen on a loaded host)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            find(name_or_id, ignore_missing=False)
        except openstack.exceptions.NotFoundException:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


@pytest.fixture
def test_id() -> str:
    return f"vnfm-smoke-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cleanup() -> Iterator[Callable[[Callable[[], Any]], None]]:
    """Register undo steps; they run in reverse order, each one regardless of the others."""
    steps: list[Callable[[], Any]] = []
    yield steps.append
    errors = []
    for step in reversed(steps):
        try:
            step()
        except Exception as exc:  # keep removing the rest
            errors.append(repr(exc))
    assert not errors, f"cleanup failed: {errors}"


def test_baseline_visible_to_demo_project(openstack_cloud: OpenStackCloud) -> None:
    conn = openstack_cloud.connect(openstack_cloud.demo_cloud)
    assert conn.authorize()
    flavors = {f.name: (f.vcpus, f.ram, f.disk) for f in conn.compute.flavors()}
    assert flavors["m1.tiny"] == (1, 512, 1)
    assert flavors["m1.small"] == (1, 2048, 20)
    assert flavors["vnfm.small"] == (1, 256, 1)
    assert conn.image.find_image("cirros", ignore_missing=False).status == "active"
    public = conn.network.find_network("public", ignore_missing=False)
    assert public.is_router_external and public.is_shared
    subnet = conn.network.find_subnet("public-subnet", ignore_missing=False)
    assert subnet.cidr == "203.0.113.0/24"


def test_server_on_fixed_ip_port_with_group_and_volume(
    openstack_cloud: OpenStackCloud,
    test_id: str,
    cleanup: Callable[[Callable[[], Any]], None],
) -> None:
    conn = openstack_cloud.connect()
    assert conn.authorize()
    tags = [test_id]

    net = conn.network.create_network(name=test_id)
    cleanup(lambda: conn.network.delete_network(net, ignore_missing=True))
    conn.network.set_tags(net, tags)
    subnet = conn.network.create_subnet(
        name=test_id, network_id=net.id, ip_version=4, cidr="192.0.2.0/24"
    )
    cleanup(lambda: conn.network.delete_subnet(subnet, ignore_missing=True))
    conn.network.set_tags(subnet, tags)
    port = conn.network.create_port(
        name=test_id,
        network_id=net.id,
        fixed_ips=[{"subnet_id": subnet.id, "ip_address": "192.0.2.10"}],
    )
    cleanup(lambda: conn.network.delete_port(port, ignore_missing=True))
    conn.network.set_tags(port, tags)

    group = conn.compute.create_server_group(name=test_id, policy="anti-affinity")
    cleanup(lambda: conn.compute.delete_server_group(group, ignore_missing=True))
    assert group.policy == "anti-affinity"

    flavor = conn.compute.find_flavor("m1.tiny", ignore_missing=False)
    image = conn.image.find_image("cirros", ignore_missing=False)
    server = conn.compute.create_server(
        name=test_id,
        flavor_id=flavor.id,
        image_id=image.id,
        networks=[{"port": port.id}],
        scheduler_hints={"group": group.id},
        metadata={"vnfm-test-id": test_id},
        tags=tags,
    )

    def delete_server() -> None:
        conn.compute.delete_server(server, ignore_missing=True)
        conn.compute.wait_for_delete(server, wait=WAIT, interval=0.5)

    cleanup(delete_server)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=WAIT, interval=0.5)

    bound = conn.network.get_port(port.id)
    assert bound.device_id == server.id
    assert bound.binding_vif_type not in ("binding_failed", "unbound"), bound.binding_vif_type
    assert bound.binding_host_id == server.compute_host
    assert bound.status == "ACTIVE"
    assert [ip["ip_address"] for ip in bound.fixed_ips] == ["192.0.2.10"]
    assert server.addresses[test_id][0]["addr"] == "192.0.2.10"
    assert server.metadata == {"vnfm-test-id": test_id}
    assert server.id in conn.compute.get_server_group(group.id).member_ids
    assert [s.id for s in conn.compute.servers(tags=test_id)] == [server.id]

    if conn.has_service("block-storage"):
        volume = conn.block_storage.create_volume(name=test_id, size=1)
        cleanup(lambda: conn.block_storage.delete_volume(volume, ignore_missing=True))
        conn.block_storage.wait_for_status(volume, "available", wait=WAIT, interval=0.5)
        conn.compute.create_volume_attachment(server, volume)
        conn.block_storage.wait_for_status(volume, "in-use", wait=WAIT, interval=0.5)
        attached = [a.volume_id for a in conn.compute.volume_attachments(server)]
        assert attached == [volume.id]
        conn.compute.delete_volume_attachment(server, volume.id)
        conn.block_storage.wait_for_status(volume, "available", wait=WAIT, interval=0.5)
        conn.block_storage.delete_volume(volume)
        conn.block_storage.wait_for_delete(volume, wait=WAIT, interval=0.5)

    delete_server()
    conn.network.delete_port(port)
    conn.network.delete_subnet(subnet)
    conn.network.delete_network(net)
    conn.compute.delete_server_group(group)

    assert absent(conn.compute.find_server, server.id)
    assert list(conn.compute.servers(tags=test_id)) == []
    assert absent(conn.compute.find_server_group, group.id)
    for kind in ("networks", "subnets", "ports"):
        assert list(getattr(conn.network, kind)(tags=test_id)) == [], kind
    if conn.has_service("block-storage"):
        assert absent(conn.block_storage.find_volume, volume.id)
