"""The VNFC exporter's cost: exporter and Prometheus CPU and memory with N VNFCs, and
one scrape per VNFC (root, local VIM, real Prometheus; issue 14's bench figures).

    sudo .venv/bin/python bench/metrics_bench.py [--vnfcs 10 50] [--seconds 30] [--scrape 5]

For each N: one instance of N VNFCs (one CP each on an internal VL, an idle process in
each cgroup), the monitoring stack with the exporter scraped every ``--scrape`` seconds;
over ``--seconds`` it prints the exporter's and Prometheus' CPU (% of one core) and RSS,
and the exporter's own scrape time (``vnfm_exporter_scrape_seconds``) per VNFC. Meant to
become a section of bench/pm_bench.py (``metrics_section``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup, naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

from vnfm_runner.assurance.promql import PromClient
from vnfm_runner.assurance.rules import TargetGroup
from vnfm_runner.assurance.stack import MonitoringStack, StackSettings

TICK = os.sysconf("SC_CLK_TCK")


def _plan(inst: str, n: int) -> dict[str, Any]:
    vnfcs = [
        {
            "id": f"c-{i}",
            "vduId": "c",
            "index": i,
            "compute": {"numVirtualCpu": 1, "virtualMemSizeMb": 128},
            "cps": [
                {
                    "cpdId": "c_cp",
                    "order": 0,
                    "virtualLinkId": "vl",
                    "ipAddresses": [f"10.11.{i // 200}.{i % 200 + 10}"],
                    "mtu": 1500,
                }
            ],
        }
        for i in range(n)
    ]
    return {
        "planVersion": 1,
        "vnfInstanceId": inst,
        "shortId": naming.short_id(inst),
        "virtualLinks": [{"id": "vl", "index": 0, "cidr": "10.11.0.0/16", "mtu": 1500}],
        "externalVirtualLinks": [],
        "vnfcs": vnfcs,
        "volumes": [],
    }


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def metrics_section(n: int, seconds: float, scrape_s: float) -> dict[str, float]:
    """One measurement with ``n`` VNFCs; the figures as a dict."""
    tmp = Path(tempfile.mkdtemp(prefix="vnfm-metrics-bench-"))
    inst = str(uuid.uuid4())
    vim = {"vimType": "local", "stateDir": str(tmp / "s"), "runDir": str(tmp / "r"),
           "lockFile": str(tmp / "lock")}  # fmt: skip
    driver = LocalDriver(vim)
    tree = cgroup.detect()
    procs = []
    try:
        driver.reconcile(_plan(inst, n), heal=[], check_mode=False)
        for i in range(n):
            ns = naming.vnfc_netns(inst, f"c-{i}")
            argv = [*cgroup.join_argv(ns, tree), "ip", "netns", "exec", ns, "sleep", "3600"]
            procs.append(subprocess.Popen(argv, start_new_session=True))
        settings = StackSettings(
            home=tmp / "monitoring",
            webhook_url="http://127.0.0.1:9/unused",
            scrape_interval_s=scrape_s,
            exporter_port=0,
        )
        with MonitoringStack(settings) as stack:
            stack.write_targets("vnfm-exporter", [TargetGroup([stack.exporter_url[7:]])])
            prom = PromClient(stack.prometheus_url)
            time.sleep(max(10.0, 3 * scrape_s))  # targets read, first scrapes done
            pids = stack.pids()
            cpu0 = {k: _cpu_s(p) for k, p in pids.items()}
            t0 = time.monotonic()
            time.sleep(seconds)
            wall = time.monotonic() - t0
            cpu = {k: 100 * (_cpu_s(p) - cpu0[k]) / wall for k, p in pids.items()}
            rss = stack.rss_bytes()
            scrape = prom.value("avg_over_time(vnfm_exporter_scrape_seconds[1m])") or 0.0
            seen = prom.value("vnfm_exporter_vnfcs") or 0.0
    finally:
        for p in procs:
            p.kill()
        driver.remove(inst, check_mode=False)
    return {
        "vnfcs": n,
        "seen": seen,
        "exporter_cpu_pct": cpu.get("exporter", 0.0),
        "prometheus_cpu_pct": cpu.get("prometheus", 0.0),
        "exporter_rss_mb": rss.get("exporter", 0) / 2**20,
        "prometheus_rss_mb": rss.get("prometheus", 0) / 2**20,
        "scrape_ms_per_vnfc": 1000 * scrape / max(n, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vnfcs", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--scrape", type=float, default=5.0)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("metrics_bench: needs root (namespaces, cgroups)")
    print("VNFCs  exporter CPU  RSS     Prometheus CPU  RSS     scrape/VNFC")
    for n in args.vnfcs:
        r = metrics_section(n, args.seconds, args.scrape)
        print(
            f"{n:5d}  {r['exporter_cpu_pct']:10.2f} %  {r['exporter_rss_mb']:5.0f} MB"
            f"  {r['prometheus_cpu_pct']:12.2f} %  {r['prometheus_rss_mb']:5.0f} MB"
            f"  {r['scrape_ms_per_vnfc']:8.2f} ms  (seen {r['seen']:.0f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
