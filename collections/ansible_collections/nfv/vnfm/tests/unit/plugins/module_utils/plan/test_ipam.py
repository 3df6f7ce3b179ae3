# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Deterministic addresses: a VNFC's address never depends on how many others exist."""

from __future__ import annotations

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.ipam import (
    LinkAddresses,
    Member,
    default_cidrs,
    mac_address,
)


def test_blocks_per_vdu_in_id_order_after_the_reserved_range():
    link = LinkAddresses(
        "internal", "10.0.0.0/24", [Member("web", 4, 1), Member("lb", 2, 2)], gateway=None
    )
    # lb first (id order), 2 VNFCs x 2 CPs from .10; web's block starts after lb's maximum
    assert link.address("lb", 0, 0) == "10.0.0.10"
    assert link.address("lb", 1, 1) == "10.0.0.13"
    assert link.address("web", 0, 0) == "10.0.0.14"
    assert link.address("web", 3, 0) == "10.0.0.17"
    assert link.prefixlen == 24


def test_a_link_too_small_for_the_maximum_is_refused():
    with pytest.raises(PlanError, match="too small"):
        LinkAddresses("tiny", "10.0.0.0/29", [Member("web", 8, 1)], gateway=None)


def test_a_gateway_inside_the_vnfc_range_is_refused():
    with pytest.raises(PlanError, match=r"gateway 10\.0\.0\.11"):
        LinkAddresses("l", "10.0.0.0/24", [Member("web", 4, 1)], gateway="10.0.0.11")


def test_default_cidrs_skip_the_taken_ones():
    assert default_cidrs(2, ["172.16.0.0/24"]) == ["172.16.1.0/24", "172.16.2.0/24"]


def test_mac_addresses_are_stable_and_local():
    mac = mac_address("i1", "web-0", "web_cp")
    assert mac == mac_address("i1", "web-0", "web_cp")
    assert mac != mac_address("i1", "web-1", "web_cp")
    assert mac.startswith("fa:16:3e:")
