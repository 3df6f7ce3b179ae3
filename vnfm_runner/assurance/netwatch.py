"""Whether the local VIM's kernel state of an instance may have changed: rtnetlink events.

The local VIM's discovery runs ``ip -json`` for the host, the instance's VIM
namespace and each VNFC namespace (five processes per webfarm): with 20 instances
read every 5 s that was most of the watcher's CPU. Yet between operations the
kernel state hardly ever changes. So the watcher keeps, per namespace of a local
instance, one rtnetlink socket subscribed to the link, address and route groups
(what the discovery reads: interfaces, their UP flags = power state, MACs,
addresses, the default route) and reads the VIM again only when

* an event arrived on one of them (or the socket overflowed: ENOBUFS), or
* the instance's set of named namespaces (names and inodes under /run/netns)
  changed - a VNFC ``ip netns del``-ed is seen at once, or
* the last read is older than ``quiet_s`` (a safety net).

A socket holds its namespace: the sockets of an instance are closed as soon as
its namespace set changes, the instance is busy, healed or gone (``drop``), so
a deleted namespace is never kept alive past the next pass. Anything unexpected
(no /run/netns, not root, no namespace of the instance) answers "changed": the
caller then reads the VIM as it would without this.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import threading

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.health import netns  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.naming import (  # noqa: E402
    instance_prefix,
)

log = logging.getLogger("vnfm.watcher")

NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV4_ROUTE = 0x40
RTMGRP_IPV6_IFADDR = 0x100
RTMGRP_IPV6_ROUTE = 0x400
GROUPS = (
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE
)
HOST = ""  # the host's own namespace


def _open(name: str) -> socket.socket:
    if name == HOST:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    else:
        sock = netns.socket_in(name, socket.AF_NETLINK, socket.SOCK_RAW)
    try:
        sock.bind((0, GROUPS))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _drained(sock: socket.socket) -> bool:
    """Read what is queued; whether anything (or an overflow) was there."""
    got = False
    while True:
        try:
            if not sock.recv(65536):
                return True
            got = True
        except BlockingIOError:
            return got
        except OSError as exc:  # ENOBUFS: events were lost - changed
            if exc.errno == errno.EAGAIN:
                return got
            return True


class NetlinkChanges:
    """Per local instance: has what its discovery reads changed since it was last read?"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._host: socket.socket | None = None
        self._socks: dict[str, dict[str, tuple[int, socket.socket]]] = {}  # inst -> ns -> ...
        self._dirty: set[str] = set()  # instances with an event since their last read
        self.enabled = os.geteuid() == 0 and os.path.isdir(netns.NETNS_DIR)

    def _names(self, inst: str) -> dict[str, int]:
        prefix = instance_prefix(inst)
        out = {}
        for name in os.listdir(netns.NETNS_DIR):
            if name.startswith(prefix):
                with contextlib.suppress(OSError):
                    out[name] = os.stat(os.path.join(netns.NETNS_DIR, name)).st_ino
        return out

    def poll_host(self) -> None:
        """Once per pass: a host event makes every instance changed."""
        if not self.enabled:
            return
        with self._lock:
            try:
                if self._host is None:
                    self._host = _open(HOST)
                    self._dirty.update(self._socks)
                elif _drained(self._host):
                    self._dirty.update(self._socks)
            except OSError as exc:
                log.debug("host rtnetlink socket: %s", exc)
                self._close_host()

    def changed(self, inst: str) -> bool:
        """Whether the instance must be read again (False only when nothing can have
        changed since :meth:`read` was last called for it)."""
        if not self.enabled or self._host is None:
            return True
        with self._lock:
            try:
                names = self._names(inst)
            except OSError:
                self._drop(inst)
                return True
            socks = self._socks.get(inst)
            if not names or socks is None or {n: i for n, (i, _s) in socks.items()} != names:
                self._drop(inst)  # never hold a namespace that is not the named one
                return True
            dirty = inst in self._dirty
            for _ino, sock in socks.values():
                dirty = _drained(sock) or dirty
            if dirty:
                self._dirty.add(inst)
            return dirty

    def reading(self, inst: str) -> None:
        """The caller reads the VIM now: events from here on count for the next time.

        Opens the instance's sockets first, so nothing that happens during the read
        is missed."""
        if not self.enabled or self._host is None:
            return
        with self._lock:
            self._dirty.discard(inst)
            try:
                names = self._names(inst)
            except OSError:
                self._drop(inst)
                return
            socks = self._socks.setdefault(inst, {})
            for name in list(socks):
                if socks[name][0] != names.get(name):
                    socks.pop(name)[1].close()
            for name, ino in names.items():
                if name in socks:
                    _drained(socks[name][1])
                    continue
                try:
                    sock = _open(name)
                except OSError:
                    continue  # vanished meanwhile: the set differs, the next look reads
                try:
                    same = os.stat(os.path.join(netns.NETNS_DIR, name)).st_ino == ino
                except OSError:
                    same = False
                if not same:  # another namespace under that name now: not ours to hold
                    sock.close()
                    continue
                socks[name] = (ino, sock)

    def drop(self, inst: str) -> None:
        """Close the instance's sockets (busy, healed, gone): never keep a namespace alive."""
        with self._lock:
            self._drop(inst)

    def _drop(self, inst: str) -> None:
        self._dirty.discard(inst)
        for _ino, sock in (self._socks.pop(inst, None) or {}).values():
            sock.close()

    def _close_host(self) -> None:
        if self._host is not None:
            self._host.close()
            self._host = None

    def close(self) -> None:
        with self._lock:
            for inst in list(self._socks):
                self._drop(inst)
            self._close_host()
