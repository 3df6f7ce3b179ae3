"""The closed loop's figures, for real (root, local VIM): fault -> alarm -> heal -> serving -> cleared.

``.venv/bin/python bench/closed_loop.py [--faults 10] [--idle-instances 4] [--watch-instances 20]``

Starts a real ``vnfm serve`` (its own Prometheus and Alertmanager, the watcher),
subscribes a real HTTP receiver to FM and LCM notifications, instantiates
webfarm (level small: lb-0, web-0, web-1; auto-heal on) and injects ``--faults``
faults (kill -9 of a web daemon, web-0 and web-1 in turn), measuring from the
kill: the AlarmNotification received, the automatic HEAL COMPLETED notification,
HTTP through the load balancer answered by every web again, the
AlarmClearedNotification (and that one after recovery = after the heal
completed). Then, with ``--idle-instances`` webfarms (3 VNFCs each) idle for
30 s: CPU and RSS of the server (watcher included), Prometheus and Alertmanager;
then with ``--watch-instances`` webfarms: the server's CPU over 60 s, as a share
of one core. Targets (issue 13): alarm <= 5 s, heal + serving <= 15 s, cleared
<= 10 s after recovery, stack <= 300 MB RSS, watcher < 5 % of a core with 20.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "collections")]

from tests.api.server import Server, make_server, op_id_of, wait_op  # noqa: E402
from tests.integration.conftest import cleanup_instance, daemon_processes, wait_until  # noqa: E402
from tests.notify.subscriber import Subscriber  # noqa: E402
from vnfm_runner.demo import ext_addresses, sample_backends  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime and those of its waited-for children (the VIM's `ip` commands)
    return sum(int(f) for f in fields[11:15]) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stack_pids(home: Path) -> dict[str, int]:
    """The server's Prometheus and Alertmanager (their command lines name its home)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(home).encode() in a for a in argv) and argv[0]:
            name = Path(argv[0].decode()).name
            if name in ("prometheus", "prometheus-alertmanager"):
                out[name] = int(entry.name)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def instantiate(srv: Server, c: Any, vnfd: str, name: str) -> str:
    r = c.post("/vnflcm/v2/vnf_instances", json={"vnfdId": vnfd, "vnfInstanceName": name})
    inst = str(r.json()["id"])
    r = c.post(
        f"/vnflcm/v2/vnf_instances/{inst}/instantiate",
        json={"flavourId": "default", "instantiationLevelId": "small"},
    )
    return inst + " " + op_id_of(r)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--faults", type=int, default=10)
    ap.add_argument("--idle-instances", type=int, default=4)
    ap.add_argument("--watch-instances", type=int, default=20)
    ap.add_argument("--tick", default=None, help="VNFM_WATCH_TICK (default: the server's)")
    ap.add_argument("--interval", default=None, help="VNFM_WATCH_INTERVAL")
    ap.add_argument(
        "--watch-only",
        action="store_true",
        help="the server's other loops off (auto-scale, PM, indicators, exporter): its CPU "
        "is then the watcher's (probes, VIM reads, alarms, auto-heal) and the API's at rest",
    )
    args = ap.parse_args()
    watch = {"watch_tick": args.tick, "watch_interval": args.interval}
    if args.watch_only:
        watch.update(autoscale="false", pm="false", indicators="false", exporter="false")
    if os.geteuid() != 0:
        print("needs root (local VIM)")
        return 1
    home = Path(tempfile.mkdtemp(prefix="vnfm-closed-loop-"))
    srv = make_server(
        home,
        watch="true",
        monitoring="true",
        autoheal_cooldown="0",
        autoheal_storm_heals="100000",
        api_verify_callback="false",
        **{k: v for k, v in watch.items() if v is not None},
    )
    sub = Subscriber()
    instances: list[str] = []
    srv.start()
    try:
        c = srv.client()
        for path, headers in (
            ("/vnflcm/v2/subscriptions", {}),
            ("/vnffm/v1/subscriptions", {"Version": "1.3.0"}),
        ):
            assert c.post(path, json={"callbackUri": sub.url}, headers=headers).status_code == 201
        vnfd = srv.cli("package", "onboard", "examples/packages/webfarm").strip().splitlines()[-1]
        inst, op = instantiate(srv, c, vnfd, "bench-0").split()
        instances.append(inst)
        wait_op(c, op, ("COMPLETED",))
        doc = c.get(f"/vnflcm/v2/vnf_instances/{inst}").json()
        address = ext_addresses(doc)[0]

        def serving() -> bool:
            return {"web-0", "web-1"} <= set(sample_backends(address, 8))

        assert wait_until(serving, 30)
        rows: list[tuple[float, float, float, float, float]] = []

        def count(kind: str, **match: Any) -> int:
            with sub.lock:
                return sum(
                    1
                    for n in sub.received
                    if n.get("notificationType") == kind
                    and all(n.get(k) == v for k, v in match.items())
                )

        def healed() -> int:
            return count(
                "VnfLcmOperationOccurrenceNotification",
                operation="HEAL",
                operationState="COMPLETED",
            )

        for i in range(args.faults):
            vnfc = f"web-{i % 2}"
            alarms = count("AlarmNotification")
            heals = healed()
            clears = count("AlarmClearedNotification")
            (pid,) = [p for p, cmd in daemon_processes(inst).items() if f"/{vnfc}/" in cmd]
            t0 = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: count("AlarmNotification") > alarms, 30, 0.02)  # noqa: B023
            t_alarm = time.monotonic() - t0
            wait_until(lambda h=heals: healed() > h, 90, 0.02)  # type: ignore[misc]
            t_heal = time.monotonic() - t0
            wait_until(serving, 30, 0.05)
            t_serve = time.monotonic() - t0
            wait_until(lambda: count("AlarmClearedNotification") > clears, 30, 0.02)  # noqa: B023
            t_clear = time.monotonic() - t0
            rows.append((t_alarm, t_heal, t_serve, t_clear, t_clear - t_heal))
            print(
                f"fault {i + 1:2d} ({vnfc}): alarm {t_alarm:5.2f}s  heal COMPLETED {t_heal:5.2f}s"
                f"  serving {t_serve:5.2f}s  cleared {t_clear:5.2f}s"
                f" ({t_clear - t_heal:4.2f}s after recovery)",
                flush=True,
            )
            time.sleep(1)
        print(f"\n{'':28}{'p50':>8}{'p95':>8}{'target':>10}")
        for col, (label, target) in enumerate(
            [
                ("fault -> AlarmNotification", "<= 5 s"),
                ("fault -> heal COMPLETED", "<= 15 s"),
                ("fault -> HTTP served again", "<= 15 s"),
                ("fault -> AlarmCleared", ""),
                ("recovery -> AlarmCleared", "<= 10 s"),
            ]
        ):
            values = [r[col] for r in rows] or [float("nan")]
            print(
                f"{label:28}{statistics.median(values):7.2f}s{pct(values, 0.95):7.2f}s{target:>10}"
            )

        # -- idle footprint with a few instances ------------------------------------------------
        server_pid = int(srv.proc.pid) if srv.proc else 0

        def grow(total: int) -> None:
            pending = []
            while len(instances) + len(pending) < total:
                name = f"bench-{len(instances) + len(pending)}"
                pending.append(instantiate(srv, c, vnfd, name).split())
                if len(pending) == 4 or len(instances) + len(pending) == total:
                    for inst_id, op_id in pending:
                        wait_op(c, op_id, ("COMPLETED",))
                        instances.append(inst_id)
                    pending = []

        for count_instances, seconds in ((args.idle_instances, 30.0), (args.watch_instances, 60.0)):
            grow(count_instances)
            time.sleep(10)  # the watcher's first passes over the new ones
            label = "vnfm serve (watcher)" if args.watch_only else "vnfm serve (all loops)"
            pids = {label: server_pid, **stack_pids(home)}
            before = {n: cpu_s(p) for n, p in pids.items()}
            time.sleep(seconds)
            print(
                f"\nidle, {len(instances)} instances ({3 * len(instances)} VNFCs), "
                f"over {seconds:g}s:"
            )
            for name, pid in pids.items():
                share = (cpu_s(pid) - before[name]) / seconds * 100
                print(f"  {name:24} CPU {share:5.2f}% of a core   RSS {rss_mb(pid):6.1f} MB")
            stack = sum(rss_mb(p) for n, p in pids.items() if n != label)
            print(f"  monitoring stack RSS {stack:.1f} MB (target <= 300 MB)")
        metrics = c.get("/metrics").text
        for line in metrics.splitlines():
            if line.startswith(("vnfm_watcher_pass_duration_seconds_", "vnfm_autoheal")):
                print(" ", line)
        print(json.dumps({"faults": len(rows)}))
    finally:
        srv.stop()
        sub.close()
        for inst in instances:
            cleanup_instance(inst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
