"""Benchmark of the engine: operations per minute with 1, 4 and 8 workers, and its overhead.

Through the service layer with a worker pool, as a server runs it:
``Vnfm.open(settings, submit=...)`` where ``submit(op_id, mode)`` hands
``Vnfm.execute`` to a ``ThreadPoolExecutor`` of W workers. W webfarm instances
(instantiated once, at level 0: lb-0 + web-0) each run ``--ops`` operations one
after the other (``MODIFY_INFO`` by default, or ``HEAL`` of web-0), all W
instances at once; the operations per minute are counted over the whole batch.

The engine's own overhead per operation is the wall time of ``Vnfm.execute``
minus the duration of its ansible-playbook run as ansible-runner reports it
(``RunResult.duration``, recorded by wrapping the real ``run_playbook``):
records, leases, grant, extra vars, reading the result back.
Needs root and iproute2; temporary VNFM_HOME; removes everything it created.

    .venv/bin/python bench/engine_bench.py [--workers 1,4,8] [--ops 2] [--op modify|heal]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from vnfm_runner import executor  # noqa: E402
from vnfm_runner.executor import RunResult  # noqa: E402
from vnfm_runner.lcm import Vnfm, playbooks  # noqa: E402
from vnfm_runner.paths import EXAMPLES_DIR, ensure_core_importable  # noqa: E402
from vnfm_runner.settings import Settings  # noqa: E402

FINAL = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")


# -- instrumentation: the real run_playbook, its duration kept per operation --------------------
_lock = threading.Lock()
_playbook_s: dict[str, float] = {}
_execute_s: dict[str, float] = {}
_real_run_playbook = executor.run_playbook


def _recording_run_playbook(**kwargs: Any) -> RunResult:
    result = _real_run_playbook(**kwargs)
    op_id = Path(kwargs["private_data_dir"]).parent.name
    with _lock:
        _playbook_s[op_id] = _playbook_s.get(op_id, 0.0) + result.duration
    return result


# the playbook runner port calls the name it imported from the executor: replace that one
setattr(playbooks, "run_playbook", _recording_run_playbook)  # noqa: B010


@dataclass
class Row:
    workers: int
    ops: int
    failed: int
    elapsed: float
    execute: list[float]
    playbook: list[float]

    @property
    def per_minute(self) -> float:
        return 60.0 * (self.ops - self.failed) / self.elapsed

    @property
    def overhead(self) -> list[float]:
        return [e - p for e, p in zip(self.execute, self.playbook, strict=True)]


def cleanup(instance_id: str) -> None:
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


class Pool:
    """The ``submit`` of the service: ``Vnfm.execute`` on a thread pool, timed."""

    def __init__(self, workers: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="engine")
        self.svc: Vnfm | None = None
        self.futures: list[Future[None]] = []

    def _execute(self, op_id: str, mode: str) -> None:
        assert self.svc is not None
        started = time.perf_counter()
        try:
            self.svc.execute(op_id, mode=mode)
        finally:
            with _lock:
                _execute_s[op_id] = time.perf_counter() - started

    def submit(self, op_id: str, mode: str) -> None:
        self.futures.append(self.executor.submit(self._execute, op_id, mode))


def wait_final(svc: Vnfm, op_ids: list[str], timeout: float = 1800) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        states = {op: svc.operation(op)["operationState"] for op in op_ids}
        if all(s in FINAL for s in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(0.2)


def request_for(op: str, i: int) -> tuple[str, dict[str, Any]]:
    if op == "heal":
        return "HEAL", {"vnfcInstanceId": ["web-0"]}
    return "MODIFY_INFO", {"metadata": {"benchRound": str(i)}}


def run_batch(settings: Settings, instances: list[str], workers: int, ops: int, op: str) -> Row:
    pool = Pool(workers)
    svc = Vnfm.open(settings, submit=pool.submit, recover=False)
    pool.svc = svc
    mine = instances[:workers]
    done: dict[str, int] = dict.fromkeys(mine, 0)
    current: dict[str, str] = {}
    all_ops: list[str] = []
    started = time.perf_counter()
    try:
        while True:
            for inst in mine:
                busy = current.get(inst)
                if busy is not None and svc.operation(busy)["operationState"] not in FINAL:
                    continue
                if done[inst] >= ops:
                    current.pop(inst, None)
                    continue
                operation, request = request_for(op, done[inst])
                doc = svc.run_operation(
                    instance_id=inst, operation=operation, request=request, wait=False
                )
                current[inst] = doc["id"]
                all_ops.append(doc["id"])
                done[inst] += 1
            if not current:
                break
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        pool.executor.shutdown(wait=True)
    states = wait_final(svc, all_ops)
    failed = sum(1 for s in states.values() if s != "COMPLETED")
    return Row(
        workers,
        len(all_ops),
        failed,
        elapsed,
        [_execute_s[o] for o in all_ops],
        [_playbook_s.get(o, 0.0) for o in all_ops],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,4,8", help="worker counts")
    parser.add_argument("--ops", type=int, default=2, help="operations per instance per batch")
    parser.add_argument("--op", choices=["modify", "heal"], default="modify")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("needs root and iproute2 (the local VIM creates network namespaces)", file=sys.stderr)
        return 2
    counts = [int(n) for n in args.workers.split(",")]
    home = Path(tempfile.mkdtemp(prefix="vnfm-enginebench-"))
    settings = Settings(home=home)
    instances: list[str] = []
    rows: list[Row] = []
    try:
        setup_pool = Pool(max(counts))
        svc = Vnfm.open(settings, submit=setup_pool.submit, recover=False)
        setup_pool.svc = svc
        vnfd_id = svc.onboard(EXAMPLES_DIR / "webfarm").vnfd_id
        instances = [
            svc.create(vnfd_id=vnfd_id, name=f"bench-engine-{i}")["id"] for i in range(max(counts))
        ]
        t0 = time.perf_counter()
        ops = [
            svc.instantiate(
                instance_id=inst,
                request={"flavourId": "default", "scaleLevels": {"web": 0}},
                wait=False,
            )["id"]
            for inst in instances
        ]
        setup_pool.executor.shutdown(wait=True)
        states = wait_final(svc, ops)
        if set(states.values()) != {"COMPLETED"}:
            raise RuntimeError(f"instantiation failed: {states}")
        print(
            f"  {len(instances)} instances instantiated at once in "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        for workers in counts:
            rows.append(run_batch(settings, instances, workers, args.ops, args.op))
            print(f"  {workers} workers done", file=sys.stderr)
    finally:
        for inst in instances:
            cleanup(inst)
        shutil.rmtree(home, ignore_errors=True)

    print(
        f"engine on the local VIM, {args.op} operations, {args.ops} per instance "
        f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)\n"
    )
    head = (
        f"{'workers':>8}{'ops':>5}{'failed':>7}{'elapsed s':>11}{'ops/min':>9}"
        f"{'execute s':>11}{'playbook s':>12}{'overhead s':>12}{'max ovh s':>11}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.workers:>8}{r.ops:>5}{r.failed:>7}{r.elapsed:>11.1f}{r.per_minute:>9.1f}"
            f"{statistics.mean(r.execute):>11.2f}{statistics.mean(r.playbook):>12.2f}"
            f"{statistics.mean(r.overhead):>12.2f}{max(r.overhead):>11.2f}"
        )
    print(
        "\nexecute: mean wall of Vnfm.execute; playbook: mean RunResult.duration; overhead = the difference"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
