# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Documentation fragment nfv.vnfm.vim: the VIM connection options of the VIM modules."""

from __future__ import annotations


class ModuleDocFragment:
    # vim and vim_credentials, shared by vnf_resources and vnf_resources_info
    DOCUMENTATION = r"""
---
requirements:
  - iproute2, root or CAP_NET_ADMIN (C(local) VIM)
  - openstacksdk (C(openstack) VIM)
options:
  vim:
    description:
      - The VIM connection, without secrets. C(vimType) picks the driver (C(local)).
      - "C(local) options: C(stateDir) (volumes, default C(/var/lib/vnfm/local-vim)),
        C(defaultExternalNetwork) (C({name, cidr}), default
        C({name: vnfm-ext0, cidr: 172.30.250.0/24})), C(lockFile)
        (default C(/run/vnfm/local-vim.lock)), C(killGraceSeconds) (default 2),
        C(workers) (parallel VNFC creations, default 8)."
      - "C(openstack): either C(cloud) (a clouds.yaml entry, found the usual openstacksdk
        way, C(OS_CLIENT_CONFIG_FILE) honoured) or the SOL003 shape C(interfaceInfo.endpoint)
        (Keystone URL) + C(accessInfo) (C(username), C(project), C(projectDomain),
        C(userDomain), C(region)) with the password in I(vim_credentials). Options:
        C(vimId), C(region_name), C(flavourMap) (vduId or flavour hint -> flavor),
        C(imageMap) (vduId or image name -> image), C(availabilityZone),
        C(availabilityZones) (placement rules of zone scope), C(floatingIpNetwork),
        C(externalMacAddresses) (put the plan's MACs on ports of shared networks too),
        C(softPlacementPolicies), C(volumes) (false: no Cinder), C(packageDir)
        (upload images from the package; I(package_dir) wins), C(workers) (default 8)."
      - "C(openstack) ext virtual links of the plan may carry C(floatingIp: true) (a
        floating IP from C(floatingIpNetwork) or the first external network) or
        C(floatingIp: <network>) for the external CPs on them."
    type: dict
    required: true
  vim_credentials:
    description:
      - Secrets of the VIM connection (C(accessInfo), passwords, tokens), kept apart from I(vim).
      - Not used by the C(local) VIM. C(openstack) takes C(password) (or a whole
        C(accessInfo) / C(auth) mapping); never returned nor logged.
    type: dict
"""
