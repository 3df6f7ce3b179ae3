"""Benchmark of instantiation on the OpenStack test bed: our driver vs bare openstacksdk.

For webfarm (flavour ``default``) with N VNFCs (lb + N-1 webs; above the VNFD's 8 webs
the plan's web VNFCs are cloned with the next addresses; N=1 is the lb alone), one run
measures:

* (a) ``driver``: ``get_driver(vim).reconcile(plan)`` from empty, then ``.remove(id)``;
  with ``--operate``, between the two: every server stopped (the plan with every VNFC
  ``powerState: off``, as operate STOPPED makes it), then started again;
* (b) ``sdk-parallel``: a bare openstacksdk script creating the same network, subnet,
  ports and servers with a ThreadPoolExecutor (``--workers``), waiting for ACTIVE, then
  deleting them the same way;
* (c) ``serial baseline``: the same calls one resource at a time, each waited for (what a
  playbook with one ``openstack.cloud`` task per resource does; that collection is not
  installed here, so it is plain openstacksdk, serially).

The plan is reduced to what all three create: no volumes, server groups or security
groups. Needs the test bed up (``scripts/openstack-testbed status``); every created
resource is removed, even on failure.

    .venv/bin/python bench/openstack_instantiate.py [--sizes 1,8,32] [--workers 8] [--operate]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import ipaddress
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

import openstack  # noqa: E402
import openstack.config  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import (  # noqa: E402
    PlanRequest,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import (  # noqa: E402
    plan as make_plan,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import (  # noqa: E402
    load_vnf,
)

TESTBED = REPO / "scripts" / "openstack-testbed"
WEBFARM = REPO / "examples" / "packages" / "webfarm"
CLOUD = "vnfm-testbed"
IMAGE = "cirros"
PUBLIC = "public"
MAX_WEBS = 8  # webfarm's VNFD
TIMEOUT = 900


# -- set up ------------------------------------------------------------------------------------
def clouds_file() -> str:
    if subprocess.run([str(TESTBED), "status"], capture_output=True, check=False).returncode:
        sys.exit("the OpenStack test bed is not up (scripts/openstack-testbed status)")
    out = subprocess.run([str(TESTBED), "env"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        if key == "OS_CLIENT_CONFIG_FILE":
            return value.strip("'\"")
    sys.exit("scripts/openstack-testbed env printed no OS_CLIENT_CONFIG_FILE")


def connect(path: str) -> Any:
    config = openstack.config.OpenStackConfig(config_files=[path])
    return openstack.connection.Connection(config=config.get_one(cloud=CLOUD))


def webfarm_plan(inst: str, vnfcs: int) -> dict[str, Any]:
    """lb + (vnfcs - 1) webs, without volumes, server groups and security groups."""
    webs = vnfcs - 1
    req = PlanRequest(
        inst,
        "default",
        None,
        scale_levels={"web": min(max(webs, 1), MAX_WEBS) - 1},
        ext_virtual_links=[{"id": "ext", "resourceId": PUBLIC, "extCps": [{"cpdId": "lb_ext_cp"}]}],
        vim_mapping={"images": {"web": IMAGE, "lb": IMAGE}},
    )
    plan = make_plan(load_vnf(WEBFARM)[0], req)
    web_list = [v for v in plan["vnfcs"] if v["vduId"] == "web"]
    template = web_list[-1]
    last_ip = ipaddress.ip_address(template["cps"][0]["ipAddresses"][0])
    for index in range(len(web_list), webs):  # beyond the VNFD's maximum: clone
        vnfc = copy.deepcopy(template)
        vnfc["id"] = f"web-{index}"
        vnfc["index"] = index
        vnfc["name"] = f"{plan['namePrefix']}-web-{index}"
        cp = vnfc["cps"][0]
        cp["name"] = f"{vnfc['name']}-{cp['cpdId']}"
        cp["ipAddresses"] = [str(last_ip + index - template["index"])]
        mac = hashlib.sha256(cp["name"].encode()).hexdigest()
        cp["macAddress"] = "fa:16:3e:" + ":".join(mac[i : i + 2] for i in (0, 2, 4))
        plan["vnfcs"].append(vnfc)
    if webs == 0:  # N=1: the lb alone (the VNFD's minimum is 1 web)
        plan["vnfcs"] = [v for v in plan["vnfcs"] if v["vduId"] != "web"]
    plan["volumes"], plan["serverGroups"], plan["securityGroupRules"] = [], [], []
    for vnfc in plan["vnfcs"]:
        vnfc["volumes"], vnfc["serverGroup"] = [], None
    assert len(plan["vnfcs"]) == vnfcs, len(plan["vnfcs"])
    return plan


def pick_flavor(conn: Any, plan: dict[str, Any]) -> str:
    need = plan["vnfcs"][0]["compute"]
    fits = [
        f
        for f in conn.compute.flavors()
        if f.vcpus >= need["numVirtualCpu"]
        and f.ram >= need["virtualMemSizeMb"]
        and f.disk >= need["localStorageGb"]
    ]
    return min(fits, key=lambda f: (f.vcpus, f.ram, f.disk)).id


# -- (b) and (c): bare openstacksdk ------------------------------------------------------------
class Bare:
    """The plan's networks, subnets, ports and servers with openstacksdk, ``workers`` at a time."""

    def __init__(self, conn: Any, plan: dict[str, Any], flavor: str, workers: int) -> None:
        self.conn, self.plan, self.flavor, self.workers = conn, plan, flavor, workers
        self.image = conn.image.find_image(IMAGE).id
        self.public = conn.network.find_network(PUBLIC).id
        self.tag = f"vnfm-bench={plan['vnfInstanceId']}"
        self.networks: dict[str, str] = {}
        self.ports: dict[str, str] = {}
        self.servers: list[Any] = []

    def each(self, func: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        items = list(items)
        if self.workers <= 1 or len(items) <= 1:
            return [func(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(pool.map(func, items))

    def create(self) -> None:
        net = self.conn.network

        def network(vl: dict[str, Any]) -> None:
            n = net.create_network(name=vl["name"])  # the bed caps MTU below the plan's
            net.set_tags(n, [self.tag])
            net.create_subnet(
                name=f"{vl['name']}-subnet",
                network_id=n.id,
                cidr=vl["cidr"],
                ip_version=vl["ipVersion"],
                gateway_ip=vl["gatewayIp"],
                enable_dhcp=vl["dhcpEnabled"],
            )
            self.networks[vl["id"]] = n.id

        self.each(network, self.plan["virtualLinks"])

        def port(cp: dict[str, Any]) -> None:
            args: dict[str, Any] = {"name": cp["name"]}
            if cp["extVirtualLinkId"]:
                args["network_id"] = self.public
            else:
                args["network_id"] = self.networks[cp["virtualLinkId"]]
                args["mac_address"] = cp["macAddress"]
                args["port_security_enabled"] = False
            if cp["ipAddresses"]:
                args["fixed_ips"] = [{"ip_address": ip} for ip in cp["ipAddresses"]]
            p = net.create_port(**args)
            net.set_tags(p, [self.tag])
            self.ports[cp["name"]] = p.id

        self.each(port, [cp for v in self.plan["vnfcs"] for cp in v["cps"]])

        def server(vnfc: dict[str, Any]) -> Any:
            s = self.conn.compute.create_server(
                name=vnfc["name"],
                flavor_id=self.flavor,
                image_id=self.image,
                networks=[{"port": self.ports[cp["name"]]} for cp in vnfc["cps"]],
                metadata={"vnfm-bench": self.plan["vnfInstanceId"]},
            )
            return self.conn.compute.wait_for_server(s, status="ACTIVE", wait=TIMEOUT)

        self.servers = self.each(server, self.plan["vnfcs"])

    def delete(self) -> None:
        compute, net = self.conn.compute, self.conn.network

        def server(s: Any) -> None:
            compute.delete_server(s.id)
            compute.wait_for_delete(s, wait=TIMEOUT)

        self.each(server, self.servers)
        self.each(net.delete_port, self.ports.values())
        self.each(net.delete_network, self.networks.values())  # subnets go with them
        self.servers, self.ports, self.networks = [], {}, {}


def sweep(conn: Any, plan: dict[str, Any]) -> None:
    """Remove whatever a failed run left (by name prefix and bench tag)."""
    prefix, tag = plan["namePrefix"] + "-", f"vnfm-bench={plan['vnfInstanceId']}"
    for s in list(conn.compute.servers()):
        if s.name.startswith(prefix):
            with contextlib.suppress(Exception):
                conn.compute.delete_server(s.id)
                conn.compute.wait_for_delete(s, wait=TIMEOUT)
    for p in list(conn.network.ports()):
        if (p.name or "").startswith(prefix) or tag in (p.tags or []):
            with contextlib.suppress(Exception):
                conn.network.delete_port(p.id)
    for n in list(conn.network.networks()):
        if (n.name or "").startswith(prefix) or tag in (n.tags or []):
            with contextlib.suppress(Exception):
                conn.network.delete_network(n.id)


# -- the run -----------------------------------------------------------------------------------
def timed(func: Callable[[], Any]) -> float:
    started = time.monotonic()
    func()
    return time.monotonic() - started


def powered_off(plan: dict[str, Any]) -> dict[str, Any]:
    off = copy.deepcopy(plan)
    for vnfc in off["vnfcs"]:
        vnfc["powerState"] = "off"
    return off


def bench(
    path: str, conn: Any, vnfcs: int, workers: int, operate: bool = False
) -> dict[str, float]:
    vim = {"vimType": "openstack", "cloud": CLOUD, "cloudsFile": path}
    vim |= {"softPlacementPolicies": True, "workers": workers}
    out: dict[str, float] = {}
    plans = {k: webfarm_plan(str(uuid.uuid4()), vnfcs) for k in ("a", "b", "c")}
    flavor = pick_flavor(conn, plans["a"])
    try:
        drv = get_driver(vim, timeout=TIMEOUT)
        inst = plans["a"]["vnfInstanceId"]
        out["a_create"] = timed(lambda: drv.reconcile(plans["a"], heal=[], check_mode=False))
        if operate:
            off = powered_off(plans["a"])
            out["a_stop"] = timed(lambda: drv.reconcile(off, heal=[], check_mode=False))
            out["a_start"] = timed(lambda: drv.reconcile(plans["a"], heal=[], check_mode=False))
        out["a_delete"] = timed(lambda: drv.remove(inst, check_mode=False))
        for key, n in (("b", workers), ("c", 1)):
            bare = Bare(conn, plans[key], flavor, n)
            out[f"{key}_create"] = timed(bare.create)
            out[f"{key}_delete"] = timed(bare.delete)
    finally:
        for p in plans.values():
            sweep(conn, p)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,8,32", help="VNFC counts (lb + webs)")
    parser.add_argument("--workers", type=int, default=8, help="parallel API calls, (a) and (b)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument(
        "--operate", action="store_true", help="(a) also stops and starts every server"
    )
    args = parser.parse_args()
    path = clouds_file()
    conn = connect(path)
    results = {}
    print(
        f"{'N':>3} {'op':7} {'(a) driver':>11} {'(b) sdk-par':>12} {'(c) serial':>11}"
        f" {'a/b':>6} {'c/a':>6}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        r = bench(path, conn, n, args.workers, args.operate)
        results[n] = r
        for op in ("create", "delete"):
            a, b, c = r[f"a_{op}"], r[f"b_{op}"], r[f"c_{op}"]
            print(
                f"{n:>3} {op:7} {a:>10.1f}s {b:>11.1f}s {c:>10.1f}s {a / b:>6.2f} {c / a:>6.2f}",
                flush=True,
            )
    if args.operate:
        print(
            "driver, operate: "
            + ", ".join(
                f"N={n} stop {r['a_stop']:.1f}s start {r['a_start']:.1f}s"
                for n, r in results.items()
            )
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
