# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The VNF model: what a VNFD says, typed and ready for the planner.

Plain dataclasses, independent of TOSCA syntax. :func:`to_json` turns any of
them into the JSON shape of ``vnfm package show`` (camelCase keys, as SOL003
names things); that JSON is a stable contract.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.autoscale import AutoScalePolicy
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.indicators import VnfIndicator
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.metric_endpoints import MetricEndpoint


@dataclass
class SwImage:
    name: str | None = None
    version: str | None = None
    checksum: dict[str, Any] | None = None
    container_format: str | None = None
    disk_format: str | None = None
    min_disk_gb: float | None = None
    min_ram_mb: float | None = None
    size_gb: float | None = None
    file: str | None = None  # package-relative artifact file, when shipped


@dataclass
class VduArtifact:
    """A file a VDU ships besides its image (its software): a package change compares digests."""

    name: str
    file: str  # package-relative
    type: str | None = None
    sha256: str | None = None


@dataclass
class MonitoringParameter:
    """A SOL001 ``VnfcMonitoringParameter`` of a VDU (a virtualised resource metric)."""

    id: str  # map key (later SOL001 releases) or the list position as a string (v2.x)
    name: str | None
    performance_metric: str
    collection_period_s: float | None = None


@dataclass
class HealthProbe:
    """How the VNFCs of one VDU are checked (policy ``vnfm.policies.HealthProbe``).

    SOL001 has no place for a liveness check of the VNF's software, hence the
    namespaced extension (docs/assurance.md). ``kind`` "http" and "tcp" connect
    to ``port`` on the address of ``cp_id``; "command" runs ``command`` inside
    the VNFC. ``failure_threshold`` consecutive failures make a VNFC unhealthy,
    one success makes it healthy again.
    """

    id: str  # the policy's name
    vdu_id: str
    kind: str  # "http" | "tcp" | "command"
    cp_id: str | None = None
    port: int | None = None
    path: str = "/"
    expected_status: list[int] = field(default_factory=list)  # http; empty: 200-399
    command: list[str] = field(default_factory=list)
    interval_s: float = 10.0
    timeout_s: float = 2.0
    failure_threshold: int = 3


@dataclass
class Vdu:
    id: str
    name: str
    description: str | None
    min_instances: int
    max_instances: int
    num_virtual_cpu: int | None = None
    virtual_mem_size_mb: float | None = None
    local_storage_gb: float | None = None
    flavour_hints: list[str] = field(default_factory=list)
    sw_image: SwImage | None = None
    boot_order: list[str] = field(default_factory=list)
    boot_data: Any = None
    storage: list[str] = field(default_factory=list)  # VirtualStorage node ids
    configurable_properties: dict[str, Any] = field(default_factory=dict)
    artifacts: list[VduArtifact] = field(default_factory=list)
    monitoring_parameters: list[MonitoringParameter] = field(default_factory=list)


@dataclass
class VirtualStorage:
    id: str
    kind: str  # "block" | "object" | "file"
    size_gb: float | None
    sw_image: SwImage | None = None


@dataclass
class VduCp:
    id: str
    vdu_id: str
    virtual_link: str | None
    order: int | None
    layer_protocols: list[str] = field(default_factory=list)
    address_data: list[Any] = field(default_factory=list)
    vnic_type: str | None = None
    bitrate_requirement: int | None = None


@dataclass
class VirtualLink:
    id: str
    description: str | None
    layer_protocols: list[str] = field(default_factory=list)
    cidr: str | None = None
    ip_version: str | None = None  # "ipv4" | "ipv6"
    gateway_ip: str | None = None
    dhcp_enabled: bool | None = None
    mtu: int | None = None


@dataclass
class ExtCp:
    id: str  # node (VduCp or VnfExtCp) the requirement maps to
    requirement: str  # substitution_mappings requirement name
    kind: str  # "VduCp" | "VnfExtCp"
    vdu_id: str | None = None
    internal_virtual_link: str | None = None  # for a VnfExtCp re-exposing an internal VL


@dataclass
class ScalingAspect:
    id: str
    name: str | None
    description: str | None
    max_scale_level: int
    step_deltas: list[str] = field(default_factory=list)
    # vduId -> deltaId -> number of instances
    vdu_deltas: dict[str, dict[str, int]] = field(default_factory=dict)

    def instances_added(self, vdu_id: str, level: int) -> int:
        """Instances of ``vdu_id`` that levels 1..``level`` of this aspect add."""
        deltas = self.vdu_deltas.get(vdu_id)
        if not deltas or level <= 0:
            return 0
        steps = self.step_deltas or sorted(deltas)
        total = 0
        for step in range(level):
            delta_id = steps[min(step, len(steps) - 1)]
            total += deltas.get(delta_id, 0)
        return total


@dataclass
class InstantiationLevel:
    id: str
    description: str | None
    scale_info: dict[str, int] = field(default_factory=dict)  # aspect -> level
    vdu_instances: dict[str, int] = field(default_factory=dict)  # vdu -> count


@dataclass
class PlacementRule:
    id: str
    kind: str  # "affinity" | "anti-affinity"
    scope: str
    vdu_ids: list[str] = field(default_factory=list)
    vl_ids: list[str] = field(default_factory=list)


@dataclass
class SecurityGroupRule:
    id: str
    description: str | None
    direction: str
    ether_type: str
    protocol: str
    port_range_min: int
    port_range_max: int
    cp_ids: list[str] = field(default_factory=list)


@dataclass
class LcmOperation:
    """One operation of a VNF interface (Vnflcm or a vendor interface)."""

    name: str
    interface: str
    implementation: str | None = None  # artifact name, or a file path
    artifact_file: str | None = None  # package-relative file, when known
    artifact_type: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Flavour:
    id: str
    description: str | None
    template: str  # file the flavour is defined in
    vdus: list[Vdu] = field(default_factory=list)
    storage: list[VirtualStorage] = field(default_factory=list)
    cps: list[VduCp] = field(default_factory=list)
    virtual_links: list[VirtualLink] = field(default_factory=list)
    ext_cps: list[ExtCp] = field(default_factory=list)
    # dangling references in parts a deployment may not use: "aspect:<id>", "level:<id>" or
    # "extCp:<cpdId>" -> "FILE:LINE: message"; an operation using that part fails with it
    defects: dict[str, str] = field(default_factory=dict)
    scaling_aspects: list[ScalingAspect] = field(default_factory=list)
    initial_deltas: dict[str, int] = field(default_factory=dict)
    instantiation_levels: list[InstantiationLevel] = field(default_factory=list)
    default_level: str | None = None
    placement_rules: list[PlacementRule] = field(default_factory=list)
    security_group_rules: list[SecurityGroupRule] = field(default_factory=list)
    lcm_operations: list[LcmOperation] = field(default_factory=list)
    health_probes: list[HealthProbe] = field(default_factory=list)
    metric_endpoints: list[MetricEndpoint] = field(default_factory=list)  # metric_endpoints.py
    indicators: list[VnfIndicator] = field(default_factory=list)  # vnfd/indicators.py
    autoscale_policies: list[AutoScalePolicy] = field(default_factory=list)

    def vdu(self, vdu_id: str) -> Vdu | None:
        return next((v for v in self.vdus if v.id == vdu_id), None)

    def aspect(self, aspect_id: str) -> ScalingAspect | None:
        return next((a for a in self.scaling_aspects if a.id == aspect_id), None)

    def level(self, level_id: str) -> InstantiationLevel | None:
        return next((lv for lv in self.instantiation_levels if lv.id == level_id), None)

    def operation(self, name: str) -> LcmOperation | None:
        return next((op for op in self.lcm_operations if op.name == name), None)

    def probes_of(self, vdu_id: str) -> list[HealthProbe]:
        return [p for p in self.health_probes if p.vdu_id == vdu_id]


@dataclass
class VnfModel:
    vnfd_id: str
    vnfd_version: str | None
    provider: str | None
    product_name: str | None
    software_version: str | None
    product_info_name: str | None = None
    product_info_description: str | None = None
    vnfm_info: list[str] = field(default_factory=list)
    configurable_properties: dict[str, Any] = field(default_factory=dict)
    modifiable_attributes: dict[str, Any] = field(default_factory=dict)
    lcm_operations_configuration: dict[str, Any] = field(default_factory=dict)
    flavours: list[Flavour] = field(default_factory=list)
    entry_definitions: str | None = None
    manifest: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    # "vm", or "container" when its VDUs are Kubernetes manifests or Helm charts (loader.py)
    deployment_kind: str = "vm"

    def flavour(self, flavour_id: str) -> Flavour | None:
        return next((f for f in self.flavours if f.id == flavour_id), None)

    @property
    def is_autoheal_enabled(self) -> bool | None:
        """SOL001 ``configurable_properties.is_autoheal_enabled``: the default of an
        instance's ``vnfConfigurableProperties.isAutohealEnabled``; None when the
        package does not make auto-heal configurable (the VNFM then treats it as off)."""
        value = self.configurable_properties.get("is_autoheal_enabled")
        return value if isinstance(value, bool) else None

    @property
    def is_autoscale_enabled(self) -> bool | None:
        """``configurable_properties.is_autoscale_enabled``: the default of an instance's
        ``vnfConfigurableProperties.isAutoscaleEnabled`` (None: not declared, off)."""
        value = self.configurable_properties.get("is_autoscale_enabled")
        return value if isinstance(value, bool) else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# Field names whose JSON spelling is not the plain camelCase conversion.
_RENAMES = {
    "VnfModel.vnfd_id": "vnfdId",
    "Flavour.id": "flavourId",
    "Vdu.min_instances": "minInstances",
    "Vdu.max_instances": "maxInstances",
    "Flavour.lcm_operations": "lcmOperations",
}


def to_json(value: Any) -> Any:
    """JSON-ready form of a model object (camelCase keys, plain containers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value).__name__
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            key = _RENAMES.get(f"{cls}.{f.name}", _camel(f.name))
            out[key] = to_json(getattr(value, f.name))
        return out
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value
