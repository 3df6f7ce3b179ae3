"""Benchmark of webfarm's day-2 operations on the local VIM: scale out/in and heal.

Through the service layer (``Vnfm``) with a temporary VNFM_HOME: webfarm is
instantiated at level 0 of the default flavour (lb-0 + web-0: request
``{"flavourId": "default", "scaleLevels": {"web": 0}}``), then for each N of
``--steps`` (default 1, 4, 8 — 8 is capped at the aspect's maximum, 7) it
scales out by N steps and back in, then heals one VNFC (web-0) and all VNFCs.
For every operation it prints the wall time of the service call and the
ansible-playbook runs it took (``playbookRuns`` of the LcmOpOcc; target 1).
Needs root and iproute2; removes everything it created, even on failure.

    .venv/bin/python bench/operations_bench.py [--steps 1,4,8] [--repeat N] [--json FILE]

Wall times move with the host's load: ``--repeat 3`` keeps the fastest.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vnfm_runner.lcm import Vnfm  # noqa: E402
from vnfm_runner.paths import EXAMPLES_DIR, ensure_core_importable  # noqa: E402
from vnfm_runner.settings import Settings  # noqa: E402

MAX_WEB_LEVEL = 7  # webfarm's aspect "web" (default flavour)


@dataclass
class Timing:
    name: str
    vnfcs_after: int
    wall: float
    runs: int
    state: str


def cleanup(instance_id: str) -> None:
    """The local VIM driver's removal by instance id, then brute force on namespaces."""
    import subprocess

    ensure_core_importable()
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    with contextlib.suppress(Exception):
        get_driver({"vimType": "local"}).remove(instance_id, check_mode=False)
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if instance_id in name:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    shutil.rmtree(Path("/run/vnfm") / instance_id, ignore_errors=True)


def timed(svc: Vnfm, name: str, instance_id: str, call: Any) -> Timing:
    started = time.perf_counter()
    op = call()
    wall = time.perf_counter() - started
    if op["operationState"] != "COMPLETED":
        detail = (op.get("error") or {}).get("detail")
        raise RuntimeError(f"{name} ended {op['operationState']}: {detail}")
    info = svc.instance(instance_id).doc["instantiatedVnfInfo"]
    return Timing(name, len(info["vnfcResourceInfo"]), wall, int(op.get("playbookRuns") or 0), "ok")


def one_round(svc: Vnfm, vnfd_id: str, steps: list[int]) -> list[Timing]:
    inst = svc.create(vnfd_id=vnfd_id, name="bench-operations")["id"]
    out: list[Timing] = []
    try:
        out.append(
            timed(
                svc,
                "instantiate web=0",
                inst,
                lambda: svc.instantiate(
                    instance_id=inst, request={"flavourId": "default", "scaleLevels": {"web": 0}}
                ),
            )
        )
        for n in steps:
            n = min(n, MAX_WEB_LEVEL)
            for kind in ("SCALE_OUT", "SCALE_IN"):
                out.append(
                    timed(
                        svc,
                        f"{kind.lower()} {n}",
                        inst,
                        lambda kind=kind, n=n: svc.run_operation(
                            instance_id=inst,
                            operation="SCALE",
                            request={"type": kind, "aspectId": "web", "numberOfSteps": n},
                        ),
                    )
                )
        out.append(
            timed(
                svc,
                "heal web-0",
                inst,
                lambda: svc.run_operation(
                    instance_id=inst, operation="HEAL", request={"vnfcInstanceId": ["web-0"]}
                ),
            )
        )
        out.append(
            timed(
                svc,
                "heal all",
                inst,
                lambda: svc.run_operation(instance_id=inst, operation="HEAL", request={}),
            )
        )
        svc.terminate(instance_id=inst, request={"terminationType": "FORCEFUL"})
    finally:
        cleanup(inst)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1,4,8", help="scale-out step counts")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the fastest is kept")
    parser.add_argument("--json", dest="json_file", help="write the raw results here")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("needs root and iproute2 (the local VIM creates network namespaces)", file=sys.stderr)
        return 2
    steps = [int(n) for n in args.steps.split(",")]
    home = Path(tempfile.mkdtemp(prefix="vnfm-opbench-"))
    best: dict[str, Timing] = {}
    try:
        svc = Vnfm(Settings(home=home))
        vnfd_id = svc.onboard(EXAMPLES_DIR / "webfarm").vnfd_id
        for i in range(max(1, args.repeat)):
            for t in one_round(svc, vnfd_id, steps):
                if t.name not in best or t.wall < best[t.name].wall:
                    best[t.name] = t
            print(f"  round {i + 1} done", file=sys.stderr)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(
        f"webfarm day-2 operations on the local VIM "
        f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs, best of {args.repeat})\n"
    )
    head = f"{'operation':<20}{'VNFCs after':>12}{'wall s':>9}{'runs':>6}"
    print(head)
    print("-" * len(head))
    for t in best.values():
        print(f"{t.name:<20}{t.vnfcs_after:>12}{t.wall:>9.2f}{t.runs:>6}")
    if args.json_file:
        Path(args.json_file).write_text(json.dumps([asdict(t) for t in best.values()], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
