# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Kernel object names and interface aliases of the ``local`` VIM.

Naming scheme (every name is derived, nothing random):

* VNFC namespace: ``vnfm-<vnfInstanceId>-<vnfcId>`` (the full instance id, so
  that discovery by instance id is exact);
* VIM namespace of an instance: ``vnfm-<vnfInstanceId>-vim``; it holds one
  bridge per internal virtual link, ``vl<index>``;
* connection point inside a VNFC: ``eth<order>``;
* peer of an internal CP (in the VIM namespace): ``vp`` + 10 hex chars of
  ``sha256("<vnfcId>/<cpdId>")``;
* peer of an external CP (in the host namespace): ``vx<shortId><nn>`` where
  ``shortId = sha256(vnfInstanceId)[:8]`` (the planner's function) and ``nn``
  the lowest free two-digit number of the instance.

Interface aliases (``ip link set … alias``) record ownership in the kernel so
that discovery needs no other state:

* ``lo`` of a VNFC: ``vnfm:vnfc:<instance>:<vnfcId>:<vduId>:<generation>:<token>``,
  where ``generation`` is the plan's ``softwareGeneration`` of the VNFC and
  ``token`` the digest of the ``heal_token`` of the reconcile that created it
  (see :func:`token_digest`), each ``-`` when unknown; VNFCs created before
  these two fields have the 3-field form, read as unknown generation and token;
* CP of a VNFC: ``vnfm:cp:<cpdId>:<vl|ext>:<network>:<peer>:<extCpdId|->:<s|d>``;
* a peer port (VIM or host namespace): ``vnfm:port:<instance>:<vnfcId>:<cpdId>``;
* an internal VL bridge: ``vnfm:vl:<instance>:<vlId>``;
* an external bridge created by the driver: ``vnfm:ext``.
"""

from __future__ import annotations

import hashlib
import re

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

NS_PREFIX = "vnfm"
IFNAMSIZ = 15
EXT_BRIDGE_ALIAS = "vnfm:ext"
_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


def check_id(kind: str, value: object) -> str:
    """Return ``value`` if it is a safe identifier for kernel names, else raise."""
    if not isinstance(value, str) or not _ID_RE.match(value) or len(value) > 200:
        raise VimError(f"invalid {kind} {value!r}: use letters, digits, '_', '.', '-'")
    return value


def check_ifname(value: object, what: str = "interface name") -> str:
    """Return ``value`` if it is a valid kernel interface name (≤ 15 chars)."""
    if not isinstance(value, str) or not _IFNAME_RE.match(value) or value in (".", ".."):
        raise VimError(f"invalid {what} {value!r}: 1-15 chars of letters, digits, '_', '.', '-'")
    return value


def short_id(vnf_instance_id: str) -> str:
    """First 8 hex chars of the sha256 of the instance id (same as the planner)."""
    return hashlib.sha256(vnf_instance_id.encode()).hexdigest()[:8]


def instance_prefix(vnf_instance_id: str) -> str:
    return f"{NS_PREFIX}-{vnf_instance_id}-"


def vnfc_netns(vnf_instance_id: str, vnfc_id: str) -> str:
    return f"{instance_prefix(vnf_instance_id)}{vnfc_id}"


def vim_netns(vnf_instance_id: str) -> str:
    return f"{instance_prefix(vnf_instance_id)}vim"


def vl_bridge(index: int) -> str:
    return check_ifname(f"vl{index}", "bridge name")


def cp_ifname(order: int) -> str:
    return check_ifname(f"eth{order}")


def vl_port(vnfc_id: str, cpd_id: str) -> str:
    return "vp" + hashlib.sha256(f"{vnfc_id}/{cpd_id}".encode()).hexdigest()[:10]


def ext_port(short: str, number: int) -> str:
    if not 0 <= number <= 99:
        raise VimError("too many external connection points for one VNF instance (max 100)")
    return f"vx{short}{number:02d}"


def ext_port_number(short: str, name: str) -> int | None:
    """The ``nn`` of ``vx<short><nn>``, or None when ``name`` is not such a port."""
    prefix = f"vx{short}"
    rest = name[len(prefix) :]
    if name.startswith(prefix) and len(rest) == 2 and rest.isdigit():
        return int(rest)
    return None


def vnfc_alias(
    vnf_instance_id: str,
    vnfc_id: str,
    vdu_id: str,
    generation: str | None = None,
    token: str | None = None,
) -> str:
    return f"vnfm:vnfc:{vnf_instance_id}:{vnfc_id}:{vdu_id}:{generation or '-'}:{token or '-'}"


def parse_vnfc_alias(alias: object) -> tuple[str, str, str, str | None, str | None] | None:
    """(instance, vnfcId, vduId, generation, token) of a VNFC's ``lo`` alias, old form too."""
    rec = parse_alias(alias, "vnfc", 5) or parse_alias(alias, "vnfc", 3)
    if rec is None:
        return None
    generation, token = (rec[3], rec[4]) if len(rec) == 5 else ("-", "-")
    return (
        rec[0],
        rec[1],
        rec[2],
        None if generation == "-" else generation,
        None if token == "-" else token,
    )


def cp_alias(
    cpd_id: str, kind: str, network: str, peer: str, ext_cpd_id: str | None, dynamic: bool
) -> str:
    return f"vnfm:cp:{cpd_id}:{kind}:{network}:{peer}:{ext_cpd_id or '-'}:{'d' if dynamic else 's'}"


def port_alias(vnf_instance_id: str, vnfc_id: str, cpd_id: str) -> str:
    return f"vnfm:port:{vnf_instance_id}:{vnfc_id}:{cpd_id}"


def vl_alias(vnf_instance_id: str, vl_id: str) -> str:
    return f"vnfm:vl:{vnf_instance_id}:{vl_id}"


def parse_alias(alias: object, kind: str, fields: int) -> list[str] | None:
    """Split ``vnfm:<kind>:f1:…:fN``; None when the alias is not of that kind."""
    if not isinstance(alias, str):
        return None
    parts = alias.split(":")
    if len(parts) != fields + 2 or parts[0] != "vnfm" or parts[1] != kind:
        return None
    return parts[2:]
