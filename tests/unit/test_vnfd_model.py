"""The VNF model: what SOL001 descriptors say, and located errors when they are wrong.

Malformed-but-parseable VNFDs must produce ``FILE:LINE: message`` problems
pointing at the offending line; valid ones (one-file or top + flavour
templates, imports by bare name, relative path or ETSI forge URL, cycles)
must give the expected model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vnfd_builders import (
    SOL001_IMPORTS,
    base_vnfd,
    dump,
    line_of,
    nodes,
    policy,
    write_package,
    write_vnfd,
)

from vnfm_runner.core import PackageError, Problem, load_vnf

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = ROOT / "examples" / "packages" / "webfarm"
VNFD = "Definitions/vnfd.yaml"


def problems_of(tmp_path: Path, doc: dict[str, Any]) -> tuple[list[Problem], str]:
    """Write ``doc``, expect it to be refused; return the errors and the written text.

    Strict (``vnfm package validate --strict``): dangling references are errors too;
    tests/corpus/test_leniency.py covers the default, where some are warnings."""
    text = write_vnfd(tmp_path / "pkg", doc)
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg", strict=True)
    return [p for p in info.value.problems if p.severity == "error"], text


def located(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


# -- located errors -------------------------------------------------------------------
def test_base_vnfd_is_valid(tmp_path: Path) -> None:
    write_vnfd(tmp_path / "pkg", base_vnfd())
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    assert model.vnfd_id == "b1bb0ce7-ebca-4fa7-95ed-4840d70a1177"
    assert [f.id for f in model.flavours] == ["simple"]


def test_unknown_node_type(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VDU2"]["type"] = "acme.nodes.Nope"
    problems, text = problems_of(tmp_path, doc)
    assert located(problems)[0] == (
        f"{VNFD}:{line_of(text, 'type: acme.nodes.Nope')}: "
        "node template 'VDU2': unknown node type 'acme.nodes.Nope'"
    )


def test_unknown_policy_type(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "VDU1_anti_affinity")["type"] = "acme.policies.Nope"
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'type: acme.policies.Nope')}: "
        "policy 'VDU1_anti_affinity': unknown policy type 'acme.policies.Nope'"
    ]


@pytest.mark.parametrize(
    ("node", "index", "requirement", "message"),
    [
        ("VDU1_CP", 1, "virtual_link", "CP 'VDU1_CP': virtual_link names unknown virtual link"),
        ("VDU1_CP", 0, "virtual_binding", "CP 'VDU1_CP': virtual_binding names unknown VDU"),
        ("VDU1", 0, "virtual_storage", "VDU 'VDU1': virtual_storage names unknown storage"),
    ],
)
def test_dangling_requirement(
    tmp_path: Path, node: str, index: int, requirement: str, message: str
) -> None:
    doc = base_vnfd()
    nodes(doc)[node]["requirements"][index] = {requirement: "nowhere"}
    problems, text = problems_of(tmp_path, doc)
    line = line_of(text, f"- {requirement}: nowhere")
    assert located(problems) == [f"{VNFD}:{line}: {message} 'nowhere'"]


def test_requirement_naming_a_node_of_the_wrong_kind(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VDU1_CP"]["requirements"][1] = {"virtual_link": "VDU2"}
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, '- virtual_link: VDU2')}: "
        "CP 'VDU1_CP': virtual_link names unknown virtual link 'VDU2'"
    ]


def test_min_greater_than_max(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VDU2"]["properties"]["vdu_profile"] = {
        "min_number_of_instances": 3,
        "max_number_of_instances": 2,
    }
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'min_number_of_instances: 3')}: "
        "VDU 'VDU2': min_number_of_instances (3) > max_number_of_instances (2)"
    ]


def test_vdu_without_profile(tmp_path: Path) -> None:
    doc = base_vnfd()
    del nodes(doc)["VDU2"]["properties"]["vdu_profile"]
    problems, text = problems_of(tmp_path, doc)
    vdu2 = line_of(text, "  VDU2:")
    assert located(problems)[0] == (
        f"{VNFD}:{line_of(text, 'properties:', vdu2)}: VDU 'VDU2' has no vdu_profile"
    )


def test_policy_targeting_an_unknown_vdu(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "VDU1_anti_affinity")["targets"] = ["VDU9"]
    problems, text = problems_of(tmp_path, doc)
    targets = line_of(text, "targets:", line_of(text, "VDU1_anti_affinity:"))
    assert located(problems) == [
        f"{VNFD}:{targets}: policy 'VDU1_anti_affinity' targets unknown node 'VDU9'"
    ]


def test_policy_targeting_a_node_of_the_wrong_kind(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "VDU2_initial_delta")["targets"] = ["VL1"]
    problems, text = problems_of(tmp_path, doc)
    targets = line_of(text, "targets:", line_of(text, "VDU2_initial_delta:"))
    assert located(problems) == [
        f"{VNFD}:{targets}: policy 'VDU2_initial_delta' cannot target 'VL1'"
    ]


def test_scaling_aspect_deltas_naming_an_unknown_aspect(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "VDU1_scaling_aspect_deltas")["properties"]["aspect"] = "nope_aspect"
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'aspect: nope_aspect')}: "
        "policy 'VDU1_scaling_aspect_deltas' names unknown aspect 'nope_aspect'"
    ]


def test_instantiation_level_above_the_aspect_maximum(tmp_path: Path) -> None:
    doc = base_vnfd()
    levels = policy(doc, "instantiation_levels")["properties"]["levels"]
    levels["instantiation_level_2"]["scale_info"]["VDU1_aspect"]["scale_level"] = 9
    problems, text = problems_of(tmp_path, doc)
    line = line_of(text, "VDU1_aspect:", line_of(text, "instantiation_level_2:"))
    assert located(problems) == [
        f"{VNFD}:{line}: instantiation level 'instantiation_level_2': "
        "scale_level 9 of aspect 'VDU1_aspect' is outside 0..4"
    ]


def test_instantiation_level_naming_an_unknown_aspect(tmp_path: Path) -> None:
    doc = base_vnfd()
    levels = policy(doc, "instantiation_levels")["properties"]["levels"]
    levels["instantiation_level_1"]["scale_info"] = {"other_aspect": {"scale_level": 0}}
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'other_aspect:')}: "
        "instantiation level 'instantiation_level_1' names unknown aspect 'other_aspect'"
    ]


def test_unknown_default_level(tmp_path: Path) -> None:
    doc = base_vnfd()
    policy(doc, "instantiation_levels")["properties"]["default_level"] = "gigantic"
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'default_level: gigantic')}: "
        "default_level 'gigantic' is not an instantiation level"
    ]


def test_vdu_instantiation_levels_naming_an_unknown_level(tmp_path: Path) -> None:
    doc = base_vnfd()
    levels = policy(doc, "VDU1_instantiation_levels")["properties"]["levels"]
    levels["instantiation_level_9"] = {"number_of_instances": 1}
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'policies:')}: "
        "VduInstantiationLevels names unknown instantiation level 'instantiation_level_9'"
    ]


def test_missing_descriptor_id(tmp_path: Path) -> None:
    doc = base_vnfd()
    del nodes(doc)["VNF"]["properties"]["descriptor_id"]
    problems, text = problems_of(tmp_path, doc)
    vnf = line_of(text, "  VNF:")
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'properties:', vnf)}: the VNF has no descriptor_id"
    ]


def test_invalid_cidr(tmp_path: Path) -> None:
    doc = base_vnfd()
    vl = nodes(doc)["VL1"]["properties"]["vl_profile"]
    vl["virtual_link_protocol_data"][0]["l3_protocol_data"]["cidr"] = "10.0.0.300/24"
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, '  VL1:') + 1}: virtual link 'VL1': invalid cidr '10.0.0.300/24'"
    ]


def test_unsupported_tosca_version(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["tosca_definitions_version"] = "tosca_2_0"
    problems, _text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:1: unsupported tosca_definitions_version 'tosca_2_0' "
        "(supported: tosca_simple_yaml_1_0, tosca_simple_yaml_1_1, tosca_simple_yaml_1_2, "
        "tosca_simple_yaml_1_3)"
    ]


def test_missing_import(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["imports"] = [*SOL001_IMPORTS, "types.yaml"]
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'imports:')}: imported file not found in package: Definitions/types.yaml"
    ]


def test_remote_import_that_is_not_normative_is_not_fetched(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["imports"] = [*SOL001_IMPORTS, "https://example.com/types.yaml"]
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'imports:')}: remote import 'https://example.com/types.yaml' "
        "is not a known normative type file and is not fetched"
    ]


def test_derived_from_an_unknown_type(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["node_types"] = {"acme.Vdu": {"derived_from": "acme.Missing"}}
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'derived_from: acme.Missing')}: "
        "node type 'acme.Vdu' is derived from unknown type 'acme.Missing'"
    ]


def test_lcm_playbook_that_is_missing(tmp_path: Path) -> None:
    doc = base_vnfd()
    vnf = nodes(doc)["VNF"]
    vnf["interfaces"] = {"Vnflcm": {"instantiate_end": {"implementation": "hook"}}}
    vnf["artifacts"] = {
        "hook": {"type": "tosca.artifacts.Implementation", "file": "../Scripts/nope.yml"}
    }
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'file: ../Scripts/nope.yml')}: "
        "artifact file not found in package: ../Scripts/nope.yml"
    ]


def test_lcm_operation_naming_an_unknown_artifact(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VNF"]["interfaces"] = {"Vnflcm": {"instantiate_end": "no_such_artifact"}}
    problems, text = problems_of(tmp_path, doc)
    assert located(problems) == [
        f"{VNFD}:{line_of(text, 'instantiate_end: no_such_artifact')}: "
        "operation Vnflcm.instantiate_end: unknown artifact 'no_such_artifact'"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VDU1_CP"]["requirements"][1] = {"virtual_link": "nowhere"}
    policy(doc, "VDU1_anti_affinity")["type"] = "acme.policies.Nope"
    policy(doc, "instantiation_levels")["properties"]["default_level"] = "gigantic"
    problems, _text = problems_of(tmp_path, doc)
    assert len(problems) == 3
    assert all(p.file == VNFD and p.line for p in problems)


# -- imports ----------------------------------------------------------------------------
def test_cyclic_imports_load(tmp_path: Path) -> None:
    """a imports b imports a: each file is read once and the package is valid."""
    doc = base_vnfd()
    doc["imports"] = [*SOL001_IMPORTS, "b.yaml"]
    nodes(doc)["VDU2"]["type"] = "acme.nodes.Vdu"
    types = {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "imports": ["vnfd.yaml", *SOL001_IMPORTS],
        "node_types": {"acme.nodes.Vdu": {"derived_from": "tosca.nodes.nfv.Vdu.Compute"}},
    }
    write_package(tmp_path / "pkg", {VNFD: doc, "Definitions/b.yaml": types})
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    flavour = model.flavour("simple")
    assert flavour is not None
    assert [v.id for v in flavour.vdus] == ["VDU1", "VDU2"]


@pytest.mark.parametrize("release", ["v2.6.1", "v4.3.1"])
def test_imports_by_etsi_forge_url_resolve_offline(tmp_path: Path, release: str) -> None:
    doc = base_vnfd()
    doc["imports"] = [
        f"https://forge.etsi.org/rep/nfv/SOL001/raw/{release}/{name}" for name in SOL001_IMPORTS
    ]
    write_vnfd(tmp_path / "pkg", doc)
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    assert [f.id for f in model.flavours] == ["simple"]


def test_imports_by_relative_path_and_versioned_name_resolve_offline(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["imports"] = [
        "../Definitions/etsi_nfv_sol001_common_types.yaml",
        "etsi_nfv_sol001_vnfd_2_5_1_types.yaml",
    ]
    write_vnfd(tmp_path / "pkg", doc)
    model, _warnings = load_vnf(tmp_path / "pkg")
    assert model.flavour("simple") is not None


def test_a_package_shipping_the_normative_types_uses_its_own(tmp_path: Path) -> None:
    """A package's copy wins over the catalogue's (here: a default our catalogue lacks).

    The shipped file imports the rest of the normative types by forge URL.
    """
    own_vnfd_types = {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "imports": [
            "https://forge.etsi.org/rep/nfv/SOL001/raw/v4.3.1/etsi_nfv_sol001_vnfd_types.yaml"
        ],
        "node_types": {
            "tosca.nodes.nfv.Vdu.Compute": {
                "derived_from": "tosca.nodes.Root",
                "properties": {
                    "vdu_profile": {
                        "type": "map",
                        "default": {"min_number_of_instances": 0, "max_number_of_instances": 9},
                    }
                },
            }
        },
    }
    doc = base_vnfd()
    del nodes(doc)["VDU2"]["properties"]["vdu_profile"]
    write_package(
        tmp_path / "pkg",
        {VNFD: doc, "Definitions/etsi_nfv_sol001_vnfd_types.yaml": own_vnfd_types},
    )
    model, _warnings = load_vnf(tmp_path / "pkg")
    flavour = model.flavour("simple")
    assert flavour is not None
    vdu2 = flavour.vdu("VDU2")
    assert vdu2 is not None
    assert (vdu2.min_instances, vdu2.max_instances) == (0, 9)


# -- layouts ---------------------------------------------------------------------------
def test_single_file_vnfd_without_tosca_metadata(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["metadata"] = {"template_name": "tiny", "template_author": "acme"}
    del doc["topology_template"]["substitution_mappings"]
    nodes(doc)["VNF"]["properties"]["flavour_id"] = "solo"
    write_package(tmp_path / "pkg", {"tiny.yaml": doc, "Files/readme.txt": "hi"}, entry=None)
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    assert model.entry_definitions == "tiny.yaml"
    assert model.vnfd_id == "b1bb0ce7-ebca-4fa7-95ed-4840d70a1177"
    assert (model.provider, model.product_name, model.software_version) == ("acme", "tiny", "2.1")
    assert [f.id for f in model.flavours] == ["solo"]
    assert model.flavours[0].template == "tiny.yaml"
    assert model.flavours[0].ext_cps == []  # no substitution_mappings: no external CP


def test_single_file_vnfd_with_its_manifest(tmp_path: Path) -> None:
    import hashlib

    text = dump(base_vnfd())
    digest = hashlib.sha256(text.encode()).hexdigest()
    mf = f"Source: tiny.yaml\nAlgorithm: SHA-256\nHash: {digest}\n"
    write_package(tmp_path / "pkg", {"tiny.yaml": text, "tiny.mf": mf}, entry=None)
    model, _warnings = load_vnf(tmp_path / "pkg")
    assert model.manifest is not None
    assert model.manifest["artifacts"][0]["verified"] is True


@pytest.mark.parametrize("roots", [[], ["a.yaml", "b.yaml"]])
def test_no_tosca_metadata_needs_exactly_one_root_yaml(tmp_path: Path, roots: list[str]) -> None:
    files: dict[str, Any] = {name: base_vnfd() for name in roots}
    files["Definitions/other.yaml"] = base_vnfd()
    pkg = write_package(tmp_path / "pkg", files, entry=None)
    with pytest.raises(PackageError) as info:
        load_vnf(pkg)
    what = "no YAML file" if not roots else "2 YAML files"
    assert [str(p) for p in info.value.problems] == [
        f"{pkg}: no TOSCA-Metadata/TOSCA.meta and {what} at the package root (expected exactly one)"
    ]


def test_flavour_defined_twice(tmp_path: Path) -> None:
    top = base_vnfd()
    top["imports"] = [*SOL001_IMPORTS, "df_a.yaml", "df_b.yaml"]
    del top["topology_template"]["substitution_mappings"]
    del top["topology_template"]["policies"]
    top["topology_template"]["node_templates"] = {"VNF": nodes(top)["VNF"]}
    df = base_vnfd()
    write_package(
        tmp_path / "pkg", {VNFD: top, "Definitions/df_a.yaml": df, "Definitions/df_b.yaml": df}
    )
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg")
    assert [str(p) for p in info.value.problems] == [
        f"Definitions/df_b.yaml:{line_of(dump(df), 'topology_template:')}: "
        "flavour 'simple' is defined twice (also in Definitions/df_a.yaml)"
    ]


# -- values -----------------------------------------------------------------------------
def test_get_input_resolution(tmp_path: Path) -> None:
    doc = base_vnfd()
    topo = doc["topology_template"]
    topo["inputs"] = {
        "vdu1_max": {"type": "integer", "default": 4},
        "vdu1_cpus": {"type": "integer", "default": 3},
        "product_name": {"type": "string"},
    }
    vdu1 = nodes(doc)["VDU1"]
    vdu1["properties"]["vdu_profile"]["max_number_of_instances"] = {"get_input": "vdu1_max"}
    vdu1["properties"]["description"] = {"get_input": "product_name"}  # the VNF's property
    vdu1["capabilities"]["virtual_compute"]["properties"]["virtual_cpu"] = {
        "num_virtual_cpu": {"get_input": "vdu1_cpus"}
    }
    policy(doc, "scaling_aspects")["properties"]["aspects"]["VDU1_aspect"]["max_scale_level"] = {
        "get_input": "vdu1_max"
    }
    write_vnfd(tmp_path / "pkg", doc)
    model, _warnings = load_vnf(tmp_path / "pkg")
    flavour = model.flavours[0]
    vdu = flavour.vdu("VDU1")
    assert vdu is not None
    assert (vdu.min_instances, vdu.max_instances) == (1, 4)
    assert vdu.description == "tiny"
    assert vdu.num_virtual_cpu == 3
    aspect = flavour.aspect("VDU1_aspect")
    assert aspect is not None and aspect.max_scale_level == 4


def test_property_defaults_from_a_derived_node_type(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["node_types"] = {
        "acme.nodes.Vdu": {
            "derived_from": "tosca.nodes.nfv.Vdu.Compute",
            "properties": {
                "vdu_profile": {
                    "type": "tosca.datatypes.nfv.VduProfile",
                    "default": {"min_number_of_instances": 2, "max_number_of_instances": 6},
                },
                "description": {"type": "string", "default": "from the base type"},
            },
        },
        "acme.nodes.SmallVdu": {
            "derived_from": "acme.nodes.Vdu",
            "properties": {"name": {"type": "string", "default": "small"}},
        },
    }
    vdu2 = nodes(doc)["VDU2"]
    vdu2["type"] = "acme.nodes.SmallVdu"
    vdu2["properties"] = {"description": "own value wins"}
    policy(doc, "VDU2_initial_delta")["properties"]["initial_delta"]["number_of_instances"] = 2
    write_vnfd(tmp_path / "pkg", doc)
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    vdu = model.flavours[0].vdu("VDU2")
    assert vdu is not None
    assert (vdu.min_instances, vdu.max_instances) == (2, 6)
    assert (vdu.name, vdu.description) == ("small", "own value wins")


def test_vnf_properties_from_the_vnf_type_defaults(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["node_types"] = {
        "acme.VNF": {
            "derived_from": "tosca.nodes.nfv.VNF",
            "properties": {
                "descriptor_id": {"type": "string", "default": "from-type"},
                "provider": {"type": "string", "default": "acme-type"},
            },
        }
    }
    vnf = nodes(doc)["VNF"]
    vnf["type"] = "acme.VNF"
    del vnf["properties"]["descriptor_id"], vnf["properties"]["provider"]
    doc["topology_template"]["substitution_mappings"]["node_type"] = "acme.VNF"
    write_vnfd(tmp_path / "pkg", doc)
    model, _warnings = load_vnf(tmp_path / "pkg")
    assert (model.vnfd_id, model.provider) == ("from-type", "acme-type")


HOOK = "- hosts: all\n  gather_facts: false\n  tasks: []\n"


@pytest.mark.parametrize(
    "vnflcm",
    [
        {"instantiate_end": {"implementation": "hook"}, "terminate_start": "hook"},
        {
            "operations": {
                "instantiate_end": {"implementation": "hook"},
                "terminate_start": {"implementation": {"primary": "hook"}},
            }
        },
    ],
    ids=["operation-keys", "operations-map"],
)
def test_both_interface_syntaxes(tmp_path: Path, vnflcm: dict[str, Any]) -> None:
    doc = base_vnfd()
    vnf = nodes(doc)["VNF"]
    vnf["interfaces"] = {"Vnflcm": {"type": "tosca.interfaces.nfv.Vnflcm", **vnflcm}}
    vnf["artifacts"] = {
        "hook": {"type": "tosca.artifacts.Implementation", "file": "../Scripts/hook.yml"}
    }
    write_package(tmp_path / "pkg", {VNFD: doc, "Scripts/hook.yml": HOOK})
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    ops = {op.name: op for op in model.flavours[0].lcm_operations}
    assert sorted(ops) == ["instantiate_end", "terminate_start"]
    for op in ops.values():
        assert (op.interface, op.implementation, op.artifact_file) == (
            "Vnflcm",
            "hook",
            "Scripts/hook.yml",
        )
        assert op.artifact_type == "tosca.artifacts.Implementation"


def test_operation_with_a_playbook_path_and_inputs(tmp_path: Path) -> None:
    doc = base_vnfd()
    nodes(doc)["VNF"]["interfaces"] = {
        "Vnflcm": {
            "instantiate_end": {
                "implementation": "Scripts/hook.yaml",  # package-root relative, no artifact
                "inputs": {"greeting": "hello", "who": {"get_input": "provider"}},
            }
        }
    }
    write_package(tmp_path / "pkg", {VNFD: doc, "Scripts/hook.yaml": HOOK})
    model, _warnings = load_vnf(tmp_path / "pkg")
    op = model.flavours[0].operation("instantiate_end")
    assert op is not None
    assert op.artifact_file == "Scripts/hook.yaml"
    assert op.inputs == {"greeting": "hello", "who": "acme"}


def test_non_playbook_artifact_only_warns_when_missing(tmp_path: Path) -> None:
    """A driver artifact (a Python file another VNFM would run) is not required."""
    doc = base_vnfd()
    vnf = nodes(doc)["VNF"]
    vnf["interfaces"] = {"Vnflcm": {"instantiate_end": {"implementation": "driver"}}}
    vnf["artifacts"] = {"driver": {"type": "tosca.artifacts.Implementation.Python", "file": "x.py"}}
    write_vnfd(tmp_path / "pkg", doc)
    model, warnings = load_vnf(tmp_path / "pkg")
    assert [str(w) for w in warnings] == [
        f"{VNFD}:{line_of((tmp_path / 'pkg' / VNFD).read_text(), 'file: x.py')}: "
        "warning: artifact file not found in package: x.py"
    ]
    op = model.flavours[0].operation("instantiate_end")
    assert op is not None and op.artifact_file is None


def test_base_model_contents(tmp_path: Path) -> None:
    write_vnfd(tmp_path / "pkg", base_vnfd())
    model, _warnings = load_vnf(tmp_path / "pkg")
    fl = model.flavours[0]
    assert fl.description == "a tiny flavour"
    assert [(c.id, c.vdu_id, c.virtual_link, c.order) for c in fl.cps] == [
        ("VDU1_EXT_CP", "VDU1", None, 0),
        ("VDU1_CP", "VDU1", "VL1", 1),
        ("VDU2_CP", "VDU2", "VL1", 0),
    ]
    (vl,) = fl.virtual_links
    assert (vl.id, vl.cidr, vl.ip_version, vl.layer_protocols) == (
        "VL1",
        "192.168.50.0/24",
        "ipv4",
        ["ipv4"],
    )
    (storage,) = fl.storage
    assert (storage.id, storage.kind, storage.size_gb) == ("VDU1_DATA", "block", 3.0)
    vdu1 = fl.vdu("VDU1")
    assert vdu1 is not None
    assert (vdu1.num_virtual_cpu, vdu1.virtual_mem_size_mb, vdu1.storage) == (
        2,
        1024.0,
        ["VDU1_DATA"],
    )
    assert fl.initial_deltas == {"VDU1": 1, "VDU2": 1}
    assert {lv.id: lv.vdu_instances for lv in fl.instantiation_levels} == {
        "instantiation_level_1": {"VDU1": 1, "VDU2": 1},
        "instantiation_level_2": {"VDU1": 3, "VDU2": 1},
    }
    assert fl.default_level == "instantiation_level_1"


# -- the webfarm sample -----------------------------------------------------------------
def test_webfarm_model() -> None:
    model, warnings = load_vnf(WEBFARM)
    assert warnings == []
    assert model.vnfd_id == "8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61"
    assert (model.provider, model.product_name, model.software_version, model.vnfd_version) == (
        "vnfm-toolkit",
        "webfarm",
        "1.0",
        "1.0",
    )
    assert model.entry_definitions == "Definitions/webfarm_top.yaml"
    assert model.manifest is not None
    assert all(a["verified"] for a in model.manifest["artifacts"] if not a["remote"])
    assert [f.id for f in model.flavours] == ["compact", "default"]

    default = model.flavour("default")
    assert default is not None
    assert {v.id: (v.min_instances, v.max_instances) for v in default.vdus} == {
        "lb": (1, 1),
        "web": (1, 8),
    }
    assert [(a.id, a.max_scale_level) for a in default.scaling_aspects] == [("web", 7)]
    assert default.scaling_aspects[0].vdu_deltas == {"web": {"delta_1": 1}}
    assert {lv.id: lv.vdu_instances for lv in default.instantiation_levels} == {
        "small": {"lb": 1, "web": 2},
        "large": {"lb": 1, "web": 4},
    }
    assert {lv.id: lv.scale_info for lv in default.instantiation_levels} == {
        "small": {"web": 1},
        "large": {"web": 3},
    }
    assert default.default_level == "small"
    assert [(r.id, r.kind, r.scope, r.vdu_ids) for r in default.placement_rules] == [
        ("web_anti_affinity", "anti-affinity", "nfvi_node", ["web"])
    ]
    assert [(c.id, c.requirement, c.kind, c.vdu_id) for c in default.ext_cps] == [
        ("lb_ext_cp", "virtual_link_external", "VduCp", "lb")
    ]
    assert [(vl.id, vl.cidr) for vl in default.virtual_links] == [("internal_vl", "10.10.10.0/24")]
    assert [(s.id, s.size_gb) for s in default.storage] == [("web_data", 1.0)]
    assert [(r.id, r.port_range_min, r.cp_ids) for r in default.security_group_rules] == [
        ("lb_http_ingress", 80, ["lb_ext_cp"])
    ]
    hooks = {op.name: op for op in default.lcm_operations if op.interface == "Vnflcm"}
    assert set(hooks) >= {  # the sample may grow more hooks (operate_*, ...)
        "heal_end",
        "instantiate_end",
        "scale_end",
        "scale_start",
        "terminate_start",
    }
    # A hook runs its own playbook when the package has one by its name; hooks of
    # operations that work alike share one (change_flavour_* use scale_*, rollbacks
    # and change_external_connectivity_end re-run instantiate_end).
    for op in default.lcm_operations:
        own = f"Scripts/{op.name}.yml"
        if op.interface == "PackageChange":  # steps of a rolling package change: task files
            assert op.artifact_file and op.artifact_file.startswith("Scripts/steps/"), op.name
        elif (WEBFARM / own).is_file():
            assert op.artifact_file == own
        else:
            assert op.artifact_file in (
                "Scripts/scale_start.yml",
                "Scripts/scale_end.yml",
                "Scripts/instantiate_end.yml",
            ), op.name
        assert (WEBFARM / op.artifact_file).is_file()
    custom = default.operation("rotate_logs")
    assert custom is not None and custom.interface == "Custom"

    compact = model.flavour("compact")
    assert compact is not None
    assert {v.id: (v.min_instances, v.max_instances) for v in compact.vdus} == {
        "lb": (1, 1),
        "web": (1, 2),
    }
    assert [(a.id, a.max_scale_level) for a in compact.scaling_aspects] == [("web", 1)]
    assert [lv.id for lv in compact.instantiation_levels] == ["single"]
    assert compact.default_level == "single"
