"""Benchmark of the package reader and the planner on synthetic VNF packages.

Generates packages (directories in a temporary directory) with 10, 100 and
500 VDUs: each VDU has two CPs, one on each of two internal virtual links
with /16 CIDRs, and one block storage; one scaling aspect per 10 VDUs, two
instantiation levels, one anti-affinity rule per aspect group. Measures
``load_vnf`` (parse + model) and ``plan`` separately (best of 5,
``time.perf_counter``), the tracemalloc peak of one full parse + plan, and
flags whether 500 VDUs take less than a second in total.

    .venv/bin/python bench/plan_bench.py [--sizes 10,100,500] [--repeat 5] [--profile N]

``--profile N`` also prints the cProfile hot spots of parse + plan for N VDUs.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[1]

from vnfm_runner.core import PlanRequest, load_vnf, plan  # noqa: E402

T = TypeVar("T")
GROUP = 10  # VDUs per scaling aspect (and per anti-affinity rule)
MAX_INSTANCES = 10
LEVELS = {"small": 0, "large": 2}  # instantiation level -> scale level of every aspect
INSTANCE_ID = "be7c4000-0000-4000-8000-000000000001"


def vnfd(vdus: int) -> dict[str, Any]:
    """A one-flavour VNFD with ``vdus`` VDUs (see the module docstring)."""
    names = [f"VDU{n:04d}" for n in range(vdus)]
    groups = [names[i : i + GROUP] for i in range(0, vdus, GROUP)]
    nodes: dict[str, Any] = {
        "VNF": {
            "type": "tosca.nodes.nfv.VNF",
            "properties": {
                "descriptor_id": f"bench-{vdus}",
                "descriptor_version": "1.0",
                "provider": "bench",
                "product_name": f"bench{vdus}",
                "software_version": "1.0",
                "vnfm_info": ["vnfm-toolkit"],
                "flavour_description": "synthetic",
            },
        }
    }
    for n, cidr in enumerate(("10.1.0.0/16", "10.2.0.0/16")):
        nodes[f"VL{n}"] = {
            "type": "tosca.nodes.nfv.VnfVirtualLink",
            "properties": {
                "connectivity_type": {"layer_protocols": ["ipv4"]},
                "vl_profile": {
                    "virtual_link_protocol_data": [
                        {
                            "associated_layer_protocol": "ipv4",
                            "l3_protocol_data": {"ip_version": "ipv4", "cidr": cidr},
                        }
                    ]
                },
            },
        }
    for name in names:
        nodes[name] = {
            "type": "tosca.nodes.nfv.Vdu.Compute",
            "properties": {
                "name": name,
                "description": f"synthetic VDU {name}",
                "vdu_profile": {
                    "min_number_of_instances": 1,
                    "max_number_of_instances": MAX_INSTANCES,
                },
                "sw_image_data": {
                    "name": "cirros",
                    "version": "0.6.2",
                    "container_format": "bare",
                    "disk_format": "qcow2",
                    "min_disk": "1 GB",
                    "size": "1 GB",
                },
            },
            "capabilities": {
                "virtual_compute": {
                    "properties": {
                        "virtual_cpu": {"num_virtual_cpu": 1},
                        "virtual_memory": {"virtual_mem_size": "512 MB"},
                        "virtual_local_storage": [{"size_of_storage": "1 GB"}],
                    }
                }
            },
            "requirements": [{"virtual_storage": f"{name}_data"}],
        }
        nodes[f"{name}_data"] = {
            "type": "tosca.nodes.nfv.Vdu.VirtualBlockStorage",
            "properties": {"virtual_block_storage_data": {"size_of_storage": "1 GB"}},
        }
        for n in range(2):
            nodes[f"{name}_CP{n}"] = {
                "type": "tosca.nodes.nfv.VduCp",
                "properties": {"layer_protocols": ["ipv4"], "order": n},
                "requirements": [{"virtual_binding": name}, {"virtual_link": f"VL{n}"}],
            }
    aspects = {
        f"aspect{g}": {"name": f"aspect{g}", "max_scale_level": 5, "step_deltas": ["delta_1"]}
        for g in range(len(groups))
    }
    policies: list[dict[str, Any]] = [
        {
            "scaling_aspects": {
                "type": "tosca.policies.nfv.ScalingAspects",
                "properties": {"aspects": aspects},
            }
        },
        {
            "initial_delta": {
                "type": "tosca.policies.nfv.VduInitialDelta",
                "properties": {"initial_delta": {"number_of_instances": 1}},
                "targets": names,
            }
        },
        {
            "instantiation_levels": {
                "type": "tosca.policies.nfv.InstantiationLevels",
                "properties": {
                    "levels": {
                        level: {"scale_info": {a: {"scale_level": sl} for a in aspects}}
                        for level, sl in LEVELS.items()
                    },
                    "default_level": "small",
                },
            }
        },
        {
            "vdu_instantiation_levels": {
                "type": "tosca.policies.nfv.VduInstantiationLevels",
                "properties": {
                    "levels": {
                        level: {"number_of_instances": 1 + sl} for level, sl in LEVELS.items()
                    }
                },
                "targets": names,
            }
        },
    ]
    for g, members in enumerate(groups):
        policies.append(
            {
                f"aspect{g}_deltas": {
                    "type": "tosca.policies.nfv.VduScalingAspectDeltas",
                    "properties": {
                        "aspect": f"aspect{g}",
                        "deltas": {"delta_1": {"number_of_instances": 1}},
                    },
                    "targets": members,
                }
            }
        )
        policies.append(
            {
                f"group{g}_anti_affinity": {
                    "type": "tosca.policies.nfv.AntiAffinityRule",
                    "properties": {"scope": "nfvi_node"},
                    "targets": members,
                }
            }
        )
    return {
        "tosca_definitions_version": "tosca_simple_yaml_1_3",
        "imports": ["etsi_nfv_sol001_common_types.yaml", "etsi_nfv_sol001_vnfd_types.yaml"],
        "topology_template": {
            "substitution_mappings": {
                "node_type": "tosca.nodes.nfv.VNF",
                "properties": {"flavour_id": "default"},
                "requirements": {},
            },
            "node_templates": nodes,
            "policies": policies,
        },
    }


def write_package(root: Path, vdus: int) -> Path:
    (root / "TOSCA-Metadata").mkdir(parents=True)
    (root / "Definitions").mkdir()
    (root / "TOSCA-Metadata" / "TOSCA.meta").write_text(
        "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: bench\n"
        "Entry-Definitions: Definitions/vnfd.yaml\n"
    )
    text = yaml.safe_dump(vnfd(vdus), sort_keys=False, default_flow_style=False)
    (root / "Definitions" / "vnfd.yaml").write_text(text)
    return root


def best_of(repeat: int, func: Callable[[], T]) -> tuple[float, float, T]:
    """Best wall time (perf_counter), best CPU time (process_time) and the result."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = func()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    assert result is not None
    return best, best_cpu, result


def measure(pkg: Path, repeat: int) -> dict[str, Any]:
    request = PlanRequest(INSTANCE_ID, "default", "large")
    parse_s, parse_cpu, (model, _warnings) = best_of(repeat, lambda: load_vnf(pkg))
    plan_s, plan_cpu, result = best_of(repeat, lambda: plan(model, request))
    tracemalloc.start()
    m2, _ = load_vnf(pkg)
    plan(m2, request)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "parse_ms": parse_s * 1000,
        "plan_ms": plan_s * 1000,
        "total_ms": (parse_s + plan_s) * 1000,
        "cpu_ms": (parse_cpu + plan_cpu) * 1000,
        "vnfcs": len(result["vnfcs"]),
        "peak_mib": peak / 2**20,
        "yaml_kib": (pkg / "Definitions" / "vnfd.yaml").stat().st_size / 1024,
    }


def profile(pkg: Path, top: int = 25) -> str:
    request = PlanRequest(INSTANCE_ID, "default", "large")
    prof = cProfile.Profile()
    prof.enable()
    model, _ = load_vnf(pkg)
    plan(model, request)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    out.write("\n--- by own time ---\n")
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", type=int, metavar="VDUS", help="profile this size too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="vnfm-bench-") as tmp:
        for size in sizes:
            pkg = write_package(Path(tmp) / f"vdus{size}", size)
            rows.append((size, measure(pkg, args.repeat)))
        header = (
            f"{'VDUs':>5} {'YAML KiB':>9} {'parse ms':>9} {'plan ms':>8} {'total ms':>9} "
            f"{'VNFCs planned':>13} {'peak MiB':>9} {'CPU ms':>7}"
        )
        print(header)
        print("-" * len(header))
        for size, r in rows:
            print(
                f"{size:>5} {r['yaml_kib']:>9.0f} {r['parse_ms']:>9.1f} {r['plan_ms']:>8.1f} "
                f"{r['total_ms']:>9.1f} {r['vnfcs']:>13} {r['peak_mib']:>9.1f} {r['cpu_ms']:>7.1f}"
            )
        by_size = dict(rows)
        if 500 in by_size:
            total = by_size[500]["total_ms"]
            verdict = "OK" if total < 1000 else "TOO SLOW"
            print(f"\n500 VDUs, parse + plan: {total:.0f} ms (< 1 s: {verdict})")
            print(
                f"(CPU time {by_size[500]['cpu_ms']:.0f} ms; wall time suffers when the machine "
                "is busy, CPU time much less)"
            )
        if args.profile:
            pkg = Path(tmp) / f"vdus{args.profile}"
            if not pkg.exists():
                write_package(pkg, args.profile)
            print(f"\ncProfile, parse + plan of {args.profile} VDUs:\n")
            print(profile(pkg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
