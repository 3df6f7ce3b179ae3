"""``vnfm demo``: the webfarm VNF's whole lifecycle on the local VIM, checked.

Onboard → create → instantiate (level ``small``) → HTTP through the load
balancer reaches every web VNFC → terminate → delete → nothing is left.
Every step is the same service call the CLI makes.
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
        if op["operationState"] != "COMPLETED":
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
    finally:
        if service.instance(instance_id).instantiation_state == "INSTANTIATED":
            say("terminate")
            op = service.terminate(
                instance_id=instance_id,
                request={"terminationType": "GRACEFUL"},
                on_event=progress(),
            )
            if op["operationState"] != "COMPLETED":
                raise DemoFailed(f"terminate ended {op['operationState']}")
        say("delete the VNF instance")
        service.delete(instance_id=instance_id)
    left = leftovers(instance_id)
    if left:
        raise DemoFailed(f"left behind: {left}")
    say(f"done in {time.monotonic() - started:.1f}s; nothing of {instance_id} remains")
