#!/usr/bin/python
# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Ansible module nfv.vnfm.vnf_resources: reconcile a VNF plan onto a VIM."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vnf_resources
short_description: Reconcile the VIM resources of a VNF instance with its plan
description:
  - Takes the desired state of a VNF instance (the I(plan) produced by
    M(nfv.vnfm.vnf_plan), see C(docs/plan-format.md)) and makes the VIM match
    it - discover what exists, compute the difference, create, replace or
    delete only what differs - then returns the resources in ETSI SOL003 shapes.
  - Idempotent - a second run with the same plan changes nothing.
  - With I(state=absent) every resource of the instance is deleted, found by
    discovery alone (no plan and no records needed).
  - The C(local) VIM maps a VNFC to a Linux network namespace
    C(vnfm-<vnfInstanceId>-<vnfcId>), internal virtual links to bridges in a
    per-instance VIM namespace C(vnfm-<vnfInstanceId>-vim), connection points
    to veth pairs, external connection points to a bridge of the host, and
    volumes to directories.
  - A VNFC records the C(softwareGeneration) of its plan entry (the software it was
    created for; C(local) VIM - in the alias of its C(lo), C(openstack) - in the server's
    metadata) and returns it as C(metadata.softwareGeneration). A plan whose generation
    differs does not replace a VNFC; a package change replaces its VNFCs batch by batch.
  - A VNFC's C(powerState) (C(on), or C(off) after an operate STOPPED) is part of
    the desired state; changing it modifies the VNFC in place (C(local) VIM - off
    kills its processes and sets its interfaces down, on sets them up again with
    the same addresses).
version_added: "0.1.0"
author:
  - vnfm-toolkit developers (!UNKNOWN)
extends_documentation_fragment:
  - nfv.vnfm.vim
options:
  heal:
    description:
      - VNFC ids (C(<vduId>-<index>)) to recreate even when they match the plan.
      - A healed VNFC keeps its addresses, MAC addresses and volumes; its processes are killed.
    type: list
    elements: str
    default: []
  heal_token:
    description:
      - Identifies the operation that heals (the playbooks pass C(vnfm_operation_id), the
        id of the LCM operation occurrence; an AWX job template may set it or not).
      - A VNFC records the token of the run that created it. A VNFC listed in I(heal) that
        a run with the same token already recreated is not recreated again, so a retry of
        the operation (after a later step failed) does not redo it; another operation, with
        another token, heals it again. Without a token every VNFC in I(heal) is recreated.
      - A VNFC this token created also takes the plan's C(softwareGeneration) in its
        record when the plan gives one and the VNFC records another or none (the last
        step of a batch of a package change, see C(docs/operations.md)); without a token,
        or for other VNFCs, a generation that differs changes nothing.
    type: str
  package_dir:
    description:
      - The directory of the unpacked VNF package the plan comes from (the roles pass
        their C(<role>_package_dir)).
      - C(openstack) - a VDU whose software image the VIM does not have (no C(imageMap)
        entry, no image of that name) gets the package's image file (C(image.file) of the
        plan, a C(sw_image) artifact) uploaded to Glance; files of C(bootData) are read
        from it. Overrides the VIM connection's C(packageDir). Not used by C(local).
    type: path
  plan:
    description:
      - The plan (desired state) of the VNF instance.
      - Required when I(state=present). With I(state=absent) only its C(vnfInstanceId) is used.
    type: dict
  state:
    description:
      - C(present) reconciles the VIM with I(plan).
      - C(absent) deletes every resource of the instance (terminate).
    type: str
    choices: [absent, present]
    default: present
  timeout:
    description:
      - Seconds to wait for the VIM to converge (and the limit of each VIM call).
    type: int
    default: 300
  vnf_instance_id:
    description:
      - The VNF instance id. Required with I(state=absent) when no I(plan) is given.
      - When both are given they must agree.
    type: str
  wait:
    description:
      - After a change the result is always read back from the VIM (the VIM is the truth).
      - With C(true), poll until it matches the plan (up to I(timeout)) and fail otherwise;
        with C(false), read it back once and return it as found.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Computes and reports the actions without changing the VIM.
  diff_mode:
    support: full
    description: Returns before/after summaries of the instance's resources.
notes:
  - The VIM is the only record of what exists; nothing is stored on the controller.
seealso:
  - module: nfv.vnfm.vnf_plan
"""

EXAMPLES = r"""
- name: Reconcile the VNF with its plan on the local VIM
  nfv.vnfm.vnf_resources:
    plan: "{{ vnf_plan }}"
    vim:
      vimType: local
  become: true
  register: vnf

- name: Recreate a broken VNFC
  nfv.vnfm.vnf_resources:
    plan: "{{ vnf_plan }}"
    vim: {vimType: local}
    heal: [web-0]
  become: true

- name: Recreate web-0 once per operation (a retry with the same token leaves it)
  nfv.vnfm.vnf_resources:
    plan: "{{ vnf_plan }}"
    vim: {vimType: local}
    heal: [web-0]
    heal_token: "{{ vnfm_operation_id }}"
  become: true

- name: Reconcile on OpenStack, uploading the package's images the cloud lacks
  nfv.vnfm.vnf_resources:
    plan: "{{ vnf_plan }}"
    vim: {vimType: openstack, cloud: mycloud}
    package_dir: "{{ vnf_package_dir }}"

- name: Terminate - delete everything of the instance
  nfv.vnfm.vnf_resources:
    vnf_instance_id: 6f1c2a9b-0000-4000-8000-000000000001
    vim: {vimType: local}
    state: absent
  become: true
"""

RETURN = r"""
actions:
  description: What was done (or would be done in check mode), one line per action.
  returned: always
  type: list
  elements: str
  sample:
    - create netns vnfm-6f1c2a9b-0000-4000-8000-000000000001-web-1 (eth0 web_cp 10.10.0.11/24 ...)
    - delete netns vnfm-6f1c2a9b-0000-4000-8000-000000000001-web-2
    - power off vnfm-6f1c2a9b-0000-4000-8000-000000000001-web-0 (kill its processes; lo, eth0 down)
created_vnfcs:
  description:
    - Ids of the VNFCs the run created (would create, in check mode), new or in place of
      one it replaced - a heal's, or one the VIM had lost.
    - C(null) when the VIM driver cannot tell (Kubernetes, where controllers recreate pods).
  returned: always
  type: list
  elements: str
  sample: [web-0]
changed:
  description: Whether the VIM was (or would be) changed.
  returned: always
  type: bool
  sample: true
diff:
  description: Before/after summaries of the instance's resources.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: State found before the run.
      type: dict
    after:
      description: State after the run (predicted in check mode).
      type: dict
resources:
  description: The instance's resources after the run, in SOL003 shapes (empty lists after I(state=absent)).
  returned: always
  type: dict
  contains:
    vnfcResourceInfo:
      description:
        - One entry per VNFC (SOL003 VnfcResourceInfo), sorted by id.
        - C(metadata.powerState) is the VNFC's power state as the VIM observes it, C(on) or
          C(off) (the plan's C(powerState); local VIM, off = no process in the namespace and
          every interface down).
        - C(metadata.softwareGeneration) is the software generation the VNFC records (the
          plan's C(softwareGeneration) it was created for); absent when unknown.
      type: list
      elements: dict
      sample:
        - id: web-0
          vduId: web
          computeResource: {vimConnectionId: local, resourceId: vnfm-6f1c...-web-0, vimLevelResourceType: linux.netns}
          storageResourceIds: [vnf-6f1c2a9b-web-0-data]
          metadata: {powerState: "on", softwareGeneration: 3f9a0c1b2d4e}
          vnfcCpInfo:
            - id: vnf-6f1c2a9b-web-0-web_cp
              cpdId: web_cp
              cpProtocolInfo:
                - layerProtocol: IP_OVER_ETHERNET
                  ipOverEthernet:
                    macAddress: "fa:16:3e:12:34:56"
                    ipAddresses: [{type: IPV4, addresses: [10.10.0.10], isDynamic: false}]
    virtualLinkResourceInfo:
      description: One entry per internal virtual link (SOL003 VnfVirtualLinkResourceInfo).
      type: list
      elements: dict
      sample:
        - id: vnf-6f1c2a9b-internal_vl
          vnfVirtualLinkDescId: internal_vl
          networkResource: {vimConnectionId: local, resourceId: vnfm-6f1c...-vim/vl0, vimLevelResourceType: linux.bridge}
          vnfLinkPorts:
            - id: vp1a2b3c4d5e
              resourceHandle: {vimConnectionId: local, resourceId: vp1a2b3c4d5e, vimLevelResourceType: linux.veth}
              cpInstanceId: vnf-6f1c2a9b-web-0-web_cp
    virtualStorageResourceInfo:
      description: One entry per volume (SOL003 VirtualStorageResourceInfo).
      type: list
      elements: dict
      sample:
        - id: vnf-6f1c2a9b-web-0-data
          virtualStorageDescId: data
          storageResource:
            vimConnectionId: local
            resourceId: /var/lib/vnfm/local-vim/6f1c.../vnf-6f1c2a9b-web-0-data
            vimLevelResourceType: linux.directory
    extCpInfo:
      description: External connection points (SOL003 VnfExtCpInfo) with their reachable addresses.
      type: list
      elements: dict
      sample:
        - id: vnf-6f1c2a9b-lb-0-lb_ext_cp-ext
          cpdId: lb_ext_cp
          associatedVnfcCpId: vnf-6f1c2a9b-lb-0-lb_ext_cp
          extLinkPortId: vx6f1c2a9b00
          cpProtocolInfo:
            - layerProtocol: IP_OVER_ETHERNET
              ipOverEthernet:
                macAddress: "fa:16:3e:65:43:21"
                ipAddresses: [{type: IPV4, addresses: [172.30.250.10], isDynamic: true}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.entry import (
    ARGUMENT_SPEC,
    REQUIRED_IF,
    ResourcesFailure,
    run_resources,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=REQUIRED_IF,
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run_resources(module.params, module.check_mode, module._diff))
    except (ResourcesFailure, VimError) as exc:
        module.fail_json(msg=str(exc), changed=False)


if __name__ == "__main__":
    main()
