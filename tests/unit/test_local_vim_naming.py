"""Unit tests of the ``local`` VIM: naming, plan translation, discovery parsing and diff.

The kernel is faked at its edge (:class:`Kernel`): the fake answers the
``ip -json`` queries from an in-memory description and refuses any change.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils import vim as vim_port
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (
    ReconcileResult,
    VimError,
    get_driver,
    register_driver,
    supported_vim_types,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.diff import compute_changes
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.discover import discover
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.iproute import (
    Kernel,
    _parse_json_docs,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (
    Desired,
    desired_state,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

INST = "6f1c0000-aaaa-4bbb-8ccc-000000000001"
SHORT = hashlib.sha256(INST.encode()).hexdigest()[:8]
VIM = {"vimType": "local", "stateDir": "/nonexistent/state", "lockFile": "/nonexistent/lock"}
EXT_ADDR = "172.30.250.10/24"


# -- plan fixture ------------------------------------------------------------------------------
def _mac(vnfc: str, cpd: str) -> str:
    h = hashlib.sha256(f"{INST}/{vnfc}/{cpd}".encode()).hexdigest()
    return "fa:16:3e:" + ":".join(h[i : i + 2] for i in (0, 2, 4))


def _cp(vnfc: str, cpd: str, order: int, vl: str | None, addr: str | None, ext: bool = False):
    return {
        "cpdId": cpd,
        "name": f"vnf-{SHORT}-{vnfc}-{cpd}",
        "order": order,
        "virtualLinkId": vl,
        "extVirtualLinkId": None,
        "extCpdId": cpd if ext else None,
        "layerProtocols": ["ipv4"],
        "ipAddresses": [addr] if addr else [],
        "macAddress": _mac(vnfc, cpd),
        "mtu": 1500,
    }


def make_plan(webs: int = 2) -> dict[str, Any]:
    vnfcs = [
        {
            "id": "lb-0",
            "vduId": "lb",
            "index": 0,
            "cps": [
                _cp("lb-0", "lb_ext_cp", 0, None, None, ext=True),
                _cp("lb-0", "lb_int_cp", 1, "internal_vl", "10.10.0.5"),
            ],
            "volumes": [],
        }
    ]
    volumes = []
    for i in range(webs):
        vid = f"web-{i}"
        vnfcs.append(
            {
                "id": vid,
                "vduId": "web",
                "index": i,
                "cps": [_cp(vid, "web_cp", 0, "internal_vl", f"10.10.0.{10 + i}")],
                "volumes": [f"vnf-{SHORT}-{vid}-data"],
            }
        )
        volumes.append({"name": f"vnf-{SHORT}-{vid}-data", "storageId": "data", "vnfcId": vid})
    return {
        "planVersion": 1,
        "vnfInstanceId": INST,
        "shortId": SHORT,
        "namePrefix": f"vnf-{SHORT}",
        "virtualLinks": [
            {
                "id": "internal_vl",
                "name": f"vnf-{SHORT}-internal_vl",
                "index": 0,
                "cidr": "10.10.0.0/24",
                "ipVersion": 4,
                "mtu": 1500,
            },
        ],
        "externalVirtualLinks": [],
        "vnfcs": vnfcs,
        "volumes": volumes,
    }


# -- fake kernel -------------------------------------------------------------------------------
def _link(
    idx: int,
    name: str,
    *,
    alias: str | None = None,
    mac: str = "02:00:00:00:00:01",
    mtu: int = 1500,
    master: str | None = None,
    kind: str | None = None,
    up: bool = True,
    addrs: Sequence[str] = (),
) -> dict[str, Any]:
    link: dict[str, Any] = {
        "ifindex": idx,
        "ifname": name,
        "mtu": mtu,
        "address": mac,
        "flags": ["BROADCAST", "UP", "LOWER_UP"] if up else ["BROADCAST"],
    }
    if alias:
        link["ifalias"] = alias
    if master:
        link["master"] = master
    if kind:
        link["linkinfo"] = {"info_kind": kind}
    link["addr_info"] = [
        {
            "family": "inet",
            "local": a.split("/")[0],
            "prefixlen": int(a.split("/")[1]),
            "scope": "global",
        }
        for a in addrs
    ]
    return link


class FakeKernel(Kernel):
    """Answers ``ip -json`` queries from ``self.ns``; any mutation is a test failure."""

    def __init__(self) -> None:
        super().__init__()
        self.ns: dict[str | None, dict[str, Any]] = {
            None: {"links": [_link(1, "lo")], "routes": []}
        }
        self.dirs: dict[str, list[str]] = {}

    def check_access(self) -> None:
        pass

    def netns_list(self) -> list[str]:
        return sorted(n for n in self.ns if n is not None)

    def netns_inode(self, name: str) -> int | None:
        return 1 if name in self.ns else None

    def query(
        self,
        commands: Sequence[str],
        *,
        netns: str | None = None,
        before: Sequence[str] = (),
        details: bool = True,
    ) -> list[Any]:
        assert not before
        state = self.ns[netns]
        out: list[Any] = []
        for cmd in commands:
            if cmd == "link show":
                out.append(
                    [{k: v for k, v in link.items() if k != "addr_info"} for link in state["links"]]
                )
            elif cmd == "addr show":
                out.append(copy.deepcopy(state["links"]))
            elif cmd == "route show default":
                out.append(state["routes"])
            else:
                raise AssertionError(cmd)
        return out

    def list_dir(self, path: str) -> list[str]:
        return self.dirs.get(path, [])

    def run(
        self, args: Sequence[str], *, netns: str | None = None, stdin: str | None = None
    ) -> str:
        raise AssertionError(f"the fake kernel must not be changed: {args} {stdin}")


def kernel_for(plan: dict[str, Any], vim: dict[str, Any] = VIM) -> FakeKernel:
    """A fake kernel holding exactly what ``plan`` asks for (as the driver would create it)."""
    k = FakeKernel()
    desired = desired_state(plan, vim)
    inst = desired.vnf_instance_id
    vim_ns = naming.vim_netns(inst)
    vim_links = [_link(1, "lo")]
    for vl_id, br in desired.bridges.items():
        vim_links.append(
            _link(
                len(vim_links) + 1,
                br.name,
                alias=naming.vl_alias(inst, vl_id),
                mtu=br.mtu,
                kind="bridge",
            )
        )
    host = k.ns[None]["links"]
    ext_n = 0
    for ext in desired.ext_networks.values():
        host.append(
            _link(
                len(host) + 1,
                ext.name,
                alias=naming.EXT_BRIDGE_ALIAS,
                kind="bridge",
                addrs=[f"{ext.gateway}/{ext.cidr.split('/')[1]}"],
            )
        )
    for vnfc in desired.vnfcs.values():
        links = [_link(1, "lo", alias=naming.vnfc_alias(inst, vnfc.vnfc_id, vnfc.vdu_id))]
        for cp in vnfc.cps:
            peer = cp.peer
            if cp.kind == "ext":
                peer = naming.ext_port(desired.short_id, ext_n)
                ext_n += 1
            addrs = cp.addresses or (EXT_ADDR,)
            alias = naming.cp_alias(cp.cpd_id, cp.kind, cp.network, peer, cp.ext_cpd_id, cp.dynamic)
            links.append(
                _link(len(links) + 1, cp.ifname, alias=alias, mac=cp.mac, mtu=cp.mtu, addrs=addrs)
            )
            port = _link(
                100 + len(vim_links) + len(host),
                peer,
                alias=naming.port_alias(inst, vnfc.vnfc_id, cp.cpd_id),
                mtu=cp.mtu,
            )
            if cp.kind == "vl":
                port["master"] = desired.bridges[cp.network].name
                vim_links.append(port)
            else:
                port["master"] = cp.network
                host.append(port)
        routes = [{"dst": "default", "gateway": vnfc.gateway}] if vnfc.gateway else []
        k.ns[vnfc.netns] = {"links": links, "routes": routes}
    if desired.bridges:
        k.ns[vim_ns] = {"links": vim_links, "routes": []}
    k.dirs[f"{VIM['stateDir']}/{inst}"] = sorted(desired.volumes)
    return k


def changes_for(plan: dict[str, Any], kernel: FakeKernel, heal: list[str] | None = None):
    obs = discover(kernel, INST, VIM["stateDir"])
    return compute_changes(desired_state(plan, VIM, obs.host_bridges), obs, heal)


def _vnfc_link(kernel: FakeKernel, vnfc: str, ifname: str) -> dict[str, Any]:
    return next(
        li for li in kernel.ns[naming.vnfc_netns(INST, vnfc)]["links"] if li["ifname"] == ifname
    )


# -- naming ------------------------------------------------------------------------------------
def test_names_follow_the_scheme_and_fit_ifnamsiz() -> None:
    assert naming.short_id(INST) == SHORT == hashlib.sha256(INST.encode()).hexdigest()[:8]
    assert naming.vnfc_netns(INST, "web-0") == f"vnfm-{INST}-web-0"
    assert naming.vim_netns(INST) == f"vnfm-{INST}-vim"
    assert naming.vl_bridge(3) == "vl3"
    assert naming.cp_ifname(1) == "eth1"
    assert naming.ext_port(SHORT, 7) == f"vx{SHORT}07"
    assert naming.ext_port_number(SHORT, f"vx{SHORT}07") == 7
    assert naming.ext_port_number(SHORT, "vxffffffff07") is None or SHORT == "ffffffff"
    peers = {naming.vl_port(f"web-{i}", "web_cp") for i in range(200)}
    assert len(peers) == 200
    assert all(len(p) <= naming.IFNAMSIZ and p.startswith("vp") for p in peers)
    assert naming.vl_port("web-0", "web_cp") == naming.vl_port("web-0", "web_cp")
    assert len(naming.ext_port(SHORT, 99)) <= naming.IFNAMSIZ


@pytest.mark.parametrize("bad", ["", "a b", "x/y", "-x", "a;b", None, 3, "é"])
def test_unsafe_ids_are_rejected(bad: object) -> None:
    with pytest.raises(VimError, match="invalid"):
        naming.check_id("vnfc id", bad)


def test_interface_names_are_checked() -> None:
    assert naming.check_ifname("vnfm-ext0") == "vnfm-ext0"
    for bad in ("", "a" * 16, "a b", "..", "x/y"):
        with pytest.raises(VimError):
            naming.check_ifname(bad)
    with pytest.raises(VimError, match="max 100"):
        naming.ext_port(SHORT, 100)


def test_aliases_round_trip() -> None:
    alias = naming.cp_alias("lb_ext_cp", "ext", "vnfm-ext0", "vx0011223300", "lb_ext_cp", True)
    assert naming.parse_alias(alias, "cp", 6) == [
        "lb_ext_cp",
        "ext",
        "vnfm-ext0",
        "vx0011223300",
        "lb_ext_cp",
        "d",
    ]
    assert naming.parse_alias(alias, "vnfc", 3) is None
    assert naming.parse_alias(None, "cp", 6) is None
    assert naming.parse_vnfc_alias(naming.vnfc_alias(INST, "web-0", "web")) == (
        INST,
        "web-0",
        "web",
        None,
        None,
    )
    # generation and heal token digest; the 3-field form of older VNFCs reads as unknown
    alias = naming.vnfc_alias(INST, "web-0", "web", "0a1b2c3d4e5f", "00112233aabbccdd")
    assert naming.parse_vnfc_alias(alias) == (
        INST,
        "web-0",
        "web",
        "0a1b2c3d4e5f",
        "00112233aabbccdd",
    )
    old = f"vnfm:vnfc:{INST}:web-0:web"
    assert naming.parse_vnfc_alias(old) == (INST, "web-0", "web", None, None)
    assert naming.parse_vnfc_alias(f"{old}:x") is None


def test_batch_json_documents_are_split() -> None:
    assert _parse_json_docs('[{"a":1}]\n[]\n\n[{"b":2}]\n') == [[{"a": 1}], [], [{"b": 2}]]
    assert _parse_json_docs("") == []


# -- plan translation --------------------------------------------------------------------------
def test_desired_state_from_plan() -> None:
    d = desired_state(make_plan(2), VIM)
    assert sorted(d.vnfcs) == ["lb-0", "web-0", "web-1"]
    lb = d.vnfcs["lb-0"]
    assert lb.netns == f"vnfm-{INST}-lb-0"
    ext, internal = lb.cps
    assert (ext.ifname, ext.kind, ext.network, ext.dynamic, ext.addresses) == (
        "eth0",
        "ext",
        "vnfm-ext0",
        True,
        (),
    )
    assert (internal.ifname, internal.addresses, internal.network) == (
        "eth1",
        ("10.10.0.5/24",),
        "internal_vl",
    )
    assert lb.gateway == "172.30.250.1"
    assert d.vnfcs["web-0"].gateway is None
    assert d.bridges["internal_vl"].name == "vl0"
    assert d.ext_networks["vnfm-ext0"].gateway == "172.30.250.1"


def test_external_network_from_plan_or_vim_option() -> None:
    plan = make_plan(1)
    vim = {**VIM, "defaultExternalNetwork": {"name": "ext-test", "cidr": "192.168.77.0/24"}}
    assert desired_state(plan, vim).vnfcs["lb-0"].cps[0].network == "ext-test"
    plan["externalVirtualLinks"] = [{"id": "ext", "resourceId": "br-ext9", "cidr": "10.99.0.0/16"}]
    plan["vnfcs"][0]["cps"][0]["extVirtualLinkId"] = "ext"
    plan["vnfcs"][0]["cps"][0]["ipAddresses"] = ["10.99.1.2"]
    d = desired_state(plan, VIM)
    cp = d.vnfcs["lb-0"].cps[0]
    assert (cp.network, cp.addresses, cp.dynamic) == ("br-ext9", ("10.99.1.2/16",), False)
    assert d.vnfcs["lb-0"].gateway == "10.99.0.1"
    # no cidr: taken from the existing bridge
    plan["externalVirtualLinks"][0].pop("cidr")
    with pytest.raises(VimError, match="no IPv4 address"):
        desired_state(plan, VIM)
    d = desired_state(plan, VIM, {"br-ext9": (False, 3, ("10.99.0.254/16",))})
    assert d.vnfcs["lb-0"].gateway == "10.99.0.254"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["vnfcs"][1]["cps"][0].update(virtualLinkId="nope"), "unknown virtual link"),
        (lambda p: p["vnfcs"][1]["cps"][0].update(ipAddresses=["10.11.0.1"]), "outside"),
        (lambda p: p["vnfcs"][0]["cps"][0].update(ipAddresses=["10.11.0.1"]), "outside"),
        (lambda p: p["virtualLinks"][0].update(cidr="banana"), "invalid cidr"),
        (lambda p: p["vnfcs"][1].update(id="vim"), "reserved"),
        (lambda p: p.update(shortId="00000000"), "shortId"),
        (lambda p: p.update(vnfInstanceId="a b"), "invalid vnfInstanceId"),
    ],
)
def test_bad_plans_are_rejected(mutate: Any, message: str) -> None:
    plan = make_plan(2)
    mutate(plan)
    with pytest.raises(VimError, match=message):
        desired_state(plan, VIM)


# -- discovery + diff --------------------------------------------------------------------------
def test_empty_kernel_creates_everything_in_order() -> None:
    ch = changes_for(make_plan(2), FakeKernel())
    assert ch.actions[0] == f"create netns vnfm-{INST}-vim"
    assert ch.actions[1] == f"create bridge vnfm-{INST}-vim/vl0 (internal_vl, mtu 1500)"
    assert [a.split(" (")[0] for a in ch.actions[2:5]] == [
        f"create netns vnfm-{INST}-lb-0",
        f"create netns vnfm-{INST}-web-0",
        f"create netns vnfm-{INST}-web-1",
    ]
    assert ch.actions[5:] == [
        "create external bridge vnfm-ext0 (172.30.250.1/24)",
        f"create volume vnf-{SHORT}-web-0-data",
        f"create volume vnf-{SHORT}-web-1-data",
    ]
    assert ch.create_vim_ns and not ch.delete_vnfcs and ch.touches_ext


def test_matching_kernel_means_no_change() -> None:
    plan = make_plan(2)
    ch = changes_for(plan, kernel_for(plan))
    assert ch.actions == [] and not ch.changed
    assert [v.vnfc_id for v in ch.keep_vnfcs] == ["lb-0", "web-0", "web-1"]
    assert not ch.touches_ext


def test_dynamic_external_address_is_kept() -> None:
    plan = make_plan(1)
    k = kernel_for(plan)
    obs = discover(k, INST, VIM["stateDir"])
    assert obs.vnfcs["lb-0"].cps[0].addresses == (EXT_ADDR,)
    assert obs.vnfcs["lb-0"].cps[0].dynamic
    assert changes_for(plan, k).actions == []


def test_scale_out_and_in_touch_only_the_difference() -> None:
    k = kernel_for(make_plan(2))
    out = changes_for(make_plan(3), k)
    assert [a.split(" (")[0] for a in out.actions] == [
        f"create netns vnfm-{INST}-web-2",
        f"create volume vnf-{SHORT}-web-2-data",
    ]
    k3 = kernel_for(make_plan(3))
    inn = changes_for(make_plan(1), k3)
    assert inn.actions == [
        f"delete netns vnfm-{INST}-web-1",
        f"delete netns vnfm-{INST}-web-2",
        f"delete volume vnf-{SHORT}-web-1-data",
        f"delete volume vnf-{SHORT}-web-2-data",
    ]
    assert [v.vnfc_id for v in inn.keep_vnfcs] == ["lb-0", "web-0"]


def test_changed_mac_mtu_or_address_replaces_only_that_vnfc() -> None:
    plan = make_plan(2)
    k = kernel_for(plan)
    _vnfc_link(k, "web-1", "eth0")["address"] = "02:aa:bb:cc:dd:ee"
    ch = changes_for(plan, k)
    assert len(ch.actions) == 1
    assert ch.actions[0].startswith(
        f"replace netns vnfm-{INST}-web-1 (eth0: mac 02:aa:bb:cc:dd:ee -> "
    )
    plan2 = copy.deepcopy(plan)
    plan2["vnfcs"][1]["cps"][0]["ipAddresses"] = ["10.10.0.99"]
    plan2["vnfcs"][2]["cps"][0]["mtu"] = 1400
    ch = changes_for(plan2, kernel_for(plan))
    assert ch.actions == [
        f"replace netns vnfm-{INST}-web-0 (eth0: addresses 10.10.0.10/24 -> 10.10.0.99/24)",
        f"replace netns vnfm-{INST}-web-1 (eth0: mtu 1500 -> 1400)",
    ]


def test_broken_vnfcs_are_replaced() -> None:
    plan = make_plan(2)
    k = kernel_for(plan)
    # web-0's peer vanished from the VL bridge, lb lost its route, web-1's interface
    # is down (a power state: brought back up, not replaced; see test_local_vim_power.py)
    vim_links = k.ns[naming.vim_netns(INST)]["links"]
    vim_links[:] = [li for li in vim_links if li["ifname"] != naming.vl_port("web-0", "web_cp")]
    _vnfc_link(k, "web-1", "eth0")["flags"] = ["BROADCAST"]
    k.ns[naming.vnfc_netns(INST, "lb-0")]["routes"] = []
    ch = changes_for(plan, k)
    assert [a.split(" (")[0] for a in ch.actions] == [
        f"replace netns vnfm-{INST}-lb-0",
        f"replace netns vnfm-{INST}-web-0",
        f"power on vnfm-{INST}-web-1",
    ]
    assert "default route - -> 172.30.250.1" in ch.actions[0]
    assert "missing or not attached" in ch.actions[1]
    # the replaced lb keeps its dynamic external address
    lb = next(v for v in ch.create_vnfcs if v.vnfc_id == "lb-0")
    assert lb.cps[0].addresses == (EXT_ADDR,)


def test_heal_replaces_and_keeps_the_plan() -> None:
    plan = make_plan(2)
    ch = changes_for(plan, kernel_for(plan), heal=["web-0"])
    assert ch.actions == [f"replace netns vnfm-{INST}-web-0 (heal)"]
    assert ch.create_vnfcs[0].cps[0].addresses == ("10.10.0.10/24",)
    with pytest.raises(VimError, match="cannot heal web-9"):
        changes_for(plan, kernel_for(plan), heal=["web-9"])


def test_other_instances_are_ignored() -> None:
    plan = make_plan(1)
    k = kernel_for(plan)
    # an instance whose id extends ours: same name prefix, different owner
    other = naming.vnfc_netns(INST, "x-web-0")
    k.ns[other] = {
        "links": [_link(1, "lo", alias=naming.vnfc_alias(INST + "-x", "web-0", "web"))],
        "routes": [],
    }
    assert changes_for(plan, k).actions == []


def test_half_created_vnfc_without_records_is_replaced_or_deleted() -> None:
    plan = make_plan(1)
    k = kernel_for(plan)
    k.ns[naming.vnfc_netns(INST, "web-0")] = {"links": [_link(1, "lo")], "routes": []}
    k.ns[naming.vnfc_netns(INST, "web-5")] = {"links": [_link(1, "lo")], "routes": []}
    ch = changes_for(plan, k)
    assert ch.actions == [
        f"replace netns vnfm-{INST}-web-0 (no ownership record on lo (incomplete creation); "
        "vduId - -> web; eth0: missing)",
        f"delete netns vnfm-{INST}-web-5",
    ]


def test_external_bridge_released_with_its_last_port_only() -> None:
    plan = make_plan(1)
    k = kernel_for(plan)
    empty = Desired(INST, SHORT, {}, {}, {}, {}, {})
    obs = discover(k, INST, VIM["stateDir"])
    ch = compute_changes(empty, obs)
    assert "delete external bridge vnfm-ext0 (no port left)" in ch.actions
    assert f"delete netns vnfm-{INST}-vim" in ch.actions
    # another instance's port on the same bridge keeps it
    k.ns[None]["links"].append(
        _link(
            99,
            "vxdeadbeef00",
            master="vnfm-ext0",
            alias=naming.port_alias("other", "lb-0", "lb_ext_cp"),
        )
    )
    ch = compute_changes(empty, discover(k, INST, VIM["stateDir"]))
    assert not any("external bridge" in a for a in ch.actions)
    # a bridge the driver did not create is never deleted
    k2 = kernel_for(plan)
    next(li for li in k2.ns[None]["links"] if li["ifname"] == "vnfm-ext0").pop("ifalias")
    ch = compute_changes(empty, discover(k2, INST, VIM["stateDir"]))
    assert not any("external bridge" in a for a in ch.actions)


def test_existing_non_bridge_external_network_is_an_error() -> None:
    k = FakeKernel()
    k.ns[None]["links"].append(_link(2, "vnfm-ext0"))
    with pytest.raises(VimError, match="not a bridge"):
        changes_for(make_plan(1), k)


# -- driver ------------------------------------------------------------------------------------
def test_check_mode_reports_actions_and_predicted_resources() -> None:
    driver = LocalDriver(VIM, kernel=FakeKernel())
    res = driver.reconcile(make_plan(2), heal=[], check_mode=True)
    assert isinstance(res, ReconcileResult)
    assert res.changed and len(res.actions) == 8
    info = res.resources
    assert [v["id"] for v in info["vnfcResourceInfo"]] == ["lb-0", "web-0", "web-1"]
    web0 = info["vnfcResourceInfo"][1]
    assert web0["computeResource"] == {
        "vimConnectionId": "local",
        "resourceId": f"vnfm-{INST}-web-0",
        "vimLevelResourceType": "linux.netns",
    }
    assert web0["vnfcCpInfo"][0]["cpProtocolInfo"][0]["ipOverEthernet"]["ipAddresses"] == [
        {"type": "IPV4", "addresses": ["10.10.0.10"], "isDynamic": False}
    ]
    assert (
        info["virtualLinkResourceInfo"][0]["networkResource"]["resourceId"]
        == f"vnfm-{INST}-vim/vl0"
    )
    assert len(info["virtualLinkResourceInfo"][0]["vnfLinkPorts"]) == 3
    assert info["extCpInfo"][0]["cpdId"] == "lb_ext_cp"
    assert res.diff["before"]["vnfcs"] == {} and sorted(res.diff["after"]["vnfcs"]) == [
        "lb-0",
        "web-0",
        "web-1",
    ]


def test_unchanged_reconcile_returns_discovered_resources() -> None:
    plan = make_plan(1)
    res = LocalDriver(VIM, kernel=kernel_for(plan)).reconcile(plan, heal=[], check_mode=False)
    assert not res.changed and res.actions == []
    ext = res.resources["extCpInfo"][0]
    assert ext["cpProtocolInfo"][0]["ipOverEthernet"]["ipAddresses"][0] == {
        "type": "IPV4",
        "addresses": ["172.30.250.10"],
        "isDynamic": True,
    }
    assert ext["extLinkPortId"] == f"vx{SHORT}00"
    assert res.resources["virtualStorageResourceInfo"][0]["storageResource"]["resourceId"] == (
        f"/nonexistent/state/{INST}/vnf-{SHORT}-web-0-data"
    )
    assert res.diff["before"] == res.diff["after"]


def test_a_reconcile_names_the_vnfcs_it_creates() -> None:
    """What a heal's hooks must start again: asked for, or lost by the VIM (check mode:
    what it would create)."""
    plan = make_plan(1)
    assert (
        LocalDriver(VIM, kernel=kernel_for(plan)).reconcile(plan, heal=[], check_mode=True).created
        == []
    )
    kernel = kernel_for(plan)
    del kernel.ns[naming.vnfc_netns(INST, "web-0")]  # lost behind the VNFM's back
    res = LocalDriver(VIM, kernel=kernel).reconcile(plan, heal=["lb-0"], check_mode=True)
    assert res.created == ["lb-0", "web-0"]
    assert res.as_dict()["created"] == ["lb-0", "web-0"]
    assert LocalDriver(VIM, kernel=kernel_for(plan)).remove(INST, check_mode=True).created == []


def test_remove_check_mode_lists_everything() -> None:
    res = LocalDriver(VIM, kernel=kernel_for(make_plan(1))).remove(INST, check_mode=True)
    assert res.changed
    assert res.resources["vnfcResourceInfo"] == []
    assert f"delete netns vnfm-{INST}-lb-0" in res.actions


def test_get_driver_registry() -> None:
    assert "local" in supported_vim_types()
    assert isinstance(get_driver({"vimType": "local"}), LocalDriver)
    with pytest.raises(VimError, match="unsupported vimType 'nope'"):
        get_driver({"vimType": "nope"})
    with pytest.raises(VimError):
        get_driver("local")  # type: ignore[arg-type]
    sentinel = LocalDriver(VIM, kernel=FakeKernel())
    register_driver("fake-test", lambda vim, cred, opts: sentinel)
    try:
        assert get_driver({"vimType": "fake-test"}) is sentinel
    finally:
        vim_port.unregister("fake-test")
    assert "fake-test" not in supported_vim_types()


def test_privilege_check_message() -> None:
    with pytest.raises(VimError, match=r"needs root or CAP_NET_ADMIN and iproute2 \(ip\)"):
        Kernel(ip="/nonexistent/ip").check_access()
