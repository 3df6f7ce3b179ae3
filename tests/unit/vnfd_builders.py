"""Helpers of the unit tests: small VNF packages written into ``tmp_path``.

Not a test module (pytest does not collect it). ``base_vnfd()`` is a complete,
valid one-file VNFD as a Python mapping that a test changes before writing it
with :func:`write_package`; :func:`line_of` finds the line of a text in a
written file, so tests can assert exact ``FILE:LINE`` locations.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SOL001_IMPORTS = ["etsi_nfv_sol001_common_types.yaml", "etsi_nfv_sol001_vnfd_types.yaml"]

_BASE: dict[str, Any] = {
    "tosca_definitions_version": "tosca_simple_yaml_1_3",
    "description": "tiny VNF for the unit tests",
    "imports": list(SOL001_IMPORTS),
    "topology_template": {
        "substitution_mappings": {
            "node_type": "tosca.nodes.nfv.VNF",
            "properties": {"flavour_id": "simple"},
            "requirements": {"virtual_link_external": ["VDU1_EXT_CP", "virtual_link"]},
        },
        "node_templates": {
            "VNF": {
                "type": "tosca.nodes.nfv.VNF",
                "properties": {
                    "descriptor_id": "b1bb0ce7-ebca-4fa7-95ed-4840d70a1177",
                    "descriptor_version": "1.0",
                    "provider": "acme",
                    "product_name": "tiny",
                    "software_version": "2.1",
                    "vnfm_info": ["vnfm-toolkit"],
                    "flavour_description": "a tiny flavour",
                },
            },
            "VDU1": {
                "type": "tosca.nodes.nfv.Vdu.Compute",
                "properties": {
                    "name": "VDU1",
                    "description": "first VDU",
                    "vdu_profile": {"min_number_of_instances": 1, "max_number_of_instances": 5},
                },
                "capabilities": {
                    "virtual_compute": {
                        "properties": {
                            "virtual_cpu": {"num_virtual_cpu": 2},
                            "virtual_memory": {"virtual_mem_size": "1 GB"},
                        }
                    }
                },
                "requirements": [{"virtual_storage": "VDU1_DATA"}],
            },
            "VDU2": {
                "type": "tosca.nodes.nfv.Vdu.Compute",
                "properties": {
                    "name": "VDU2",
                    "description": "second VDU",
                    "vdu_profile": {"min_number_of_instances": 1, "max_number_of_instances": 2},
                },
            },
            "VDU1_DATA": {
                "type": "tosca.nodes.nfv.Vdu.VirtualBlockStorage",
                "properties": {"virtual_block_storage_data": {"size_of_storage": "3 GB"}},
            },
            "VDU1_EXT_CP": {
                "type": "tosca.nodes.nfv.VduCp",
                "properties": {"layer_protocols": ["ipv4"], "order": 0},
                "requirements": [{"virtual_binding": "VDU1"}],
            },
            "VDU1_CP": {
                "type": "tosca.nodes.nfv.VduCp",
                "properties": {"layer_protocols": ["ipv4"], "order": 1},
                "requirements": [{"virtual_binding": "VDU1"}, {"virtual_link": "VL1"}],
            },
            "VDU2_CP": {
                "type": "tosca.nodes.nfv.VduCp",
                "properties": {"layer_protocols": ["ipv4"], "order": 0},
                "requirements": [{"virtual_binding": "VDU2"}, {"virtual_link": "VL1"}],
            },
            "VL1": {
                "type": "tosca.nodes.nfv.VnfVirtualLink",
                "properties": {
                    "connectivity_type": {"layer_protocols": ["ipv4"]},
                    "vl_profile": {
                        "virtual_link_protocol_data": [
                            {
                                "associated_layer_protocol": "ipv4",
                                "l3_protocol_data": {
                                    "ip_version": "ipv4",
                                    "cidr": "192.168.50.0/24",
                                },
                            }
                        ]
                    },
                },
            },
        },
        "policies": [
            {
                "scaling_aspects": {
                    "type": "tosca.policies.nfv.ScalingAspects",
                    "properties": {
                        "aspects": {
                            "VDU1_aspect": {
                                "name": "VDU1_aspect",
                                "description": "VDU1 scaling",
                                "max_scale_level": 4,
                                "step_deltas": ["delta_1"],
                            }
                        }
                    },
                }
            },
            {
                "VDU1_initial_delta": {
                    "type": "tosca.policies.nfv.VduInitialDelta",
                    "properties": {"initial_delta": {"number_of_instances": 1}},
                    "targets": ["VDU1"],
                }
            },
            {
                "VDU2_initial_delta": {
                    "type": "tosca.policies.nfv.VduInitialDelta",
                    "properties": {"initial_delta": {"number_of_instances": 1}},
                    "targets": ["VDU2"],
                }
            },
            {
                "VDU1_scaling_aspect_deltas": {
                    "type": "tosca.policies.nfv.VduScalingAspectDeltas",
                    "properties": {
                        "aspect": "VDU1_aspect",
                        "deltas": {"delta_1": {"number_of_instances": 1}},
                    },
                    "targets": ["VDU1"],
                }
            },
            {
                "instantiation_levels": {
                    "type": "tosca.policies.nfv.InstantiationLevels",
                    "properties": {
                        "levels": {
                            "instantiation_level_1": {
                                "description": "smallest",
                                "scale_info": {"VDU1_aspect": {"scale_level": 0}},
                            },
                            "instantiation_level_2": {
                                "description": "largest",
                                "scale_info": {"VDU1_aspect": {"scale_level": 2}},
                            },
                        },
                        "default_level": "instantiation_level_1",
                    },
                }
            },
            {
                "VDU1_instantiation_levels": {
                    "type": "tosca.policies.nfv.VduInstantiationLevels",
                    "properties": {
                        "levels": {
                            "instantiation_level_1": {"number_of_instances": 1},
                            "instantiation_level_2": {"number_of_instances": 3},
                        }
                    },
                    "targets": ["VDU1"],
                }
            },
            {
                "VDU1_anti_affinity": {
                    "type": "tosca.policies.nfv.AntiAffinityRule",
                    "properties": {"scope": "nfvi_node"},
                    "targets": ["VDU1"],
                }
            },
        ],
    },
}


def base_vnfd() -> dict[str, Any]:
    """A fresh copy of the valid one-file VNFD (flavour ``simple``)."""
    return copy.deepcopy(_BASE)


def nodes(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["topology_template"]["node_templates"]
    return result


def policy(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The body of the policy ``name`` of ``doc`` (list-of-maps form)."""
    for item in doc["topology_template"]["policies"]:
        if name in item:
            body: dict[str, Any] = item[name]
            return body
    raise KeyError(name)


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def write_package(
    root: Path,
    files: dict[str, str | bytes | dict[str, Any]],
    *,
    entry: str | None = "Definitions/vnfd.yaml",
    meta: str | None = None,
) -> Path:
    """Write a package directory: ``files`` (text, bytes or a YAML mapping) and TOSCA.meta.

    ``entry`` names the Entry-Definitions of a generated TOSCA.meta; ``None``
    writes no TOSCA-Metadata at all (a one-YAML-at-the-root package); ``meta``
    gives the TOSCA.meta text verbatim.
    """
    root.mkdir(parents=True, exist_ok=True)
    if meta is not None:
        files = {"TOSCA-Metadata/TOSCA.meta": meta, **files}
    elif entry is not None:
        files = {
            "TOSCA-Metadata/TOSCA.meta": (
                "TOSCA-Meta-File-Version: 1.0\n"
                "CSAR-Version: 1.1\n"
                "Created-by: tests\n"
                f"Entry-Definitions: {entry}\n"
            ),
            **files,
        }
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            content = dump(content)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def write_vnfd(root: Path, doc: dict[str, Any], name: str = "Definitions/vnfd.yaml") -> str:
    """Write ``doc`` as the package's only VNFD (with TOSCA.meta); return its text."""
    text = dump(doc)
    write_package(root, {name: text}, entry=name)
    return text


def line_of(text: str, needle: str, start: int = 1) -> int:
    """1-based number of the first line at or after ``start`` that contains ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if number >= start and needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")
