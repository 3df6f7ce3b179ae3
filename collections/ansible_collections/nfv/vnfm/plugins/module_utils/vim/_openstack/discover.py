# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Discovery: read what the cloud holds for one VNF instance (and the catalogue).

The functions ``to_*`` are the SDK edge: they turn SDK resources (or plain
dicts) into ``model`` dataclasses. Listings run in parallel.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.connect import (
    call,
    describe,
    is_not_found,
    sdk_errors,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
    Catalog,
    Flavor,
    FloatingIp,
    Image,
    Network,
    Observed,
    Port,
    SecurityGroup,
    Server,
    ServerGroup,
    Subnet,
    Volume,
    add_observed,
)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    try:
        value = getattr(obj, key)
    except AttributeError:
        return default
    return default if value is None else value


def _text(obj: Any, key: str) -> str:
    value = _get(obj, key)
    return "" if value is None else str(value)


def to_network(obj: Any) -> Network:
    return Network(_text(obj, "id"), _text(obj, "name"), tuple(_get(obj, "subnet_ids", ()) or ()))


def to_subnet(obj: Any) -> Subnet:
    return Subnet(
        id=_text(obj, "id"),
        name=_text(obj, "name"),
        network_id=_text(obj, "network_id"),
        cidr=_text(obj, "cidr"),
        ip_version=int(_get(obj, "ip_version", 4)),
        gateway_ip=_get(obj, "gateway_ip") or None,
        enable_dhcp=bool(_get(obj, "is_dhcp_enabled", _get(obj, "enable_dhcp", False))),
    )


def to_port(obj: Any) -> Port:
    fixed = tuple(
        sorted(
            (str(f.get("subnet_id") or ""), str(f.get("ip_address")))
            for f in _get(obj, "fixed_ips", []) or []
        )
    )
    groups = _get(obj, "security_group_ids", None)
    if groups is None:
        groups = _get(obj, "security_groups", []) or []
    return Port(
        id=_text(obj, "id"),
        name=_text(obj, "name"),
        network_id=_text(obj, "network_id"),
        mac=_text(obj, "mac_address").lower(),
        fixed_ips=fixed,
        device_id=_text(obj, "device_id"),
        security_group_ids=tuple(sorted(str(g) for g in groups)),
        status=_text(obj, "status"),
    )


def to_rule(rule: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    remote = rule.get("remote_ip_prefix") or (
        f"group:{rule['remote_group_id']}" if rule.get("remote_group_id") else None
    )
    return str(rule.get("id")), (
        str(rule.get("direction")),
        str(rule.get("ethertype")),
        str(rule["protocol"]).lower() if rule.get("protocol") else None,
        int(low) if low is not None else None,
        int(high) if high is not None else None,
        str(remote) if remote else None,
    )


def to_security_group(obj: Any) -> SecurityGroup:
    rules = [to_rule(dict(r)) for r in _get(obj, "security_group_rules", []) or []]
    return SecurityGroup(_text(obj, "id"), _text(obj, "name"), tuple(sorted(rules)))


def to_server_group(obj: Any) -> ServerGroup:
    policy = _get(obj, "policy") or next(iter(_get(obj, "policies", []) or []), "")
    return ServerGroup(
        _text(obj, "id"),
        _text(obj, "name"),
        str(policy),
        tuple(str(m) for m in _get(obj, "member_ids", _get(obj, "members", [])) or []),
    )


def to_server(obj: Any) -> Server:
    flavor = _get(obj, "flavor") or {}
    names = tuple(
        dict.fromkeys(
            str(v)
            for v in (_get(flavor, "id"), _get(flavor, "original_name"), _get(flavor, "name"))
            if v
        )
    )
    image = _get(obj, "image") or {}
    fault = _get(obj, "fault") or {}
    metadata = _get(obj, "metadata") or {}
    return Server(
        id=_text(obj, "id"),
        name=_text(obj, "name"),
        status=_text(obj, "status").upper(),
        flavor=names,
        image_id=str(_get(image, "id") or ""),
        availability_zone=_text(obj, "availability_zone"),
        vnfc_id=str(metadata.get(naming.VNFC_KEY) or ""),
        task_state=_text(obj, "task_state"),
        fault=str(_get(fault, "message") or ""),
        generation=str(metadata.get(naming.GENERATION_KEY) or "") or None,
        token=str(metadata.get(naming.TOKEN_KEY) or "") or None,
    )


def to_volume(obj: Any) -> Volume:
    metadata = _get(obj, "metadata") or {}
    return Volume(
        id=_text(obj, "id"),
        name=_text(obj, "name"),
        size=int(_get(obj, "size", 0) or 0),
        status=_text(obj, "status"),
        vnfc_id=str(metadata.get(naming.VNFC_KEY) or ""),
        attached_to=tuple(
            sorted(str(a.get("server_id")) for a in _get(obj, "attachments", []) or [])
        ),
    )


def to_fip(obj: Any) -> FloatingIp:
    return FloatingIp(
        _text(obj, "id"),
        _text(obj, "floating_ip_address"),
        _text(obj, "port_id"),
        _text(obj, "floating_network_id"),
    )


def to_flavor(obj: Any) -> Flavor:
    return Flavor(
        _text(obj, "id"),
        _text(obj, "name"),
        int(_get(obj, "vcpus", 0) or 0),
        int(_get(obj, "ram", 0) or 0),
        int(_get(obj, "disk", 0) or 0),
    )


def to_image(obj: Any, owned: bool = False) -> Image:
    return Image(
        _text(obj, "id"),
        _text(obj, "name"),
        _text(obj, "status").lower(),
        owned,
        _text(obj, "created_at"),
    )


def owned_by(obj: Any, inst: str) -> bool:
    metadata = _get(obj, "metadata") or {}
    return bool(metadata.get(naming.TAG_KEY) == inst)


def parallel_calls(workers: int, calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent listings concurrently; the first error is raised after all finish."""
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(calls)))) as pool:
        futures = {k: pool.submit(f) for k, f in calls.items()}
        out, errors = {}, []
        for key, fut in futures.items():
            try:
                out[key] = fut.result()
            except Exception as exc:
                errors.append(exc)
    if errors:
        raise errors[0]
    return out


def _floating_ips(conn: Any, **query: Any) -> list[Any]:
    """Floating IPs of the instance ([] when Neutron has no L3 API)."""
    try:
        return list(conn.network.ips(**query))
    except sdk_errors() as exc:
        if is_not_found(exc):
            return []
        raise VimError(f"list floating IPs: {describe(exc)}") from None


# Neutron kinds: the tag is set by a second call after the creation (Neutron ignores tags in
# a POST), and the creation's answer can be lost while the VIM did the work. Each creation
# sets the description to the tag too, so such a resource is found by it, not leaked.
NEUTRON_KINDS = ("networks", "subnets", "ports", "security groups", "floating ips")


def with_untagged(tagged: list[Any], described: list[Any], tag: str) -> tuple[list[Any], set[str]]:
    """``tagged`` and the resources of ``described`` whose description is exactly ``tag``
    (checked here: a Neutron that ignores the filter lists everything) but that lack the tag;
    and the ids of the latter."""
    seen = {_text(i, "id") for i in tagged}
    extra = [
        i
        for i in described
        if _text(i, "id") not in seen
        and _text(i, "description") == tag
        and tag not in (_get(i, "tags", []) or [])
    ]
    return [*tagged, *extra], {_text(i, "id") for i in extra}


def discover(conn: Any, inst: str, has_volumes: bool, workers: int = 8) -> Observed:
    """Everything of instance ``inst`` (tags, metadata, server group name prefix)."""
    tag = naming.tag(inst)
    prefix = naming.prefix(inst)

    def listing(what: str, func: Callable[..., Any], **query: Any) -> Callable[[], list[Any]]:
        return lambda: call(f"list {what}", lambda: list(func(**query)))

    calls: dict[str, Callable[[], Any]] = {
        "server groups": listing("server groups", conn.compute.server_groups),
        "servers": listing("servers", conn.compute.servers, details=True, name=f"^{prefix}-"),
        "images": listing("images", conn.image.images, tag=tag),
    }
    if has_volumes:
        calls["volumes"] = listing("volumes", conn.block_storage.volumes, details=True)
    neutron = {
        "networks": conn.network.networks,
        "subnets": conn.network.subnets,
        "ports": conn.network.ports,
        "security groups": conn.network.security_groups,
    }
    for what, func in neutron.items():
        calls[what] = listing(what, func, tags=tag)
        calls[f"{what} by description"] = listing(what, func, description=tag)
    calls["floating ips"] = lambda: _floating_ips(conn, tags=tag)
    calls["floating ips by description"] = lambda: _floating_ips(conn, description=tag)
    found = parallel_calls(workers, calls)
    obs = Observed()
    for what in NEUTRON_KINDS:
        found[what], untagged = with_untagged(found[what], found.pop(f"{what} by description"), tag)
        if untagged:
            obs.untagged[what] = untagged
    for item in found["networks"]:
        add_observed(obs.networks, obs.strays, "network", to_network(item))
    for item in found["subnets"]:
        add_observed(obs.subnets, obs.strays, "subnet", to_subnet(item))
    for item in found["ports"]:
        add_observed(obs.ports, obs.strays, "port", to_port(item))
    for item in found["security groups"]:
        add_observed(obs.security_groups, obs.strays, "security group", to_security_group(item))
    obs.floating_ips = sorted((to_fip(i) for i in found["floating ips"]), key=lambda f: f.id)
    for item in found["server groups"]:
        group = to_server_group(item)
        if naming.owns_server_group(inst, group.name):
            add_observed(obs.server_groups, obs.strays, "server group", group)
    for item in sorted(found["servers"], key=lambda s: (_text(s, "created_at"), _text(s, "id"))):
        # A DELETED server is gone: Nova has only not purged its record yet (seconds on a
        # loaded host). Counted, it held every remove and scale-in until the purge, and
        # made a healed VNFC's new server (same name, created later) a stray.
        if owned_by(item, inst) and _text(item, "status").upper() != "DELETED":
            add_observed(obs.servers, obs.strays, "server", to_server(item))
    for item in found["images"]:
        add_observed(obs.images, obs.strays, "image", to_image(item, owned=True))
    for item in sorted(
        found.get("volumes", []), key=lambda s: (_text(s, "created_at"), _text(s, "id"))
    ):
        if owned_by(item, inst):
            add_observed(obs.volumes, obs.strays, "volume", to_volume(item))
    return obs


def catalog(
    conn: Any,
    plan: dict[str, Any],
    vim: dict[str, Any],
    has_volumes: bool,
    workers: int = 8,
) -> Catalog:
    """Flavors, images and the external networks the plan names."""
    refs = sorted({str(e.get("resourceId")) for e in plan.get("externalVirtualLinks") or []})
    fip_refs: set[str] = set()
    want_router_external = False
    for evl in plan.get("externalVirtualLinks") or []:
        fip = evl.get("floatingIp")
        if isinstance(fip, str):
            fip_refs.add(fip)
        elif fip and vim.get("floatingIpNetwork"):
            fip_refs.add(str(vim["floatingIpNetwork"]))
        elif fip:
            want_router_external = True

    def find_net(ref: str) -> Callable[[], Any]:
        return lambda: call(
            f"find network {ref!r}", conn.network.find_network, ref, ignore_missing=True
        )

    calls: dict[str, Callable[[], Any]] = {
        "flavors": lambda: call("list flavors", lambda: list(conn.compute.flavors(details=True))),
        "images": lambda: call("list images", lambda: list(conn.image.images())),
    }
    for ref in sorted(set(refs) | fip_refs):
        calls[f"net:{ref}"] = find_net(ref)
    if want_router_external:
        calls["external"] = lambda: call(
            "list external networks",
            lambda: list(conn.network.networks(is_router_external=True)),
        )
    found = parallel_calls(workers, calls)
    cat = Catalog(has_volumes=has_volumes)
    cat.flavors = sorted(
        (to_flavor(f) for f in found["flavors"] if not _get(f, "is_disabled", False)),
        key=lambda f: (f.vcpus, f.ram, f.disk, f.name),
    )
    cat.images = [to_image(i) for i in found["images"]]
    for ref in refs:
        net = found.get(f"net:{ref}")
        if net is not None:
            cat.ext_networks[ref] = to_network(net)
    for ref in fip_refs:
        net = found.get(f"net:{ref}")
        if net is not None:
            cat.floating_networks[ref] = to_network(net)
    externals = sorted(found.get("external", []), key=lambda n: _text(n, "name"))
    if externals:
        cat.floating_networks[""] = to_network(externals[0])
    return cat
