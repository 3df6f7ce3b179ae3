# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Deterministic address management for the plan (netaddr).

Each VDU attached to a link owns a fixed block of addresses sized for its
*maximum* number of VNFCs, laid out in VDU-id order after a small reserved
range (network, gateway, VIM services). A VNFC's address therefore depends
only on the link, its VDU, its index and its CP — never on how many other
VNFCs exist — so scaling and healing never move a VNFC.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

try:
    import netaddr

    HAS_NETADDR = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_NETADDR = False

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError

DEFAULT_POOL = "172.16.0.0/12"


@dataclass(frozen=True)
class Member:
    """A VDU's claim on a link: ``cps`` CPs per VNFC, up to ``max_instances`` VNFCs."""

    vdu_id: str
    max_instances: int
    cps: int


class LinkAddresses:
    """The address layout of one link (one CIDR)."""

    def __init__(self, link_id: str, cidr: str, members: list[Member], gateway: str | None) -> None:
        if not HAS_NETADDR:
            raise PlanError("the planner needs the Python library netaddr")
        self.link_id = link_id
        self.network = netaddr.IPNetwork(cidr)
        self._first = int(self.network.first)  # address() adds to it: faster than indexing
        size = self.network.size
        reserved = 10 if size >= 64 else 2
        self.starts: dict[str, int] = {}
        self.widths: dict[str, int] = {}
        offset = reserved
        for member in sorted(members, key=lambda mb: mb.vdu_id):
            self.starts[member.vdu_id] = offset
            self.widths[member.vdu_id] = member.cps
            offset += member.max_instances * member.cps
        last_usable = size - 2 if self.network.version == 4 else size - 1
        if offset - 1 > last_usable:
            raise PlanError(
                f"virtual link {link_id!r}: cidr {cidr} is too small for "
                f"{offset - reserved} addresses (VDUs at their maximum size)"
            )
        self.gateway = str(netaddr.IPAddress(gateway)) if gateway else None
        if self.gateway and offset > reserved:
            first = str(self.network[reserved])
            last = str(self.network[offset - 1])
            if (
                netaddr.IPAddress(first)
                <= netaddr.IPAddress(self.gateway)
                <= netaddr.IPAddress(last)
            ):
                raise PlanError(
                    f"virtual link {link_id!r}: gateway {gateway} lies in the range "
                    f"{first}-{last} reserved for VNFCs"
                )

    def address(self, vdu_id: str, index: int, cp_position: int) -> str:
        offset = self.starts[vdu_id] + index * self.widths[vdu_id] + cp_position
        return str(netaddr.IPAddress(self._first + offset, self.network.version))

    @property
    def prefixlen(self) -> int:
        return int(self.network.prefixlen)


def default_cidrs(count: int, taken: list[str], pool: str = DEFAULT_POOL) -> list[str]:
    """``count`` /24 networks from ``pool`` that overlap none of ``taken``."""
    if not HAS_NETADDR:
        raise PlanError("the planner needs the Python library netaddr")
    busy = [netaddr.IPNetwork(c) for c in taken]
    out: list[str] = []
    for subnet in netaddr.IPNetwork(pool).subnet(24):
        if len(out) == count:
            break
        if any(subnet in b or b in subnet for b in busy):
            continue
        out.append(str(subnet))
    return out


def mac_address(*parts: str) -> str:
    """A stable, locally administered unicast MAC (OpenStack's fa:16:3e prefix)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return f"fa:16:3e:{digest[0]:02x}:{digest[1]:02x}:{digest[2]:02x}"
