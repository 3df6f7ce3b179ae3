# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Sockets and commands inside a named network namespace (``/run/netns/<name>``).

A socket belongs to the network namespace its creating thread was in when it
was created, for its whole life. So a probe thread enters the VNFC's
namespace with ``setns(2)`` (it changes only the calling thread), creates its
socket and comes back at once: no process per probe, and the socket then
connects from inside the VNFC as the VNFC's own software would. Python 3.11
has no ``os.setns``, hence ctypes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import subprocess
from collections.abc import Sequence

NETNS_DIR = "/run/netns"
CLONE_NEWNET = 0x40000000

_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def netns_path(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise ValueError(f"invalid network namespace name {name!r}")
    return os.path.join(NETNS_DIR, name)


def socket_in(
    name: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM
) -> socket.socket:
    """A new socket living in network namespace ``name``.

    FileNotFoundError when the namespace does not exist (a missing VNFC).
    """
    fd = os.open(netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(fd)
            try:
                return socket.socket(family, kind)
            finally:
                try:
                    _setns(home)
                except OSError as exc:  # this thread would stay in the VNFC: never go on
                    os.write(2, f"vnfm: cannot leave network namespace {name}: {exc}\n".encode())
                    os._exit(70)
        finally:
            os.close(home)
    finally:
        os.close(fd)


def run_in(
    name: str, argv: Sequence[str], *, timeout: float, ip: str = "ip"
) -> subprocess.CompletedProcess[bytes]:
    """``ip netns exec NAME ARGV`` - the way the ``nfv.vnfm.netns`` connection runs
    the hooks' tasks, so a command probe sees the VNFC as the hooks do.

    subprocess.TimeoutExpired when it runs longer than ``timeout`` (it is killed).
    """
    return subprocess.run(
        [ip, "netns", "exec", name, *argv],
        capture_output=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
