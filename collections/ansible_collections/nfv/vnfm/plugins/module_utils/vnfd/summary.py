# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The stable JSON description of a package (``vnfm package show --format json``).

Tests and other tools read this shape; add keys freely, never rename.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import Flavour, VnfModel, to_json


def flavour_summary(fl: Flavour) -> dict[str, Any]:
    cps_of: dict[str, list[str]] = {}
    for cp in fl.cps:
        cps_of.setdefault(cp.vdu_id, []).append(cp.id)
    return {
        "flavourId": fl.id,
        "description": fl.description,
        "template": fl.template,
        "vdus": [
            {
                "id": v.id,
                "name": v.name,
                "minInstances": v.min_instances,
                "maxInstances": v.max_instances,
                "initialDelta": fl.initial_deltas.get(v.id, v.min_instances),
                "numVirtualCpu": v.num_virtual_cpu,
                "virtualMemSizeMb": v.virtual_mem_size_mb,
                "localStorageGb": v.local_storage_gb,
                "flavourHints": list(v.flavour_hints),
                "swImage": v.sw_image.name if v.sw_image else None,
                "storage": list(v.storage),
                "cps": sorted(cps_of.get(v.id, [])),
                "monitoringParameters": to_json(v.monitoring_parameters),
            }
            for v in sorted(fl.vdus, key=lambda v: v.id)
        ],
        "virtualStorages": to_json(sorted(fl.storage, key=lambda s: s.id)),
        "cps": to_json(sorted(fl.cps, key=lambda c: c.id)),
        "virtualLinks": to_json(sorted(fl.virtual_links, key=lambda v: v.id)),
        "extCps": to_json(fl.ext_cps),
        "scalingAspects": to_json(sorted(fl.scaling_aspects, key=lambda a: a.id)),
        "instantiationLevels": to_json(sorted(fl.instantiation_levels, key=lambda lv: lv.id)),
        "defaultLevel": fl.default_level,
        "placementRules": to_json(fl.placement_rules),
        "securityGroupRules": to_json(fl.security_group_rules),
        "lcmOperations": to_json(fl.lcm_operations),
        "healthProbes": to_json(sorted(fl.health_probes, key=lambda p: (p.vdu_id, p.id))),
        "vnfIndicators": to_json(fl.indicators),
        "autoscalePolicies": to_json(sorted(fl.autoscale_policies, key=lambda p: p.aspect_id)),
    }


def package_summary(model: VnfModel) -> dict[str, Any]:
    return {
        "vnfdId": model.vnfd_id,
        "provider": model.provider,
        "productName": model.product_name,
        "softwareVersion": model.software_version,
        "vnfdVersion": model.vnfd_version,
        "vnfmInfo": list(model.vnfm_info),
        "entryDefinitions": model.entry_definitions,
        "deploymentKind": model.deployment_kind,  # "vm" or "container"
        "configurableProperties": model.configurable_properties,
        # default of an instance's vnfConfigurableProperties.isAutohealEnabled (None: not declared)
        "isAutohealEnabled": model.is_autoheal_enabled,
        "isAutoscaleEnabled": model.is_autoscale_enabled,  # the same for isAutoscaleEnabled
        "modifiableAttributes": model.modifiable_attributes,
        "flavours": [flavour_summary(f) for f in model.flavours],
        "manifest": model.manifest,
        "warnings": list(model.warnings),
    }
