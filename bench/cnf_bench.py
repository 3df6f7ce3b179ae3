"""Benchmark: webfarm-cnf on the podman VIM against webfarm on the local VIM.

The same lifecycle for both, through the service layer (``Vnfm``) with a temporary
VNFM_HOME: instantiate level ``small`` (lb + 2 webs), scale out by one web, scale out
by four more (the marginal time of a VNFC: (4-step - 1-step) / 3), scale in by five,
heal one web, terminate. Printed per operation: wall seconds of each VIM side by side.

Then the per-pod cost on podman, at level ``large`` (lb + 4 webs): for each pod the
memory its containers use (``podman stats``: the app container and the pod's infra
container) plus its two ``conmon`` monitors (RSS from /proc), against the local VIM's
cost of a VNFC (the RSS of its daemon: a namespace itself costs no process).

    .venv/bin/python bench/cnf_bench.py [--repeat N] [--json FILE]

Needs root, iproute2 and podman (with runc); builds ``localhost/webfarm-cnf:1`` when
missing; removes everything it created, even on failure. Wall times move with the
host's load: ``--repeat 3`` keeps the fastest of each operation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from vnfm_runner.lcm import Vnfm  # noqa: E402
from vnfm_runner.paths import EXAMPLES_DIR, ensure_core_importable  # noqa: E402
from vnfm_runner.settings import Settings  # noqa: E402

PODMAN_VIM = "bench-podman"
PODMAN_CONF = "/var/lib/vnfm/podman-vim/containers.conf"  # the podman VIM's own
LABEL_INSTANCE = "vnfm.etsi.org/instance-id"
IMAGE = "localhost/webfarm-cnf:1"

# (name, the request or None for terminate) in order; scale requests on aspect web
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("scale out 1", "SCALE", {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 1}),
    ("scale out 4", "SCALE", {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 4}),
    ("scale in 5", "SCALE", {"type": "SCALE_IN", "aspectId": "web", "numberOfSteps": 5}),
    ("heal web-0", "HEAL", {"vnfcInstanceId": ["web-0"], "cause": "bench"}),
]


def podman(*args: str) -> str:
    env = dict(os.environ)
    if "CONTAINERS_CONF" not in env and Path(PODMAN_CONF).is_file():
        env["CONTAINERS_CONF"] = PODMAN_CONF
    proc = subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args[:2])}: {proc.stderr.strip()[-300:]}")
    return proc.stdout


def cleanup(vim_type: str, instance_id: str) -> None:
    """The driver's removal by instance id; podman pods by label, local namespaces by name."""
    ensure_core_importable()
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    with contextlib.suppress(Exception):
        get_driver({"vimType": vim_type}).remove(instance_id, check_mode=False)
    if vim_type == "podman":
        with contextlib.suppress(Exception):
            out = podman("pod", "ps", "-q", "--filter", f"label={LABEL_INSTANCE}={instance_id}")
            for pod in out.split():
                podman("pod", "rm", "--force", "--time", "0", pod)
        return
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if instance_id in name:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    shutil.rmtree(Path("/run/vnfm") / instance_id, ignore_errors=True)


def timed(call: Any, what: str) -> float:
    started = time.perf_counter()
    op = call()
    wall = time.perf_counter() - started
    if op["operationState"] != "COMPLETED":
        detail = (op.get("error") or {}).get("detail")
        raise RuntimeError(f"{what} ended {op['operationState']}: {detail}")
    return wall


def lifecycle(svc: Vnfm, vnfd_id: str, vim: str | None, vim_type: str) -> dict[str, float]:
    """One lifecycle; wall seconds per operation."""
    inst = svc.create(vnfd_id=vnfd_id, name=f"bench-cnf-{vim_type}")["id"]
    out: dict[str, float] = {}
    try:
        out["instantiate small"] = timed(
            lambda: svc.instantiate(
                instance_id=inst,
                request={"flavourId": "default", "instantiationLevelId": "small"},
                vim_name=vim,
            ),
            "instantiate",
        )
        for name, operation, request in OPERATIONS:
            out[name] = timed(
                lambda o=operation, r=request: svc.run_operation(  # type: ignore[misc]
                    instance_id=inst, operation=o, request=r
                ),
                name,
            )
        out["terminate"] = timed(
            lambda: svc.terminate(instance_id=inst, request={"terminationType": "FORCEFUL"}),
            "terminate",
        )
        svc.delete(instance_id=inst)
    finally:
        cleanup(vim_type, inst)
    out["per VNFC (scale out)"] = (out["scale out 4"] - out["scale out 1"]) / 3
    return out


def _rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _conmon_rss(container_ids: set[str]) -> dict[str, int]:
    """RSS (KiB) of the conmon process of each container id."""
    out: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if not cmd or not cmd[0].endswith(b"conmon"):
            continue
        args = [a.decode(errors="replace") for a in cmd]
        for i, arg in enumerate(args[:-1]):
            if arg in ("-c", "--cid") and args[i + 1] in container_ids:
                out[args[i + 1]] = _rss_kib(int(pid))
    return out


def _mem_bytes(text: str) -> float:
    units = {"b": 1, "kb": 1e3, "kib": 1024, "mb": 1e6, "mib": 1024**2, "gb": 1e9, "gib": 1024**3}
    value = text.strip().split("/")[0].strip().lower()
    for unit in sorted(units, key=len, reverse=True):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * units[unit]
    return float(value or 0)


def pod_costs(svc: Vnfm, vnfd_id: str) -> list[dict[str, Any]]:
    """At level large: each pod's container memory and its conmons' RSS (MiB)."""
    inst = svc.create(vnfd_id=vnfd_id, name="bench-cnf-pods")["id"]
    try:
        timed(
            lambda: svc.instantiate(
                instance_id=inst,
                request={"flavourId": "default", "instantiationLevelId": "large"},
                vim_name=PODMAN_VIM,
            ),
            "instantiate large",
        )
        ctrs = json.loads(podman("ps", "--all", "--format", "json") or "[]")
        pods = json.loads(
            podman("pod", "ps", "--format", "json", "--filter", f"label={LABEL_INSTANCE}={inst}")
            or "[]"
        )
        pod_ids = {str(p["Id"]): str(p["Name"]) for p in pods}
        ctrs = [c for c in ctrs if str(c.get("Pod")) in pod_ids]
        ids = [str(c["Id"]) for c in ctrs]
        stats = json.loads(podman("stats", "--no-stream", "--format", "json", *ids) or "[]")
        mem = {
            str(s.get("id") or s.get("ID"))[:12]: _mem_bytes(str(s.get("mem_usage"))) for s in stats
        }
        conmon = _conmon_rss(set(ids))
        out: list[dict[str, Any]] = []
        for pod_id, pod_name in sorted(pod_ids.items(), key=lambda kv: kv[1]):
            mine = [c for c in ctrs if str(c.get("Pod")) == pod_id]
            containers = sum(mem.get(str(c["Id"])[:12], 0.0) for c in mine) / 2**20
            monitors = sum(conmon.get(str(c["Id"]), 0) for c in mine) / 1024
            out.append(
                {
                    "pod": pod_name,
                    "containers": len(mine),
                    "containerMiB": round(containers, 1),
                    "conmonMiB": round(monitors, 1),
                    "totalMiB": round(containers + monitors, 1),
                }
            )
        timed(
            lambda: svc.terminate(instance_id=inst, request={"terminationType": "FORCEFUL"}),
            "terminate",
        )
        svc.delete(instance_id=inst)
        return out
    finally:
        cleanup("podman", inst)


def local_vnfc_cost(svc: Vnfm, vnfd_id: str) -> dict[str, float]:
    """At level large on the local VIM: the RSS (MiB) of a VNFC's daemon, mean and max."""
    inst = svc.create(vnfd_id=vnfd_id, name="bench-local-vnfcs")["id"]
    try:
        timed(
            lambda: svc.instantiate(
                instance_id=inst,
                request={"flavourId": "default", "instantiationLevelId": "large"},
            ),
            "instantiate large",
        )
        rss: list[float] = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError):
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                if inst in cmd and ("web.py" in cmd or "lb.py" in cmd):
                    rss.append(_rss_kib(int(pid)) / 1024)
        timed(
            lambda: svc.terminate(instance_id=inst, request={"terminationType": "FORCEFUL"}),
            "terminate",
        )
        svc.delete(instance_id=inst)
        return {"vnfcs": len(rss), "meanMiB": round(statistics.mean(rss or [0]), 1),
                "maxMiB": round(max(rss or [0]), 1)}  # fmt: skip
    finally:
        cleanup("local", inst)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the fastest is kept")
    parser.add_argument("--json", dest="json_file", help="write the raw results here")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("podman") is None:
        print("needs root, iproute2 and podman (scripts/setup.sh installs them)", file=sys.stderr)
        return 2
    if subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        subprocess.run(["bash", str(ROOT / "scripts" / "build-cnf-image.sh")], check=True)
    home = Path(tempfile.mkdtemp(prefix="vnfm-cnfbench-"))
    best: dict[str, dict[str, float]] = {"local": {}, "podman": {}}
    try:
        svc = Vnfm.open(Settings(home=home), recover=False)
        svc.vims.add(name=PODMAN_VIM, vim_type="podman")
        vm = svc.onboard(EXAMPLES_DIR / "webfarm").vnfd_id
        cnf = svc.onboard(EXAMPLES_DIR / "webfarm-cnf").vnfd_id
        for i in range(max(1, args.repeat)):
            for key, vnfd, vim in (("local", vm, None), ("podman", cnf, PODMAN_VIM)):
                for name, wall in lifecycle(svc, vnfd, vim, key).items():
                    best[key][name] = min(wall, best[key].get(name, wall))
            print(f"  round {i + 1} done", file=sys.stderr)
        pods = pod_costs(svc, cnf)
        local = local_vnfc_cost(svc, vm)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    print(
        f"webfarm on the local VIM vs webfarm-cnf on podman (load average "
        f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, best of {max(1, args.repeat)})\n"
    )
    print(f"{'operation':<22} {'local VIM (s)':>14} {'podman (s)':>11} {'ratio':>6}")
    for name in best["local"]:
        lo, po = best["local"][name], best["podman"][name]
        print(f"{name:<22} {lo:>14.2f} {po:>11.2f} {po / lo if lo else 0:>6.2f}")
    print("\nper-pod cost on podman (level large):")
    print(f"{'pod':<28} {'containers':>10} {'containers MiB':>15} {'conmon MiB':>11} {'total':>7}")
    for p in pods:
        print(f"{p['pod']:<28} {p['containers']:>10} {p['containerMiB']:>15} "
              f"{p['conmonMiB']:>11} {p['totalMiB']:>7}")  # fmt: skip
    mean_pod = statistics.mean([p["totalMiB"] for p in pods] or [0])
    print(f"mean per pod: {mean_pod:.1f} MiB; local VIM per VNFC (its daemon's RSS): "
          f"mean {local['meanMiB']} MiB, max {local['maxMiB']} MiB over {local['vnfcs']} VNFCs")  # fmt: skip
    if args.json_file:
        Path(args.json_file).write_text(
            json.dumps({"operations": best, "pods": pods, "localVnfc": local}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
