# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Application metric endpoints a package declares (``vnfm.policies.MetricEndpoint``).

SOL001 has no way for a VDU to say "my software exposes metrics here". Our namespaced
policy type (declared by the package, like ``vnfm.policies.HealthProbe``; documented in
docs/assurance.md) targets VDUs and gives ``port`` (required, 1-65535), ``path``
(default ``/metrics``) and ``cp`` (optional: a VduCp of the VDU, for software that
listens on that CP's address only). The VNFM's exporter fetches
``http://<127.0.0.1 or the CP's address>:<port><path>`` from inside each VNFC of the
VDU and re-exposes the samples (Prometheus text format) with the VNFC's labels. One
endpoint per VDU; every mistake is a FILE:LINE problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

METRIC_ENDPOINT = "vnfm.policies.MetricEndpoint"
DEFAULT_PATH = "/metrics"
MAX_PATH = 256


@dataclass(frozen=True)
class MetricEndpoint:
    """Where the VNFCs of one VDU expose their application metrics."""

    vdu_id: str
    port: int
    path: str = DEFAULT_PATH
    policy: str = ""  # the declaring policy's name
    cp: str | None = None  # fetched on this CP's address (None: 127.0.0.1)


def _port(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        return None
    return value


def _path(value: Any) -> str | None:
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_PATH:
        return None
    if not value.isprintable() or any(c in value for c in " #"):
        return None
    return value


def parse(
    ctx: Any,
    policies: list[tuple[str, dict[str, Any], Any]],
    *,
    vdu_targets: Callable[[dict[str, Any], str], list[str]],
    vdu_cps: Callable[[str], set[str]],
    inputs: dict[str, Any],
) -> list[MetricEndpoint]:
    """The flavour's MetricEndpoint policies (and types derived from it), one per VDU.

    ``ctx``: the builder's problem reporter (``error(message, node, key)``, ``registry``);
    ``vdu_targets(policy body, policy name)``: the VDUs a policy targets;
    ``vdu_cps(vdu id)``: the VduCps of a VDU."""
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.builder import resolve_inputs

    registry = ctx.registry
    out: list[MetricEndpoint] = []
    for name, body, _where in policies:
        ptype = body.get("type")
        if not isinstance(ptype, str) or not registry.is_a("policy_types", ptype, METRIC_ENDPOINT):
            continue
        props = dict(registry.property_defaults("policy_types", ptype))
        own = body.get("properties")
        own = own if isinstance(own, dict) else {}
        props.update(own)
        props = resolve_inputs(props, inputs)

        def at(key: str, own: Any = own, body: Any = body) -> tuple[Any, Any]:
            return (own, key) if key in own else (body, "properties")

        port = _port(props.get("port"))
        if port is None:
            ctx.error(
                f"metric endpoint {name!r}: 'port' must be an integer in 1-65535, "
                f"got {props.get('port')!r}",
                *at("port"),
            )
            continue
        path = _path(props.get("path", DEFAULT_PATH) or DEFAULT_PATH)
        if path is None:
            ctx.error(
                f"metric endpoint {name!r}: 'path' must start with '/' and hold no spaces "
                f"(at most {MAX_PATH} characters)",
                *at("path"),
            )
            continue
        targets = vdu_targets(body, name)
        if not targets:
            ctx.error(f"metric endpoint {name!r} targets no VDU", body, "targets")
            continue
        cp = props.get("cp")
        for vdu_id in targets:
            if cp is not None and str(cp) not in vdu_cps(vdu_id):
                ctx.error(
                    f"metric endpoint {name!r}: cp {cp!r} is not a connection point of "
                    f"VDU {vdu_id!r}",
                    *at("cp"),
                )
                continue
            if any(e.vdu_id == vdu_id for e in out):
                ctx.error(
                    f"metric endpoint {name!r}: VDU {vdu_id!r} already has a metric endpoint",
                    body,
                    "targets",
                )
                continue
            out.append(MetricEndpoint(vdu_id, port, path, name, None if cp is None else str(cp)))
    return out
