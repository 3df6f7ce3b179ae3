"""``vnfm demo --cnf``: the sample CNF webfarm-cnf's lifecycle on the embedded podman VIM.

Build the image if missing (``scripts/build-cnf-image.sh``) → onboard → create →
instantiate (level ``small``) on the podman VIM → HTTP through the load balancer reaches
every web pod → scale out and in (the pod names) → a web pod deleted by hand: the
watcher sees it missing and heals it under the same name → terminate → delete → no pod,
network or volume of the instance is left. Every step is the service call the CLI makes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from vnfm_runner.demo import (
    DemoFailed,
    await_automatic_heal,
    ext_addresses,
    sample_backends,
)
from vnfm_runner.domain.states import OperationState
from vnfm_runner.executor import EventSink
from vnfm_runner.lcm import Vnfm
from vnfm_runner.paths import CONTENT_ROOT, EXAMPLES_DIR

IMAGE = "localhost/webfarm-cnf:1"
VIM_NAME = "podman"
LABEL_INSTANCE = "vnfm.etsi.org/instance-id"


def podman(*args: str, check: bool = True) -> str:
    """``podman ARGS`` with the project's containers.conf (runc, no default rlimits)."""
    env = dict(os.environ)
    conf = Path("/var/lib/vnfm/podman-vim/containers.conf")  # the podman VIM's own
    if "CONTAINERS_CONF" not in env and conf.is_file():
        env["CONTAINERS_CONF"] = str(conf)
    proc = subprocess.run(
        ["podman", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if check and proc.returncode != 0:
        raise DemoFailed(f"podman {' '.join(args[:2])}: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def instance_pods(instance_id: str) -> list[str]:
    out = podman("pod", "ps", "--filter", f"label={LABEL_INSTANCE}={instance_id}",
                 "--format", "json")  # fmt: skip
    return sorted(str(p["Name"]) for p in json.loads(out.strip() or "[]") or [])


def leftovers(instance_id: str) -> list[str]:
    """Pods, networks and volumes of podman still carrying the instance id."""
    left = instance_pods(instance_id)
    for what in ("network", "volume"):
        for item in json.loads(podman(what, "ls", "--format", "json").strip() or "[]") or []:
            labels = item.get("Labels") or item.get("labels") or {}
            if labels.get(LABEL_INSTANCE) == instance_id:
                left.append(f"{what} {item.get('Name') or item.get('name')}")
    return left


def ensure_image(console: Console) -> None:
    if subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode == 0:
        return
    script = CONTENT_ROOT / "scripts" / "build-cnf-image.sh"
    if not script.is_file():
        raise DemoFailed(f"no image {IMAGE} and no {script} to build it")
    console.print(f"[bold cyan]==>[/] build the image {IMAGE} ({script.name})")
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise DemoFailed(f"building {IMAGE} failed: {proc.stderr.strip()[-400:]}")


def pods_of(service: Vnfm, instance_id: str) -> dict[str, str]:
    """VNFC id -> pod name, from the instance record."""
    doc = service.instance(instance_id).doc
    info = (doc.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo", [])
    return {str(v["id"]): str(v["computeResource"]["resourceId"]) for v in info}


def check_serves(address: str, webs: dict[str, str], requests: int, console: Console) -> None:
    """Every web answers through the LB (a web answers with its host name: its pod's name,
    or its VNFC id where the pod's host name is that)."""
    names = {answer: vnfc for vnfc, pod in webs.items() for answer in (vnfc, pod)}
    count = max(requests, 3 * len(webs))

    def answered(seen: dict[str, int]) -> set[str]:
        return {names[a] for a in seen if a in names}

    seen = sample_backends(address, count)
    deadline = time.monotonic() + 20
    while (answered(seen) != set(webs) or any(k.startswith("error") for k in seen)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.5)
        seen = sample_backends(address, count)
    for body, n in sorted(seen.items()):
        console.print(f"    {n:3d} answered by {body}")
    missing = sorted(set(webs) - answered(seen))
    if missing or any(k.startswith("error") for k in seen):
        raise DemoFailed(f"web pods {missing} did not answer (answers: {dict(seen)})")


def _ok(op: dict[str, Any], what: str) -> None:
    if op["operationState"] != OperationState.COMPLETED:
        detail = (op.get("error") or {}).get("detail")
        raise DemoFailed(f"{what} ended {op['operationState']}: {detail}")


def heal_by_watcher(service: Vnfm, console: Console, instance_id: str, victim: str) -> None:
    """Delete the victim's pod by hand; the watcher finds it missing and heals it."""
    from vnfm_runner.assurance.alarms import AlarmService
    from vnfm_runner.assurance.health import ProbeRunner
    from vnfm_runner.assurance.loop import LcmHealer, StoreInstances
    from vnfm_runner.assurance.sync import vim_discovery
    from vnfm_runner.assurance.watcher import Watcher, WatchSettings
    from vnfm_runner.bootstrap import SystemClock

    pod = pods_of(service, instance_id)[victim]
    alarms = AlarmService(service.store, SystemClock())
    instances = StoreInstances(service.store, service.vims)
    watcher = Watcher(
        instances=instances,
        discover=vim_discovery(credentials=instances.credentials),
        prober=ProbeRunner(),
        alarms=alarms,
        healer=LcmHealer(service),
        settings=WatchSettings(tick_s=0.5, interval_s=2.0),
    )
    watcher.run_pass(force_discovery=True)
    console.print(f"[bold cyan]==>[/] the closed loop: podman pod rm -f {pod} (VNFC {victim})")
    started = time.monotonic()
    podman("pod", "rm", "--force", "--time", "0", pod)
    watcher.start()
    try:
        await_automatic_heal(
            service, instance_id, console, started, "the watcher did not heal the deleted pod", 60
        )
    finally:
        watcher.stop()
    if pod not in instance_pods(instance_id):
        raise DemoFailed(f"pod {pod} is not back")
    console.print(f"    pod {pod} is back under its name")


def run_cnf_demo(
    service: Vnfm,
    console: Console,
    progress: Callable[[], EventSink],
    *,
    level: str = "small",
    requests: int = 12,
) -> None:
    def say(text: str) -> None:
        console.print(f"[bold cyan]==>[/] {text}")

    if shutil.which("podman") is None:
        raise DemoFailed("the CNF demo needs podman and runc (scripts/setup.sh installs them)")
    started = time.monotonic()
    ensure_image(console)
    if VIM_NAME not in {v.get("name") for v in service.vims.list()}:
        say(f"register the podman VIM as {VIM_NAME!r}")
        service.vims.add(name=VIM_NAME, vim_type="podman")
    package = EXAMPLES_DIR / "webfarm-cnf"
    say(f"onboard {package}")
    pkg = service.onboard(package)
    console.print(f"    vnfdId {pkg.vnfd_id}")
    instance = service.create(
        vnfd_id=pkg.vnfd_id, name="webfarm-cnf-demo", description="vnfm demo --cnf"
    )
    instance_id = instance["id"]
    console.print(f"    instance {instance_id}")
    try:
        say(f"instantiate flavour default, level {level}, on podman")
        op = service.instantiate(
            instance_id=instance_id,
            request={"flavourId": "default", "instantiationLevelId": level},
            vim_name=VIM_NAME,
            on_event=progress(),
        )
        _ok(op, "instantiate")
        console.print(f"    pods: {', '.join(instance_pods(instance_id))}")
        addresses = ext_addresses(service.instance(instance_id).doc)
        if not addresses:
            raise DemoFailed("the instance reports no external CP address")
        address = addresses[0]

        def webs() -> dict[str, str]:
            return {v: p for v, p in pods_of(service, instance_id).items() if v.startswith("web-")}

        say(f"HTTP requests to the load balancer at http://{address}/")
        check_serves(address, webs(), requests, console)
        for kind in ("SCALE_OUT", "SCALE_IN"):
            say(f"scale aspect web: {kind}")
            op = service.run_operation(
                instance_id=instance_id,
                operation="SCALE",
                request={"type": kind, "aspectId": "web", "numberOfSteps": 1},
                on_event=progress(),
            )
            _ok(op, kind)
            console.print(f"    pods: {', '.join(instance_pods(instance_id))}")
            check_serves(address, webs(), requests, console)
        heal_by_watcher(service, console, instance_id, sorted(webs())[0])
        check_serves(address, webs(), requests, console)
    finally:
        if service.instance(instance_id).instantiation_state == "INSTANTIATED":
            say("terminate")
            op = service.terminate(
                instance_id=instance_id,
                request={"terminationType": "GRACEFUL"},
                on_event=progress(),
            )
            _ok(op, "terminate")
        say("delete the VNF instance")
        service.delete(instance_id=instance_id)
    left = leftovers(instance_id)
    if left:
        raise DemoFailed(f"left behind: {left}")
    say(f"done in {time.monotonic() - started:.1f}s; no pod, network or volume of it remains")
