# Copyright (c) vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Connection plugin that runs tasks in the main container of a podman pod."""

# Ansible plugins keep DOCUMENTATION before the imports.

from __future__ import annotations

DOCUMENTATION = r"""
name: podman
author: vnfm-toolkit developers (!UNKNOWN)
short_description: Run tasks in the main container of a podman pod (the podman VIM's VNFCs)
description:
  - Executes commands in the first container of a podman pod of the controller, with
    C(podman exec -i <container> /bin/sh -c <command>); files move with C(podman cp).
  - This is how the podman VIM of the VNF Manager reaches its VNFCs; every VNFC is a pod
    named C(<namePrefix>-<vnfcId>) whose first container carries the label
    C(vnfm.etsi.org/main=true).
  - Container images of CNFs often have no Python; use C(ansible.builtin.raw) there.
version_added: 0.1.0
options:
  pod:
    description:
      - Name of the podman pod (the VNFC's C(computeResource.resourceId)).
    type: str
    required: true
    vars:
      - name: vnfm_podman_pod
  containers_conf:
    description:
      - The containers.conf given to podman as C(CONTAINERS_CONF) (the podman VIM's own).
    type: str
    default: /var/lib/vnfm/podman-vim/containers.conf
    vars:
      - name: vnfm_podman_containers_conf
  podman_executable:
    description:
      - Path of the C(podman) command; looked up in C(PATH) when not set.
    type: str
    vars:
      - name: ansible_podman_executable
notes:
  - Requires rootful podman on the controller (the podman VIM runs as root).
  - Remote user settings are ignored; commands run as the container's user.
"""

EXAMPLES = r"""
# YAML inventory: one VNFC realised as a pod by the podman VIM
all:
  hosts:
    vnf-6f1c2a9b-web-0:
      ansible_connection: nfv.vnfm.podman
      vnfm_podman_pod: vnf-6f1c2a9b-web-0
"""

import os
import re
import shutil
import subprocess
import typing as t

from ansible.errors import AnsibleConnectionFailure, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.plugins.connection import ConnectionBase

_VALID_POD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$")
MAIN_LABEL = "vnfm.etsi.org/main=true"


class Connection(ConnectionBase):  # type: ignore[misc]  # ansible ships no type hints
    """Commands run in the pod's main container through ``podman exec``."""

    transport = "nfv.vnfm.podman"
    has_pipelining = True
    has_tty = False

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._container: str | None = None

    def _podman(self) -> str:
        exe = self.get_option("podman_executable") or shutil.which("podman")
        if not exe:
            raise AnsibleConnectionFailure("nfv.vnfm.podman: the 'podman' command was not found")
        return str(exe)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        conf = self.get_option("containers_conf")
        if conf and os.path.isfile(conf):
            env["CONTAINERS_CONF"] = str(conf)
        return env

    def _run(self, argv: list[str], stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
        proc = subprocess.run(argv, input=stdin, capture_output=True, env=self._env(), check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def _connect(self) -> Connection:
        if self._connected:
            return self
        pod = str(to_text(self.get_option("pod") or ""))
        if not _VALID_POD.match(pod):
            raise AnsibleConnectionFailure(f"nfv.vnfm.podman: invalid pod name {pod!r}")
        rc, out, err = self._run(
            [
                self._podman(),
                "ps",
                "-q",
                "--no-trunc",
                "--filter",
                f"pod={pod}",
                "--filter",
                f"label={MAIN_LABEL}",
                "--filter",
                "status=running",
            ]
        )
        ids = to_text(out).split()
        if rc != 0 or not ids:
            why = to_text(err).strip() or "no running main container"
            raise AnsibleConnectionFailure(f"pod {pod}: {why}")
        self._container = ids[0]
        self._connected = True
        return self

    def exec_command(
        self, cmd: str, in_data: bytes | None = None, sudoable: bool = True
    ) -> tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        self._connect()
        argv = [self._podman(), "exec", "-i", str(self._container), "/bin/sh", "-c", cmd]
        return self._run(argv, stdin=in_data or b"")

    def put_file(self, in_path: str, out_path: str) -> None:
        super().put_file(in_path, out_path)
        self._connect()
        if not os.path.exists(to_bytes(in_path, errors="surrogate_or_strict")):
            raise AnsibleFileNotFound(f"file or module does not exist: {to_native(in_path)}")
        rc, _out, err = self._run([self._podman(), "cp", in_path, f"{self._container}:{out_path}"])
        if rc != 0:
            raise AnsibleConnectionFailure(f"podman cp to {out_path} failed: {to_native(err)}")

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        self._connect()
        rc, _out, err = self._run([self._podman(), "cp", f"{self._container}:{in_path}", out_path])
        if rc != 0:
            raise AnsibleConnectionFailure(f"podman cp from {in_path} failed: {to_native(err)}")

    def close(self) -> None:
        self._connected = False
