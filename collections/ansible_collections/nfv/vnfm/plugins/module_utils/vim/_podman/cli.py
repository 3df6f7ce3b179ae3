# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The podman command line, with JSON answers, under the driver's own containers.conf.

Every call gets ``CONTAINERS_CONF`` (the driver's file: ``runc`` as runtime, since crun
refuses hybrid cgroup layouts, and ``default_ulimits = []``, since podman's default
rlimits exceed what some hosts let a process raise) and a timeout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError

# What the driver writes when the VIM names no containers.conf of its own.
CONTAINERS_CONF_TEXT = """\
# written by the vnfm podman VIM driver (docs/cnf.md); given to podman as CONTAINERS_CONF
[containers]
# podman's default rlimits (nofile 1048576) can exceed the host's: keep the runtime's own
default_ulimits = []

[engine]
# crun refuses hybrid cgroup v1/v2 layouts; runc runs on both
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class Podman:
    """Runs ``podman`` (JSON output where it has one); failures are VimErrors."""

    def __init__(self, conf: str, *, executable: str | None = None, timeout: float = 120) -> None:
        self.conf = conf
        self.executable = executable or shutil.which("podman") or "podman"
        self.timeout = timeout

    def check_access(self) -> None:
        if shutil.which(self.executable) is None and not os.path.isfile(self.executable):
            raise VimError(
                "the podman VIM needs podman (and runc): install them (apt-get install podman runc)"
            )
        if os.geteuid() != 0:
            raise VimError("the podman VIM runs rootful podman: run vnfm as root (sudo)")
        ensure_conf(self.conf)

    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": self.conf}

    def run(self, *args: str, ok_codes: tuple[int, ...] = (0,), stdin: bytes | None = None) -> str:
        cmd = [self.executable, *args]
        try:
            proc = subprocess.run(  # an argument list, no shell
                cmd,
                input=stdin,
                capture_output=True,
                env=self.env(),
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise VimError(
                f"podman {args[0]} {args[1] if len(args) > 1 else ''}: timed out"
            ) from None
        except OSError as exc:
            raise VimError(f"cannot run podman: {exc}") from None
        if proc.returncode not in ok_codes:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            # the last lines say why; conmon's syslog notice is noise
            why = "; ".join(e for e in err if "failed to connect to syslog" not in e)[-600:]
            raise VimError(f"podman {' '.join(args[:2])} failed: {why or proc.returncode}")
        return proc.stdout.decode(errors="replace")

    def json(self, *args: str) -> Any:
        out = self.run(*args).strip()
        if not out:
            return []
        try:
            return json.loads(out)
        except ValueError:
            raise VimError(f"podman {' '.join(args[:2])}: unreadable JSON answer") from None


def ensure_conf(path: str) -> None:
    """Write the driver's containers.conf at ``path`` unless a file is there already."""
    if os.path.isfile(path):
        return
    os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(CONTAINERS_CONF_TEXT)
    os.replace(tmp, path)
