# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Apply a :class:`Changes` to the cloud (the only module that mutates it).

Independent operations of one step run in a bounded thread pool; steps run in
dependency order. Deletion: floating IPs, volume detachments, servers (one
listing per poll for all of them) with the ports (a server's ports as soon as it
is gone), volumes, security group rules, subnets (those of a network kept: a
network deleted takes its subnets), networks, security groups, server groups,
images. Creation: networks, security groups, server groups, volumes and image
uploads; subnets and rules; ports; servers (waited until ACTIVE); volume
attachments; floating IPs. Tags that Neutron ignored in a POST are set beside the
later steps (the description marks the resource meanwhile). Power changes (operate) of the
servers kept run beside the creations; new servers of a stopped VNFC are
stopped once created (Nova boots every server). Every resource carries the
instance's mark from the moment it is created, so a failure part-way leaves
only resources that the next reconcile reuses or ``remove`` finds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.connect import (
    call,
    describe,
    is_conflict,
    is_not_found,
    sdk_errors,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import (
    Changes,
    PowerChange,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.discover import (
    to_security_group,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
    Desired,
    DNetwork,
    DPort,
    DSecurityGroup,
    DServer,
    DServerGroup,
    DVolume,
    Observed,
    Rule,
    Server,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.stop import GRACEFUL

T = TypeVar("T")
POLL = 0.5  # seconds between two listings while waiting (one listing per wait)


class Late(VimError):
    """A wait ran out of time (resources not yet in the awaited state)."""


_NEUTRON_GET = {
    "networks": "get_network",
    "subnets": "get_subnet",
    "ports": "get_port",
    "security groups": "get_security_group",
    "floating ips": "get_ip",
}


@dataclass
class Settings:
    workers: int = 8
    timeout: float = 300.0
    wait: bool = True
    tags_on_create: bool | None = None  # Neutron takes 'tags' in a POST (learnt once)


@dataclass
class Ids:
    """name -> id of the instance's resources, seeded from discovery, filled on creation."""

    by_kind: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, kind: str, name: str, value: str) -> None:
        with self.lock:
            self.by_kind.setdefault(kind, {})[name] = value

    def get(self, kind: str, name: str) -> str:
        with self.lock:
            value = self.by_kind.get(kind, {}).get(name)
        if value is None:
            raise VimError(f"{kind} {name} does not exist (an earlier step failed)")
        return value


def _server_metadata(inst: str, want: DServer) -> dict[str, str]:
    """Ownership, and what the server was created for (generation, heal token digest)."""
    out = {naming.TAG_KEY: inst, naming.VNFC_KEY: want.vnfc_id}
    if want.generation:
        out[naming.GENERATION_KEY] = want.generation
    if want.token:
        out[naming.TOKEN_KEY] = want.token
    return out


def parallel(workers: int, func: Callable[[T], object], items: Iterable[T]) -> None:
    """Run ``func`` on every item (at most ``workers`` at a time); wait for all, then
    raise one VimError listing every failure."""
    todo = list(items)
    if not todo:
        return
    errors: list[str] = []
    if len(todo) == 1:
        try:
            func(todo[0])
        except VimError as exc:
            errors.append(str(exc))
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            for fut in [pool.submit(func, item) for item in todo]:
                try:
                    fut.result()
                except VimError as exc:
                    errors.append(str(exc))
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise VimError("; ".join(errors[:3]) + more)


PORT_RELEASE_S = 15.0  # how long a port refused after its server went is asked again


def _delete(what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Delete, treating 'already gone' as done."""
    try:
        func(*args, **kwargs)
    except sdk_errors() as exc:
        if not is_not_found(exc):
            raise VimError(f"{what}: {describe(exc)}") from None


class Applier:
    def __init__(
        self, conn: Any, inst: str, settings: Settings, desired: Desired | None, obs: Observed
    ) -> None:
        self.conn = conn
        self.inst = inst
        self.tag = naming.tag(inst)
        self.settings = settings
        self.desired = desired
        self.obs = obs
        self.ids = Ids()
        self._changes = Changes(inst)
        self._faults: dict[str, str] = {}
        self._tagger: ThreadPoolExecutor | None = None  # tag fixups while the rest goes on
        self._tagging: list[Future[Any]] = []
        for kind, table in (
            ("network", obs.networks),
            ("subnet", obs.subnets),
            ("port", obs.ports),
            ("security group", obs.security_groups),
            ("server group", obs.server_groups),
            ("server", obs.servers),
            ("volume", obs.volumes),
            ("image", obs.images),
        ):
            for name, item in table.items():
                self.ids.set(kind, name, item.id)

    # -- helpers -----------------------------------------------------------------------------
    def _deadline(self) -> float:
        return time.monotonic() + self.settings.timeout

    def _neutron_create(self, what: str, func: Callable[..., Any], **attrs: Any) -> Any:
        """Create a tagged Neutron resource: tags in the request when Neutron accepts them
        there (learnt from the first refusal), else set right after creation."""
        attrs.setdefault("description", self.tag)
        if self.settings.tags_on_create is not False:
            try:
                res = call(what, func, tags=[self.tag], **attrs)
            except VimError as exc:
                if "'tags' not allowed" not in str(exc):
                    raise
                self.settings.tags_on_create = False
            else:
                self.settings.tags_on_create = True
                if self.tag in (getattr(res, "tags", None) or []):
                    return res
                # Accepted but ignored (Neutron tags a port in a POST only in bulk requests)
                self._tag_later(what, res)
                return res
        res = call(what, func, **attrs)
        self._tag_later(what, res)
        return res

    def _tag_later(self, what: str, res: Any) -> None:
        """Set the tag off the critical path: until then, the description (set in the
        POST) marks the resource for discovery, and nothing of this run needs the tag."""
        func = partial(
            call, f"tag {what.removeprefix('create ')}", self.conn.network.set_tags, res, [self.tag]
        )
        if self._tagger is None:
            func()
        else:
            self._tagging.append(self._tagger.submit(func))

    def _wait(
        self,
        what: str,
        pending: dict[str, str],
        poll: Callable[[], dict[str, str | None]],
        done: Callable[[str | None], bool],
        failed: Callable[[str | None], bool] = lambda s: False,
        reason: Callable[[str], str] = lambda i: "",
        timeout: float | None = None,
        on_done: Callable[[str], None] | None = None,
    ) -> None:
        """Poll ``poll()`` (id -> status, None = gone) until every pending id is ``done``
        (:class:`Late` after ``timeout``, by default the driver's); ``on_done(id)`` as each
        one gets there. One listing per round serves every pending id."""
        deadline = time.monotonic() + (self.settings.timeout if timeout is None else timeout)
        started = time.monotonic()
        left = dict(pending)  # id -> name
        while left:
            states = poll()
            bad = []
            for rid in list(left):
                state = states.get(rid)
                if done(state):
                    del left[rid]
                    if on_done is not None:
                        on_done(rid)
                elif failed(state):
                    extra = reason(rid)
                    bad.append(
                        f"{what} {left.pop(rid)} is {state or 'gone'}"
                        + (f": {extra}" if extra else "")
                    )
            if bad:
                raise VimError("; ".join(bad))
            if not left:
                return
            if time.monotonic() >= deadline:
                secs = int(time.monotonic() - started)
                late = [
                    f"{what} {name} still {states.get(rid) or 'absent'}"
                    for rid, name in left.items()
                ]
                raise Late(", ".join(sorted(late)) + f" after {secs} s")
            time.sleep(POLL)

    # -- servers -----------------------------------------------------------------------------
    def _server_states(self) -> dict[str, str | None]:
        prefix = naming.prefix(self.inst)
        found = call(
            "list servers",
            lambda: list(self.conn.compute.servers(details=True, name=f"^{prefix}-")),
        )
        self._faults = {
            str(s.id): str((getattr(s, "fault", None) or {}).get("message") or "") for s in found
        }
        return {str(s.id): str(s.status).upper() for s in found}

    def _delete_port(self, port: Any) -> None:
        # Nova reports a server gone a moment before it has let go of its ports; until
        # then Neutron refuses a member the delete (403 "rule:delete_port"). Ask again
        # for a few seconds before calling it a failure.
        deadline = time.monotonic() + PORT_RELEASE_S
        while True:
            try:
                _delete(f"delete port {port.name}", self.conn.network.delete_port, port.id)
                return
            except VimError as exc:
                if "HTTP 403" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.5)

    def delete_servers_and_ports(self) -> None:
        """Servers, and the ports to delete: a port on a server going away is deleted as
        soon as that server is gone (not once every server is), the others at once."""
        servers, ports = self._changes.delete_servers, self._changes.delete_ports
        w = self.settings.workers
        if not servers:
            parallel(w, self._delete_port, ports)
            return
        going = {s.id for s in servers}
        on_server: dict[str, list[Any]] = {}
        for port in ports:
            if port.device_id in going:
                on_server.setdefault(port.device_id, []).append(port)
        # Only a port bound to nothing goes at once. One still naming another device (a
        # server Nova is tearing down after a failed boot) may be refused to a member
        # (403 "rule:delete_port") until Nova lets go: it waits for every server.
        free = [p for p in ports if not p.device_id]
        after = [p for p in ports if p.device_id and p.device_id not in going]
        errors: list[str] = []
        futures = []
        with ThreadPoolExecutor(max_workers=w) as pool:
            futures += [pool.submit(self._delete_port, p) for p in free]
            try:
                parallel(
                    w,
                    lambda s: _delete(
                        f"delete server {s.name}", self.conn.compute.delete_server, s.id
                    ),
                    servers,
                )
                self._wait(
                    "server",
                    {s.id: s.name for s in servers},
                    self._server_states,
                    lambda s: s is None or s == "DELETED",
                    on_done=lambda rid: futures.extend(
                        pool.submit(self._delete_port, p) for p in on_server.pop(rid, [])
                    ),
                )
            except VimError as exc:
                errors.append(str(exc))
            futures += [pool.submit(self._delete_port, p) for p in after]
            for fut in futures:
                try:
                    fut.result()
                except VimError as exc:
                    errors.append(str(exc))
        if errors:
            raise VimError("; ".join(errors))

    def create_server(self, want: DServer) -> None:
        ports = [{"port": self.ids.get("port", p)} for p in want.ports]
        image = self.ids.get("image", want.image) if want.image_upload else want.image
        attrs: dict[str, Any] = {
            "name": want.name,
            "flavor_id": want.flavor.id,
            "image_id": image,
            "networks": ports or "none",
            "metadata": _server_metadata(self.inst, want),
            "tags": [self.tag],
        }
        if want.server_group:
            attrs["scheduler_hints"] = {"group": self.ids.get("server group", want.server_group)}
        if want.availability_zone:
            attrs["availability_zone"] = want.availability_zone
        if want.user_data:
            attrs["user_data"] = want.user_data
        if want.config_drive:
            attrs["config_drive"] = True
        server = call(f"create server {want.name}", self.conn.compute.create_server, **attrs)
        self.ids.set("server", want.name, str(server.id))

    def record_server(self, item: tuple[Server, str]) -> None:
        """Write the software generation into a kept server's metadata."""
        server, generation = item
        call(
            f"record the software generation of server {server.name}",
            self.conn.compute.set_server_metadata,
            server.id,
            **{naming.GENERATION_KEY: generation},
        )

    def _building(self, ch: Changes) -> list[DServer]:
        """Kept servers still building: created by an earlier run that never heard Nova's
        answer; a volume attaches only to a built server (Nova answers 409 before)."""
        if self.desired is None:
            return []
        out = []
        for vnfc_id in ch.keep_servers:
            want = self.desired.servers[vnfc_id]
            have = self.obs.servers.get(want.name)
            if have is not None and have.status == "BUILD":
                out.append(want)
        return out

    def wait_servers(self, servers: list[DServer]) -> None:
        if not servers:
            return
        pending = {self.ids.get("server", s.name): s.name for s in servers}
        self._wait(
            "server",
            pending,
            self._server_states,
            lambda s: s == "ACTIVE",
            lambda s: s in ("ERROR", None, "DELETED"),
            lambda rid: self._faults.get(rid, ""),
        )

    # -- power (operate) -----------------------------------------------------------------------
    def _power_call(self, change: PowerChange) -> None:
        """One Nova power action; while Nova is busy with the server (a build, a stop under
        way: HTTP 409) it is asked again until the server is free or already there."""
        name = change.server.name
        server_id = self.ids.get("server", name)
        func = getattr(self.conn.compute, f"{change.action}_server")
        deadline = self._deadline()
        while True:
            try:
                func(server_id)
                return
            except sdk_errors() as exc:
                if not is_conflict(exc):
                    raise VimError(f"{change.action} server {name}: {describe(exc)}") from None
                error = f"{change.action} server {name}: {describe(exc)}"
            server = call(f"get server {name}", self.conn.compute.get_server, server_id)
            status = str(server.status).upper()
            busy = bool(getattr(server, "task_state", None)) or status == "BUILD"
            if status == change.target and not busy:
                return
            if not busy or time.monotonic() >= deadline:
                raise VimError(error)
            time.sleep(POLL)

    def power(self, changes: list[PowerChange]) -> None:
        """Start/stop servers concurrently, then wait for ACTIVE/SHUTOFF.

        Nova has one stop call: a clean shutdown (ACPI) that Nova turns into a power-off
        after its own ``shutdown_timeout``. A GRACEFUL stop with a ``gracefulStopTimeout``
        waits that long for SHUTOFF, then warns and waits on for Nova's power-off; a
        FORCEFUL stop just waits for it (the package's operate hooks drain the VNF first).
        """
        if not changes:
            return
        parallel(self.settings.workers, self._power_call, changes)
        if not self.settings.wait:
            return
        stops = {
            self.ids.get("server", c.server.name): c.server.name
            for c in changes
            if c.target == "SHUTOFF"
        }
        starts = {
            self.ids.get("server", c.server.name): c.server.name
            for c in changes
            if c.target == "ACTIVE"
        }

        def wait(pending: dict[str, str], target: str, timeout: float | None = None) -> None:
            self._wait(
                "server",
                pending,
                self._server_states,
                lambda s: s == target,
                lambda s: s in ("ERROR", None, "DELETED"),
                lambda rid: self._faults.get(rid, ""),
                timeout=timeout,
            )

        grace = self.desired.graceful_stop_timeout if self.desired is not None else None
        graceful = self.desired is not None and self.desired.stop_type == GRACEFUL
        if stops and graceful and grace and grace < self.settings.timeout:
            started = time.monotonic()
            try:
                wait(stops, "SHUTOFF", grace)
            except Late as exc:
                self._changes.warnings.append(
                    f"graceful stop: {exc} (gracefulStopTimeout {grace:g} s); "
                    "waited on for Nova to power them off"
                )
            wait(stops, "SHUTOFF", self.settings.timeout - (time.monotonic() - started))
        elif stops:
            wait(stops, "SHUTOFF")
        if starts:
            wait(starts, "ACTIVE")

    # -- Neutron tags ------------------------------------------------------------------------
    def tag_resource(self, item: tuple[str, str]) -> None:
        """Tag a resource of the instance found without its tag (see discover.with_untagged)."""
        kind, rid = item
        net = self.conn.network
        getter = getattr(net, _NEUTRON_GET[kind])
        what = kind.removesuffix("s")
        res = call(f"read {what} {rid}", getter, rid)
        tags = [t for t in getattr(res, "tags", None) or [] if t != self.tag]
        call(f"tag {what} {rid}", net.set_tags, res, [*tags, self.tag])

    # -- networks ----------------------------------------------------------------------------
    def create_network(self, want: DNetwork) -> None:
        attrs: dict[str, Any] = {"name": want.name}
        if want.mtu:
            attrs["mtu"] = want.mtu
        net = self._neutron_create(
            f"create network {want.name}", self.conn.network.create_network, **attrs
        )
        self.ids.set("network", want.name, str(net.id))

    def create_subnet(self, want: DNetwork) -> None:
        sub = self._neutron_create(
            f"create subnet {want.subnet_name}",
            self.conn.network.create_subnet,
            name=want.subnet_name,
            network_id=self.ids.get("network", want.name),
            cidr=want.cidr,
            ip_version=want.ip_version,
            gateway_ip=want.gateway_ip,
            is_dhcp_enabled=want.dhcp,
        )
        self.ids.set("subnet", want.subnet_name, str(sub.id))

    # -- security groups ---------------------------------------------------------------------
    def _add_rule(self, group: str, rule: Rule) -> None:
        direction, ether, proto, low, high, remote = rule
        attrs: dict[str, Any] = {
            "security_group_id": self.ids.get("security group", group),
            "direction": direction,
            "ethertype": ether,
        }
        if proto:
            attrs["protocol"] = proto
        if low is not None:
            attrs["port_range_min"] = low
            attrs["port_range_max"] = high
        if remote:
            attrs["remote_ip_prefix"] = remote
        call(
            f"add rule {direction} {proto or 'any'} to security group {group}",
            self.conn.network.create_security_group_rule,
            **attrs,
        )

    def create_security_group(self, want: DSecurityGroup) -> None:
        sg = self._neutron_create(
            f"create security group {want.name}",
            self.conn.network.create_security_group,
            name=want.name,
        )
        self.ids.set("security group", want.name, str(sg.id))
        have = to_security_group(sg)
        present = set()
        for rule_id, rule in have.rules:
            if rule in want.rules:
                present.add(rule)
            else:
                _delete(
                    f"delete default rule of security group {want.name}",
                    self.conn.network.delete_security_group_rule,
                    rule_id,
                )
        for rule in want.rules:
            if rule not in present:
                self._add_rule(want.name, rule)

    # -- ports -------------------------------------------------------------------------------
    def _port_attrs(self, want: DPort) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if want.network.startswith("ext:"):
            if self.desired is None:  # a removal has no desired state
                raise VimError("internal: no desired state to apply")
            if want.addresses:
                attrs["fixed_ips"] = [{"ip_address": a} for a in want.addresses]
        else:
            if self.desired is None:  # a removal has no desired state
                raise VimError("internal: no desired state to apply")
            subnet = self.ids.get("subnet", naming.subnet_name(want.network))
            if want.addresses:
                attrs["fixed_ips"] = [
                    {"subnet_id": subnet, "ip_address": a} for a in want.addresses
                ]
        if want.security_groups:
            attrs["security_group_ids"] = [
                self.ids.get("security group", g) for g in want.security_groups
            ]
        return attrs

    def _new_port(self, want: DPort) -> dict[str, Any]:
        if self.desired is None:  # a removal has no desired state
            raise VimError("internal: no desired state to apply")
        if want.network.startswith("ext:"):
            network_id = self.desired.ext_networks[want.network].id
        else:
            network_id = self.ids.get("network", want.network)
        attrs = {"name": want.name, "network_id": network_id, **self._port_attrs(want)}
        if want.mac:
            attrs["mac_address"] = want.mac
        return attrs

    def create_port(self, want: DPort) -> None:
        port = self._neutron_create(
            f"create port {want.name}", self.conn.network.create_port, **self._new_port(want)
        )
        self.ids.set("port", want.name, str(port.id))

    def update_port(self, want: DPort) -> None:
        attrs = self._port_attrs(want)
        if not want.security_groups:
            owned = {g.id for g in self.obs.security_groups.values()}
            have = self.obs.ports[want.name].security_group_ids
            keep = [g for g in have if g not in owned]
            if not keep:
                default = call(
                    "find security group default",
                    self.conn.network.find_security_group,
                    "default",
                    ignore_missing=True,
                )
                keep = [str(default.id)] if default is not None else []
            attrs["security_group_ids"] = keep
        call(
            f"update port {want.name}",
            self.conn.network.update_port,
            self.ids.get("port", want.name),
            **attrs,
        )

    # -- volumes -----------------------------------------------------------------------------
    def _volume_states(self) -> dict[str, str | None]:
        found = call("list volumes", lambda: list(self.conn.block_storage.volumes(details=True)))
        return {str(v.id): str(v.status).lower() for v in found}

    def create_volume(self, want: DVolume) -> None:
        vol = call(
            f"create volume {want.name}",
            self.conn.block_storage.create_volume,
            name=want.name,
            size=want.size,
            metadata={naming.TAG_KEY: self.inst, naming.VNFC_KEY: want.vnfc_id},
            description=self.tag,
        )
        self.ids.set("volume", want.name, str(vol.id))

    def wait_volumes(self, names: dict[str, str], status: str) -> None:
        """names: volume id -> name."""
        if names:
            self._wait(
                "volume",
                names,
                self._volume_states,
                lambda s: s == status,
                lambda s: s is None or "error" in str(s),
            )

    def attach_volume(self, item: tuple[str, str]) -> None:
        volume, vnfc_id = item
        if self.desired is None:  # a removal has no desired state
            raise VimError("internal: no desired state to apply")
        server_name = self.desired.servers[vnfc_id].name
        call(
            f"attach volume {volume} to server {server_name}",
            self.conn.compute.create_volume_attachment,
            self.ids.get("server", server_name),
            volume_id=self.ids.get("volume", volume),
        )

    def detach_volume(self, item: tuple[Any, str]) -> None:
        volume, server_id = item
        _delete(
            f"detach volume {volume.name} from server {server_id}",
            self.conn.compute.delete_volume_attachment,
            server_id,
            volume.id,
        )

    # -- the whole change --------------------------------------------------------------------
    def run(self, ch: Changes) -> None:
        self._changes = ch
        w = self.settings.workers
        net = self.conn.network
        # 1. deletions, dependents first
        parallel(
            w,
            lambda f: _delete(f"delete floating IP {f.address}", net.delete_ip, f.id),
            ch.delete_fips,
        )
        if ch.detach_volumes:
            parallel(w, self.detach_volume, ch.detach_volumes)
            self.wait_volumes({v.id: v.name for v, _s in ch.detach_volumes}, "available")
        self.delete_servers_and_ports()
        if ch.delete_volumes:
            self.wait_volumes({v.id: v.name for v in ch.delete_volumes}, "available")
            parallel(
                w,
                lambda v: _delete(
                    f"delete volume {v.name}", self.conn.block_storage.delete_volume, v.id
                ),
                ch.delete_volumes,
            )
        parallel(
            w,
            lambda r: _delete(
                f"delete rule of security group {r[0]}", net.delete_security_group_rule, r[1]
            ),
            ch.delete_rules,
        )
        # a network takes its subnets with it: one call less per network
        going = {n.id for n in ch.delete_networks}
        parallel(
            w,
            lambda s: _delete(f"delete subnet {s.name}", net.delete_subnet, s.id),
            [s for s in ch.delete_subnets if s.network_id not in going],
        )
        parallel(
            w,
            lambda n: _delete(f"delete network {n.name}", net.delete_network, n.id),
            ch.delete_networks,
        )
        parallel(
            w,
            lambda g: _delete(f"delete security group {g.name}", net.delete_security_group, g.id),
            ch.delete_security_groups,
        )
        parallel(
            w,
            lambda g: _delete(
                f"delete server group {g.name}", self.conn.compute.delete_server_group, g.id
            ),
            ch.delete_server_groups,
        )
        parallel(
            w,
            lambda i: _delete(f"delete image {i.name}", self.conn.image.delete_image, i.id),
            ch.delete_images,
        )
        if ch.delete_volumes:
            self._wait(
                "volume",
                {v.id: v.name for v in ch.delete_volumes},
                self._volume_states,
                lambda s: s is None,
                lambda s: s is not None and "error" in s,
            )
        if self.desired is None:
            return
        parallel(w, self.tag_resource, ch.tag_resources)
        parallel(w, self.record_server, ch.record_servers)
        # 2. power changes of the servers kept (those that no volume waits for) run
        #    beside the creations; the other ones once the servers are ready
        attaching = {vnfc for _v, vnfc in ch.attach_volumes}
        early = [p for p in ch.power if not p.new and p.server.vnfc_id not in attaching]
        late = [p for p in ch.power if p not in early]
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=1) as pool:
            beside = pool.submit(self.power, early)
            try:
                self._create(ch, bool(late))
                self.power(late)
            except VimError as exc:
                errors.append(str(exc))
            try:
                beside.result()
            except VimError as exc:
                errors.append(str(exc))
        if errors:
            raise VimError("; ".join(errors))

    def _create(self, ch: Changes, power_later: bool) -> None:
        """Creations, in dependency order; independent ones of a step in parallel. Tags
        that Neutron ignored in a POST are set beside the later steps."""
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=self.settings.workers) as tagger:
            self._tagger = tagger
            try:
                self._create_steps(ch, power_later)
            except VimError as exc:
                errors.append(str(exc))
            finally:
                self._tagger = None
            for fut in self._tagging:
                try:
                    fut.result()
                except VimError as exc:
                    errors.append(str(exc))
            self._tagging = []
        if errors:
            raise VimError("; ".join(errors))

    def _create_steps(self, ch: Changes, power_later: bool) -> None:
        w = self.settings.workers
        step1: list[Callable[[], None]] = [
            *(partial(self.create_network, n) for n in ch.create_networks),
            *(partial(self.create_security_group, g) for g in ch.create_security_groups),
            *(partial(self.create_server_group, g) for g in ch.create_server_groups),
            *(partial(self.create_volume, v) for v in ch.create_volumes),
            *(partial(self.upload_image, u) for u in ch.uploads),
            *(partial(self._add_rule, *r) for r in ch.add_rules),
        ]
        parallel(w, lambda f: f(), step1)
        step2: list[Callable[[], None]] = [
            *(partial(self.create_subnet, n) for n in ch.create_subnets),
            *(partial(self.update_subnet, *u) for u in ch.update_subnets),
        ]
        parallel(w, lambda f: f(), step2)
        parallel(w, self.create_port, ch.create_ports)
        parallel(w, self.update_port, ch.update_ports)
        parallel(w, self.create_server, ch.create_servers)
        if self.settings.wait or ch.attach_volumes or power_later:
            self.wait_servers([*ch.create_servers, *self._building(ch)])
        if ch.attach_volumes:  # new ones, and those their deleted server released
            self.wait_volumes(
                {self.ids.get("volume", v): v for v, _c in ch.attach_volumes}, "available"
            )
        if ch.attach_volumes:
            parallel(w, self.attach_volume, ch.attach_volumes)
            if self.settings.wait:
                self.wait_volumes(
                    {self.ids.get("volume", v): v for v, _c in ch.attach_volumes}, "in-use"
                )
        parallel(w, self.create_fip, ch.create_fips)

    def create_server_group(self, want: DServerGroup) -> None:
        group = call(
            f"create server group {want.name}",
            self.conn.compute.create_server_group,
            name=want.name,
            policy=want.policy,
        )
        self.ids.set("server group", want.name, str(group.id))

    def update_subnet(self, have: Any, want: DNetwork) -> None:
        call(
            f"update subnet {want.subnet_name}",
            self.conn.network.update_subnet,
            have.id,
            gateway_ip=want.gateway_ip,
            is_dhcp_enabled=want.dhcp,
        )

    def upload_image(self, upload: Any) -> None:
        image = call(
            f"upload image {upload.name}",
            self.conn.image.create_image,
            upload.name,
            filename=upload.path,
            disk_format=upload.disk_format,
            container_format=upload.container_format,
            tags=[self.tag],
            allow_duplicates=True,
            wait=True,
            timeout=self.settings.timeout,
        )
        self.ids.set("image", upload.name, str(image.id))

    def create_fip(self, want: DPort) -> None:
        self._neutron_create(
            f"create floating IP for port {want.name}",
            self.conn.network.create_ip,
            floating_network_id=want.floating_network,
            port_id=self.ids.get("port", want.name),
        )


def apply_changes(
    conn: Any, ch: Changes, desired: Desired | None, obs: Observed, settings: Settings
) -> None:
    Applier(conn, ch.vnf_instance_id, settings, desired, obs).run(ch)
