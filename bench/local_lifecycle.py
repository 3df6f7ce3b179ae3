"""Benchmark of the webfarm lifecycle on the local VIM: instantiate and terminate.

For webfarm (flavour ``default``) with 1, 4 and 8 web VNFCs (request
``{"flavourId": "default", "scaleLevels": {"web": N-1}}`` through the service
layer) it measures, per operation:

* wall time of the service call (``Vnfm.instantiate`` / ``Vnfm.terminate``);
* ``vim``: time inside the VIM driver (duration of the ``nfv.vnfm.vnf_resources`` task);
* ``plan``: duration of the ``nfv.vnfm.vnf_plan`` task;
* ``hooks``: wall time of the package's hook plays (every play not named
  ``Instantiate - …`` / ``Terminate - …``, from its start to the next play);
* ``fixed``: the rest of the wall time outside the playbook's events
  (ansible-runner and ansible-playbook start and stop);
* ``runs``: ansible-playbook runs (``playbook_on_start`` events; target 1).

Then the ratio instantiate(8)/instantiate(1) (target: well under 2x) and the
slowest tasks of the hook plays. Needs root and iproute2; uses a temporary
VNFM_HOME and removes every instance it created, even on failure.

    .venv/bin/python bench/local_lifecycle.py [--webs 1,4,8] [--repeat N] [--top 12] [--json FILE]

The numbers are wall times: on a loaded machine use ``--repeat 3`` (fastest kept).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from vnfm_runner.lcm import Vnfm  # noqa: E402
from vnfm_runner.paths import EXAMPLES_DIR, ensure_core_importable  # noqa: E402
from vnfm_runner.settings import Settings  # noqa: E402

OWN_PLAY_PREFIXES = ("Instantiate - ", "Terminate - ")
VIM_ACTION = "nfv.vnfm.vnf_resources"
PLAN_ACTION = "nfv.vnfm.vnf_plan"
DONE_EVENTS = ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")


@dataclass
class OpTiming:
    operation: str
    webs: int
    state: str
    wall: float
    vim: float
    plan: float
    hooks: float
    fixed: float
    runs: int
    tasks: list[dict[str, Any]] = field(default_factory=list)  # slowest first


def _ts(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(event["created"])).timestamp()


def analyse(
    operation: str, webs: int, state: str, wall: float, events: list[dict[str, Any]]
) -> OpTiming:
    """Split one operation's wall time using its ansible-runner job events."""
    events = sorted((e for e in events if e.get("created")), key=lambda e: e.get("counter", 0))
    vim = plan = 0.0
    for e in events:
        data = e.get("event_data") or {}
        action = data.get("resolved_action") or data.get("task_action")
        if e["event"] in DONE_EVENTS and action in (VIM_ACTION, PLAN_ACTION):
            duration = float(data.get("duration") or 0.0)
            if action == VIM_ACTION:
                vim += duration
            else:
                plan += duration
    # play and task wall times: from their start event to the next boundary
    bounds = [
        e
        for e in events
        if e["event"] in ("playbook_on_play_start", "playbook_on_task_start", "playbook_on_stats")
    ]
    end = _ts(events[-1]) if events else 0.0
    hooks = 0.0
    play = ""
    tasks: dict[tuple[str, str, str], dict[str, Any]] = {}
    for i, e in enumerate(bounds):
        data = e.get("event_data") or {}
        if e["event"] == "playbook_on_play_start":
            play = str(data.get("play") or data.get("name") or "")
            following = [b for b in bounds[i + 1 :] if b["event"] != "playbook_on_task_start"]
            play_end = _ts(following[0]) if following else end
            if not play.startswith(OWN_PLAY_PREFIXES):
                hooks += play_end - _ts(e)
        elif e["event"] == "playbook_on_task_start":
            nxt = _ts(bounds[i + 1]) if i + 1 < len(bounds) else end
            key = (
                play,
                str(data.get("task") or data.get("name") or ""),
                str(data.get("task_path") or ""),
            )
            entry = tasks.setdefault(key, {"play": key[0], "task": key[1], "wall": 0.0, "hosts": 0})
            entry["wall"] += nxt - _ts(e)
    for e in events:
        data = e.get("event_data") or {}
        key = (
            str(data.get("play") or ""),
            str(data.get("task") or ""),
            str(data.get("task_path") or ""),
        )
        if e["event"] in DONE_EVENTS and key in tasks:
            tasks[key]["hosts"] += 1
    inside = _ts(events[-1]) - _ts(events[0]) if events else 0.0
    runs = sum(1 for e in events if e["event"] == "playbook_on_start")
    slowest = sorted(tasks.values(), key=lambda t: -t["wall"])
    return OpTiming(
        operation=operation,
        webs=webs,
        state=state,
        wall=wall,
        vim=vim,
        plan=plan,
        hooks=hooks,
        fixed=max(0.0, wall - inside),
        runs=runs,
        tasks=slowest,
    )


def cleanup(instance_id: str) -> None:
    """Remove whatever of the instance is left: driver removal, then brute force."""
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


def measure(svc: Vnfm, vnfd_id: str, webs: int) -> list[OpTiming]:
    instance_id = svc.create(vnfd_id=vnfd_id, name=f"bench-{webs}")["id"]
    out: list[OpTiming] = []
    try:
        for operation in ("instantiate", "terminate"):
            events: list[dict[str, Any]] = []
            started = time.monotonic()
            if operation == "instantiate":
                op = svc.instantiate(
                    instance_id=instance_id,
                    request={"flavourId": "default", "scaleLevels": {"web": webs - 1}},
                    on_event=events.append,
                )
            else:
                op = svc.terminate(
                    instance_id=instance_id,
                    request={"terminationType": "GRACEFUL"},
                    on_event=events.append,
                )
            wall = time.monotonic() - started
            out.append(analyse(operation, webs, op["operationState"], wall, events))
            if op["operationState"] != "COMPLETED":
                detail = (op.get("error") or {}).get("detail")
                raise RuntimeError(
                    f"{operation} with {webs} webs ended {op['operationState']}: {detail}"
                )
        svc.delete(instance_id=instance_id)
    finally:
        cleanup(instance_id)
    return out


def print_table(results: list[OpTiming]) -> None:
    head = f"{'operation':<12}{'webs':>5}{'wall s':>9}{'vim s':>8}{'plan s':>8}{'hooks s':>9}{'fixed s':>9}{'other s':>9}{'runs':>6}"
    print(head)
    print("-" * len(head))
    for r in results:
        other = r.wall - r.vim - r.plan - r.hooks - r.fixed
        print(
            f"{r.operation:<12}{r.webs:>5}{r.wall:>9.2f}{r.vim:>8.2f}{r.plan:>8.2f}"
            f"{r.hooks:>9.2f}{r.fixed:>9.2f}{other:>9.2f}{r.runs:>6}"
        )


def print_tasks(result: OpTiming, top: int) -> None:
    print(f"\nslowest tasks of {result.operation} with {result.webs} webs (wall, hosts):")
    for t in result.tasks[:top]:
        print(f"  {t['wall']:6.2f}s  {t['hosts']:>2}  {t['play']} / {t['task']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--webs", default="1,4,8", help="web VNFC counts (1..8)")
    parser.add_argument("--top", type=int, default=12, help="slowest tasks to print")
    parser.add_argument(
        "--repeat", type=int, default=1, help="lifecycles per size; the fastest is kept"
    )
    parser.add_argument("--json", dest="json_file", help="write the raw results here")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("needs root and iproute2 (the local VIM creates network namespaces)", file=sys.stderr)
        return 2
    counts = [int(n) for n in args.webs.split(",")]
    home = Path(tempfile.mkdtemp(prefix="vnfm-bench-"))
    results: list[OpTiming] = []
    try:
        svc = Vnfm.open(Settings(home=home), recover=False)
        vnfd_id = svc.onboard(EXAMPLES_DIR / "webfarm").vnfd_id
        for webs in counts:
            best: dict[str, OpTiming] = {}
            for _ in range(max(1, args.repeat)):
                for r in measure(svc, vnfd_id, webs):
                    if r.operation not in best or r.wall < best[r.operation].wall:
                        best[r.operation] = r
            results += best.values()
            print(f"  {webs} webs done", file=sys.stderr)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(
        f"webfarm on the local VIM (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)\n"
    )
    print_table(results)
    inst = {r.webs: r.wall for r in results if r.operation == "instantiate"}
    if 1 in inst and 8 in inst:
        print(
            f"\ninstantiate(8) / instantiate(1) = {inst[8] / inst[1]:.2f}x (target: well under 2x)"
        )
    for r in results:
        if r.webs == max(counts):
            print_tasks(r, args.top)
    if args.json_file:
        Path(args.json_file).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
