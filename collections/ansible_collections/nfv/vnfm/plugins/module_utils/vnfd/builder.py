# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Build the VNF model from loaded TOSCA templates (SOL001 semantics).

One deployment flavour per topology template that carries
``substitution_mappings`` (the usual top VNFD + ``*_df_*.yaml`` layout), or
the single topology template of a one-file VNFD. Node templates are
classified by type inheritance, so vendor types derived from the SOL001
normative types are understood. Every finding names its file and line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd import indicators, metric_endpoints
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd import model as m
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.autoscale import autoscale_policies
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import Package
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.safe_yaml import LocatedDict
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.tosca import (
    ServiceTemplate,
    TypeRegistry,
)

VNF = "tosca.nodes.nfv.VNF"
VDU = "tosca.nodes.nfv.Vdu.Compute"
VDU_CP = "tosca.nodes.nfv.VduCp"
EXT_CP = "tosca.nodes.nfv.VnfExtCp"
VL = "tosca.nodes.nfv.VnfVirtualLink"
STORAGES = {
    "tosca.nodes.nfv.Vdu.VirtualBlockStorage": "block",
    "tosca.nodes.nfv.Vdu.VirtualObjectStorage": "object",
    "tosca.nodes.nfv.Vdu.VirtualFileStorage": "file",
}
P = "tosca.policies.nfv."
# Our namespaced extension (docs/assurance.md): SOL001 has no liveness check of a VNFC's
# software, so a package declares this policy type in its own types file.
HEALTH_PROBE = "vnfm.policies.HealthProbe"
PROBE_KINDS = ("http", "tcp", "command")
PLAYBOOK_EXTENSIONS = (".yml", ".yaml")
SW_IMAGE = "tosca.artifacts.nfv.SwImage"
# Jinja2 delimiters: never part of a file name a VNFM should run.
TEMPLATE_MARKS = re.compile(r"\{[{%#]|[}%#]\}")

_SCALAR = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)\s*$")
_SIZE_UNITS = {  # to MiB; decimal prefixes read as binary, as NFV practice does
    "b": 1 / 2**20, "kb": 1 / 1024, "kib": 1 / 1024, "mb": 1, "mib": 1,
    "gb": 1024, "gib": 1024, "tb": 1024**2, "tib": 1024**2,
}  # fmt: skip


def size_mib(value: Any) -> float | None:
    """A TOSCA scalar-unit.size ("512 MB", "3 GiB") in MiB, or None."""
    if isinstance(value, (int, float)):
        return float(value) / 2**20
    if not isinstance(value, str):
        return None
    match = _SCALAR.match(value)
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        return None
    return float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


_TIME_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def duration_s(value: Any) -> float | None:
    """A TOSCA scalar-unit.time ("10 s", "500 ms") in seconds (a bare number: seconds), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _SCALAR.match(value)
    if not match or match.group(2).lower() not in _TIME_UNITS:
        return None
    return float(match.group(1)) * _TIME_UNITS[match.group(2).lower()]


def _gib(value: Any) -> float | None:
    mib = size_mib(value)
    return None if mib is None else round(mib / 1024, 6)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class _Context:
    """Problems and inputs shared while building one flavour."""

    def __init__(self, package: Package, registry: TypeRegistry, problems: list[Problem]) -> None:
        self.package = package
        self.registry = registry
        self.problems = problems
        self.strict = False  # vnfm package validate --strict: defects are errors
        self.defects: dict[str, str] = {}

    def defect(self, part: str | None, message: str, mapping: Any, key: Any = None) -> None:
        """A dangling reference in a part of the VNFD that a deployment may not use.

        A warning (an error when strict); ``part`` ("aspect:<id>", "level:<id>",
        "extCp:<cpdId>") records it so the planner refuses a request that uses that part.
        """
        self.problems.append(self._at(message, mapping, key, "error" if self.strict else "warning"))
        if part is not None:
            self.defects.setdefault(part, str(self._at(message, mapping, key, "error")))

    def error(self, message: str, mapping: Any, key: Any = None) -> None:
        self.problems.append(self._at(message, mapping, key, "error"))

    def warn(self, message: str, mapping: Any, key: Any = None) -> None:
        self.problems.append(self._at(message, mapping, key, "warning"))

    @staticmethod
    def _at(message: str, mapping: Any, key: Any, severity: str) -> Problem:
        if isinstance(mapping, LocatedDict):
            line = mapping.line_of(key) if key is not None else mapping.line
            return Problem(message, mapping.file, line, severity)
        return Problem(message, severity=severity)


def resolve_inputs(value: Any, inputs: dict[str, Any]) -> Any:
    """Replace ``{get_input: name}`` by the input's value, recursively."""
    if isinstance(value, dict):
        if len(value) == 1 and "get_input" in value:
            name = value["get_input"]
            if isinstance(name, list):  # get_input: [name, index...]
                name = name[0] if name else None
            return inputs.get(name) if isinstance(name, str) else None
        resolved = {k: resolve_inputs(v, inputs) for k, v in value.items()}
        if isinstance(value, LocatedDict):  # keep FILE:LINE for the problems found later
            located = LocatedDict(resolved)
            located.file, located.line, located.key_lines = value.file, value.line, value.key_lines
            return located
        return resolved
    if isinstance(value, list):
        return [resolve_inputs(v, inputs) for v in value]
    return value


def _requirements(node: dict[str, Any]) -> list[tuple[str, str | None, Any]]:
    """(requirement name, target node, mapping for location) of a node template."""
    out: list[tuple[str, str | None, Any]] = []
    reqs = node.get("requirements") or []
    if isinstance(reqs, dict):
        reqs = [{k: v} for k, v in reqs.items()]
    if not isinstance(reqs, list):
        return out
    for item in reqs:
        if not isinstance(item, dict):
            continue
        for name, target in item.items():
            if isinstance(target, dict):
                target = target.get("node")
            out.append((str(name), target if isinstance(target, str) else None, item))
    return out


def _policies(topology: dict[str, Any]) -> list[tuple[str, dict[str, Any], Any]]:
    raw = topology.get("policies") or []
    items: list[tuple[str, dict[str, Any], Any]] = []
    if isinstance(raw, dict):
        raw = [{k: v} for k, v in raw.items()]
    if not isinstance(raw, list):
        return items
    for entry in raw:
        if isinstance(entry, dict):
            for name, body in entry.items():
                if isinstance(body, dict):
                    items.append((str(name), body, entry))
    return items


def _sw_image(data: Any) -> m.SwImage | None:
    if not isinstance(data, dict):
        return None
    return m.SwImage(
        name=data.get("name"),
        version=None if data.get("version") is None else str(data.get("version")),
        checksum=dict(data["checksum"]) if isinstance(data.get("checksum"), dict) else None,
        container_format=data.get("container_format"),
        disk_format=data.get("disk_format"),
        min_disk_gb=_gib(data.get("min_disk")),
        min_ram_mb=size_mib(data.get("min_ram")),
        size_gb=_gib(data.get("size")),
    )


class FlavourBuilder:
    """Builds one :class:`~model.Flavour` from one topology template."""

    def __init__(
        self,
        ctx: _Context,
        template: ServiceTemplate,
        flavour_id: str,
        vnf_properties: dict[str, Any],
    ) -> None:
        self.ctx = ctx
        self.template = template
        self.topology: dict[str, Any] = template.topology or {}
        self.flavour_id = flavour_id
        self.vnf_properties = vnf_properties
        nodes = self.topology.get("node_templates") or {}
        self.nodes: dict[str, Any] = nodes if isinstance(nodes, dict) else {}
        self.kinds: dict[str, str] = {}
        self.inputs = self._inputs()

    def _inputs(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        declared = self.topology.get("inputs") or {}
        if isinstance(declared, dict):
            for name, spec in declared.items():
                if isinstance(spec, dict) and "default" in spec:
                    values[name] = spec["default"]
        # Substitution: the flavour's inputs take the abstract VNF's properties.
        values.update(self.vnf_properties)
        values.setdefault("flavour_id", self.flavour_id)
        values.setdefault("selected_flavour", self.flavour_id)
        return values

    def props(self, node: dict[str, Any], kind_type: str) -> dict[str, Any]:
        defaults = self.ctx.registry.property_defaults("node_types", kind_type)
        own = node.get("properties") or {}
        merged = dict(defaults)
        if isinstance(own, dict):
            merged.update(own)
        resolved = resolve_inputs(merged, self.inputs)
        return resolved if isinstance(resolved, dict) else {}

    # -- classification -------------------------------------------------------
    def classify(self) -> None:
        registry = self.ctx.registry
        for name, node in self.nodes.items():
            if not isinstance(node, dict):
                self.ctx.error(f"node template {name!r} must be a mapping", self.nodes, name)
                continue
            node_type = node.get("type")
            if not isinstance(node_type, str):
                self.ctx.error(f"node template {name!r} has no type", self.nodes, name)
                continue
            if registry.get("node_types", node_type) is None:
                self.ctx.error(
                    f"node template {name!r}: unknown node type {node_type!r}", node, "type"
                )
                continue
            for kind in (VNF, VDU, VDU_CP, EXT_CP, VL, *STORAGES):
                if registry.is_a("node_types", node_type, kind):
                    self.kinds[name] = kind
                    break

    def names(self, kind: str) -> list[str]:
        return [n for n, k in self.kinds.items() if k == kind]

    # -- build ----------------------------------------------------------------------
    def build(self) -> m.Flavour:
        self.ctx.defects = {}  # this flavour's own
        self.classify()
        flavour = m.Flavour(
            id=self.flavour_id,
            description=self.vnf_properties.get("flavour_description"),
            template=self.template.name,
        )
        for name in self.names(VL):
            flavour.virtual_links.append(self._virtual_link(name))
        for name, node in self.nodes.items():
            kind = self.kinds.get(name)
            if kind in STORAGES:
                flavour.storage.append(self._storage(name, node, STORAGES[kind]))
        for name in self.names(VDU):
            vdu = self._vdu(name)
            if vdu is not None:
                flavour.vdus.append(vdu)
        for name in self.names(VDU_CP):
            cp = self._vdu_cp(name)
            if cp is not None:
                flavour.cps.append(cp)
        flavour.ext_cps = self._ext_cps()
        self._policies(flavour)
        flavour.lcm_operations = self._operations()
        self._check_levels(flavour)
        self._check_autoheal()
        flavour.defects = self.ctx.defects
        return flavour

    def _check_autoheal(self) -> None:
        """SOL001 ``configurable_properties.is_autoheal_enabled`` (the default of an
        instance's isAutohealEnabled) must be a boolean when given."""
        conf = self.vnf_properties.get("configurable_properties")
        for key in ("is_autoheal_enabled", "is_autoscale_enabled"):
            value = conf.get(key) if isinstance(conf, dict) else None
            if value is not None and not isinstance(value, bool):
                self.ctx.error(
                    f"configurable_properties.{key} must be true or false, not {value!r}",
                    conf,
                    key,
                )

    def _virtual_link(self, name: str) -> m.VirtualLink:
        node = self.nodes[name]
        props = self.props(node, node["type"])
        conn = props.get("connectivity_type") or {}
        vl = m.VirtualLink(
            id=name,
            description=props.get("description"),
            layer_protocols=list(conn.get("layer_protocols") or [])
            if isinstance(conn, dict)
            else [],
        )
        profile = props.get("vl_profile") or {}
        datas = profile.get("virtual_link_protocol_data") or [] if isinstance(profile, dict) else []
        for data in datas if isinstance(datas, list) else []:
            if not isinstance(data, dict):
                continue
            l3 = data.get("l3_protocol_data")
            if isinstance(l3, dict) and vl.cidr is None:
                vl.cidr = l3.get("cidr")
                vl.ip_version = l3.get("ip_version")
                vl.gateway_ip = l3.get("gateway_ip")
                vl.dhcp_enabled = l3.get("dhcp_enabled")
            l2 = data.get("l2_protocol_data")
            if isinstance(l2, dict) and vl.mtu is None:
                vl.mtu = _as_int(l2.get("mtu"))
        if vl.cidr is not None:
            try:
                import ipaddress

                ipaddress.ip_network(str(vl.cidr), strict=False)
            except ValueError:
                self.ctx.error(f"virtual link {name!r}: invalid cidr {vl.cidr!r}", node)
                vl.cidr = None
        return vl

    def _storage(self, name: str, node: dict[str, Any], kind: str) -> m.VirtualStorage:
        props = self.props(node, node["type"])
        data = props.get(f"virtual_{kind}_storage_data") or {}
        size = data.get("size_of_storage") if isinstance(data, dict) else None
        if kind == "object" and isinstance(data, dict):
            size = data.get("max_size_of_storage")
        return m.VirtualStorage(name, kind, _gib(size), _sw_image(props.get("sw_image_data")))

    def _vdu(self, name: str) -> m.Vdu | None:
        node = self.nodes[name]
        props = self.props(node, node["type"])
        profile = props.get("vdu_profile")
        if not isinstance(profile, dict):
            self.ctx.error(f"VDU {name!r} has no vdu_profile", node, "properties")
            return None
        low = _as_int(profile.get("min_number_of_instances"))
        high = _as_int(profile.get("max_number_of_instances"))
        if low is None or high is None or low < 0:
            self.ctx.error(
                f"VDU {name!r}: vdu_profile needs non-negative integer "
                "min_number_of_instances and max_number_of_instances",
                profile,
            )
            return None
        if low > high:
            self.ctx.error(
                f"VDU {name!r}: min_number_of_instances ({low}) > max_number_of_instances ({high})",
                profile,
                "min_number_of_instances",
            )
        vdu = m.Vdu(
            id=name,
            name=str(props.get("name") or name),
            description=props.get("description"),
            min_instances=low,
            max_instances=high,
            sw_image=_sw_image(props.get("sw_image_data")),
            boot_order=[str(b) for b in props.get("boot_order") or []],
            boot_data=props.get("boot_data"),
            configurable_properties=dict(props.get("configurable_properties") or {}),
        )
        vdu.monitoring_parameters = self._monitoring_parameters(
            name, props.get("monitoring_parameters"), node
        )
        caps = node.get("capabilities") or {}
        compute = (
            (caps.get("virtual_compute") or {}).get("properties")
            if isinstance(caps, dict)
            else None
        )
        if isinstance(compute, dict):
            compute = resolve_inputs(compute, self.inputs)
            cpu = compute.get("virtual_cpu") or {}
            vdu.num_virtual_cpu = (
                _as_int(cpu.get("num_virtual_cpu")) if isinstance(cpu, dict) else None
            )
            mem = compute.get("virtual_memory") or {}
            vdu.virtual_mem_size_mb = (
                size_mib(mem.get("virtual_mem_size")) if isinstance(mem, dict) else None
            )
            local = compute.get("virtual_local_storage") or []
            if isinstance(local, list) and local and isinstance(local[0], dict):
                vdu.local_storage_gb = _gib(local[0].get("size_of_storage"))
            vdu.flavour_hints = _flavour_hints(compute.get("requested_additional_capabilities"))
        artifacts = node.get("artifacts") or {}
        for art_name, art in artifacts.items() if isinstance(artifacts, dict) else []:
            if isinstance(art, dict) and isinstance(art.get("file"), str):
                self._vdu_artifact(vdu, str(art_name), art)
        for req, target, where in _requirements(node):
            if req == "virtual_storage":
                if target not in self.nodes or self.kinds.get(target) not in STORAGES:
                    self.ctx.error(
                        f"VDU {name!r}: virtual_storage names unknown storage {target!r}",
                        where,
                        req,
                    )
                else:
                    vdu.storage.append(target)
        return vdu

    def _monitoring_parameters(
        self, vdu: str, raw: Any, node: dict[str, Any]
    ) -> list[m.MonitoringParameter]:
        """SOL001 ``monitoring_parameters``: a list (v2.x) or a map keyed by id (later)."""
        if raw is None:
            return []
        if isinstance(raw, dict):
            items = [(str(k), v) for k, v in raw.items()]
        elif isinstance(raw, list):
            items = [(str(i), v) for i, v in enumerate(raw)]
        else:
            self.ctx.error(f"VDU {vdu!r}: monitoring_parameters must be a list or a map", node)
            return []
        out: list[m.MonitoringParameter] = []
        for key, spec in items:
            metric = spec.get("performance_metric") if isinstance(spec, dict) else None
            if not isinstance(metric, str) or not metric:
                self.ctx.error(
                    f"VDU {vdu!r}: monitoring parameter {key!r} needs a performance_metric",
                    spec if isinstance(spec, dict) else node,
                )
                continue
            period = spec.get("collection_period")
            seconds = duration_s(period)
            if period is not None and (seconds is None or seconds <= 0):
                self.ctx.error(
                    f"VDU {vdu!r}: monitoring parameter {key!r}: collection_period "
                    f"{period!r} is not a positive time",
                    spec,
                    "collection_period",
                )
            name = spec.get("name")
            out.append(
                m.MonitoringParameter(key, None if name is None else str(name), metric, seconds)
            )
        return out

    def _vdu_artifact(self, vdu: m.Vdu, name: str, art: dict[str, Any]) -> None:
        """The image file (a SwImage artifact, or any file of a VDU with sw_image_data and
        no SwImage artifact), else a software artifact with its digest."""
        path = self._artifact_path(art["file"], art, required=False)
        kind = art.get("type") if isinstance(art.get("type"), str) else None
        is_image = kind is not None and self.ctx.registry.is_a("artifact_types", kind, SW_IMAGE)
        if vdu.sw_image is not None and (is_image or kind is None or name == "sw_image"):
            vdu.sw_image.file = path
            return
        if path is None or is_image:
            return
        try:  # software is small; an image's identity is its checksum property instead
            digest = hashlib.sha256(self.ctx.package.read_bytes(path)).hexdigest()
        except PackageError as exc:
            self.ctx.problems.extend(exc.problems)
            return
        vdu.artifacts.append(m.VduArtifact(name=name, file=path, type=kind, sha256=digest))

    def _vdu_cp(self, name: str) -> m.VduCp | None:
        node = self.nodes[name]
        props = self.props(node, node["type"])
        binding: str | None = None
        link: str | None = None
        for req, target, where in _requirements(node):
            if req == "virtual_binding":
                if target not in self.nodes or self.kinds.get(target) != VDU:
                    self.ctx.error(
                        f"CP {name!r}: virtual_binding names unknown VDU {target!r}", where, req
                    )
                else:
                    binding = target
            elif req == "virtual_link":
                if target not in self.nodes or self.kinds.get(target) != VL:
                    self.ctx.error(
                        f"CP {name!r}: virtual_link names unknown virtual link {target!r}",
                        where,
                        req,
                    )
                else:
                    link = target
        if binding is None:
            if not any(r == "virtual_binding" for r, _t, _w in _requirements(node)):
                self.ctx.error(f"CP {name!r} has no virtual_binding requirement", node)
            return None
        return m.VduCp(
            id=name,
            vdu_id=binding,
            virtual_link=link,
            order=_as_int(props.get("order")),
            layer_protocols=list(props.get("layer_protocols") or []),
            address_data=list(props.get("protocol") or []),
            vnic_type=props.get("vnic_type"),
            bitrate_requirement=_as_int(props.get("bitrate_requirement")),
        )

    def _ext_cps(self) -> list[m.ExtCp]:
        subst = self.topology.get("substitution_mappings") or {}
        reqs = subst.get("requirements") if isinstance(subst, dict) else None
        out: list[m.ExtCp] = []
        if isinstance(reqs, list):  # list-of-maps form
            reqs = {k: v for item in reqs if isinstance(item, dict) for k, v in item.items()}
        if not isinstance(reqs, dict):
            return out
        for req, mapping in reqs.items():
            if isinstance(mapping, dict):
                mapping = mapping.get("mapping")
            if not mapping:
                continue  # declared but not mapped in this flavour
            if not isinstance(mapping, list) or not mapping or not isinstance(mapping[0], str):
                self.ctx.error(
                    f"substitution requirement {req!r}: expected [node, requirement]", reqs, req
                )
                continue
            target = mapping[0]
            kind = self.kinds.get(target)
            if target not in self.nodes:
                self.ctx.defect(
                    f"extCp:{target}",
                    f"substitution requirement {req!r} maps to unknown node {target!r}",
                    reqs,
                    req,
                )
                continue
            if kind == VDU_CP:
                vdu = next(
                    (t for r, t, _w in _requirements(self.nodes[target]) if r == "virtual_binding"),
                    None,
                )
                out.append(m.ExtCp(target, str(req), "VduCp", vdu_id=vdu))
            elif kind == EXT_CP:
                internal = next(
                    (
                        t
                        for r, t, _w in _requirements(self.nodes[target])
                        if r == "internal_virtual_link"
                    ),
                    None,
                )
                out.append(m.ExtCp(target, str(req), "VnfExtCp", internal_virtual_link=internal))
            else:
                self.ctx.error(
                    f"substitution requirement {req!r} maps to {target!r}, which is not a connection point",
                    reqs,
                    req,
                )
        return sorted(out, key=lambda c: c.id)

    # -- policies -------------------------------------------------------------------
    def _targets(self, body: dict[str, Any], policy: str, allowed: set[str]) -> list[str]:
        raw = body.get("targets") or []
        groups = self.topology.get("groups") or {}
        out: list[str] = []
        for target in raw if isinstance(raw, list) else [raw]:
            if isinstance(groups, dict) and target in groups and isinstance(groups[target], dict):
                members = groups[target].get("members") or []
                out.extend(str(x) for x in members if self.kinds.get(str(x)) in allowed)
                continue
            if target not in self.nodes:
                self.ctx.defect(
                    None, f"policy {policy!r} targets unknown node {target!r}", body, "targets"
                )
            elif self.kinds.get(target) not in allowed:
                self.ctx.error(f"policy {policy!r} cannot target {target!r}", body, "targets")
            else:
                out.append(str(target))
        return out

    def _policies(self, flavour: m.Flavour) -> None:
        registry = self.ctx.registry
        policies = _policies(self.topology)
        typed: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
        for name, body, _where in policies:
            ptype = body.get("type")
            if not isinstance(ptype, str) or registry.get("policy_types", ptype) is None:
                self.ctx.error(f"policy {name!r}: unknown policy type {ptype!r}", body, "type")
                continue
            props = dict(registry.property_defaults("policy_types", ptype))
            props.update(body.get("properties") or {})
            props = resolve_inputs(props, self.inputs)
            base = next(
                (t for t in registry.ancestry("policy_types", ptype) if t.startswith(P)), ptype
            )
            typed.append((name, base, body, props))
        # Aspects first: other policies refer to them.
        for _name, base, _body, props in typed:
            if base == P + "ScalingAspects":
                aspects = props.get("aspects") or {}
                for aid, spec in aspects.items() if isinstance(aspects, dict) else []:
                    if not isinstance(spec, dict):
                        continue
                    max_level = _as_int(spec.get("max_scale_level"))
                    if max_level is None or max_level < 0:
                        self.ctx.error(
                            f"aspect {aid!r}: max_scale_level must be a non-negative integer", spec
                        )
                        max_level = 0
                    flavour.scaling_aspects.append(
                        m.ScalingAspect(
                            id=str(aid),
                            name=spec.get("name"),
                            description=spec.get("description"),
                            max_scale_level=max_level,
                            step_deltas=[str(s) for s in spec.get("step_deltas") or []],
                        )
                    )
        vdu_ids = {VDU}
        vdu_levels: dict[str, dict[str, int]] = {}
        default_where: tuple[Any, Any] = (self.topology, "policies")
        for name, base, body, props in typed:
            short = base.removeprefix(P)
            if short == "VduInitialDelta":
                count = _as_int((props.get("initial_delta") or {}).get("number_of_instances"))
                for vdu_id in self._targets(body, name, vdu_ids):
                    flavour.initial_deltas[vdu_id] = count if count is not None else 0
            elif short == "VduScalingAspectDeltas":
                aspect = flavour.aspect(str(props.get("aspect")))
                if aspect is None:
                    self.ctx.defect(
                        f"aspect:{props.get('aspect')}",
                        f"policy {name!r} names unknown aspect {props.get('aspect')!r}",
                        body.get("properties") or body,
                        "aspect",
                    )
                    continue
                deltas = props.get("deltas") or {}
                parsed = {
                    str(k): _as_int((v or {}).get("number_of_instances")) or 0
                    for k, v in (deltas.items() if isinstance(deltas, dict) else [])
                }
                for delta_id in parsed:
                    if aspect.step_deltas and delta_id not in aspect.step_deltas:
                        self.ctx.warn(
                            f"policy {name!r}: delta {delta_id!r} is not a step of aspect {aspect.id!r}",
                            body,
                        )
                for vdu_id in self._targets(body, name, vdu_ids):
                    aspect.vdu_deltas[vdu_id] = parsed
            elif short == "InstantiationLevels":
                levels = props.get("levels") or {}
                for lid, spec in levels.items() if isinstance(levels, dict) else []:
                    spec = spec if isinstance(spec, dict) else {}
                    info: dict[str, int] = {}
                    scale = spec.get("scale_info") or {}
                    for aid, lvl in scale.items() if isinstance(scale, dict) else []:
                        aspect = flavour.aspect(str(aid))
                        value = _as_int((lvl or {}).get("scale_level"))
                        if aspect is None:
                            self.ctx.defect(
                                f"level:{lid}",
                                f"instantiation level {lid!r} names unknown aspect {aid!r}",
                                scale,
                                aid,
                            )
                        elif value is None or value < 0 or value > aspect.max_scale_level:
                            self.ctx.error(
                                f"instantiation level {lid!r}: scale_level {value!r} of aspect {aid!r} "
                                f"is outside 0..{aspect.max_scale_level}",
                                scale,
                                aid,
                            )
                        else:
                            info[str(aid)] = value
                    flavour.instantiation_levels.append(
                        m.InstantiationLevel(str(lid), spec.get("description"), info)
                    )
                default = props.get("default_level")
                flavour.default_level = str(default) if default is not None else None
                default_where = (body.get("properties"), "default_level")
            elif short == "VduInstantiationLevels":
                levels = props.get("levels") or {}
                for vdu_id in self._targets(body, name, vdu_ids):
                    for lid, spec in levels.items() if isinstance(levels, dict) else []:
                        count = _as_int((spec or {}).get("number_of_instances"))
                        vdu_levels.setdefault(str(lid), {})[vdu_id] = (
                            count if count is not None else 0
                        )
            elif short in ("AffinityRule", "AntiAffinityRule"):
                targets = self._targets(body, name, {VDU, VL})
                flavour.placement_rules.append(
                    m.PlacementRule(
                        id=name,
                        kind="affinity" if short == "AffinityRule" else "anti-affinity",
                        scope=str(props.get("scope") or "nfvi_node"),
                        vdu_ids=[t for t in targets if self.kinds.get(t) == VDU],
                        vl_ids=[t for t in targets if self.kinds.get(t) == VL],
                    )
                )
            elif short == "SecurityGroupRule":
                flavour.security_group_rules.append(
                    m.SecurityGroupRule(
                        id=name,
                        description=props.get("description"),
                        direction=str(props.get("direction") or "ingress"),
                        ether_type=str(props.get("ether_type") or "ipv4"),
                        protocol=str(props.get("protocol") or "tcp"),
                        port_range_min=_as_int(props.get("port_range_min")) or 0,
                        port_range_max=_as_int(props.get("port_range_max")) or 65535,
                        cp_ids=self._targets(body, name, {VDU_CP, EXT_CP}),
                    )
                )
        self._health_probes(flavour, policies)
        flavour.metric_endpoints = metric_endpoints.parse(
            self.ctx,
            policies,
            vdu_targets=lambda b, n: self._targets(b, n, {VDU}),
            vdu_cps=lambda vdu: {c.id for c in flavour.cps if c.vdu_id == vdu},
            inputs=self.inputs,
        )
        flavour.indicators = indicators.parse(self, flavour, policies)
        flavour.autoscale_policies = autoscale_policies(
            flavour, policies, types=registry, report=self.ctx, inputs=self.inputs
        )
        known_levels = {lv.id for lv in flavour.instantiation_levels}
        for lid, counts in vdu_levels.items():
            level = flavour.level(lid)
            if level is None:
                if known_levels:
                    self.ctx.error(
                        f"VduInstantiationLevels names unknown instantiation level {lid!r}",
                        self.topology,
                        "policies",
                    )
                    continue
                level = m.InstantiationLevel(lid, None)
                flavour.instantiation_levels.append(level)
            level.vdu_instances.update(counts)
        if flavour.default_level is not None and flavour.level(flavour.default_level) is None:
            self.ctx.error(
                f"default_level {flavour.default_level!r} is not an instantiation level",
                *default_where,
            )
        for level in flavour.instantiation_levels:
            for vdu in flavour.vdus:
                if vdu.id not in level.vdu_instances:
                    level.vdu_instances[vdu.id] = flavour.initial_deltas.get(
                        vdu.id, vdu.min_instances
                    ) + sum(
                        a.instances_added(vdu.id, level.scale_info.get(a.id, 0))
                        for a in flavour.scaling_aspects
                    )

    def _health_probes(
        self, flavour: m.Flavour, policies: list[tuple[str, dict[str, Any], Any]]
    ) -> None:
        """``vnfm.policies.HealthProbe`` policies (and types derived from it): one probe per target VDU."""
        registry = self.ctx.registry
        for name, body, _where in policies:
            ptype = body.get("type")
            if not isinstance(ptype, str) or not registry.is_a("policy_types", ptype, HEALTH_PROBE):
                continue
            props = dict(registry.property_defaults("policy_types", ptype))
            own = body.get("properties")
            own = own if isinstance(own, dict) else {}
            props.update(own)
            props = resolve_inputs(props, self.inputs)

            # problems point at the property when the package wrote it, else at the policy
            def at(key: str, own: Any = own, body: Any = body) -> tuple[Any, Any]:
                return (own, key) if key in own else (body, "properties")

            targets = self._targets(body, name, {VDU})
            if not targets:
                self.ctx.error(f"health probe {name!r} targets no VDU", body, "targets")
                continue
            probe = self._health_probe(name, props, own, at)
            if probe is None:
                continue
            cp = props.get("cp")
            for vdu_id in targets:
                vdu_cps = sorted(
                    (c for c in flavour.cps if c.vdu_id == vdu_id),
                    key=lambda c: (c.order if c.order is not None else 1 << 30, c.id),
                )
                one = dataclasses.replace(
                    probe,
                    vdu_id=vdu_id,
                    command=list(probe.command),
                    expected_status=list(probe.expected_status),
                )
                if probe.kind != "command":
                    if cp is None:
                        if not vdu_cps:
                            self.ctx.error(
                                f"health probe {name!r}: VDU {vdu_id!r} has no connection point to probe",
                                *at("cp"),
                            )
                            continue
                        one.cp_id = vdu_cps[0].id  # the VDU's first CP (lowest order)
                    elif str(cp) not in {c.id for c in vdu_cps}:
                        self.ctx.error(
                            f"health probe {name!r}: cp {cp!r} is not a connection point of VDU {vdu_id!r}",
                            *at("cp"),
                        )
                        continue
                    else:
                        one.cp_id = str(cp)
                if any(p.vdu_id == vdu_id for p in flavour.health_probes):
                    self.ctx.error(
                        f"health probe {name!r}: VDU {vdu_id!r} already has a health probe",
                        body,
                        "targets",
                    )
                    continue
                flavour.health_probes.append(one)

    def _health_probe(
        self, name: str, props: dict[str, Any], own: dict[str, Any], at: Any
    ) -> m.HealthProbe | None:
        """The VDU-independent part of a probe declaration; None after reporting its errors.

        ``props`` has the type's defaults merged in; ``own`` is what the policy writes
        (a property of another kind of probe is an error only when written)."""
        ok = True

        def bad(message: str, key: str) -> None:
            nonlocal ok
            ok = False
            self.ctx.error(f"health probe {name!r}: {message}", *at(key))

        kind = props.get("probe")
        if kind not in PROBE_KINDS:
            bad(f"probe must be one of {', '.join(PROBE_KINDS)}, not {kind!r}", "probe")
            return None
        probe = m.HealthProbe(id=name, vdu_id="", kind=str(kind))
        times: dict[str, float] = {}
        for key, default in (("interval", 10.0), ("timeout", 2.0)):
            raw = props.get(key)
            seconds = default if raw is None else duration_s(raw)
            if seconds is None or seconds <= 0:
                bad(f"{key} {raw!r} is not a positive time (e.g. '5 s')", key)
                seconds = default
            times[key] = seconds
        probe.interval_s, probe.timeout_s = times["interval"], times["timeout"]
        if probe.timeout_s > probe.interval_s:
            bad(
                f"timeout ({probe.timeout_s:g} s) exceeds interval ({probe.interval_s:g} s)",
                "timeout",
            )
        threshold = props.get("failure_threshold", 3)
        count = _as_int(threshold)
        if count is None or count < 1:
            bad(f"failure_threshold {threshold!r} must be an integer >= 1", "failure_threshold")
        else:
            probe.failure_threshold = count
        if kind == "command":
            command = props.get("command")
            if (
                not isinstance(command, list)
                or not command
                or not all(isinstance(a, str) and a for a in command)
            ):
                bad("a command probe needs command: a non-empty list of strings (argv)", "command")
            else:
                probe.command = list(command)
            for key in ("port", "path", "cp", "expected_status"):
                if own.get(key) is not None:
                    bad(f"{key} is not a property of a command probe", key)
            return probe if ok else None
        if own.get("command") is not None:
            bad(f"command is not a property of a {kind} probe", "command")
        port = _as_int(props.get("port"))
        if port is None or not 1 <= port <= 65535:
            bad(f"port {props.get('port')!r} must be an integer 1-65535", "port")
        else:
            probe.port = port
        if kind == "http":
            path = props.get("path", "/")
            if (
                not isinstance(path, str)
                or not path.startswith("/")
                or any(c.isspace() or ord(c) < 32 for c in path)
            ):
                bad(f"path {path!r} must start with '/' and hold no spaces", "path")
            else:
                probe.path = path
            statuses = props.get("expected_status")
            if statuses is not None:
                codes = [_as_int(c) for c in statuses] if isinstance(statuses, list) else [None]
                if not codes or any(c is None or not 100 <= c <= 599 for c in codes):
                    bad(
                        f"expected_status {statuses!r} must be a list of HTTP status codes",
                        "expected_status",
                    )
                else:
                    probe.expected_status = sorted({c for c in codes if c is not None})
        else:
            for key in ("path", "expected_status"):
                if own.get(key) is not None:
                    bad(f"{key} is not a property of a tcp probe", key)
        return probe if ok else None

    def _check_levels(self, flavour: m.Flavour) -> None:
        for vdu in flavour.vdus:
            top = flavour.initial_deltas.get(vdu.id, vdu.min_instances) + sum(
                a.instances_added(vdu.id, a.max_scale_level) for a in flavour.scaling_aspects
            )
            if top > vdu.max_instances:
                self.ctx.warn(
                    f"VDU {vdu.id!r}: the aspects' max_scale_level allow {top} instances but "
                    f"max_number_of_instances is {vdu.max_instances}; scaling beyond it will be refused",
                    self.nodes.get(vdu.id),
                )
            for level in flavour.instantiation_levels:
                count = level.vdu_instances.get(vdu.id, 0)
                if not vdu.min_instances <= count <= vdu.max_instances:
                    self.ctx.warn(
                        f"instantiation level {level.id!r} asks {count} instances of VDU {vdu.id!r}, "
                        f"outside {vdu.min_instances}..{vdu.max_instances}",
                        self.nodes.get(vdu.id),
                    )

    # -- interfaces -------------------------------------------------------------------
    def _artifact_path(self, file: str, where: Any, *, required: bool) -> str | None:
        """Package-relative path of an artifact file (relative to the template, or root)."""
        report = self.ctx.error if required else self.ctx.warn
        if TEMPLATE_MARKS.search(file):
            # Hook paths reach Ansible (as unsafe text); a name that looks like a template
            # is refused so that no reader of the package is ever tempted to evaluate it.
            self.ctx.error(f"artifact file {file!r} holds template delimiters", where, "file")
            return None
        if file.startswith("/") or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", file):
            report(f"artifact file {file!r} is outside the package", where, "file")
            return None
        try:  # SOL001: relative to the file that defines the artifact
            full = self.ctx.package.resolve(file, base=self.template.name)
        except PackageError as exc:
            self.ctx.error(f"artifact file {file!r}: {exc}", where, "file")
            return None
        if not full.is_file() and not file.startswith(".."):
            full = self.ctx.package.resolve(file)  # common practice: package-root relative
        if full.is_file():
            return self.ctx.package.relative(full)
        report(f"artifact file not found in package: {file}", where, "file")
        return None

    def _operations(self) -> list[m.LcmOperation]:
        vnf_nodes = self.names(VNF)
        if not vnf_nodes:
            return []
        node = self.nodes[vnf_nodes[0]]
        artifacts = node.get("artifacts") or {}
        artifacts = artifacts if isinstance(artifacts, dict) else {}
        interfaces = node.get("interfaces") or {}
        ops: list[m.LcmOperation] = []
        for iface, body in interfaces.items() if isinstance(interfaces, dict) else []:
            if not isinstance(body, dict):
                continue
            nested = body.get("operations")
            operations: dict[str, Any] = nested if isinstance(nested, dict) else body
            for op_name, op in operations.items():
                if op_name in ("type", "inputs", "notifications"):
                    continue
                ops.append(self._operation(str(iface), str(op_name), op, operations, artifacts))
        return sorted(ops, key=lambda o: (o.interface != "Vnflcm", o.interface, o.name))

    def _operation(
        self, iface: str, name: str, op: Any, where: Any, artifacts: dict[str, Any]
    ) -> m.LcmOperation:
        result = m.LcmOperation(name=name, interface=iface)
        impl: Any = None
        if isinstance(op, str):
            impl = op
        elif isinstance(op, dict):
            impl = op.get("implementation")
            inputs = op.get("inputs") or {}
            result.inputs = (
                dict(resolve_inputs(inputs, self.inputs)) if isinstance(inputs, dict) else {}
            )
        if isinstance(impl, dict):
            impl = impl.get("primary")
            if isinstance(impl, dict):
                impl = impl.get("file")
        if not isinstance(impl, str) or not impl:
            return result
        result.implementation = impl
        art = artifacts.get(impl)
        if isinstance(art, dict):
            result.artifact_type = art.get("type")
            file = art.get("file")
            if isinstance(file, str):
                runnable = file.endswith(PLAYBOOK_EXTENSIONS)
                result.artifact_file = self._artifact_path(file, art, required=runnable)
        elif impl.endswith(PLAYBOOK_EXTENSIONS):
            result.artifact_file = self._artifact_path(impl, where, required=True)
        else:
            self.ctx.error(f"operation {iface}.{name}: unknown artifact {impl!r}", where, name)
        return result


def _flavour_hints(value: Any) -> list[str]:
    hints: list[str] = []
    if not isinstance(value, dict):
        return hints
    if "requested_additional_capability_name" in value:
        value = {"_": value}
    for spec in value.values():
        if isinstance(spec, dict):
            nested = spec.get("properties")
            inner: dict[str, Any] = nested if isinstance(nested, dict) else spec
            hint = inner.get("requested_additional_capability_name")
            if isinstance(hint, str):
                hints.append(hint)
    return hints
