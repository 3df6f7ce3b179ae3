# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The kernel edge of the ``local`` VIM: iproute2 (``ip -json``), /run/netns, /proc.

Everything that touches the kernel goes through :class:`Kernel`, so unit tests
replace this one object with a fake kernel state.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

NETNS_DIR = "/run/netns"
CAP_NET_ADMIN = 12


def _parse_json_docs(text: str) -> list[Any]:
    """Parse the concatenated JSON documents that ``ip -json -batch`` prints."""
    decoder = json.JSONDecoder()
    docs: list[Any] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return docs
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)


def has_net_admin() -> bool:
    """True when the process is root or has CAP_NET_ADMIN in its effective set."""
    if os.geteuid() == 0:
        return True
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_NET_ADMIN & 1)
    except OSError:
        pass
    return False


class Kernel:
    """iproute2 and procfs access; the only place that runs commands."""

    def __init__(self, ip: str = "ip", timeout: float = 60.0) -> None:
        self.ip = ip
        self.timeout = timeout

    # -- preconditions -------------------------------------------------------
    def check_access(self) -> None:
        path = shutil.which(self.ip)
        if path is None or not has_net_admin():
            missing = "the 'ip' command is missing" if path is None else "not root"
            raise VimError(
                "the local VIM needs root or CAP_NET_ADMIN and iproute2 (ip); "
                f"{missing} (run the play with become: true on a Linux host)"
            )
        self.ip = path

    # -- iproute2 ------------------------------------------------------------
    def run(
        self, args: Sequence[str], *, netns: str | None = None, stdin: str | None = None
    ) -> str:
        cmd = [self.ip]
        if netns is not None:
            cmd += ["-n", netns]
        cmd += list(args)
        try:
            proc = subprocess.run(
                cmd, input=stdin, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise VimError(f"'{' '.join(cmd)}' timed out after {self.timeout:g}s") from exc
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().replace("\n", "; ")
            where = f" (batch: {stdin.strip().replace(chr(10), '; ')})" if stdin else ""
            raise VimError(f"'{' '.join(cmd)}' failed: {detail}{where}")
        return proc.stdout

    def batch(self, commands: Sequence[str], *, netns: str | None = None) -> None:
        """Run ``ip -batch -`` (one process for many commands); stops at the first error."""
        if commands:
            self.run(["-batch", "-"], netns=netns, stdin="\n".join(commands) + "\n")

    def query(
        self,
        commands: Sequence[str],
        *,
        netns: str | None = None,
        before: Sequence[str] = (),
        details: bool = True,
    ) -> list[Any]:
        """Run ``ip -json [-d] -batch -`` and return one parsed document per command.

        ``before``: changes to make first in the same process (they print nothing).
        """
        stdin = "\n".join([*before, *commands]) + "\n"
        opts = ["-json", "-d"] if details else ["-json"]
        docs = _parse_json_docs(self.run([*opts, "-batch", "-"], netns=netns, stdin=stdin))
        if len(docs) != len(commands):
            raise VimError(f"unexpected output of 'ip -json -batch' ({len(docs)} documents)")
        return docs

    # -- namespaces and processes --------------------------------------------
    def netns_list(self) -> list[str]:
        try:
            return sorted(os.listdir(NETNS_DIR))
        except FileNotFoundError:
            return []

    def netns_inode(self, name: str) -> int | None:
        try:
            return os.stat(os.path.join(NETNS_DIR, name)).st_ino
        except OSError:
            return None

    def netns_pids(self, names: Sequence[str]) -> dict[str, list[int]]:
        """Like ``ip netns pids`` for several namespaces in one pass over /proc."""
        by_inode = {ino: n for n in names if (ino := self.netns_inode(n)) is not None}
        found: dict[str, list[int]] = {n: [] for n in names}
        if not by_inode:
            return found
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                ino = os.stat(f"/proc/{entry}/ns/net").st_ino
            except OSError:
                continue
            if ino in by_inode:
                found[by_inode[ino]].append(int(entry))
        return found

    def unnamed_netns_pids(self) -> dict[int, int]:
        """Network namespaces that processes hold but /run/netns does not name.

        inode -> one of its processes. The host's own namespace is left out. A
        namespace whose name was deleted (``ip netns del``) while a process still ran
        in it is one of these: it lives on, with its interfaces and their peers.
        """
        named = {ino for n in self.netns_list() if (ino := self.netns_inode(n)) is not None}
        named.add(os.stat("/proc/self/ns/net").st_ino)
        found: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                ino = os.stat(f"/proc/{entry}/ns/net").st_ino
            except OSError:
                continue
            if ino not in named:
                found.setdefault(ino, int(entry))
        return found

    def lo_alias_of(self, pid: int) -> str | None:
        """The alias of ``lo`` in the network namespace of process ``pid`` (None: none, gone)."""
        nsenter = shutil.which("nsenter")
        if nsenter is None:
            return None
        try:
            proc = subprocess.run(
                [
                    nsenter,
                    f"--net=/proc/{pid}/ns/net",
                    self.ip,
                    "-json",
                    "link",
                    "show",
                    "dev",
                    "lo",
                ],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        if proc.returncode != 0:
            return None  # exited meanwhile
        try:
            links = json.loads(proc.stdout or "[]")
        except ValueError:
            return None
        alias = links[0].get("ifalias") if links and isinstance(links[0], dict) else None
        return alias if isinstance(alias, str) else None

    def netns_attach(self, name: str, pid: int) -> None:
        """Name the network namespace of process ``pid`` (``ip netns attach``)."""
        self.run(["netns", "attach", name, str(pid)])

    def kill_pids(self, pids: Sequence[int], grace: float) -> None:
        """SIGTERM, wait up to ``grace`` seconds, SIGKILL what is left, wait for exit."""
        live = set(pids)
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            for pid in list(live):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    live.discard(pid)
            deadline = time.monotonic() + wait
            while live and time.monotonic() < deadline:
                live = {p for p in live if _alive(p)}
                if live:
                    time.sleep(0.02)
            if not live:
                return
        raise VimError(f"processes {sorted(live)} did not exit after SIGKILL")

    # -- files ---------------------------------------------------------------
    @contextmanager
    def lock(self, path: str) -> Iterator[None]:
        """An exclusive fcntl lock serialising external network changes across processes."""
        os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
        with open(path, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(e.name for e in os.scandir(path) if e.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return []

    def make_dir(self, path: str) -> None:
        os.makedirs(path, mode=0o750, exist_ok=True)

    def remove_tree(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)
        if os.path.lexists(path):
            raise VimError(f"cannot remove {path}")


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False
