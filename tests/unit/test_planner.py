"""The planner: a pure, deterministic function of the VNF model and the request.

Same input, byte-identical plan; scaling never moves an existing VNFC;
counts come from levels or aspects and stay within the VDU limits; every
refusal is a PlanError that says what is known.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from vnfd_builders import base_vnfd, nodes, policy, write_vnfd

from vnfm_runner.core import PlanError, PlanRequest, VnfModel, load_vnf, plan

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = ROOT / "examples" / "packages" / "webfarm"
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "tacker-packages"
CONFORMANCE_PACKAGES = (
    sorted(json.loads((CONFORMANCE / "expected.json").read_text()))
    if (CONFORMANCE / "expected.json").is_file()
    else []
)
ID_A = "6f1c2a9b-0000-4000-8000-000000000001"
ID_B = "6f1c2a9b-0000-4000-8000-000000000002"


@pytest.fixture(scope="module")
def webfarm() -> VnfModel:
    model, _warnings = load_vnf(WEBFARM)
    return model


def tiny(tmp_path: Path, doc: dict[str, Any] | None = None) -> VnfModel:
    write_vnfd(tmp_path / "pkg", doc or base_vnfd())
    model, _warnings = load_vnf(tmp_path / "pkg")
    return model


def by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in result["vnfcs"]}


def counts(result: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for vnfc in result["vnfcs"]:
        out[vnfc["vduId"]] = out.get(vnfc["vduId"], 0) + 1
    return out


def ext_request(*addresses: str, cpd: str = "VDU1_EXT_CP") -> list[dict[str, Any]]:
    """A SOL003 extVirtualLinks request binding ``cpd`` with one fixed address per VNFC."""
    return [
        {
            "id": "ext_net",
            "resourceId": "public-net",
            "cidr": "203.0.113.0/24",
            "extCps": [
                {
                    "cpdId": cpd,
                    "cpConfig": {
                        f"{cpd}_{n}": {
                            "cpProtocolData": [
                                {
                                    "layerProtocol": "IP_OVER_ETHERNET",
                                    "ipOverEthernet": {
                                        "ipAddresses": [{"type": "IPV4", "fixedAddresses": [addr]}]
                                    },
                                }
                            ]
                        }
                        for n, addr in enumerate(addresses)
                    },
                }
            ],
        }
    ]


# -- determinism ---------------------------------------------------------------------------
def test_same_input_gives_a_byte_identical_plan(webfarm: VnfModel) -> None:
    first = plan(webfarm, PlanRequest(ID_A, "default", "large"))
    again = load_vnf(WEBFARM)[0]
    second = plan(again, PlanRequest(ID_A, "default", "large"))
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert json.dumps(first) == json.dumps(second)  # key order too
    assert first["shortId"] == second["shortId"] and len(first["shortId"]) == 8


def test_the_plan_is_json_and_follows_the_contract(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", "small"))
    assert json.loads(json.dumps(result)) == result
    assert set(result) >= {
        "planVersion",
        "vnfInstanceId",
        "shortId",
        "namePrefix",
        "vnfdId",
        "flavourId",
        "instantiationLevelId",
        "scaleLevels",
        "virtualLinks",
        "externalVirtualLinks",
        "vnfcs",
        "volumes",
        "serverGroups",
        "securityGroupRules",
        "extCps",
    }
    assert result["namePrefix"] == f"vnf-{result['shortId']}"
    keys = [(v["vduId"], v["index"]) for v in result["vnfcs"]]
    assert keys == sorted(keys)
    for vnfc in result["vnfcs"]:
        assert vnfc["id"] == f"{vnfc['vduId']}-{vnfc['index']}"
        assert vnfc["name"] == f"{result['namePrefix']}-{vnfc['id']}"
        for cp in vnfc["cps"]:
            assert cp["name"] == f"{vnfc['name']}-{cp['cpdId']}"
        orders = [cp["order"] for cp in vnfc["cps"]]
        assert orders == sorted(orders)


def test_different_instances_get_different_names_and_macs(webfarm: VnfModel) -> None:
    a = plan(webfarm, PlanRequest(ID_A, "default", "small"))
    b = plan(webfarm, PlanRequest(ID_B, "default", "small"))
    assert a["shortId"] != b["shortId"]
    names_a = {v["name"] for v in a["vnfcs"]} | {vl["name"] for vl in a["virtualLinks"]}
    names_b = {v["name"] for v in b["vnfcs"]} | {vl["name"] for vl in b["virtualLinks"]}
    assert not names_a & names_b
    macs_a = {cp["macAddress"] for v in a["vnfcs"] for cp in v["cps"]}
    macs_b = {cp["macAddress"] for v in b["vnfcs"] for cp in v["cps"]}
    assert not macs_a & macs_b
    # Addresses come from the VNFD's CIDR: the same for both instances (their own networks).
    assert [cp["ipAddresses"] for v in a["vnfcs"] for cp in v["cps"]] == [
        cp["ipAddresses"] for v in b["vnfcs"] for cp in v["cps"]
    ]


def test_macs_are_unique_locally_administered_unicast(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": 7}))
    macs = [cp["macAddress"] for v in result["vnfcs"] for cp in v["cps"]]
    assert len(macs) == len(set(macs)) == 10
    for mac in macs:
        assert mac.startswith("fa:16:3e:")
        first = int(mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01


# -- scaling stability --------------------------------------------------------------------
def test_scaling_never_moves_a_vnfc(webfarm: VnfModel) -> None:
    small = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": 1}))
    big = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": 5}))
    assert counts(small) == {"lb": 1, "web": 2}
    assert counts(big) == {"lb": 1, "web": 6}
    small_vnfcs, big_vnfcs = by_id(small), by_id(big)
    assert set(small_vnfcs) < set(big_vnfcs)
    for vnfc_id, vnfc in small_vnfcs.items():
        assert vnfc == big_vnfcs[vnfc_id], vnfc_id  # names, addresses, MACs, volumes
    assert small["virtualLinks"] == big["virtualLinks"]
    small_volumes = {v["name"]: v for v in small["volumes"]}
    assert all(
        small_volumes[n] == v
        for n, v in ((v["name"], v) for v in big["volumes"])
        if n in small_volumes
    )


def test_scale_in_removes_the_highest_indices(webfarm: VnfModel) -> None:
    big = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": 5}))
    smaller = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": 2}))
    removed = set(by_id(big)) - set(by_id(smaller))
    assert removed == {"web-3", "web-4", "web-5"}
    assert sorted(v["index"] for v in smaller["vnfcs"] if v["vduId"] == "web") == [0, 1, 2]


def test_every_address_is_unique_and_inside_its_link(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": 7}))
    cidrs = {vl["id"]: ipaddress.ip_network(vl["cidr"]) for vl in result["virtualLinks"]}
    seen: set[str] = set()
    for vnfc in result["vnfcs"]:
        for cp in vnfc["cps"]:
            for addr in cp["ipAddresses"]:
                assert addr not in seen
                seen.add(addr)
                assert ipaddress.ip_address(addr) in cidrs[cp["virtualLinkId"]]
    assert len(seen) == 9  # lb_int_cp + 8 web_cp


# -- counts ----------------------------------------------------------------------------
def test_counts_from_the_default_level(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default"))
    assert result["instantiationLevelId"] == "small"
    assert result["scaleLevels"] == {"web": 1}
    assert counts(result) == {"lb": 1, "web": 2}


def test_counts_from_a_level(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", "large"))
    assert (result["instantiationLevelId"], result["scaleLevels"]) == ("large", {"web": 3})
    assert counts(result) == {"lb": 1, "web": 4}


def test_counts_from_aspects(webfarm: VnfModel) -> None:
    for level in range(8):
        result = plan(webfarm, PlanRequest(ID_A, "default", None, {"web": level}))
        assert result["instantiationLevelId"] is None
        assert result["scaleLevels"] == {"web": level}
        assert counts(result) == {"lb": 1, "web": 1 + level}


def test_level_counts_win_over_deltas_and_aspects_override_the_level(tmp_path: Path) -> None:
    """VduInstantiationLevels may say more than the deltas; explicit aspects recompute."""
    doc = base_vnfd()
    levels = policy(doc, "VDU1_instantiation_levels")["properties"]["levels"]
    levels["instantiation_level_2"]["number_of_instances"] = 5  # deltas would give 3
    model = tiny(tmp_path, doc)
    assert counts(plan(model, PlanRequest(ID_A, "simple", "instantiation_level_2"))) == {
        "VDU1": 5,
        "VDU2": 1,
    }
    with_aspects = plan(
        model, PlanRequest(ID_A, "simple", "instantiation_level_2", {"VDU1_aspect": 1})
    )
    assert counts(with_aspects) == {"VDU1": 2, "VDU2": 1}
    assert with_aspects["scaleLevels"] == {"VDU1_aspect": 1}


def test_step_deltas_of_different_sizes(tmp_path: Path) -> None:
    doc = base_vnfd()
    aspects = policy(doc, "scaling_aspects")["properties"]["aspects"]
    aspects["VDU1_aspect"]["step_deltas"] = ["delta_1", "delta_2"]
    aspects["VDU1_aspect"]["max_scale_level"] = 2
    deltas = policy(doc, "VDU1_scaling_aspect_deltas")["properties"]["deltas"]
    deltas["delta_2"] = {"number_of_instances": 3}
    levels = policy(doc, "instantiation_levels")["properties"]["levels"]
    levels["instantiation_level_2"]["scale_info"]["VDU1_aspect"]["scale_level"] = 1
    policy(doc, "VDU1_instantiation_levels")["properties"]["levels"]["instantiation_level_2"][
        "number_of_instances"
    ] = 2
    model = tiny(tmp_path, doc)
    got = [
        counts(plan(model, PlanRequest(ID_A, "simple", None, {"VDU1_aspect": n})))["VDU1"]
        for n in range(3)
    ]
    assert got == [1, 2, 5]


# -- limits and unknown names -------------------------------------------------------------
def test_beyond_max_is_refused(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "scaling_aspects")["properties"]["aspects"]["VDU1_aspect"]["max_scale_level"] = 6
    model = tiny(tmp_path / "a", doc)
    assert counts(plan(model, PlanRequest(ID_A, "simple", None, {"VDU1_aspect": 4})))["VDU1"] == 5
    with pytest.raises(PlanError) as info:
        plan(model, PlanRequest(ID_A, "simple", None, {"VDU1_aspect": 5}))
    assert str(info.value) == "VDU 'VDU1' would have 6 VNFCs, outside its limits 1..5"


def test_below_min_is_refused(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "VDU1_instantiation_levels")["properties"]["levels"]["instantiation_level_1"][
        "number_of_instances"
    ] = 0
    model = tiny(tmp_path, doc)
    with pytest.raises(PlanError) as info:
        plan(model, PlanRequest(ID_A, "simple", "instantiation_level_1"))
    assert str(info.value) == "VDU 'VDU1' would have 0 VNFCs, outside its limits 1..5"


@pytest.mark.parametrize("level", [8, -1])
def test_scale_level_outside_the_aspect_is_refused(webfarm: VnfModel, level: int) -> None:
    with pytest.raises(PlanError) as info:
        plan(webfarm, PlanRequest(ID_A, "default", None, {"web": level}))
    assert str(info.value) == f"aspect 'web': scale level {level} is outside 0..7"


def test_unknown_flavour_names_the_known_ones(webfarm: VnfModel) -> None:
    with pytest.raises(PlanError) as info:
        plan(webfarm, PlanRequest(ID_A, "huge"))
    assert str(info.value) == (
        "VNFD 8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61 has no deployment flavour 'huge' "
        "(known: compact, default)"
    )


def test_unknown_level_names_the_known_ones(webfarm: VnfModel) -> None:
    with pytest.raises(PlanError) as info:
        plan(webfarm, PlanRequest(ID_A, "default", "medium"))
    assert str(info.value) == (
        "flavour 'default' has no instantiation level 'medium' (known: small, large)"
    )


def test_unknown_aspect_names_the_known_ones(webfarm: VnfModel) -> None:
    with pytest.raises(PlanError) as info:
        plan(webfarm, PlanRequest(ID_A, "default", None, {"db": 1}))
    assert str(info.value) == "flavour 'default' has no scaling aspect 'db' (known: web)"


def test_unknown_ext_cpd_is_refused(webfarm: VnfModel) -> None:
    with pytest.raises(PlanError) as info:
        plan(
            webfarm, PlanRequest(ID_A, "default", ext_virtual_links=ext_request("1.2.3.4", cpd="x"))
        )
    assert str(info.value) == (
        "extVirtualLinks[0].extCps[0].cpdId 'x' is not an external CP of flavour 'default' "
        "(known: lb_ext_cp)"
    )


# -- external connection points -----------------------------------------------------------
def test_ext_cp_fixed_addresses_from_the_request(tmp_path: Path) -> None:
    model = tiny(tmp_path)
    result = plan(
        model,
        PlanRequest(
            ID_A,
            "simple",
            "instantiation_level_2",
            ext_virtual_links=ext_request("203.0.113.10", "203.0.113.11"),
        ),
    )
    ext = {
        v["id"]: next(cp for cp in v["cps"] if cp["cpdId"] == "VDU1_EXT_CP")
        for v in result["vnfcs"]
        if v["vduId"] == "VDU1"
    }
    assert {k: cp["ipAddresses"] for k, cp in ext.items()} == {
        "VDU1-0": ["203.0.113.10"],
        "VDU1-1": ["203.0.113.11"],
        "VDU1-2": [],  # no fixed address requested: the VIM allocates
    }
    assert {cp["extVirtualLinkId"] for cp in ext.values()} == {"ext_net"}
    assert {cp["extCpdId"] for cp in ext.values()} == {"VDU1_EXT_CP"}
    assert all(cp["virtualLinkId"] is None for cp in ext.values())
    assert result["externalVirtualLinks"] == [
        {"id": "ext_net", "resourceId": "public-net", "cidr": "203.0.113.0/24"}
    ]
    assert result["extCps"] == [
        {
            "cpdId": "VDU1_EXT_CP",
            "requirement": "virtual_link_external",
            "vduId": "VDU1",
            "internalVirtualLinkId": None,
            "extVirtualLinkId": "ext_net",
        }
    ]


def test_unbound_ext_cp_has_no_addresses(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", "small"))
    (lb,) = [v for v in result["vnfcs"] if v["vduId"] == "lb"]
    ext = next(cp for cp in lb["cps"] if cp["cpdId"] == "lb_ext_cp")
    assert ext["ipAddresses"] == []
    assert (ext["extVirtualLinkId"], ext["extCpdId"], ext["virtualLinkId"]) == (
        None,
        "lb_ext_cp",
        None,
    )
    assert result["externalVirtualLinks"] == []
    assert result["extCps"][0]["extVirtualLinkId"] is None


# -- virtual links and addresses --------------------------------------------------------
def _links_without_cidr(doc: dict[str, Any], *taken: str) -> None:
    """VL1 without CIDR, VL2 without CIDR, VL3 with ``taken`` (inside the default pool)."""
    vl1 = nodes(doc)["VL1"]
    del vl1["properties"]["vl_profile"]
    for n, name in enumerate(["VL2", "VL3"], start=2):
        nodes(doc)[name] = {
            "type": "tosca.nodes.nfv.VnfVirtualLink",
            "properties": {"connectivity_type": {"layer_protocols": ["ipv4"]}},
        }
        nodes(doc)[f"VDU2_CP{n}"] = {
            "type": "tosca.nodes.nfv.VduCp",
            "properties": {"layer_protocols": ["ipv4"], "order": n},
            "requirements": [{"virtual_binding": "VDU2"}, {"virtual_link": name}],
        }
    for cidr in taken:
        nodes(doc)["VL3"]["properties"]["vl_profile"] = {
            "virtual_link_protocol_data": [{"l3_protocol_data": {"cidr": cidr}}]
        }


def test_links_without_cidr_get_non_overlapping_defaults(tmp_path: Path) -> None:
    doc = base_vnfd()
    _links_without_cidr(doc, "172.16.0.0/23")
    model = tiny(tmp_path, doc)
    result = plan(model, PlanRequest(ID_A, "simple"))
    nets = {vl["id"]: ipaddress.ip_network(vl["cidr"]) for vl in result["virtualLinks"]}
    assert nets["VL3"] == ipaddress.ip_network("172.16.0.0/23")
    assert nets["VL1"] != nets["VL2"]
    for a in nets.values():
        for b in nets.values():
            assert a is b or not a.overlaps(b)
    pool = ipaddress.ip_network("172.16.0.0/12")
    assert all(str(nets[k]).startswith("172.") and nets[k].overlaps(pool) for k in ("VL1", "VL2"))
    assert [vl["index"] for vl in result["virtualLinks"]] == [0, 1, 2]
    # Every CP got an address inside its link.
    for vnfc in result["vnfcs"]:
        for cp in vnfc["cps"]:
            if cp["virtualLinkId"]:
                (addr,) = cp["ipAddresses"]
                assert ipaddress.ip_address(addr) in nets[cp["virtualLinkId"]]
    assert plan(model, PlanRequest(ID_A, "simple")) == result


def test_a_cidr_too_small_is_refused(tmp_path: Path) -> None:
    doc = base_vnfd()
    vl = nodes(doc)["VL1"]["properties"]["vl_profile"]
    vl["virtual_link_protocol_data"][0]["l3_protocol_data"]["cidr"] = "192.168.50.0/29"
    model = tiny(tmp_path, doc)
    with pytest.raises(PlanError) as info:
        plan(model, PlanRequest(ID_A, "simple"))
    assert str(info.value) == (
        "virtual link 'VL1': cidr 192.168.50.0/29 is too small for 7 addresses "
        "(VDUs at their maximum size)"
    )


def test_gateway_and_mtu_of_a_link(tmp_path: Path) -> None:
    doc = base_vnfd()
    data = nodes(doc)["VL1"]["properties"]["vl_profile"]["virtual_link_protocol_data"][0]
    data["l3_protocol_data"]["gateway_ip"] = "192.168.50.1"
    data["l3_protocol_data"]["dhcp_enabled"] = True
    data["l2_protocol_data"] = {"mtu": 9000}
    result = plan(tiny(tmp_path, doc), PlanRequest(ID_A, "simple"))
    (vl,) = result["virtualLinks"]
    assert (vl["gatewayIp"], vl["dhcpEnabled"], vl["mtu"]) == ("192.168.50.1", True, 9000)
    mtus = {cp["cpdId"]: cp["mtu"] for v in result["vnfcs"] for cp in v["cps"]}
    assert mtus == {"VDU1_EXT_CP": 1500, "VDU1_CP": 9000, "VDU2_CP": 9000}


def test_gateway_inside_the_vnfc_range_is_refused(tmp_path: Path) -> None:
    doc = base_vnfd()
    data = nodes(doc)["VL1"]["properties"]["vl_profile"]["virtual_link_protocol_data"][0]
    data["l3_protocol_data"]["gateway_ip"] = "192.168.50.12"
    with pytest.raises(PlanError) as info:
        plan(tiny(tmp_path, doc), PlanRequest(ID_A, "simple"))
    assert "gateway 192.168.50.12 lies in the range 192.168.50.10-" in str(info.value)


def test_address_blocks_per_vdu(tmp_path: Path) -> None:
    """VDU1 owns .10-.14 (max 5), VDU2 .15-.16, whatever the current counts."""
    result = plan(tiny(tmp_path), PlanRequest(ID_A, "simple", "instantiation_level_2"))
    addrs = {
        (v["id"], cp["cpdId"]): cp["ipAddresses"]
        for v in result["vnfcs"]
        for cp in v["cps"]
        if cp["virtualLinkId"]
    }
    assert addrs == {
        ("VDU1-0", "VDU1_CP"): ["192.168.50.10"],
        ("VDU1-1", "VDU1_CP"): ["192.168.50.11"],
        ("VDU1-2", "VDU1_CP"): ["192.168.50.12"],
        ("VDU2-0", "VDU2_CP"): ["192.168.50.15"],
    }


# -- server groups and volumes ------------------------------------------------------------
def test_server_groups_from_affinity_rules(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["topology_template"]["policies"].append(
        {
            "VDU2_affinity": {
                "type": "tosca.policies.nfv.AffinityRule",
                "properties": {"scope": "zone"},
                "targets": ["VDU2"],
            }
        }
    )
    result = plan(tiny(tmp_path, doc), PlanRequest(ID_A, "simple", "instantiation_level_2"))
    prefix = result["namePrefix"]
    assert result["serverGroups"] == [
        {
            "name": f"{prefix}-VDU1_anti_affinity",
            "policy": "anti-affinity",
            "scope": "nfvi-node",
            "vduIds": ["VDU1"],
        },
        {
            "name": f"{prefix}-VDU2_affinity",
            "policy": "affinity",
            "scope": "zone",
            "vduIds": ["VDU2"],
        },
    ]
    groups = {v["id"]: v["serverGroup"] for v in result["vnfcs"]}
    assert groups == {
        "VDU1-0": f"{prefix}-VDU1_anti_affinity",
        "VDU1-1": f"{prefix}-VDU1_anti_affinity",
        "VDU1-2": f"{prefix}-VDU1_anti_affinity",
        "VDU2-0": f"{prefix}-VDU2_affinity",
    }


def test_webfarm_server_group_and_security_rules(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", "small"))
    prefix = result["namePrefix"]
    assert result["serverGroups"] == [
        {
            "name": f"{prefix}-web_anti_affinity",
            "policy": "anti-affinity",
            "scope": "nfvi-node",
            "vduIds": ["web"],
        }
    ]
    assert {v["id"]: v["serverGroup"] for v in result["vnfcs"]} == {
        "lb-0": None,
        "web-0": f"{prefix}-web_anti_affinity",
        "web-1": f"{prefix}-web_anti_affinity",
    }
    assert result["securityGroupRules"] == [
        {
            "id": "lb_http_ingress",
            "direction": "ingress",
            "etherType": "ipv4",
            "protocol": "tcp",
            "portRangeMin": 80,
            "portRangeMax": 80,
            "cpdIds": ["lb_ext_cp"],
        }
    ]


def test_volumes_per_vnfc(webfarm: VnfModel) -> None:
    result = plan(webfarm, PlanRequest(ID_A, "default", "large"))
    prefix = result["namePrefix"]
    assert result["volumes"] == [
        {
            "name": f"{prefix}-web-{n}-web_data",
            "storageId": "web_data",
            "vnfcId": f"web-{n}",
            "sizeGb": 1.0,
            "image": None,
        }
        for n in range(4)
    ]
    assert {v["id"]: v["volumes"] for v in result["vnfcs"]} == {
        "lb-0": [],
        **{f"web-{n}": [f"{prefix}-web-{n}-web_data"] for n in range(4)},
    }


def test_compute_image_and_vim_mapping(webfarm: VnfModel) -> None:
    result = plan(
        webfarm,
        PlanRequest(
            ID_A,
            "compact",
            vim_mapping={
                "images": {"debian-12-genericcloud": "img-1"},
                "flavours": {"lb": "m1.lb"},
            },
        ),
    )
    assert result["instantiationLevelId"] == "single"
    vnfcs = by_id(result)
    assert vnfcs["lb-0"]["compute"] == {
        "numVirtualCpu": 1,
        "virtualMemSizeMb": 256.0,
        "localStorageGb": 2.0,
        "flavourHint": "m1.lb",
    }
    assert vnfcs["web-0"]["compute"]["flavourHint"] is None
    assert vnfcs["web-0"]["image"] == {
        "name": "debian-12-genericcloud",
        "version": "12",
        "diskFormat": "qcow2",
        "containerFormat": "bare",
        "file": None,
        "vimImageId": "img-1",
    }


# -- the conformance packages: determinism and stability on real VNFDs --------------------
@pytest.mark.skipif(not CONFORMANCE_PACKAGES, reason="../shared/conformance is not present")
@pytest.mark.parametrize("name", CONFORMANCE_PACKAGES)
def test_conformance_packages_scale_stably(name: str) -> None:
    """For every aspect, each plannable level keeps the VNFCs of the level below unchanged."""
    model, _warnings = load_vnf(CONFORMANCE / name)
    for flavour in model.flavours:
        for aspect in flavour.scaling_aspects:
            previous: dict[str, Any] | None = None
            for level in range(aspect.max_scale_level + 1):
                request = PlanRequest(ID_A, flavour.id, None, {aspect.id: level})
                try:
                    result = plan(model, request)
                except PlanError as exc:
                    assert "outside its limits" in str(exc)
                    break
                assert json.dumps(plan(model, request)) == json.dumps(result)
                if previous is not None:
                    now = by_id(result)
                    for vnfc_id, vnfc in by_id(previous).items():
                        assert now[vnfc_id] == vnfc, (name, flavour.id, aspect.id, level)
                previous = result
