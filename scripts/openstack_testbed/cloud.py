"""The API side of the OpenStack test bed: Keystone catalog, baseline resources, health check.

usage: cloud.py catalog | populate | status

Run by ``scripts/openstack-testbed`` with the test bed's own venv (its openstacksdk matches
the services), never with the project's. Settings come from the ``TESTBED_*`` variables that
script exports. ``catalog`` also writes ``clouds.yaml``, which every later step reads.
"""

from __future__ import annotations

import math
import os
import struct
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openstack
import openstack.exceptions

HOST = os.environ.get("TESTBED_HOST", "127.0.0.1")
STATE = Path(os.environ.get("TESTBED_STATE", "/var/tmp/vnfm-openstack-testbed"))
CLOUDS_YAML = STATE / "clouds.yaml"
ADMIN_CLOUD = "vnfm-testbed"
DEMO_CLOUD = "vnfm-testbed-demo"
DEMO_PROJECT = "vnfm-demo"
SERVICE_USER = "testbed-service"
WITH_CINDER = os.environ.get("TESTBED_WITH_CINDER", "0") == "1"
KEYSTONE = f"http://{HOST}:5000/v3"

# Baseline the VIM driver and the tests may rely on; keep docs/openstack-testbed.md in step.
FLAVORS = {  # name: (vcpus, ram MiB, disk GiB)
    "m1.tiny": (1, 512, 1),
    "m1.small": (1, 2048, 20),
    "vnfm.small": (1, 256, 1),
}
IMAGE_NAME = "cirros"
PUBLIC_NET = "public"
PUBLIC_SUBNET = "public-subnet"
PUBLIC_CIDR = "203.0.113.0/24"  # TEST-NET-3: never routed, safe to hand out as floating IPs


def _connect(cloud: str = ADMIN_CLOUD, **kwargs: Any) -> openstack.connection.Connection:
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(CLOUDS_YAML)
    return openstack.connect(cloud=cloud, **kwargs)


def _find(find: Callable[..., Any], name: str) -> Any:
    """``find_*`` by name, None when absent (the SDK deprecates ``ignore_missing=True``)."""
    try:
        return find(name, ignore_missing=False)
    except openstack.exceptions.NotFoundException:
        return None


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"cloud.py: {name} is not set (run through scripts/openstack-testbed)")
    return value


def _wait(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except Exception as exc:  # services come up in any order; retry until the deadline
            last = exc
        else:
            if result:
                return result
        time.sleep(interval)
    sys.exit(f"cloud.py: timed out after {timeout:.0f}s waiting for {what} (last error: {last})")


def _clouds_yaml() -> str:
    def cloud(name: str, user: str, password: str, project: str) -> str:
        return (
            f"  {name}:\n"
            f"    auth:\n"
            f"      auth_url: {KEYSTONE}\n"
            f"      username: {user}\n"
            f"      password: {password}\n"
            f"      project_name: {project}\n"
            f"      user_domain_name: Default\n"
            f"      project_domain_name: Default\n"
            f"    region_name: RegionOne\n"
            f"    identity_api_version: 3\n"
            f"    interface: public\n"
        )

    return (
        "# Written by scripts/openstack-testbed; rewritten on every start.\n"
        "clouds:\n"
        + cloud(ADMIN_CLOUD, "admin", _env("TESTBED_ADMIN_PASSWORD"), "admin")
        + cloud(DEMO_CLOUD, DEMO_PROJECT, _env("TESTBED_DEMO_PASSWORD"), DEMO_PROJECT)
    )


def catalog() -> None:
    """Service project and user, the demo project, and the catalog of every service."""
    tmp = CLOUDS_YAML.with_suffix(".tmp")
    tmp.write_text(_clouds_yaml())
    tmp.chmod(0o600)
    tmp.replace(CLOUDS_YAML)

    _wait("keystone", lambda: urllib.request.urlopen(KEYSTONE, timeout=2).status == 200, 180)
    conn = _connect()
    idc = conn.identity
    admin_role, service_role, member_role = (
        idc.find_role(name, ignore_missing=False) for name in ("admin", "service", "member")
    )

    # Nova and Neutron need the 'service' role as well: this series' policies reserve port
    # binding and server external events to it.
    service = _find(idc.find_project, "service") or idc.create_project(
        name="service", domain_id="default"
    )
    user = _find(idc.find_user, SERVICE_USER) or idc.create_user(
        name=SERVICE_USER,
        password=_env("TESTBED_SERVICE_PASSWORD"),
        domain_id="default",
        default_project_id=service.id,
    )
    for role in (admin_role, service_role):
        idc.assign_project_role_to_user(service, user, role)

    demo = _find(idc.find_project, DEMO_PROJECT) or idc.create_project(
        name=DEMO_PROJECT, domain_id="default", description="non-admin project of the test bed"
    )
    demo_user = _find(idc.find_user, DEMO_PROJECT) or idc.create_user(
        name=DEMO_PROJECT,
        password=_env("TESTBED_DEMO_PASSWORD"),
        domain_id="default",
        default_project_id=demo.id,
    )
    idc.assign_project_role_to_user(demo, demo_user, member_role)

    endpoints = {
        "compute": ("nova", f"http://{HOST}:8774/v2.1"),
        "network": ("neutron", f"http://{HOST}:9696"),
        "image": ("glance", f"http://{HOST}:9292"),
        "placement": ("placement", f"http://{HOST}:8778"),
    }
    if WITH_CINDER:
        endpoints["block-storage"] = ("cinderv3", f"http://{HOST}:8776/v3/%(project_id)s")
    for service_type, (name, url) in endpoints.items():
        svc = _find(idc.find_service, name) or idc.create_service(name=name, type=service_type)
        if not list(idc.endpoints(service_id=svc.id)):
            for interface in ("public", "internal", "admin"):
                idc.create_endpoint(
                    service_id=svc.id, interface=interface, url=url, region_id="RegionOne"
                )


def empty_qcow2(virtual_size: int) -> bytes:
    """A valid, empty qcow2 (version 2, 64 KiB clusters) of ``virtual_size`` bytes.

    Glance inspects uploads and refuses data that doesn't match ``disk_format``, and Nova
    compares the virtual size with the flavor's disk, so random bytes won't do. Layout:
    cluster 0 header, 1 refcount table, 2 refcount block, 3 L1 table (all L2 entries absent).
    """
    cluster_bits = 16
    cluster = 1 << cluster_bits
    l1_size = math.ceil(virtual_size / ((cluster // 8) * cluster))
    header = struct.pack(
        ">4sIQIIQIIQQIIQ",
        b"QFI\xfb",
        2,  # version
        0,  # backing_file_offset
        0,  # backing_file_size
        cluster_bits,
        virtual_size,
        0,  # crypt_method
        l1_size,
        3 * cluster,  # l1_table_offset
        1 * cluster,  # refcount_table_offset
        1,  # refcount_table_clusters
        0,  # nb_snapshots
        0,  # snapshots_offset
    )
    refcount_table = struct.pack(">Q", 2 * cluster)
    refcount_block = struct.pack(">4H", 1, 1, 1, 1)
    return b"".join(
        part.ljust(cluster, b"\0") for part in (header, refcount_table, refcount_block, b"")
    )


def populate() -> None:
    """What a VNF needs from a cloud: a compute host, flavors, an image, an external network."""
    conn = _connect()
    _wait("a hypervisor", lambda: list(conn.compute.hypervisors()), 180)

    for name, (vcpus, ram, disk) in FLAVORS.items():
        if not _find(conn.compute.find_flavor, name):
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)

    if not _find(conn.image.find_image, IMAGE_NAME):
        image = conn.image.create_image(
            name=IMAGE_NAME,
            disk_format="qcow2",
            container_format="bare",
            visibility="public",
            data=empty_qcow2(112 * 1024 * 1024),  # cirros-sized; the fake driver never reads it
        )
        conn.image.wait_for_status(image, "active", wait=60, interval=0.5)

    net = _find(conn.network.find_network, PUBLIC_NET) or conn.network.create_network(
        name=PUBLIC_NET,
        is_router_external=True,
        is_shared=True,
        provider_network_type="flat",
        provider_physical_network="public",
    )
    if not _find(conn.network.find_subnet, PUBLIC_SUBNET):
        conn.network.create_subnet(
            name=PUBLIC_SUBNET,
            network_id=net.id,
            ip_version=4,
            cidr=PUBLIC_CIDR,
            gateway_ip="203.0.113.1",
            is_dhcp_enabled=False,
            allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.250"}],
        )


def status() -> int:
    """One line per check; exit status 0 only when every check passes."""
    failures = 0

    def check(name: str, probe: Callable[[], str]) -> None:
        nonlocal failures
        started = time.monotonic()
        try:
            detail = probe()
            verdict = "ok  "
        except Exception as exc:  # report every failing service, not just the first
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            verdict = "FAIL"
            failures += 1
        print(f"{verdict} {name:<22} {time.monotonic() - started:5.2f}s  {detail}", flush=True)

    if not CLOUDS_YAML.exists():
        print(f"FAIL no {CLOUDS_YAML}: the test bed is not up")
        return 1
    conn = _connect(api_timeout=15)

    def token() -> str:
        conn.authorize()
        return f"user {conn.current_user_id[:8]} in project {conn.current_project_id[:8]}"

    def endpoints() -> str:
        services = {s.id: s.type for s in conn.identity.services()}
        types = sorted({services[e.service_id] for e in conn.identity.endpoints()})
        return ", ".join(types)

    def compute_services() -> str:
        found = {s.binary: s for s in conn.compute.services()}
        for binary in ("nova-conductor", "nova-scheduler", "nova-compute"):
            svc = found.get(binary)
            if svc is None or svc.state != "up" or svc.status != "enabled":
                state = "missing" if svc is None else f"{svc.state}/{svc.status}"
                raise RuntimeError(f"{binary} {state}")
        return ", ".join(f"{b} up" for b in sorted(found))

    def placement() -> str:
        providers = list(conn.placement.resource_providers())
        if not providers:
            raise RuntimeError("no resource providers (nova-compute has not reported)")
        return ", ".join(p.name for p in providers)

    def network() -> str:
        nets = [n.name for n in conn.network.networks()]
        if PUBLIC_NET not in nets:
            raise RuntimeError(f"network {PUBLIC_NET!r} missing")
        agents = list(conn.network.agents())
        dead = [a.binary for a in agents if not a.is_alive]
        if dead:
            raise RuntimeError(f"agents down: {', '.join(dead)}")
        return f"{len(nets)} networks, {len(agents)} agents (ports bound agentless)"

    def image() -> str:
        images = [i for i in conn.image.images() if i.name == IMAGE_NAME]
        if not images or images[0].status != "active":
            raise RuntimeError(f"image {IMAGE_NAME!r} missing or not active")
        return f"{IMAGE_NAME} active"

    def block_storage() -> str:
        found = list(conn.block_storage.services())
        down = [f"{s.binary}@{s.host}" for s in found if s.state != "up"]
        if down or not any(s.binary == "cinder-volume" for s in found):
            raise RuntimeError(f"down: {', '.join(down) or 'no cinder-volume'}")
        return ", ".join(sorted(f"{s.binary} up" for s in found))

    check("keystone token", token)
    check("keystone endpoints", endpoints)
    check("nova services", compute_services)
    check("placement", placement)
    check("neutron", network)
    check("glance", image)
    if conn.has_service("block-storage"):
        check("cinder services", block_storage)
    return 1 if failures else 0


def main() -> int:
    commands = {"catalog": catalog, "populate": populate, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    return commands[sys.argv[1]]() or 0


if __name__ == "__main__":
    sys.exit(main())
