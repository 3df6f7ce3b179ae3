#!/usr/bin/python
# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Ansible module nfv.vnfm.vnf_lcm_op_occ: ask the VNFM for an LCM operation and wait for it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vnf_lcm_op_occ
short_description: Run a SOL003 lifecycle operation through the VNFM's API
description:
  - Asks a running VNFM (C(vnfm serve)) for a lifecycle operation of a VNF instance
    (C(POST /vnflcm/v2/vnf_instances/{id}/<task>), a C(PATCH) for C(MODIFY_INFO)) and waits
    until its C(VnfLcmOpOcc) reaches a final state. The module fails, with the
    operation's error detail, unless the operation is C(COMPLETED).
  - The VNFM runs the operation as it runs any other - the package's hook playbooks,
    the grant, the notifications to subscribers and the one-operation-per-instance lock -
    and records it, so an AWX job appears in the VNFM's API and CLI like an NFVO's request.
  - The request body is I(request) (a SOL003 request body) with the flat options
    (I(flavour_id), I(scale_type), ...) set on top; an option the operation does not read
    is refused, naming it.
  - C(INSTANTIATE) without I(vnf_instance_id) first creates the instance from I(vnfd_id).
    C(INSTANTIATE) of an instance already instantiated with the same flavour, and
    C(TERMINATE) of one not instantiated, change nothing.
version_added: "0.2.0"
author:
  - vnfm-toolkit developers (!UNKNOWN)
extends_documentation_fragment:
  - nfv.vnfm.vnfm_api
options:
  aspect_id:
    description: C(SCALE) - the scaling aspect (C(aspectId)).
    type: str
  change_state_to:
    description: C(OPERATE) - C(STARTED) or C(STOPPED) (C(changeStateTo)).
    type: str
  delete_instance:
    description:
      - C(TERMINATE) - delete the VNF instance resource once it is terminated.
    type: bool
    default: false
  flavour_id:
    description:
      - C(INSTANTIATE) - the deployment flavour (C(flavourId)); C(CHANGE_FLAVOUR) - the new
        one (C(newFlavourId)).
    type: str
  instantiation_level_id:
    description:
      - C(INSTANTIATE), C(SCALE_TO_LEVEL), C(CHANGE_FLAVOUR) - the instantiation level
        (C(instantiationLevelId)).
    type: str
  number_of_steps:
    description: C(SCALE) - how many scaling steps (C(numberOfSteps)).
    type: int
  operation:
    description: The SOL003 operation (C(LcmOperationType)).
    type: str
    required: true
    choices: [INSTANTIATE, SCALE, SCALE_TO_LEVEL, CHANGE_FLAVOUR, TERMINATE, HEAL, OPERATE,
              CHANGE_EXT_CONN, MODIFY_INFO, CHANGE_VNFPKG]
  poll_interval:
    description: Seconds between two reads of the operation while waiting.
    type: float
    default: 2.0
  request:
    description:
      - A SOL003 request body of the operation (for example C(extVirtualLinks) of
        C(CHANGE_EXT_CONN), C(additionalParams)); the flat options are set on top of it.
    type: dict
  scale_type:
    description: C(SCALE) - C(SCALE_OUT) or C(SCALE_IN) (C(type)).
    type: str
  termination_type:
    description: C(TERMINATE) - C(GRACEFUL) or C(FORCEFUL) (C(terminationType)).
    type: str
  timeout:
    description: Seconds to wait for the operation to reach a final state.
    type: int
    default: 3600
  vnf_instance_id:
    description:
      - The VNF instance. Required except for C(INSTANTIATE) with I(vnfd_id).
    type: str
  vnf_instance_name:
    description: C(INSTANTIATE) - the name of the instance it creates.
    type: str
  vnfc_ids:
    description:
      - C(HEAL), C(OPERATE) - the VNFCs (C(vnfcInstanceId)); a list, or a text of ids
        separated by commas, spaces or lines (an AWX survey's textarea).
    type: raw
  vnfd_id:
    description:
      - C(INSTANTIATE) without I(vnf_instance_id) - the VNFD of the instance to create.
      - C(CHANGE_VNFPKG) - the new package's VNFD (C(vnfdId)); C(MODIFY_INFO) - C(vnfdId).
    type: str
  wait:
    description:
      - Wait for the operation to reach a final state (and fail unless C(COMPLETED)).
      - C(false) returns once the VNFM has accepted the request.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Builds and returns the request body; asks the VNFM for nothing.
  diff_mode:
    support: none
    description: The VNFM reports what changed in the occurrence's C(resourceChanges).
notes:
  - Values given to this module are sent as data in the request body; the VNFM
    checks them and names the field it refuses.
seealso:
  - module: nfv.vnfm.vnf_instance_info
"""

EXAMPLES = r"""
- name: Scale out the web tier by one step
  nfv.vnfm.vnf_lcm_op_occ:
    operation: SCALE
    vnf_instance_id: "{{ vnf_instance_id }}"
    scale_type: SCALE_OUT
    aspect_id: web
    number_of_steps: 1
  register: scaled

- name: Create and instantiate a VNF from its VNFD (URL and credentials from the environment)
  nfv.vnfm.vnf_lcm_op_occ:
    operation: INSTANTIATE
    vnfd_id: 8c6a1e5f-2b7d-4f1a-9c3e-5d0b7a4e2f61
    flavour_id: default
    instantiation_level_id: small

- name: Change the external connectivity with a full request body
  nfv.vnfm.vnf_lcm_op_occ:
    url: https://vnfm.example.com:8443
    username: nfvo
    password: "{{ vnfm_password }}"
    operation: CHANGE_EXT_CONN
    vnf_instance_id: "{{ vnf_instance_id }}"
    request: "{{ vnfm_request }}"
"""

RETURN = r"""
request:
  description: The request body the module sent (or would send, in check mode).
  returned: always
  type: dict
  sample: {type: SCALE_OUT, aspectId: web, numberOfSteps: 1}
vnf_instance_id:
  description: The VNF instance (the one created, for C(INSTANTIATE) from I(vnfd_id)).
  returned: success
  type: str
  sample: 3f0c2a5e-7b1d-4c8e-9a2f-6d4b0e1c7a93
vnf_lcm_op_occ:
  description:
    - The operation's C(VnfLcmOpOcc) as the VNFM reports it, in its final state when
      I(wait) is true; empty when nothing was asked (check mode, nothing to change).
  returned: always
  type: dict
  contains:
    id:
      description: The occurrence's id.
      type: str
    operation:
      description: The operation.
      type: str
    operationState:
      description: C(COMPLETED) when the module succeeded with I(wait).
      type: str
    isAutomaticInvocation:
      description: Always false for an operation asked by this module.
      type: bool
    error:
      description: The ProblemDetails of a failed operation.
      type: dict
  sample:
    id: 5a1f3c2e-0d4b-4e8a-b7c9-1e2d3f4a5b6c
    operation: SCALE
    operationState: COMPLETED
    isAutomaticInvocation: false
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfm_api import (
    ENV_PASSWORD,
    ENV_URL,
    ENV_USER,
    TASKS,
    OperationFailed,
    VnfmApiError,
    VnfmClient,
    check_completed,
    request_body,
    settings,
)

FLAT = (
    "aspect_id",
    "change_state_to",
    "flavour_id",
    "instantiation_level_id",
    "number_of_steps",
    "scale_type",
    "termination_type",
    "vnfc_ids",
    "vnfd_id",
)


def run_module(module: AnsibleModule, client: VnfmClient | None = None) -> dict[str, Any]:
    p = module.params
    op = p["operation"]
    flat = {name: p[name] for name in FLAT}
    instance_id = p["vnf_instance_id"]
    create_from = None
    if op == "INSTANTIATE" and not instance_id:
        create_from = flat.pop("vnfd_id")
        if not create_from:
            raise VnfmApiError("vnf_instance_id (or vnfd_id, to create the instance) is required")
    elif op == "INSTANTIATE":
        flat.pop("vnfd_id")  # the instance exists: its VNFD is its own
    if not instance_id and create_from is None:
        raise VnfmApiError(f"vnf_instance_id is required for {op}")
    body = request_body(op, flat, p["request"])
    if module.check_mode:
        return {
            "changed": True,
            "request": body,
            "vnf_instance_id": instance_id or "",
            "vnf_lcm_op_occ": {},
        }
    if client is None:
        url, user, password = settings(p["url"], p["username"], p["password"])
        client = VnfmClient(url, user, password, validate_certs=p["validate_certs"])
    if create_from is not None:
        instance_id = client.create_instance(create_from, p["vnf_instance_name"])["id"]
    else:
        unchanged = _nothing_to_do(op, client.instance(instance_id), body)
        if unchanged:
            return {
                "changed": False,
                "msg": unchanged,
                "request": body,
                "vnf_instance_id": instance_id,
                "vnf_lcm_op_occ": {},
            }
    try:
        op_id = client.start(op, instance_id, body)
    except VnfmApiError as exc:
        if create_from is not None:  # say which instance was left behind, not instantiated
            raise VnfmApiError(f"{exc} (VNF instance {instance_id} created)", exc.status) from None
        raise
    if not p["wait"]:
        return {
            "changed": True,
            "request": body,
            "vnf_instance_id": instance_id,
            "vnf_lcm_op_occ": client.occurrence(op_id),
        }
    doc = client.wait(op_id, timeout=p["timeout"], interval=p["poll_interval"])
    check_completed(doc)
    if op == "TERMINATE" and p["delete_instance"]:
        client.delete_instance(instance_id)
    return {"changed": True, "request": body, "vnf_instance_id": instance_id, "vnf_lcm_op_occ": doc}


def _nothing_to_do(op: str, instance: dict[str, Any], body: dict[str, Any]) -> str:
    """Why the operation would change nothing ("" when it would)."""
    state = instance.get("instantiationState")
    if op == "TERMINATE" and state == "NOT_INSTANTIATED":
        return "the VNF instance is not instantiated"
    if op == "INSTANTIATE" and state == "INSTANTIATED":
        flavour = (instance.get("instantiatedVnfInfo") or {}).get("flavourId")
        if flavour == body.get("flavourId"):
            return f"the VNF instance is already instantiated with flavour {flavour}"
    return ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "aspect_id": {"type": "str"},
            "change_state_to": {"type": "str"},
            "delete_instance": {"type": "bool", "default": False},
            "flavour_id": {"type": "str"},
            "instantiation_level_id": {"type": "str"},
            "number_of_steps": {"type": "int"},
            "operation": {"type": "str", "required": True, "choices": list(TASKS)},
            "password": {"type": "str", "no_log": True, "fallback": (env_fallback, [ENV_PASSWORD])},
            "poll_interval": {"type": "float", "default": 2.0},
            "request": {"type": "dict"},
            "scale_type": {"type": "str"},
            "termination_type": {"type": "str"},
            "timeout": {"type": "int", "default": 3600},
            "url": {"type": "str", "fallback": (env_fallback, [ENV_URL])},
            "username": {"type": "str", "fallback": (env_fallback, [ENV_USER])},
            "validate_certs": {"type": "bool", "default": True},
            "vnf_instance_id": {"type": "str"},
            "vnf_instance_name": {"type": "str"},
            "vnfc_ids": {"type": "raw"},
            "vnfd_id": {"type": "str"},
            "wait": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run_module(module))
    except OperationFailed as exc:
        module.fail_json(
            msg=str(exc),
            changed=True,
            vnf_lcm_op_occ=exc.occurrence,
            vnf_instance_id=exc.occurrence.get("vnfInstanceId", ""),
        )
    except VnfmApiError as exc:
        module.fail_json(msg=str(exc), changed=False, status=exc.status)


if __name__ == "__main__":
    main()
