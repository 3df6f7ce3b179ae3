"""Benchmark of instantiation on the OpenStack test bed: our driver vs bare openstacksdk.

For webfarm (flavour ``default``) with N VNFCs (lb + N-1 webs; above the VNFD's 8 webs
the plan's web VNFCs are cloned with the next addresses; N=1 is the lb alone), one run
measures:

* (a) ``driver``: ``get_driver(vim).reconcile(plan)`` from empty, then ``.remove(id)``;
  with ``--operate``, between the two: every server stopped (the plan with every VNFC
  ``powerState: off``, as operate STOPPED makes it), then started again;
* (b) ``sdk-parallel``: a bare openstacksdk script creating the same network, subnet,
  ports and servers with a ThreadPoolExecutor, waiting for ACTIVE, then deleting them the
  same way; run once per ``--sdk-workers`` count, and the fastest of them (per operation)
  is the VIM's limit: the ``a/lim`` column is the driver's time over it (issue 17: ≤ 1.3);
* (c) with ``--serial``, the serial baseline: the same calls one resource at a time, each
  waited for (what a playbook with one ``openstack.cloud`` task per resource does; that
  collection is not installed here, so it is plain openstacksdk, serially).

With ``--rounds R`` each size is measured R times, the driver first in the odd rounds and
last in the even ones (whoever goes first after an idle spell pays the bed's warm-up), and
a summary line per size and operation gives the median and range of the per-round a/lim
(each round's ratio compares runs made minutes apart, under the same load), and the
driver's median over the best per-count median of (b) (the fastest of several noisy
runs in every round is a limit biased low).

The plan is reduced to what all three create: no volumes, server groups or security
groups. Needs the test bed up (``scripts/openstack-testbed status``); every created
resource is removed, even on failure.

    .venv/bin/python bench/openstack_instantiate.py [--sizes 8,32] [--workers 8]
        [--sdk-workers 8,32] [--rounds 1] [--serial] [--operate]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import ipaddress
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

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
    """The plan's networks, subnets, ports and servers with openstacksdk, ``workers`` at a time.

    Like the driver, it starts from a new connection (authentication, endpoint discovery)
    and looks up the image and the external network inside the timed create."""

    def __init__(self, path: str, plan: dict[str, Any], flavor: str, workers: int) -> None:
        self.path, self.plan, self.flavor, self.workers = path, plan, flavor, workers
        self.conn: Any = None
        self.image = self.public = ""
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
        self.conn = connect(self.path)
        self.image = self.conn.image.find_image(IMAGE).id
        self.public = self.conn.network.find_network(PUBLIC).id
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
    path: str,
    conn: Any,
    vnfcs: int,
    workers: int,
    operate: bool = False,
    sdk_workers: tuple[int, ...] = (8,),
    serial: bool = False,
    driver_first: bool = True,
) -> dict[str, float]:
    vim = {"vimType": "openstack", "cloud": CLOUD, "cloudsFile": path}
    vim |= {"softPlacementPolicies": True, "workers": workers}
    out: dict[str, float] = {}
    bare_runs = [(f"b{n}", n) for n in sdk_workers] + ([("c", 1)] if serial else [])
    plans = {k: webfarm_plan(str(uuid.uuid4()), vnfcs) for k in ["a", *(k for k, _ in bare_runs)]}
    flavor = pick_flavor(conn, plans["a"])

    def driver() -> None:
        drv = get_driver(vim, timeout=TIMEOUT)
        inst = plans["a"]["vnfInstanceId"]
        out["a_create"] = timed(lambda: drv.reconcile(plans["a"], heal=[], check_mode=False))
        if operate:
            off = powered_off(plans["a"])
            out["a_stop"] = timed(lambda: drv.reconcile(off, heal=[], check_mode=False))
            out["a_start"] = timed(lambda: drv.reconcile(plans["a"], heal=[], check_mode=False))
        out["a_delete"] = timed(lambda: drv.remove(inst, check_mode=False))

    try:
        if driver_first:
            driver()
        for key, n in bare_runs:
            bare = Bare(path, plans[key], flavor, n)
            out[f"{key}_create"] = timed(bare.create)
            out[f"{key}_delete"] = timed(bare.delete)
        if not driver_first:
            driver()
    finally:
        for p in plans.values():
            sweep(conn, p)
    for op in ("create", "delete"):  # the VIM's limit: the best bare concurrency
        out[f"b_{op}"] = min(out[f"b{n}_{op}"] for n in sdk_workers)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,32", help="VNFC counts (lb + webs)")
    parser.add_argument("--workers", type=int, default=8, help="parallel API calls of (a)")
    parser.add_argument(
        "--sdk-workers", default="8,32", help="thread counts tried for (b); the best is the limit"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs per size (driver first, then last, ...)"
    )
    parser.add_argument("--serial", action="store_true", help="also (c), the serial baseline")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument(
        "--operate", action="store_true", help="(a) also stops and starts every server"
    )
    args = parser.parse_args()
    sdk_workers = tuple(int(w) for w in args.sdk_workers.split(","))
    path = clouds_file()
    conn = connect(path)
    results: dict[int, list[dict[str, float]]] = {}
    bare_cols = "".join(f" {'sdk x' + str(w):>9}" for w in sdk_workers)
    print(
        f"{'N':>3} {'op':7} {'driver':>8}{bare_cols} {'limit':>8} {'a/lim':>6}"
        + (f" {'serial':>8} {'c/a':>6}" if args.serial else "")
    )
    for n in (int(s) for s in args.sizes.split(",")):
        for index in range(max(1, args.rounds)):
            first = index % 2 == 0
            r = bench(path, conn, n, args.workers, args.operate, sdk_workers, args.serial, first)
            results.setdefault(n, []).append(r)
            for op in ("create", "delete"):
                a, b = r[f"a_{op}"], r[f"b_{op}"]
                bares = "".join(f" {r[f'b{w}_{op}']:>8.1f}s" for w in sdk_workers)
                line = f"{n:>3} {op:7} {a:>7.1f}s{bares} {b:>7.1f}s {a / b:>6.2f}"
                if args.serial:
                    c = r[f"c_{op}"]
                    line += f" {c:>7.1f}s {c / a:>6.2f}"
                print(line + ("" if first else "  (driver last)"), flush=True)
    if args.rounds > 1:
        for n, runs in results.items():
            for op in ("create", "delete"):
                ratios = sorted(r[f"a_{op}"] / r[f"b_{op}"] for r in runs)
                a_med = statistics.median(r[f"a_{op}"] for r in runs)
                b_med = min(statistics.median(r[f"b{w}_{op}"] for r in runs) for w in sdk_workers)
                print(
                    f"N={n} {op}: a/lim median {statistics.median(ratios):.2f} "
                    f"(min {ratios[0]:.2f}, max {ratios[-1]:.2f}, {len(ratios)} rounds); "
                    f"driver median {a_med:.1f}s, best sdk median {b_med:.1f}s: "
                    f"{a_med / b_med:.2f}"
                )
    if args.operate:
        print(
            "driver, operate: "
            + ", ".join(
                f"N={n} stop {r['a_stop']:.1f}s start {r['a_start']:.1f}s"
                for n, runs in results.items()
                for r in runs
            )
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
