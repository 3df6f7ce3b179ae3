"""``vnfm demo``: the webfarm VNF's whole lifecycle on the local VIM, checked.

Onboard → create → instantiate (level ``small``) → HTTP through the load
balancer reaches every web VNFC → the closed loop: a web daemon killed, its
alarm, the automatic heal, the alarm cleared, every web answering again →
terminate → delete → nothing is left. Every step is the same service call the
CLI makes; the watcher is the one ``vnfm serve`` runs, here in-process.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from typing import Any

from rich.console import Console

from vnfm_runner.domain.states import FINAL_STATES, OperationState
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm import Vnfm
from vnfm_runner.paths import EXAMPLES_DIR


class DemoFailed(Exception):
    pass


def ext_addresses(instance_doc: dict[str, Any]) -> list[str]:
    """Addresses of the instance's external CPs (reachable from the host)."""
    out: list[str] = []
    for cp in (instance_doc.get("instantiatedVnfInfo") or {}).get("extCpInfo", []):
        for proto in cp.get("cpProtocolInfo", []):
            for ip in (proto.get("ipOverEthernet") or {}).get("ipAddresses", []):
                out.extend(ip.get("addresses", []))
    return out


def http_get(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return str(resp.read().decode().strip())


def sample_backends(address: str, requests: int) -> Counter[str]:
    """Answer bodies of ``requests`` HTTP GETs to port 80 of ``address``."""
    seen: Counter[str] = Counter()
    for _ in range(requests):
        try:
            seen[http_get(f"http://{address}/")] += 1
        except (urllib.error.URLError, OSError) as exc:
            seen[f"error: {exc}"] += 1
    return seen


def leftovers(instance_id: str) -> list[str]:
    """Network namespaces still carrying the instance id."""
    out = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False
    ).stdout
    return [line.split()[0] for line in out.splitlines() if instance_id in line]


def wait_for(what: Callable[[], Any], timeout: float) -> Any:
    """``what()`` once it is truthy, polled every 0.2 s; None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    return None


def await_automatic_heal(
    service: Vnfm,
    instance_id: str,
    console: Console,
    started: float,
    missing: str,
    start_timeout: float,
) -> None:
    """Wait for the watcher's automatic HEAL of the instance to start and complete,
    printing both moments since ``started``; DemoFailed with ``missing`` if none starts."""
    heal = wait_for(
        lambda: [
            o
            for o in service.store.operations(instance_id)
            if o.operation == "HEAL" and o.doc.get("isAutomaticInvocation")
        ],
        start_timeout,
    )
    if not heal:
        raise DemoFailed(missing)
    op_id = heal[0].id
    console.print(f"    {time.monotonic() - started:4.1f}s automatic HEAL {op_id} started")
    done = wait_for(lambda: service.operation(op_id)["operationState"] in FINAL, 300)
    state = service.operation(op_id)["operationState"]
    if not done or state != OperationState.COMPLETED:
        raise DemoFailed(f"the automatic heal ended {state}")
    console.print(f"    {time.monotonic() - started:4.1f}s automatic HEAL {op_id} COMPLETED")


def show_the_loop(
    service: Vnfm,
    console: Console,
    instance_id: str,
    address: str,
    webs: list[str],
    requests: int,
) -> None:
    """Kill web-0's daemon and let the watcher alarm, heal (automatically) and clear."""
    import os
    import signal

    from vnfm_runner.assurance.alarms import AlarmService
    from vnfm_runner.assurance.health import ProbeRunner
    from vnfm_runner.assurance.loop import LcmHealer, StoreInstances
    from vnfm_runner.assurance.sync import vim_discovery
    from vnfm_runner.assurance.watcher import Watcher, WatchSettings
    from vnfm_runner.bootstrap import SystemClock

    def say(text: str) -> None:
        console.print(f"[bold cyan]==>[/] {text}")

    alarms = AlarmService(service.store, SystemClock())
    instances = StoreInstances(service.store, service.vims)
    watcher = Watcher(
        instances=instances,
        discover=vim_discovery(credentials=instances.credentials),
        prober=ProbeRunner(),
        alarms=alarms,
        healer=LcmHealer(service),
        settings=WatchSettings(tick_s=0.5, interval_s=5.0),
    )
    watcher.run_pass(force_discovery=True)
    watcher.start()
    try:
        victim = webs[0]
        pids = daemon_pids(instance_id, victim)
        if not pids:
            raise DemoFailed(f"no web daemon found in {victim}")
        say(
            f"the closed loop: kill -9 the web daemon of {victim} (pid {', '.join(map(str, pids))})"
        )
        started = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        raised = wait_for(lambda: alarms.open_alarms(instance_id), 30)
        if not raised:
            raise DemoFailed("no alarm was raised")
        alarm = raised[0]
        console.print(
            f"    {time.monotonic() - started:4.1f}s alarm {alarm.id}: {alarm.perceivedSeverity} "
            f"{alarm.probableCause} on {', '.join(alarm.vnfcInstanceIds)}"
        )
        await_automatic_heal(service, instance_id, console, started, "auto-heal did not start", 30)
        cleared = wait_for(lambda: (a := alarms.get(alarm.id)) is not None and a.cleared, 60)
        if not cleared:
            raise DemoFailed(f"alarm {alarm.id} was not cleared")
        console.print(f"    {time.monotonic() - started:4.1f}s alarm {alarm.id} cleared")
    finally:
        watcher.stop()
    seen = sample_backends(address, requests)
    missing = [w for w in webs if w not in seen]
    if missing:
        raise DemoFailed(f"after the heal, web VNFCs {missing} did not answer")
    console.print(f"    every web VNFC answers again: {', '.join(webs)}")


FINAL = (*FINAL_STATES, OperationState.FAILED_TEMP)


def daemon_pids(instance_id: str, vnfc_id: str) -> list[int]:
    """The processes inside the VNFC's network namespace (a web VNFC runs its daemon only)."""
    out = subprocess.run(
        ["ip", "netns", "pids", f"vnfm-{instance_id}-{vnfc_id}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(p) for p in out.split()]


def run_demo(
    service: Vnfm,
    console: Console,
    progress: Callable[[], EventSink],
    *,
    level: str = "small",
    requests: int = 12,
) -> None:
    def say(text: str) -> None:
        console.print(f"[bold cyan]==>[/] {text}")

    started = time.monotonic()
    package = EXAMPLES_DIR / "webfarm"
    say(f"onboard {package}")
    pkg = service.onboard(package)
    console.print(f"    vnfdId {pkg.vnfd_id}")
    say("create a VNF instance")
    instance = service.create(vnfd_id=pkg.vnfd_id, name="webfarm-demo", description="vnfm demo")
    instance_id = instance["id"]
    console.print(f"    instance {instance_id}")
    try:
        say(f"instantiate flavour default, level {level}")
        op = service.instantiate(
            instance_id=instance_id,
            request={"flavourId": "default", "instantiationLevelId": level},
            on_event=progress(),
        )
        if op["operationState"] != OperationState.COMPLETED:
            raise DemoFailed(
                f"instantiate ended {op['operationState']}: {(op.get('error') or {}).get('detail')}"
            )
        doc = service.instance(instance_id).doc
        webs = sorted(
            v["id"] for v in doc["instantiatedVnfInfo"]["vnfcResourceInfo"] if v["vduId"] == "web"
        )
        addresses = ext_addresses(doc)
        if not addresses:
            raise DemoFailed("the instance reports no external CP address")
        say(f"{requests} HTTP requests to the load balancer at http://{addresses[0]}/")
        seen = sample_backends(addresses[0], requests)
        for body, count in sorted(seen.items()):
            console.print(f"    {count:3d} answered by {body}")
        missing = [w for w in webs if w not in seen]
        if missing or any(k.startswith("error") for k in seen):
            raise DemoFailed(f"web VNFCs {missing} did not answer (answers: {dict(seen)})")
        console.print(f"    every web VNFC answered: {', '.join(webs)}")
        show_the_loop(service, console, instance_id, addresses[0], webs, requests)
    finally:
        if service.instance(instance_id).instantiation_state == "INSTANTIATED":
            say("terminate")
            op = service.terminate(
                instance_id=instance_id,
                request={"terminationType": "GRACEFUL"},
                on_event=progress(),
            )
            if op["operationState"] != OperationState.COMPLETED:
                raise DemoFailed(f"terminate ended {op['operationState']}")
        say("delete the VNF instance")
        service.delete(instance_id=instance_id)
    left = leftovers(instance_id)
    if left:
        raise DemoFailed(f"left behind: {left}")
    say(f"done in {time.monotonic() - started:.1f}s; nothing of {instance_id} remains")
