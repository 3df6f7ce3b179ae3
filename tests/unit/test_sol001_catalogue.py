"""Tests of the offline TOSCA / ETSI SOL001 normative type catalogue."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd._sol001_catalogue import (
    COMMON_TYPES,
    KNOWN_VERSIONS,
    VERSION_DEPENDENT_PROPERTIES,
    VNFD_TYPES,
    catalogue_document,
    normative_import,
    tosca_base_document,
)

CONFORMANCE = Path(
    os.environ.get("VNFM_TACKER_PACKAGES", "/work/shared/conformance/tacker-packages")
)

SECTIONS = (
    "data_types",
    "artifact_types",
    "capability_types",
    "interface_types",
    "relationship_types",
    "node_types",
    "group_types",
    "policy_types",
)
# TOSCA built-in value types: valid as property types and as data type parents.
PRIMITIVES = frozenset(
    {
        "string",
        "integer",
        "float",
        "boolean",
        "timestamp",
        "null",
        "version",
        "range",
        "list",
        "map",
        "scalar-unit.size",
        "scalar-unit.time",
        "scalar-unit.frequency",
        "scalar-unit.bitrate",
    }
)


def _documents() -> dict[str, dict[str, Any]]:
    return {
        "tosca": tosca_base_document(),
        COMMON_TYPES: catalogue_document(COMMON_TYPES),
        VNFD_TYPES: catalogue_document(VNFD_TYPES),
    }


def _catalogue() -> dict[str, dict[str, dict[str, Any]]]:
    """All catalogue types by section; a name defined twice is an error."""
    merged: dict[str, dict[str, dict[str, Any]]] = {section: {} for section in SECTIONS}
    for doc_name, doc in _documents().items():
        for section in SECTIONS:
            for name, body in (doc.get(section) or {}).items():
                assert name not in merged[section], f"{name} defined twice ({doc_name})"
                merged[section][name] = body
    return merged


CATALOGUE = _catalogue()


def _ancestry(section: str, name: str) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    current: str | None = name
    while current is not None and current in CATALOGUE[section] and current not in seen:
        seen.add(current)
        body = CATALOGUE[section][current]
        yield body
        current = body.get("derived_from")


def _all_properties(section: str, name: str) -> dict[str, dict[str, Any]]:
    """Own and inherited property definitions, the most derived winning."""
    props: dict[str, dict[str, Any]] = {}
    for body in reversed(list(_ancestry(section, name))):
        props.update(body.get("properties") or {})
    return props


# -- the documents ----------------------------------------------------------


def test_every_document_parses_as_tosca_1_3() -> None:
    for name, doc in _documents().items():
        assert doc["tosca_definitions_version"] == "tosca_simple_yaml_1_3", name
        for section in SECTIONS:
            assert isinstance(doc.get(section, {}), dict), (name, section)
        assert any(doc.get(section) for section in SECTIONS), name


def test_vnfd_document_imports_common_by_bare_name() -> None:
    imports = catalogue_document(VNFD_TYPES)["imports"]
    assert imports == [COMMON_TYPES]
    assert [normative_import(ref) for ref in imports] == [COMMON_TYPES]
    assert "imports" not in catalogue_document(COMMON_TYPES)


def test_documents_are_fresh_copies() -> None:
    first = catalogue_document(VNFD_TYPES)
    first["node_types"].clear()
    first["data_types"]["tosca.datatypes.nfv.VduProfile"]["properties"].clear()
    second = catalogue_document(VNFD_TYPES)
    assert "tosca.nodes.nfv.VNF" in second["node_types"]
    assert second["data_types"]["tosca.datatypes.nfv.VduProfile"]["properties"]
    base = tosca_base_document()
    base.clear()
    assert tosca_base_document()["node_types"]


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        catalogue_document("etsi_nfv_sol001_nsd_types.yaml")


# -- internal consistency ---------------------------------------------------


def test_every_derived_from_names_a_type_of_the_same_kind() -> None:
    checked = 0
    for section, types in CATALOGUE.items():
        for name, body in types.items():
            parent = body.get("derived_from")
            if parent is None:
                assert name.endswith(".Root"), f"{section}: {name} has no parent"
                continue
            checked += 1
            if section == "data_types" and parent in PRIMITIVES:
                continue
            assert parent in types, f"{section}: {name} derives from unknown {parent}"
            chain = [b.get("derived_from") for b in _ancestry(section, name)]
            assert chain[-1] is None, f"{section}: {name} does not reach a root type"
    assert checked > 150


def _property_type_refs(props: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for prop, spec in props.items():
        yield prop, spec["type"]
        entry = spec.get("entry_schema")
        if entry is not None:
            yield f"{prop}[]", entry["type"] if isinstance(entry, dict) else entry


def test_every_reference_resolves() -> None:
    data = set(CATALOGUE["data_types"]) | PRIMITIVES
    caps = set(CATALOGUE["capability_types"])
    rels = set(CATALOGUE["relationship_types"])
    nodes = set(CATALOGUE["node_types"])
    groups = set(CATALOGUE["group_types"])
    interfaces = set(CATALOGUE["interface_types"])
    problems: list[str] = []

    def need(kind: set[str], ref: Any, where: str) -> None:
        if ref not in kind:
            problems.append(f"{where}: unknown {ref!r}")

    for types in CATALOGUE.values():
        for name, body in types.items():
            for field in ("properties", "attributes"):
                for prop, ref in _property_type_refs(body.get(field) or {}):
                    need(data, ref, f"{name}.{field}.{prop}")
            for op_name, op in (body.get("operations") or {}).items():
                for prop, ref in _property_type_refs((op or {}).get("inputs") or {}):
                    need(data, ref, f"{name}.{op_name}.inputs.{prop}")
            for cap_name, cap in (body.get("capabilities") or {}).items():
                need(caps, cap["type"], f"{name}.capabilities.{cap_name}")
                for src in cap.get("valid_source_types") or []:
                    need(nodes, src, f"{name}.capabilities.{cap_name}.valid_source_types")
            for entry in body.get("requirements") or []:
                ((req_name, req),) = entry.items()
                need(caps, req["capability"], f"{name}.requirements.{req_name}")
                if "relationship" in req:
                    need(rels, req["relationship"], f"{name}.requirements.{req_name}")
                if "node" in req:
                    need(nodes, req["node"], f"{name}.requirements.{req_name}")
            for if_name, if_def in (body.get("interfaces") or {}).items():
                need(interfaces, if_def["type"], f"{name}.interfaces.{if_name}")
            for target in body.get("valid_target_types") or []:
                need(caps, target, f"{name}.valid_target_types")
            for target in body.get("targets") or []:
                need(nodes | groups, target, f"{name}.targets")
            for member in body.get("members") or []:
                need(nodes, member, f"{name}.members")
    assert problems == []


def test_version_dependent_properties_exist() -> None:
    for type_name, props in VERSION_DEPENDENT_PROPERTIES.items():
        defined = _all_properties("node_types", type_name)
        for prop in props:
            assert prop in defined, f"{type_name}.{prop}"


# -- spot checks against the specification ----------------------------------


def test_vnflcm_has_every_lcm_operation_with_pre_and_postamble() -> None:
    ops = CATALOGUE["interface_types"]["tosca.interfaces.nfv.Vnflcm"]["operations"]
    for base in (
        "instantiate",
        "terminate",
        "modify_information",
        "change_flavour",
        "change_external_connectivity",
        "operate",
        "heal",
        "scale",
        "scale_to_level",
        "change_current_package",
        "create_snapshot",
        "revert_to_snapshot",
    ):
        for op in (base, f"{base}_start", f"{base}_end"):
            assert op in ops, op
    assert "tosca.interfaces.nfv.ChangeCurrentVnfPackage" in CATALOGUE["interface_types"]
    assert "tosca.interfaces.nfv.VnfIndicator" in CATALOGUE["interface_types"]


def test_vnf_node_type() -> None:
    vnf = CATALOGUE["node_types"]["tosca.nodes.nfv.VNF"]
    props = vnf["properties"]
    for prop in (
        "descriptor_id",
        "descriptor_version",
        "provider",
        "product_name",
        "software_version",
        "product_info_name",
        "product_info_description",
        "vnfm_info",
        "localization_languages",
        "default_localization_language",
        "configurable_properties",
        "modifiable_attributes",
        "lcm_operations_configuration",
        "monitoring_parameters",
        "flavour_id",
        "flavour_description",
        "vnf_profile",
    ):
        assert prop in props, prop
    assert props["product_info_name"]["required"] is False
    assert props["descriptor_id"].get("required", True) is True
    assert vnf["interfaces"]["Vnflcm"]["type"] == "tosca.interfaces.nfv.Vnflcm"
    assert [next(iter(r)) for r in vnf["requirements"]] == ["virtual_link"]


def test_vdu_and_cp_node_types() -> None:
    vdu = CATALOGUE["node_types"]["tosca.nodes.nfv.Vdu.Compute"]
    assert set(vdu["properties"]) >= {
        "name",
        "description",
        "boot_order",
        "nfvi_constraints",
        "monitoring_parameters",
        "configurable_properties",
        "vdu_profile",
        "sw_image_data",
        "boot_data",
    }
    assert set(vdu["capabilities"]) == {"virtual_compute", "virtual_binding"}
    assert [next(iter(r)) for r in vdu["requirements"]] == ["virtual_storage"]
    profile = CATALOGUE["data_types"]["tosca.datatypes.nfv.VduProfile"]["properties"]
    assert profile["min_number_of_instances"].get("required", True) is True
    assert profile["max_number_of_instances"].get("required", True) is True

    cp = _all_properties("node_types", "tosca.nodes.nfv.VduCp")
    assert {
        "bitrate_requirement",
        "virtual_network_interface_requirements",
        "order",
        "vnic_type",
    } <= set(cp)
    assert "layer_protocols" in cp  # inherited from tosca.nodes.nfv.Cp
    vnic = cp["vnic_type"]["constraints"][0]["valid_values"]
    assert {"normal", "virtio", "direct", "direct-physical", "smart-nic"} <= set(vnic)
    reqs = [next(iter(r)) for r in CATALOGUE["node_types"]["tosca.nodes.nfv.VduCp"]["requirements"]]
    assert reqs == ["virtual_link", "virtual_binding"]


def test_policy_defaults_and_value_sets() -> None:
    rule = _all_properties("policy_types", "tosca.policies.nfv.SecurityGroupRule")
    names = ("direction", "ether_type", "protocol", "port_range_min", "port_range_max")
    assert {p: rule[p]["default"] for p in names} == {
        "direction": "ingress",
        "ether_type": "ipv4",
        "protocol": "tcp",
        "port_range_min": 0,
        "port_range_max": 65535,
    }
    policies = CATALOGUE["policy_types"]
    scopes = {"nfvi_node", "zone", "zone_group", "nfvi_pop", "network_link_and_node"}
    for name in ("tosca.policies.nfv.AffinityRule", "tosca.policies.nfv.AntiAffinityRule"):
        scope = policies[name]["properties"]["scope"]
        assert scopes <= set(scope["constraints"][0]["valid_values"])
        assert policies[name]["derived_from"] == "tosca.policies.Placement"
    aspects = policies["tosca.policies.nfv.ScalingAspects"]["properties"]["aspects"]
    assert aspects["type"] == "map"
    assert aspects["entry_schema"]["type"] == "tosca.datatypes.nfv.ScalingAspect"


def test_tosca_base_types_needed_by_sol001() -> None:
    expected = {
        "data_types": {"tosca.datatypes.Root", "tosca.datatypes.Credential"},
        "capability_types": {
            "tosca.capabilities.Root",
            "tosca.capabilities.Node",
            "tosca.capabilities.Compute",
            "tosca.capabilities.Endpoint",
            "tosca.capabilities.Attachment",
            "tosca.capabilities.network.Bindable",
            "tosca.capabilities.network.Linkable",
        },
        "relationship_types": {
            f"tosca.relationships.{n}"
            for n in ("Root", "DependsOn", "HostedOn", "ConnectsTo", "AttachesTo", "RoutesTo")
        },
        "interface_types": {
            "tosca.interfaces.Root",
            "tosca.interfaces.node.lifecycle.Standard",
            "tosca.interfaces.relationship.Configure",
        },
        "node_types": {
            "tosca.nodes.Root",
            "tosca.nodes.Compute",
            "tosca.nodes.Abstract.Compute",
            "tosca.nodes.Abstract.Storage",
            "tosca.nodes.Storage.BlockStorage",
            "tosca.nodes.network.Network",
            "tosca.nodes.network.Port",
        },
        "artifact_types": {
            f"tosca.artifacts.{n}"
            for n in (
                "Root",
                "File",
                "Deployment",
                "Deployment.Image",
                "Deployment.Image.VM",
                "Implementation",
                "Implementation.Bash",
                "Implementation.Python",
            )
        },
        "group_types": {"tosca.groups.Root"},
        "policy_types": {
            f"tosca.policies.{n}" for n in ("Root", "Placement", "Scaling", "Update", "Performance")
        },
    }
    base = tosca_base_document()
    for section, names in expected.items():
        assert names <= set(base[section]), (section, names - set(base[section]))
    assert "tosca.artifacts.Implementation.Ansible" not in base["artifact_types"]


# -- the conformance packages -------------------------------------------------


def _package_files() -> list[Path]:
    if not CONFORMANCE.is_dir():
        pytest.skip(f"conformance packages not available at {CONFORMANCE}")
    files = sorted(CONFORMANCE.glob("*/Definitions/*.yaml"))
    assert files
    return files


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    return doc


def _used_types(doc: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(section, type name, where) for every type a package template uses."""
    topo = doc.get("topology_template") or {}
    for node_name, node in (topo.get("node_templates") or {}).items():
        yield "node_types", node["type"], f"node_templates.{node_name}"
        for art_name, art in (node.get("artifacts") or {}).items():
            if isinstance(art, dict) and "type" in art:
                yield "artifact_types", art["type"], f"{node_name}.artifacts.{art_name}"
    for entry in topo.get("policies") or []:
        for pol_name, pol in entry.items():
            yield "policy_types", pol["type"], f"policies.{pol_name}"
    for grp_name, grp in (topo.get("groups") or {}).items():
        yield "group_types", grp["type"], f"groups.{grp_name}"
    for section in SECTIONS:
        for name, body in (doc.get(section) or {}).items():
            if "derived_from" in body:
                yield section, body["derived_from"], f"{name}.derived_from"
            for prop, ref in _property_type_refs(body.get("properties") or {}):
                yield "data_types", ref, f"{name}.properties.{prop}"
            for if_name, if_def in (body.get("interfaces") or {}).items():
                if isinstance(if_def, dict) and "type" in if_def:
                    yield "interface_types", if_def["type"], f"{name}.interfaces.{if_name}"


def test_conformance_packages_use_only_catalogued_normative_types() -> None:
    missing: list[str] = []
    used = 0
    for path in _package_files():
        if path.name.startswith("etsi_nfv_sol001_"):
            continue  # the shipped copies are compared below, not used as definitions
        for section, type_name, where in _used_types(_load(path)):
            if not type_name.startswith("tosca."):
                continue
            used += 1
            if type_name not in CATALOGUE[section]:
                missing.append(
                    f"{path.parent.parent.name}/{path.name}: {where}: {section} {type_name}"
                )
    assert missing == []
    assert used > 50


def _shipped(name: str) -> list[dict[str, Any]]:
    docs = [_load(p) for p in _package_files() if p.name == name]
    if not docs:
        pytest.skip(f"no shipped {name}")
    return docs


def test_shipped_v2_6_1_type_names_are_all_catalogued() -> None:
    ours_common = catalogue_document(COMMON_TYPES)
    ours_vnfd = catalogue_document(VNFD_TYPES)
    for shipped_name, visible in (
        (COMMON_TYPES, [ours_common]),
        # v2.6.1 had ScaleInfo and VnfMonitoringParameter in the VNFD file;
        # later releases moved them to common, which the VNFD file imports.
        (VNFD_TYPES, [ours_vnfd, ours_common]),
    ):
        for shipped in _shipped(shipped_name):
            for section in SECTIONS:
                defined = set().union(*(set(doc.get(section) or {}) for doc in visible))
                missing = set(shipped.get(section) or {}) - defined
                assert not missing, (shipped_name, section, sorted(missing))


def test_shipped_v2_6_1_properties_and_defaults_are_catalogued() -> None:
    problems: list[str] = []
    for shipped in _shipped(COMMON_TYPES) + _shipped(VNFD_TYPES):
        for section in SECTIONS:
            for name, body in (shipped.get(section) or {}).items():
                ours = _all_properties(section, name)
                for prop, spec in (body.get("properties") or {}).items():
                    if prop not in ours:
                        problems.append(f"{name}.{prop} missing")
                        continue
                    dependent = VERSION_DEPENDENT_PROPERTIES.get(name, {})
                    if spec.get("type") != ours[prop]["type"] and prop not in dependent:
                        problems.append(
                            f"{name}.{prop}: type {ours[prop]['type']} != {spec['type']}"
                        )
                    if "default" in spec and ours[prop].get("default") != spec["default"]:
                        problems.append(f"{name}.{prop}: default {ours[prop].get('default')!r}")
    # TOSCA 1.2 interface types list operations directly; ours use `operations`.
    ops = set(CATALOGUE["interface_types"]["tosca.interfaces.nfv.Vnflcm"]["operations"])
    for shipped in _shipped(VNFD_TYPES):
        shipped_lcm = shipped["interface_types"]["tosca.interfaces.nfv.Vnflcm"]
        shipped_ops = set(shipped_lcm) - {"derived_from", "description", "inputs", "operations"}
        problems.extend(f"Vnflcm.{op} missing" for op in sorted(shipped_ops - ops))
    assert problems == []


# -- import mapping -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        ("etsi_nfv_sol001_vnfd_types.yaml", VNFD_TYPES),
        ("etsi_nfv_sol001_common_types.yaml", COMMON_TYPES),
        ("./etsi_nfv_sol001_common_types.yaml", COMMON_TYPES),
        ("../Definitions/etsi_nfv_sol001_vnfd_types.yaml", VNFD_TYPES),
        ("Definitions/etsi_nfv_sol001_vnfd_types.yaml", VNFD_TYPES),
        ("  etsi_nfv_sol001_vnfd_types.yaml  ", VNFD_TYPES),
        ("etsi_nfv_sol001_vnfd_2_5_1_types.yaml", VNFD_TYPES),
        (
            "https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_common_types.yaml",
            COMMON_TYPES,
        ),
        (
            "https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_vnfd_types.yaml",
            VNFD_TYPES,
        ),
        (
            "https://forge.etsi.org/rep/nfv/SOL001/raw/v3.3.1/etsi_nfv_sol001_vnfd_types.yaml",
            VNFD_TYPES,
        ),
        (
            "https://forge.etsi.org/rep/nfv/SOL001/-/raw/v4.4.1/etsi_nfv_sol001_vnfd_types.yaml",
            VNFD_TYPES,
        ),
        (
            "http://forge.etsi.org/rep/nfv/SOL001/raw/v9.9.9/etsi_nfv_sol001_common_types.yaml",
            COMMON_TYPES,
        ),
        # not normative
        ("etsi_nfv_sol001_nsd_types.yaml", None),
        ("etsi_nfv_sol001_pnfd_types.yaml", None),
        ("helloworld3_types.yaml", None),
        ("etsi_nfv_sol001_vnfd_types.yaml.bak", None),
        ("my_etsi_nfv_sol001_vnfd_types.yaml", None),
        ("https://example.com/etsi_nfv_sol001_vnfd_types.yaml", None),
        ("file:///etc/etsi_nfv_sol001_vnfd_types.yaml", None),
        ("https://forge.etsi.org/rep/nfv/SOL001/raw/v2.6.1/etsi_nfv_sol001_nsd_types.yaml", None),
        ("", None),
    ],
)
def test_normative_import(ref: str, key: str | None) -> None:
    assert normative_import(ref) == key


@pytest.mark.parametrize("version", KNOWN_VERSIONS)
def test_normative_import_every_known_version(version: str) -> None:
    for name in (COMMON_TYPES, VNFD_TYPES):
        url = f"https://forge.etsi.org/rep/nfv/SOL001/raw/v{version}/{name}"
        assert normative_import(url) == name


def test_known_versions() -> None:
    assert {
        "2.6.1",
        "2.7.1",
        "2.8.1",
        "3.3.1",
        "3.5.1",
        "3.6.1",
        "4.2.1",
        "4.3.1",
        "4.4.1",
        "4.5.1",
    } <= set(KNOWN_VERSIONS)
    parsed = [tuple(int(p) for p in v.split(".")) for v in KNOWN_VERSIONS]
    assert parsed == sorted(parsed)
