"""Unit tests of the ``openstack`` VIM driver's pure parts: naming, flavour and image
choice, desired state, diff, resource info.

Plans come from the real planner (``examples/packages/webfarm``); the VIM side is
fake only at the SDK edge: catalogues and observed states are the driver's own
dataclasses, or plain dicts fed to the ``to_*`` converters.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import (
    PlanRequest,
    short_id,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import (
    plan as make_plan,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, get_driver
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import discover, naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import (
    compute_changes,
    removal_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
    DEFAULT_EGRESS,
    Catalog,
    Desired,
    Flavor,
    FloatingIp,
    Image,
    Network,
    Observed,
    Port,
    SecurityGroup,
    Server,
    ServerGroup,
    Subnet,
    Volume,
    boot_data,
    desired_state,
    pick_flavor,
    pick_image,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.resources import (
    build_resources,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.openstack import OpenStackDriver
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf

REPO = Path(__file__).resolve().parents[2]
WEBFARM = REPO / "examples" / "packages" / "webfarm"
INST = "11111111-2222-4333-8444-555555555555"

FLAVORS = [
    Flavor("f1", "m1.tiny", 1, 512, 1),
    Flavor("f2", "m1.small", 1, 2048, 20),
    Flavor("f3", "m1.medium", 2, 4096, 40),
    Flavor("f0", "m1.nano", 1, 128, 0),
]
IMAGES = [
    Image("img-old", "debian-12-genericcloud", created_at="2024-01-01"),
    Image("img-new", "debian-12-genericcloud", created_at="2025-01-01"),
    Image("img-cirros", "cirros"),
    Image("img-queued", "queued-image", status="queued"),
]
PUBLIC = Network("net-public", "public")


@functools.cache
def _model() -> Any:
    return load_vnf(WEBFARM)[0]


def webfarm_plan(webs: int | None = None, inst: str = INST, **kw: Any) -> dict[str, Any]:
    req = PlanRequest(
        inst,
        "default",
        None if webs is not None else "small",
        scale_levels={"web": webs - 1} if webs is not None else None,
        ext_virtual_links=[
            {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
        ],
        **kw,
    )
    return make_plan(_model(), req)


def catalog(**kw: Any) -> Catalog:
    cat = Catalog(flavors=list(FLAVORS), images=list(IMAGES), ext_networks={"public": PUBLIC})
    for key, value in kw.items():
        setattr(cat, key, value)
    return cat


def desired(
    plan: dict[str, Any] | None = None, vim: dict[str, Any] | None = None, **kw: Any
) -> Desired:
    return desired_state(plan or webfarm_plan(), vim or {}, catalog(**kw))


def observed_from(want: Desired) -> Observed:
    """A VIM state that matches ``want`` exactly (what a finished reconcile leaves)."""
    obs = Observed()
    for name, net in want.networks.items():
        obs.networks[name] = Network(f"id-{name}", name, (f"id-{net.subnet_name}",))
        obs.subnets[net.subnet_name] = Subnet(
            f"id-{net.subnet_name}",
            net.subnet_name,
            f"id-{name}",
            net.cidr,
            net.ip_version,
            net.gateway_ip,
            net.dhcp,
        )
    for name, sg in want.security_groups.items():
        obs.security_groups[name] = SecurityGroup(
            f"id-{name}", name, tuple((f"rule-{n}", r) for n, r in enumerate(sg.rules))
        )
    for name, group in want.server_groups.items():
        members = tuple(f"id-{s.name}" for s in want.servers.values() if s.server_group == name)
        obs.server_groups[name] = ServerGroup(f"id-{name}", name, group.policy, members)
    for server in want.servers.values():
        obs.servers[server.name] = Server(
            f"id-{server.name}",
            server.name,
            "ACTIVE",
            (server.flavor.name,),
            server.image,
            vnfc_id=server.vnfc_id,
        )
        for port_name in server.ports:
            port = want.ports[port_name]
            net_id = (
                want.ext_networks[port.network].id
                if port.network.startswith("ext:")
                else f"id-{port.network}"
            )
            subnet = (
                "sub-public" if port.network.startswith("ext:") else f"id-{port.network}-subnet"
            )
            addrs = port.addresses or ("203.0.113.50",)
            obs.ports[port_name] = Port(
                f"id-{port_name}",
                port_name,
                net_id,
                port.mac,
                tuple((subnet, a) for a in addrs),
                f"id-{server.name}",
                tuple(f"id-{g}" for g in port.security_groups) or ("default-sg",),
                "ACTIVE",
            )
    for name, vol in want.volumes.items():
        server = want.servers[vol.vnfc_id]
        obs.volumes[name] = Volume(
            f"id-{name}", name, vol.size, "in-use", vol.vnfc_id, (f"id-{server.name}",)
        )
    return obs


# -- naming -----------------------------------------------------------------------------------
def test_naming_matches_the_planner() -> None:
    assert naming.short_id(INST) == short_id(INST)
    assert naming.prefix(INST) == webfarm_plan()["namePrefix"]
    assert naming.tag(INST) == f"vnfm-instance={INST}"
    assert len(naming.tag(INST)) <= 60  # Nova's tag limit
    assert naming.owns_server_group(INST, f"vnf-{short_id(INST)}-web_anti_affinity")
    assert not naming.owns_server_group(INST, f"vnf-{short_id('other')}-web_anti_affinity")
    with pytest.raises(VimError):
        naming.check_instance_id("a/b")
    with pytest.raises(VimError):
        naming.check_instance_id("x" * 61)


# -- flavours and images ------------------------------------------------------------------------
def _vnfc(**compute: Any) -> dict[str, Any]:
    base = {
        "numVirtualCpu": 1,
        "virtualMemSizeMb": 256.0,
        "localStorageGb": 2.0,
        "flavourHint": None,
    }
    return {"id": "web-0", "vduId": "web", "name": "vnf-x-web-0", "compute": {**base, **compute}}


def test_flavour_hint_wins_when_the_vim_has_it() -> None:
    assert pick_flavor(_vnfc(flavourHint="m1.medium"), FLAVORS, {}).name == "m1.medium"
    assert pick_flavor(_vnfc(flavourHint="f3"), FLAVORS, {}).name == "m1.medium"  # by id


def test_flavour_map_then_smallest_fit() -> None:
    # unknown hint: the VIM connection's map (by VDU id, then by hint)
    assert pick_flavor(_vnfc(flavourHint="gold"), FLAVORS, {"web": "m1.small"}).name == "m1.small"
    assert (
        pick_flavor(_vnfc(flavourHint="gold"), FLAVORS, {"gold": "m1.medium"}).name == "m1.medium"
    )
    # no map: smallest that fits vCPU/RAM/disk (a 0 GB disk flavor does not fit 2 GB)
    assert pick_flavor(_vnfc(flavourHint="gold"), FLAVORS, {}).name == "m1.small"
    assert pick_flavor(_vnfc(localStorageGb=1, virtualMemSizeMb=100), FLAVORS, {}).name == "m1.tiny"
    assert pick_flavor(_vnfc(numVirtualCpu=2), FLAVORS, {}).name == "m1.medium"


def test_no_flavour_fits_names_the_vnfc() -> None:
    with pytest.raises(VimError) as err:
        pick_flavor(_vnfc(numVirtualCpu=1024, flavourHint="huge"), FLAVORS, {})
    msg = str(err.value)
    assert "web-0" in msg and "vnf-x-web-0" in msg and "1024 vCPU" in msg and "'huge'" in msg
    with pytest.raises(VimError, match="flavourMap names flavor 'nope'"):
        pick_flavor(_vnfc(), FLAVORS, {"web": "nope"})


def test_image_choice(tmp_path: Path) -> None:
    vnfc = {"id": "web-0", "vduId": "web", "image": {"name": "debian-12-genericcloud"}}
    assert pick_image(vnfc, IMAGES, {}, None, "vnf-x") == ("img-new", None)  # newest of the name
    by_id = {**vnfc, "image": {"name": "x", "vimImageId": "img-cirros"}}
    assert pick_image(by_id, IMAGES, {}, None, "vnf-x")[0] == "img-cirros"
    assert pick_image(vnfc, IMAGES, {"web": "cirros"}, None, "vnf-x")[0] == "img-cirros"
    assert (
        pick_image(vnfc, IMAGES, {"debian-12-genericcloud": "cirros"}, None, "p")[0] == "img-cirros"
    )
    with pytest.raises(VimError, match="not an active image"):
        pick_image({**vnfc, "image": {"vimImageId": "queued-image"}}, IMAGES, {}, None, "p")
    missing = {**vnfc, "image": {"name": "nowhere", "file": "Files/images/disk.img"}}
    with pytest.raises(VimError, match="web-0: image 'nowhere' not found"):
        pick_image(missing, IMAGES, {}, None, "vnf-x")
    # upload from the package when the file is there
    (tmp_path / "Files" / "images").mkdir(parents=True)
    (tmp_path / "Files" / "images" / "disk.img").write_bytes(b"qcow")
    ref, upload = pick_image(missing, IMAGES, {}, str(tmp_path), "vnf-x")
    assert ref == "vnf-x-img-web" and upload is not None and upload.path.endswith("disk.img")
    # ... once: the uploaded (owned) image is used afterwards
    owned = [*IMAGES, Image("img-up", "vnf-x-img-web", owned=True)]
    assert pick_image(missing, owned, {}, str(tmp_path), "vnf-x") == ("img-up", None)
    escape = {**vnfc, "image": {"name": "nowhere", "file": "../../etc/passwd"}}
    with pytest.raises(VimError, match="not in the package"):
        pick_image(escape, IMAGES, {}, str(tmp_path), "vnf-x")


def test_boot_data() -> None:
    assert boot_data("a", None, None) == (None, False, {})
    data, drive, _ = boot_data("a", "#cloud-config\n", None)
    assert data == "I2Nsb3VkLWNvbmZpZwo=" and not drive
    data, drive, meta = boot_data(
        "a",
        {
            "content_or_file_data": {"content": "hi"},
            "kvp_data": {"data": {"k": "v"}},
            "vim_specific_properties": {"properties": {"config_drive": "true"}},
        },
        None,
    )
    assert data == "aGk=" and drive and meta == {"k": "v"}
    with pytest.raises(VimError):
        boot_data("a", 42, None)


# -- desired state --------------------------------------------------------------------------------
def test_desired_state_of_webfarm() -> None:
    plan = webfarm_plan()
    d = desired(plan)
    p = plan["namePrefix"]
    assert set(d.networks) == {f"{p}-internal_vl"}
    net = d.networks[f"{p}-internal_vl"]
    assert (net.cidr, net.gateway_ip, net.dhcp, net.subnet_name) == (
        "10.10.10.0/24",
        None,
        False,
        f"{p}-internal_vl-subnet",
    )
    assert set(d.servers) == {"lb-0", "web-0", "web-1"}
    assert d.servers["web-0"].server_group == f"{p}-web_anti_affinity"
    assert d.servers["web-0"].flavor.name == "m1.small"  # 1 vCPU, 256 MB, 2 GB
    assert d.servers["web-0"].image == "img-new"
    assert d.server_groups[f"{p}-web_anti_affinity"].policy == "anti-affinity"
    ext = d.ports[f"{p}-lb-0-lb_ext_cp"]
    assert ext.network == "ext:ext" and ext.addresses == () and ext.ext_cpd_id == "lb_ext_cp"
    assert ext.mac == ""  # Neutron allocates it on a shared network, unless asked:
    with_mac = desired(plan, {"externalMacAddresses": True}).ports[ext.name]
    assert with_mac.mac == plan["vnfcs"][0]["cps"][0]["macAddress"]
    assert ext.security_groups == (f"{p}-sg-lb_ext_cp",)
    assert d.ports[f"{p}-web-0-web_cp"].addresses == ("10.10.10.11",)
    assert d.ports[f"{p}-web-0-web_cp"].mac == plan["vnfcs"][1]["cps"][0]["macAddress"]
    sg = d.security_groups[f"{p}-sg-lb_ext_cp"]
    assert ("ingress", "IPv4", "tcp", 80, 80, None) in sg.rules
    assert set(DEFAULT_EGRESS) <= set(sg.rules)  # the plan does not restrict egress
    assert d.servers["lb-0"].ports == (f"{p}-lb-0-lb_ext_cp", f"{p}-lb-0-lb_int_cp")
    assert set(d.volumes) == {f"{p}-web-0-web_data", f"{p}-web-1-web_data"}
    assert d.warnings == []


def test_desired_state_options_and_errors() -> None:
    plan = webfarm_plan()
    soft = desired(plan, {"softPlacementPolicies": True})
    assert {g.policy for g in soft.server_groups.values()} == {"soft-anti-affinity"}
    no_cinder = desired(plan, has_volumes=False)
    assert no_cinder.volumes == {} and all(not s.volumes for s in no_cinder.servers.values())
    assert "no block storage" in no_cinder.warnings[0]
    with pytest.raises(VimError, match="network 'public' not found"):
        desired(plan, ext_networks={})
    zoned = dict(plan, serverGroups=[{**plan["serverGroups"][0], "scope": "zone"}])
    d = desired(zoned, {"availabilityZones": ["az1", "az2"]})
    assert d.server_groups == {} and d.servers["web-0"].server_group is None
    assert (d.servers["web-0"].availability_zone, d.servers["web-1"].availability_zone) == (
        "az1",
        "az2",
    )
    assert "spread over availability zones" in d.warnings[0]
    fip = dict(
        plan, externalVirtualLinks=[{"id": "ext", "resourceId": "public", "floatingIp": True}]
    )
    with pytest.raises(VimError, match="no floating IP network"):
        desired(fip)
    d = desired(fip, floating_networks={"": Network("net-fip", "fip")})
    assert d.ports[f"{plan['namePrefix']}-lb-0-lb_ext_cp"].floating_network == "net-fip"


# -- diff -------------------------------------------------------------------------------------------
def test_empty_vim_creates_everything_in_order() -> None:
    d = desired()
    ch = compute_changes(d, Observed())
    assert ch.changed
    assert [n.name for n in ch.create_networks] == [n.name for n in ch.create_subnets]
    assert len(ch.create_ports) == 4 and len(ch.create_servers) == 3
    assert len(ch.create_volumes) == 2 and len(ch.attach_volumes) == 2
    assert len(ch.create_security_groups) == 1 and len(ch.create_server_groups) == 1
    assert not (ch.delete_servers or ch.delete_ports or ch.delete_networks)

    def first(prefix: str) -> int:
        return next(n for n, a in enumerate(ch.actions) if a.startswith(prefix))

    assert first("create network") < first("create port") < first(f"create server {d.prefix}")


def test_matching_vim_changes_nothing() -> None:
    d = desired()
    ch = compute_changes(d, observed_from(d))
    assert ch.actions == [] and not ch.changed
    assert sorted(ch.keep_servers) == ["lb-0", "web-0", "web-1"]


def test_server_deleted_behind_our_back_is_recreated_on_its_ports() -> None:
    d = desired()
    obs = observed_from(d)
    name = d.servers["web-1"].name
    del obs.servers[name]
    port = f"{d.prefix}-web-1-web_cp"
    obs.ports[port] = dataclasses.replace(obs.ports[port], device_id="")
    vol = f"{d.prefix}-web-1-web_data"
    obs.volumes[vol] = dataclasses.replace(obs.volumes[vol], status="available", attached_to=())
    ch = compute_changes(d, obs)
    assert [s.name for s in ch.create_servers] == [name]
    assert ch.create_ports == [] and ch.delete_ports == []
    assert ch.attach_volumes == [(vol, "web-1")]
    # what a heal's hooks must start again (the driver's own state is not needed for it)
    assert OpenStackDriver.created(OpenStackDriver.__new__(OpenStackDriver), ch) == ["web-1"]


def test_heal_replaces_the_server_and_keeps_ports_and_volumes() -> None:
    d = desired()
    obs = observed_from(d)
    ch = compute_changes(d, obs, ["web-0"])
    assert [s.name for s in ch.delete_servers] == [d.servers["web-0"].name]
    assert [s.vnfc_id for s in ch.create_servers] == ["web-0"]
    assert not ch.create_ports and not ch.delete_ports and not ch.delete_volumes
    assert ch.attach_volumes == [(f"{d.prefix}-web-0-web_data", "web-0")]
    assert ch.detach_volumes == []  # the server deletion detaches it
    with pytest.raises(VimError, match="cannot heal web-9"):
        compute_changes(d, obs, ["web-9"])


def test_scale_out_and_in() -> None:
    two = desired(webfarm_plan(2))
    three = desired(webfarm_plan(3))
    ch = compute_changes(three, observed_from(two))
    assert [s.vnfc_id for s in ch.create_servers] == ["web-2"]
    assert [p.name for p in ch.create_ports] == [f"{two.prefix}-web-2-web_cp"]
    assert not ch.delete_servers and not ch.update_ports
    one = desired(webfarm_plan(1))
    ch = compute_changes(one, observed_from(three))
    assert sorted(s.name for s in ch.delete_servers) == [
        f"{one.prefix}-web-1",
        f"{one.prefix}-web-2",
    ]
    assert len(ch.delete_ports) == 2 and len(ch.delete_volumes) == 2
    assert not ch.create_servers and not ch.detach_volumes  # their servers go too


def test_broken_or_drifted_resources_are_repaired() -> None:
    d = desired()
    obs = observed_from(d)
    lb = d.servers["lb-0"].name
    obs.servers[lb] = dataclasses.replace(obs.servers[lb], status="ERROR", fault="No valid host")
    web = f"{d.prefix}-web-0-web_cp"
    obs.ports[web] = dataclasses.replace(obs.ports[web], fixed_ips=(("s", "10.10.10.99"),))
    sg_name = next(iter(d.security_groups))
    sg = obs.security_groups[sg_name]
    extra = ("ingress", "IPv4", "tcp", 22, 22, None)
    obs.security_groups[sg_name] = dataclasses.replace(sg, rules=(*sg.rules[1:], ("rule-x", extra)))
    ch = compute_changes(d, obs)
    assert any("status ERROR: No valid host" in a for a in ch.actions)
    assert [s.vnfc_id for s in ch.create_servers] == ["lb-0"]
    assert [p.name for p in ch.update_ports] == [web]
    assert ch.delete_rules == [(sg_name, "rule-x")]
    assert ch.add_rules == [(sg_name, sg.rules[0][1])]


def test_flavor_or_server_group_change_replaces_servers() -> None:
    d = desired()
    obs = observed_from(d)
    web0 = d.servers["web-0"].name
    obs.servers[web0] = dataclasses.replace(obs.servers[web0], flavor=("m1.tiny",))
    group = next(iter(d.server_groups))
    obs.server_groups[group] = dataclasses.replace(obs.server_groups[group], policy="affinity")
    ch = compute_changes(d, obs)
    assert {s.vnfc_id for s in ch.create_servers} == {"web-0", "web-1"}
    assert [g.name for g in ch.delete_server_groups] == [group]
    assert [g.name for g in ch.create_server_groups] == [group]


def test_cidr_change_replaces_subnet_ports_and_servers() -> None:
    d = desired()
    obs = observed_from(d)
    sub = next(iter(obs.subnets))
    obs.subnets[sub] = dataclasses.replace(obs.subnets[sub], cidr="10.99.0.0/24")
    ch = compute_changes(d, obs)
    assert [s.name for s in ch.delete_subnets] == [sub] and len(ch.create_subnets) == 1
    assert len(ch.delete_ports) == 3 and len(ch.create_ports) == 3  # the ext port stays
    assert {s.vnfc_id for s in ch.create_servers} == {"lb-0", "web-0", "web-1"}


def test_strays_and_removal() -> None:
    d = desired()
    obs = observed_from(d)
    dup = Port("dup", f"{d.prefix}-web-0-web_cp", "n", "fa:16:3e:00:00:01", ())
    obs.strays["port"] = [dup]
    ch = compute_changes(d, obs)
    assert ch.delete_ports == [dup] and ch.actions == [f"delete duplicate port {dup.name} (dup)"]
    obs.floating_ips = [FloatingIp("fip", "198.51.100.7", "id-x", "net-fip")]
    gone = removal_changes(INST, obs)
    assert len(gone.delete_servers) == 3
    assert len(gone.delete_ports) == 5  # 4 + the duplicate
    assert len(gone.delete_networks) == 1 and len(gone.delete_subnets) == 1
    assert len(gone.delete_volumes) == 2 and len(gone.delete_server_groups) == 1
    assert len(gone.delete_security_groups) == 1 and len(gone.delete_fips) == 1
    assert gone.create_servers == [] and gone.detach_volumes == []
    assert not removal_changes(INST, Observed()).changed


def test_floating_ip_diff() -> None:
    plan = webfarm_plan()
    plan["externalVirtualLinks"][0]["floatingIp"] = "fipnet"
    d = desired(plan, floating_networks={"fipnet": Network("net-fip", "fipnet")})
    obs = observed_from(d)
    ch = compute_changes(d, obs)
    assert [p.name for p in ch.create_fips] == [f"{d.prefix}-lb-0-lb_ext_cp"]
    port = obs.ports[f"{d.prefix}-lb-0-lb_ext_cp"]
    obs.floating_ips = [FloatingIp("f1", "198.51.100.7", port.id, "net-fip")]
    assert not compute_changes(d, obs).changed
    obs.floating_ips.append(FloatingIp("f2", "198.51.100.8", port.id, "net-fip"))
    assert [f.id for f in compute_changes(d, obs).delete_fips] == ["f2"]


# -- SDK edge and resource info --------------------------------------------------------------------
def test_sdk_objects_to_model() -> None:
    server = discover.to_server(
        {
            "id": "s1",
            "name": "vnf-x-web-0",
            "status": "active",
            "flavor": {"original_name": "m1.small", "vcpus": 1},
            "image": {"id": "img"},
            "metadata": {"vnfm-instance": INST, "vnfm-vnfc": "web-0"},
            "fault": None,
        }
    )
    assert (server.status, server.flavor, server.image_id, server.vnfc_id) == (
        "ACTIVE",
        ("m1.small",),
        "img",
        "web-0",
    )
    port = discover.to_port(
        {
            "id": "p",
            "name": "n",
            "network_id": "net",
            "mac_address": "FA:16:3E:00:00:01",
            "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"}],
            "security_group_ids": ["b", "a"],
        }
    )
    assert port.addresses == ("10.0.0.5",) and port.security_group_ids == ("a", "b")
    assert port.mac == "fa:16:3e:00:00:01"
    sg = discover.to_security_group(
        {
            "id": "g",
            "name": "n",
            "security_group_rules": [
                {"id": "r1", "direction": "egress", "ethertype": "IPv4", "protocol": None},
                {
                    "id": "r2",
                    "direction": "ingress",
                    "ethertype": "IPv4",
                    "protocol": "TCP",
                    "port_range_min": 80,
                    "port_range_max": 80,
                },
            ],
        }
    )
    assert {r for _i, r in sg.rules} == {
        DEFAULT_EGRESS[0],
        ("ingress", "IPv4", "tcp", 80, 80, None),
    }
    vol = discover.to_volume(
        {
            "id": "v",
            "name": "n",
            "size": 1,
            "status": "in-use",
            "attachments": [{"server_id": "s1"}],
        }
    )
    assert vol.attached_to == ("s1",)
    group = discover.to_server_group({"id": "g", "name": "n", "policies": ["anti-affinity"]})
    assert group.policy == "anti-affinity"


def test_resource_info_in_sol003_shape() -> None:
    d = desired()
    obs = observed_from(d)
    res = build_resources("vim-1", d, obs)
    assert [v["id"] for v in res["vnfcResourceInfo"]] == ["lb-0", "web-0", "web-1"]
    web0 = res["vnfcResourceInfo"][1]
    assert web0["computeResource"] == {
        "vimConnectionId": "vim-1",
        "resourceId": f"id-{d.prefix}-web-0",
        "vimLevelResourceType": "OS::Nova::Server",
    }
    cp = web0["vnfcCpInfo"][0]
    assert cp["vnfLinkPortId"] == f"id-{d.prefix}-web-0-web_cp"
    ipoe = cp["cpProtocolInfo"][0]["ipOverEthernet"]
    assert ipoe["ipAddresses"][0]["addresses"] == ["10.10.10.11"]
    assert web0["storageResourceIds"] == [f"{d.prefix}-web-0-web_data"]
    (vl,) = res["virtualLinkResourceInfo"]
    assert vl["networkResource"]["vimLevelResourceType"] == "OS::Neutron::Net"
    assert vl["metadata"]["subnetResourceId"] == f"id-{d.prefix}-internal_vl-subnet"
    assert len(vl["vnfLinkPorts"]) == 3
    assert {
        s["storageResource"]["vimLevelResourceType"] for s in res["virtualStorageResourceInfo"]
    } == {"OS::Cinder::Volume"}
    (ext,) = res["extCpInfo"]
    assert ext["cpdId"] == "lb_ext_cp" and ext["extLinkPortId"] == f"id-{d.prefix}-lb-0-lb_ext_cp"
    assert build_resources("vim-1", None, obs)["vnfcResourceInfo"] == []


def test_driver_factory_and_connection_errors() -> None:
    drv = get_driver({"vimType": "openstack", "cloud": "x"}, None, wait=False, timeout=5)
    assert isinstance(drv, OpenStackDriver)
    sol003 = {"vimType": "openstack", "accessInfo": {"username": "u"}}
    with pytest.raises(VimError, match=r"interfaceInfo\.endpoint"):
        get_driver(sol003, {"password": "s3cret"}).reconcile(
            webfarm_plan(), heal=[], check_mode=True
        )
