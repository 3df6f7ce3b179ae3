# Copyright (c) vnfm-toolkit developers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Connection plugin that runs tasks inside a Linux network namespace."""

# Ansible plugins keep DOCUMENTATION before the imports.

from __future__ import annotations

DOCUMENTATION = r"""
name: netns
author: vnfm-toolkit developers (!UNKNOWN)
short_description: Run tasks inside a Linux network namespace on the controller
description:
  - Executes commands and modules inside a named Linux network namespace of the
    Ansible controller host, using C(ip netns exec <netns> /bin/sh -c <command>).
  - This is how the local VIM of the VNF Manager reaches its VNFCs; every VNFC
    is a network namespace named C(vnfm-<vnfInstanceId>-<vnfcId>).
  - Only the network is separate; the namespace shares the filesystem, the
    process table and the users of the controller. File transfers
    (C(put_file)/C(fetch_file)) are therefore plain local file copies.
  - The namespace must exist (C(/run/netns/<name>)) before the first task;
    otherwise the connection fails with "network namespace <name> does not exist".
version_added: 0.1.0
options:
  netns:
    description:
      - Name of the network namespace (as listed by C(ip netns list)).
    type: str
    required: true
    vars:
      - name: vnfm_netns
      - name: ansible_netns_name
  ip_executable:
    description:
      - Path of the C(ip) command from iproute2.
      - When not set, C(ip) is looked up in C(PATH), then C(/usr/sbin) and C(/sbin).
    type: str
    vars:
      - name: ansible_netns_ip_executable
  sudo_executable:
    description:
      - Command used to enter the namespace when the controller does not run as root.
      - Entering a network namespace needs C(CAP_SYS_ADMIN), so a non-root
        controller runs C(sudo -n ip netns exec ...) and then drops back to its
        own user with C(setpriv) before running the task, so that Ansible's
        normal C(become) handling applies inside the namespace.
    type: str
    default: sudo
    vars:
      - name: ansible_netns_sudo_executable
extends_documentation_fragment:
  - ansible.builtin.connection_pipelining
notes:
  - Requires Linux and iproute2 on the controller.
  - When the controller runs as root, the remote user is root and C(become) to
    root is a no-op (Ansible skips it because the users are the same).
    C(become) to another user is delegated to the selected become plugin
    (for example C(su)), which runs inside the namespace.
  - When the controller does not run as root, passwordless C(sudo) for the
    C(ip) command is required; become passwords are not supported by this
    plugin (use passwordless C(sudo) or C(su) as root).
  - Remote user settings are ignored; tasks run as the user running Ansible.
  - When the VNFC has a cgroup (the local VIM makes one per VNFC, named like its
    namespace) and the controller runs as root, every command joins it before it
    runs, so what a task starts is counted in the VNFC's CPU and memory.
  - Processes started by a task (for example a daemon detached with
    C(setsid)) keep running inside the namespace after the task ends; they must
    not keep the task's standard output open.
"""

EXAMPLES = r"""
# YAML inventory: one VNFC realised as a network namespace by the local VIM
all:
  hosts:
    vnf-6f1c2a9b-web-0:
      ansible_connection: nfv.vnfm.netns
      vnfm_netns: vnfm-6f1c2a9b-web-0
"""

import getpass
import os
import re
import shlex
import shutil
import subprocess
import typing as t

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.vnfc_exec import vnfc_env

display = Display()

NETNS_RUN_DIR = "/run/netns"
# iproute2 refuses names containing '/' and the special names '.' and '..'.
_VALID_NETNS = re.compile(r"^[^/\x00\s]{1,255}$")


_SH_C = "/bin/sh -c "


def _command_argv(cmd: str) -> list[str]:
    """``cmd`` as an argv for exec. Ansible sends ``/bin/sh -c <quoted command>``: that
    shell is exec'd directly instead of inside one more shell; anything else runs with
    ``/bin/sh -c``."""
    if cmd.startswith(_SH_C):
        rest = cmd[len(_SH_C) :]
        try:
            parts = shlex.split(rest)
        except ValueError:
            parts = []
        if len(parts) == 1 and shlex.quote(parts[0]) == rest:
            return ["/bin/sh", "-c", parts[0]]
    return ["/bin/sh", "-c", cmd]


class Connection(ConnectionBase):  # type: ignore[misc]  # ansible ships no type hints
    """Local connection whose commands run inside a network namespace."""

    transport = "nfv.vnfm.netns"
    has_pipelining = True
    has_tty = False
    _connected: bool

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            self.default_user = getpass.getuser()
        except KeyError:
            self.default_user = ""
        self._ip: str | None = None

    # -- helpers ---------------------------------------------------------

    def _netns_name(self) -> str:
        name = self.get_option("netns")
        if not name:
            raise AnsibleConnectionFailure(
                "nfv.vnfm.netns: option 'netns' (vnfm_netns) is required"
            )
        name = str(to_text(name))
        if name in (".", "..") or not _VALID_NETNS.match(name):
            raise AnsibleConnectionFailure(f"invalid network namespace name {name!r}")
        return name

    def _ip_executable(self) -> str:
        if self._ip:
            return self._ip
        configured = self.get_option("ip_executable")
        candidate = (
            configured
            or shutil.which("ip")
            or shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin")
        )
        if not candidate or not os.access(candidate, os.X_OK):
            raise AnsibleConnectionFailure(
                "nfv.vnfm.netns: the 'ip' command (iproute2) was not found"
            )
        self._ip = candidate
        return candidate

    def _check_netns(self, name: str) -> None:
        if not os.path.exists(os.path.join(NETNS_RUN_DIR, name)):
            raise AnsibleConnectionFailure(f"network namespace {name} does not exist")

    def _build_argv(self, cmd: str) -> list[str]:
        """Return the argv that runs ``cmd`` inside the namespace.

        As root the process joins the VNFC's cgroup before it execs (:meth:`_join`) and gets
        a clean environment from :func:`vnfc_exec.vnfc_env`; ``ip netns exec`` then runs the command
        itself (no shell of ours around it).
        """
        name = self._netns_name()
        argv = [self._ip_executable(), "netns", "exec", name]
        euid = os.geteuid()
        if euid == 0:
            return [*argv, *_command_argv(cmd)]
        # enter as root via sudo, then drop back to the invoking user; sudo keeps its own
        # environment policy, so the clean environment is set inside with env -i
        sudo = self.get_option("sudo_executable") or "sudo"
        argv = [sudo, "-n", *argv]
        argv += ["setpriv", f"--reuid={euid}", f"--regid={os.getegid()}", "--init-groups"]
        env = ["env", "-i", *(f"{k}={v}" for k, v in vnfc_env().items())]
        return [*argv, *env, *_command_argv(cmd)]

    def _join(self) -> t.Callable[[], None] | None:
        """What the child runs before it execs: join the VNFC's cgroup (root only), so that
        what the task starts is counted there; before 'ip netns exec', which mounts a sysfs
        (and cgroup2) of its own. A file that cannot be written (no cgroup: a VNFC made
        before cgroups) is skipped."""
        tree = cgroup.detect() if os.geteuid() == 0 else None
        if tree is None:
            return None
        files = tree.procs_files(self._netns_name())

        def join() -> None:
            pid = str(os.getpid()).encode()
            for path in files:
                try:
                    fd = os.open(path, os.O_WRONLY)
                    try:
                        os.write(fd, pid)
                    finally:
                        os.close(fd)
                except OSError:
                    pass

        return join

    # -- ConnectionBase API ---------------------------------------------

    def _connect(self) -> Connection:
        # Commands run as the user running Ansible, whatever remote_user says;
        # this makes become to the same user (root) a no-op.
        self._play_context.remote_user = self.default_user
        if not self._connected:
            name = self._netns_name()
            self._check_netns(name)
            display.vvv(
                f"ESTABLISH NETNS CONNECTION TO {name} FOR USER: {self.default_user}",
                host=self._play_context.remote_addr,
            )
            self._connected = True
        return self

    def exec_command(
        self, cmd: str, in_data: bytes | None = None, sudoable: bool = True
    ) -> tuple[int, bytes, bytes]:
        super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        name = self._netns_name()
        self._check_netns(name)

        use_become = bool(sudoable and self.become and getattr(self.become, "_id", None))
        if use_become and self.become is not None and self.become.expect_prompt():
            raise AnsibleConnectionFailure(
                "nfv.vnfm.netns does not support become passwords; use passwordless become inside the namespace"
            )

        argv = self._build_argv(to_text(cmd, errors="surrogate_or_strict"))
        display.vvv(f"EXEC {argv!r}", host=self._play_context.remote_addr)
        try:
            proc = subprocess.Popen(  # argv list: no shell on our side
                argv,
                stdin=subprocess.PIPE if in_data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # A clean environment, like a login on a real host: nothing of the
                # controller (its VNFM_*, ANSIBLE_* and credentials) leaks into the
                # VNFC's processes, and a daemon started here is not mistaken for a
                # process of the operation that started it.
                env=vnfc_env(),
                preexec_fn=self._join(),  # Ansible's workers run no threads
            )
        except OSError as exc:
            raise AnsibleConnectionFailure(f"failed to run {argv[0]}: {to_native(exc)}") from exc
        stdout, stderr = proc.communicate(in_data)

        if use_become and self.become is not None and self.become.check_success(stdout):
            stdout = self.become.strip_become_success(stdout)
        return proc.returncode, stdout, stderr

    def put_file(self, in_path: str, out_path: str) -> None:
        super().put_file(in_path, out_path)
        self._check_netns(self._netns_name())
        display.vvv(f"PUT {in_path} TO {out_path}", host=self._play_context.remote_addr)
        self._copy(in_path, out_path)

    def fetch_file(self, in_path: str, out_path: str) -> None:
        super().fetch_file(in_path, out_path)
        self._check_netns(self._netns_name())
        display.vvv(f"FETCH {in_path} TO {out_path}", host=self._play_context.remote_addr)
        self._copy(in_path, out_path)

    @staticmethod
    def _copy(in_path: str, out_path: str) -> None:
        b_in = to_bytes(in_path, errors="surrogate_or_strict")
        b_out = to_bytes(out_path, errors="surrogate_or_strict")
        if not os.path.exists(b_in):
            raise AnsibleFileNotFound(f"file or module does not exist: {to_native(in_path)}")
        try:
            shutil.copyfile(b_in, b_out)
        except shutil.SameFileError as exc:
            raise AnsibleError(f"failed to copy: {in_path} and {out_path} are the same") from exc
        except OSError as exc:
            raise AnsibleError(
                f"failed to transfer file to {out_path!r}: {to_native(exc)}"
            ) from exc

    def reset(self) -> None:
        self.close()

    def close(self) -> None:
        self._connected = False
