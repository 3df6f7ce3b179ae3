#!/usr/bin/env python3
"""Load bench: many NFVO clients at once against one real ``vnfm serve``.

1. Listing under a burst: ``--list-instances`` VNF instances (created, not
   instantiated) and ``--list-clients`` concurrent ``GET /vnflcm/v2/vnf_instances``
   released together, ``--list-rounds`` times; p50/p95/max of one GET (goal: p95 < 1 s).
2. Mixed load (needs root: the local VIM): webfarm is onboarded over the API, and
   ``--instances`` instances are instantiated at once (level small, no hooks: cheap,
   and more operations than workers, so they queue); then ``--clients`` concurrent
   clients, for ``--duration`` seconds, each loop on: GET the instance list, GET one
   instance, GET the operations of one instance, GET one operation (reads), or ask
   for an LCM operation on a random instance: modify (PATCH), operate, heal. At the
   end every accepted operation is awaited. Printed: p50/p95/p99 per request class
   and for accepting an operation, 409s (instance busy: expected), 5xx (goal 0),
   and operations lost or rolled back by the server itself (goal 0).

    .venv/bin/python bench/load_bench.py --quick          # ~2 minutes
    .venv/bin/python bench/load_bench.py                  # 5 minutes of load
    .venv/bin/python bench/load_bench.py --list-only      # no root needed

Every client is an asyncio task with its own httpx connection (HTTP Basic, like an
NFVO), so the client side costs little; the server runs with its defaults
(``VNFM_WORKERS=4``). Wall times move with the machine's load: compare runs made
one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.api.server import (  # noqa: E402
    PASSWORD,
    USER,
    WEBFARM,
    Server,
    make_server,
    onboard_via_api,
    zip_dir,
)
from tests.integration.conftest import cleanup_instance, instances_in_home  # noqa: E402

sys.path.insert(0, str(REPO / "bench"))
from api_bench import cpu_seconds  # noqa: E402

INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
FINAL = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")
NO_HOOKS = {"vnfm_hooks": False}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    return (
        f"  {name:<24} n={len(values):<6} p50 {pct(values, 50) * 1000:7.1f} ms  "
        f"p95 {pct(values, 95) * 1000:7.1f} ms  p99 {pct(values, 99) * 1000:7.1f} ms  "
        f"max {max(values, default=float('nan')) * 1000:7.1f} ms"
    )


def client(server: Server, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=server.url,
        auth=(USER, PASSWORD),
        headers={"Version": "2.0.0"},
        timeout=120.0,
        **kw,
    )


# -- 1. a burst of listings ----------------------------------------------------------------------
async def list_burst(server: Server, clients: int, rounds: int) -> list[float]:
    """``clients`` GETs of the instance list released together, ``rounds`` times."""
    pool = [client(server) for _ in range(clients)]
    times: list[float] = []
    statuses: Counter[int] = Counter()
    try:
        await asyncio.gather(*(c.get(f"{INST}?fields=id") for c in pool))  # connect
        for _ in range(rounds):
            go = asyncio.Event()

            async def one(c: httpx.AsyncClient, go: asyncio.Event) -> None:
                await go.wait()
                t = time.perf_counter()
                r = await c.get(INST)
                times.append(time.perf_counter() - t)
                statuses[r.status_code] += 1

            tasks = [asyncio.create_task(one(c, go)) for c in pool]
            await asyncio.sleep(0.2)  # every task waits on the event
            go.set()
            await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    assert set(statuses) == {200}, statuses
    return times


def measure_listing(server: Server, vnfd_id: str, count: int, clients: int, rounds: int) -> None:
    with server.client() as c:
        have = len(c.get(INST).json())
        for n in range(have, count):
            c.post(
                INST, json={"vnfdId": vnfd_id, "vnfInstanceName": f"list-{n}"}
            ).raise_for_status()
        listed = len(c.get(INST).json())
    assert server.proc is not None
    cpu = cpu_seconds(server.proc.pid)
    times = asyncio.run(list_burst(server, clients, rounds))
    cpu = (cpu_seconds(server.proc.pid) - cpu) / (clients * (rounds + 1))  # + the warm-up GETs
    print(f"\n{clients} concurrent GET {INST} of {listed} instances, {rounds} rounds")
    print(row("GET instance list", times))
    print(f"  server CPU per GET {cpu * 1000:.1f} ms (steadier than wall time on a busy host)")
    verdict = "OK" if pct(times, 95) < 1.0 else "ABOVE GOAL"
    print(f"  p95 {pct(times, 95):.2f} s (goal < 1 s): {verdict}")


# -- 2. mixed load -------------------------------------------------------------------------------
async def wait_final(c: httpx.AsyncClient, op_ids: list[str], timeout: float) -> dict[str, Any]:
    """op id -> its last document (or None when the server does not know it: lost)."""
    docs: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    pending = list(op_ids)
    while pending and time.monotonic() < deadline:
        still = []
        for op_id in pending:
            r = await c.get(f"{OPS}/{op_id}")
            docs[op_id] = r.json() if r.status_code == 200 else None
            if docs[op_id] is not None and docs[op_id]["operationState"] not in FINAL:
                still.append(op_id)
        pending = still
        if pending:
            await asyncio.sleep(1.0)
    return docs


async def instantiate_all(server: Server, vnfd_id: str, count: int) -> list[str]:
    async with client(server) as c:
        ids, ops = [], []
        for n in range(count):
            r = await c.post(INST, json={"vnfdId": vnfd_id, "vnfInstanceName": f"load-{n}"})
            r.raise_for_status()
            ids.append(r.json()["id"])
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(
                c.post(
                    f"{INST}/{iid}/instantiate",
                    json={
                        "flavourId": "default",
                        "instantiationLevelId": "small",
                        "additionalParams": NO_HOOKS,
                    },
                )
                for iid in ids
            )
        )
        for r in answers:
            assert r.status_code == 202, r.text
            ops.append(r.headers["Location"].rsplit("/", 1)[1])
        docs = await wait_final(c, ops, timeout=1800)
        states = Counter(d["operationState"] if d else "LOST" for d in docs.values())
        print(
            f"instantiated {count} instances at once in {time.perf_counter() - started:.0f} s: "
            f"{dict(states)}"
        )
        assert states == {"COMPLETED": count}, [d.get("error") for d in docs.values() if d]
        return ids


class Load:
    def __init__(self, instances: list[str]) -> None:
        self.instances = instances
        self.times: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[str] = Counter()
        self.accepted: list[str] = []
        self.errors: Counter[str] = Counter()

    async def lcm(self, c: httpx.AsyncClient, iid: str) -> tuple[str, httpx.Response]:
        kind = random.choice(("modify", "modify", "operate", "heal"))
        if kind == "modify":
            r = await c.patch(
                f"{INST}/{iid}",
                json={"vnfInstanceDescription": f"load {time.time():.3f}"},
                headers={"Content-Type": "application/merge-patch+json"},
            )
        elif kind == "operate":
            r = await c.post(f"{INST}/{iid}/operate", json={"changeStateTo": "STARTED"})
        else:
            r = await c.post(f"{INST}/{iid}/heal", json={"cause": "load bench"})
        return kind, r

    async def one_client(self, server: Server, deadline: float, lcm_share: float) -> None:
        async with client(server) as c:
            known_ops: list[str] = []
            while time.monotonic() < deadline:
                iid = random.choice(self.instances)
                t = time.perf_counter()
                if random.random() < lcm_share:
                    kind, r = await self.lcm(c, iid)
                    took = time.perf_counter() - t
                    if r.status_code == 202:
                        self.times["accept an operation"].append(took)
                        op_id = r.headers["Location"].rsplit("/", 1)[1]
                        self.accepted.append(op_id)
                        known_ops.append(op_id)
                    else:
                        self.times[f"refused {kind}"].append(took)
                else:
                    which = random.choice(("list instances", "get instance", "list ops", "get op"))
                    if which == "list instances":
                        r = await c.get(INST)
                    elif which == "get instance":
                        r = await c.get(f"{INST}/{iid}")
                    elif which == "list ops":
                        r = await c.get(OPS, params={"filter": f"(eq,vnfInstanceId,{iid})"})
                    elif known_ops:
                        r = await c.get(f"{OPS}/{random.choice(known_ops)}")
                    else:
                        r = await c.get(OPS)
                    self.times[which].append(time.perf_counter() - t)
                self.statuses[f"{r.status_code // 100}xx" if r.status_code != 409 else "409"] += 1
                if r.status_code >= 500:
                    self.errors[f"{r.status_code} {r.text[:120]}"] += 1
                await asyncio.sleep(random.uniform(0.05, 0.3))  # an NFVO's think time

    async def run(self, server: Server, clients: int, duration: float, lcm_share: float) -> None:
        deadline = time.monotonic() + duration
        await asyncio.gather(
            *(self.one_client(server, deadline, lcm_share) for _ in range(clients))
        )


def measure_load(
    server: Server, vnfd_id: str, instances: int, clients: int, duration: float, lcm_share: float
) -> None:
    ids = asyncio.run(instantiate_all(server, vnfd_id, instances))
    load = Load(ids)
    started = time.perf_counter()
    asyncio.run(load.run(server, clients, duration, lcm_share))
    ran = time.perf_counter() - started

    async def settle() -> dict[str, Any]:
        async with client(server) as c:
            return await wait_final(c, load.accepted, timeout=1800)

    docs = asyncio.run(settle())
    states = Counter(d["operationState"] if d else "LOST" for d in docs.values())
    by_server = sum(
        1
        for d in docs.values()
        if d
        and d["operationState"] == "ROLLED_BACK"
        and ((d.get("error") or {}).get("title") == "engine stopped")
    )
    not_final = sum(1 for d in docs.values() if d and d["operationState"] not in FINAL)
    requests = sum(load.statuses.values())
    print(
        f"\n{clients} clients on {instances} instances for {ran:.0f} s: {requests} requests "
        f"({requests / ran:.0f}/s), {len(load.accepted)} operations accepted"
    )
    for name in sorted(load.times):
        print(row(name, load.times[name]))
    print(f"  answers: {dict(sorted(load.statuses.items()))}")
    print(f"  5xx: {sum(v for k, v in load.statuses.items() if k == '5xx')} (goal 0)")
    for err, n in load.errors.most_common(5):
        print(f"    {n} x {err}")
    print(f"  operations: {dict(states)}")
    lost = states.get("LOST", 0) + not_final
    print(f"  lost (unknown or never final): {lost} (goal 0)")
    print(f"  rolled back by the server itself (engine stopped): {by_server} (goal 0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of mixed load")
    parser.add_argument("--lcm-share", type=float, default=0.1, help="requests that ask for an op")
    parser.add_argument("--list-instances", type=int, default=70)
    parser.add_argument("--list-clients", type=int, default=200)
    parser.add_argument("--list-rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="--duration 30 --list-rounds 3")
    parser.add_argument("--list-only", action="store_true", help="only the listing burst")
    parser.add_argument("--workers", type=int, default=4, help="VNFM_WORKERS of the server")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.list_rounds = 30.0, 3
    home = Path(tempfile.mkdtemp(prefix="vnfm-load-"))
    server = make_server(home, workers=str(args.workers)).start()
    try:
        with server.client() as c:
            vnfd_id = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
        measure_listing(server, vnfd_id, args.list_instances, args.list_clients, args.list_rounds)
        if not args.list_only:
            measure_load(
                server, vnfd_id, args.instances, args.clients, args.duration, args.lcm_share
            )
    finally:
        server.stop()
        for iid in instances_in_home(home):  # leave the local VIM as we found it
            cleanup_instance(iid)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
