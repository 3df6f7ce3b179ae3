#!/usr/bin/env python3
"""API listing bench: one page, and every page, of /vnflcm/v2/vnf_instances and
/vnflcm/v2/vnf_lcm_op_occs over N instances and N operations.

Records are inserted directly through the Store (no VIM); then a real
``vnfm serve`` answers over HTTP, with HTTP Basic credentials (what an NFVO
sends; ``--anonymous`` for none). Goals: one page < 100 ms, all 50,000 < 5 s
(keyset paging on (created_at, id) in SQL).

Besides wall-clock times it prints the CPU seconds the server (from /proc) and
this client spent on the walk: on a loaded machine the wall clock varies from
run to run, CPU times much less.

    .venv/bin/python bench/api_bench.py                 # 10,000 and 50,000
    .venv/bin/python bench/api_bench.py --sizes 1000 --page-size 500
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from tests.api.server import make_server  # noqa: E402
from vnfm_runner import records  # noqa: E402
from vnfm_runner.bootstrap import open_store  # noqa: E402
from vnfm_runner.domain.records import VnfPackageRecord  # noqa: E402
from vnfm_runner.settings import Settings  # noqa: E402
from vnfm_runner.store.db import now  # noqa: E402
from vnfm_runner.store.tables import InstanceRow, OperationRow  # noqa: E402

SUMMARY = {
    "vnfdId": "bench-vnfd",
    "provider": "bench",
    "productName": "bench",
    "softwareVersion": "1.0",
    "vnfdVersion": "1.0",
}


def fill(home: Path, count: int) -> float:
    store = open_store(Settings(home=home).db_url)
    started = time.perf_counter()
    pkg_id = str(uuid.uuid4())
    store.add_package(
        VnfPackageRecord(
            id=pkg_id,
            vnfd_id="bench-vnfd",
            path=str(home / "none"),
            summary=SUMMARY,
            onboarding_state="ONBOARDED",
            operational_state="ENABLED",
            created_at=now(),
        )
    )
    base = now()
    batch = 5000
    for start in range(0, count, batch):
        instances, operations = [], []
        for n in range(start, min(count, start + batch)):
            iid, oid = str(uuid.uuid4()), str(uuid.uuid4())
            stamp = base + timedelta(microseconds=n)
            instances.append(
                {
                    "id": iid,
                    "vnfd_id": "bench-vnfd",
                    "package_id": pkg_id,
                    "instantiation_state": "NOT_INSTANTIATED",
                    "doc": records.new_instance(
                        instance_id=iid,
                        package_id=pkg_id,
                        summary=SUMMARY,
                        name=f"bench-{n}",
                        description=None,
                    ),
                    "desired_state": None,
                    "vim": None,
                    "created_at": stamp,
                }
            )
            doc = records.new_operation(
                op_id=oid, instance_id=iid, operation="SCALE", params={"aspectId": "web"}
            )
            doc["operationState"] = "COMPLETED"
            operations.append(
                {
                    "id": oid,
                    "vnf_instance_id": iid,
                    "operation": "SCALE",
                    "state": "COMPLETED",
                    "doc": doc,
                    "runner_ident": None,
                    "artifacts_dir": None,
                    "desired_before": None,
                    "desired_after": None,
                    "engine_id": None,
                    "lease_expires_at": None,
                    "created_at": stamp,
                }
            )
        with store.session() as s:
            s.execute(insert(InstanceRow), instances)
            s.execute(insert(OperationRow), operations)
    store.engine.dispose()
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(count: int, page_size: int, anonymous: bool) -> None:
    home = Path(tempfile.mkdtemp(prefix=f"vnfm-bench-{count}-"))
    fill_s = fill(home, count)
    settings = {"api_page_size": str(page_size)}
    if anonymous:
        settings["api_anonymous"] = "true"
    server = make_server(home, **settings).start()
    assert server.proc is not None
    pid = server.proc.pid
    try:
        with server.client(**({"auth": None} if anonymous else {})) as c:
            for path in ("/vnflcm/v2/vnf_instances", "/vnflcm/v2/vnf_lcm_op_occs"):
                c.get(path).raise_for_status()  # warm up
                firsts = []
                for _ in range(5):
                    t = time.perf_counter()
                    r = c.get(path)
                    firsts.append(time.perf_counter() - t)
                    r.raise_for_status()
                started = time.perf_counter()
                cpu = cpu_seconds(pid)
                client_cpu = time.process_time()
                seen = 0
                pages = 0
                url: str | None = path
                while url:
                    r = c.get(url)
                    r.raise_for_status()
                    seen += len(r.json())
                    pages += 1
                    link = r.headers.get("Link")
                    url = link[link.index("<") + 1 : link.index(">")] if link else None
                walk = time.perf_counter() - started
                cpu = cpu_seconds(pid) - cpu
                client_cpu = time.process_time() - client_cpu
                assert seen == count, (seen, count)
                filt = time.perf_counter()
                r = c.get(path, params={"filter": "(eq,vnfInstanceName,bench-123)"})
                filt_s = time.perf_counter() - filt
                print(
                    f"{count:>7} {path:<28} page({page_size}) median "
                    f"{statistics.median(firsts) * 1000:6.1f} ms | all {pages} pages "
                    f"{walk:6.2f} s ({walk / pages * 1000:5.1f} ms/page), "
                    f"CPU server {cpu:5.2f} s client {client_cpu:5.2f} s | "
                    f"unindexed filter, first page {filt_s * 1000:7.1f} ms"
                    f" | insert {fill_s:5.1f} s"
                )
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)  # about 90 MB at 50,000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--page-size", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--anonymous", action="store_true", help="no credentials")
    args = parser.parse_args()
    for count in args.sizes:
        for size in args.page_size:
            measure(count, size, args.anonymous)


if __name__ == "__main__":
    main()
