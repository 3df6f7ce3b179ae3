# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Every resource of the cloud carrying our marks, whatever the instance (for orphans).

Discovery (``discover.py``) reads one instance by its id; this goes the other way
round and reads the instance id from each mark (``naming.py``):

* Neutron networks, subnets, ports, security groups, floating IPs and Glance
  images: the tag ``vnfm-instance=<id>`` (or, for a Neutron creation whose tagging
  call was lost, the description set to that tag);
* Nova servers and Cinder volumes: the metadata ``vnfm-instance``;
* Nova server groups carry no mark but their name ``vnf-<shortId>-...``: the id is
  the one of a known instance, or of another mark, with that short id; a group
  whose short id matches none is reported under its name prefix ``vnf-<shortId>``
  (its instance id cannot be told).

Only what the VIM connection's project sees is listed; nothing is changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.connect import call
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.discover import (
    _floating_ips,
    _get,
    _text,
    parallel_calls,
)

_TAG_PREFIX = naming.TAG_KEY + "="
_GROUP_RE = re.compile(r"^(vnf-[0-9a-f]{8})-")
NEUTRON = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "security groups": "security group",
    "floating ips": "floating ip",
}


def _tagged_id(obj: Any, description: bool = True) -> str | None:
    """The instance id of a tagged resource (its tag, else its description)."""
    for tag in _get(obj, "tags", []) or []:
        if isinstance(tag, str) and tag.startswith(_TAG_PREFIX) and len(tag) > len(_TAG_PREFIX):
            return tag[len(_TAG_PREFIX) :]
    text = _text(obj, "description") if description else ""
    if text.startswith(_TAG_PREFIX) and len(text) > len(_TAG_PREFIX):
        return text[len(_TAG_PREFIX) :]
    return None


def _meta_id(obj: Any) -> str | None:
    metadata = _get(obj, "metadata") or {}
    value = metadata.get(naming.TAG_KEY) if isinstance(metadata, dict) else None
    return str(value) if value else None


def marked(
    conn: Any,
    known_instance_ids: Collection[str] = (),
    *,
    has_volumes: bool = False,
    workers: int = 8,
) -> list[tuple[str, str, str]]:
    """``(kind, resource id, instance id)`` of every marked resource, sorted."""

    def listing(what: str, func: Callable[..., Any], **query: Any) -> Callable[[], list[Any]]:
        return lambda: call(f"list {what}", lambda: list(func(**query)))

    calls: dict[str, Callable[[], Any]] = {
        "networks": listing("networks", conn.network.networks),
        "subnets": listing("subnets", conn.network.subnets),
        "ports": listing("ports", conn.network.ports),
        "security groups": listing("security groups", conn.network.security_groups),
        "floating ips": lambda: _floating_ips(conn),
        "images": listing("images", conn.image.images),
        # our servers are named after the plan's prefix, vnf-<shortId>-<vnfcId>
        "servers": listing("servers", conn.compute.servers, details=True, name="^vnf-"),
        "server groups": listing("server groups", conn.compute.server_groups),
    }
    if has_volumes:
        calls["volumes"] = listing("volumes", conn.block_storage.volumes, details=True)
    found = parallel_calls(workers, calls)
    out: set[tuple[str, str, str]] = set()
    for what, kind in NEUTRON.items():
        for item in found[what]:
            inst = _tagged_id(item)
            if inst:
                out.add((kind, _text(item, "id"), inst))
    for item in found["images"]:
        inst = _tagged_id(item, description=False)
        if inst:
            out.add(("image", _text(item, "id"), inst))
    for what, kind in (("servers", "server"), ("volumes", "volume")):
        for item in found.get(what, []):
            inst = _meta_id(item)
            if inst:
                out.add((kind, _text(item, "id"), inst))
    by_prefix = {naming.prefix(i): i for i in {*known_instance_ids, *(m[2] for m in out)}}
    for item in found["server groups"]:
        match = _GROUP_RE.match(_text(item, "name"))
        if match:
            owner = by_prefix.get(match.group(1), match.group(1))
            out.add(("server group", _text(item, "id"), owner))
    return sorted(out)
