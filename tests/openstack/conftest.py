"""The project's OpenStack test bed as a pytest fixture (see docs/openstack-testbed.md).

``openstack_cloud`` runs ``scripts/openstack-testbed up`` once per session: the first run on a
machine installs (a few minutes), later runs start from empty databases (about a minute), and
a run while the test bed is up is a quick no-op. The test bed stays up after the session, so
the next one starts at once; ``scripts/openstack-testbed down`` stops it.

``VNFM_TESTBED``: unset or ``up`` as above; ``skip`` skips every test using the fixture;
``up-down`` also stops the test bed at the end of the session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTBED = REPO_ROOT / "scripts" / "openstack-testbed"
STATE_DIR = Path(os.environ.get("VNFM_TESTBED_DIR", "/var/tmp/vnfm-openstack-testbed"))
UP_TIMEOUT = 1800  # seconds; a first install on a slow mirror takes several minutes
MIN_MEM_GIB = 3.0  # the services take ~1.9 GiB RSS (~2.4 GiB with Cinder)
MIN_DISK_GIB = 3.0  # the venv is ~1 GiB; pip's cache and build space come on top


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "openstack: needs the real OpenStack test bed (scripts/openstack-testbed)"
    )


@dataclass(frozen=True)
class OpenStackCloud:
    clouds_yaml: Path
    cloud: str  # admin in project admin
    demo_cloud: str  # a member of a non-admin project

    def connect(self, cloud: str | None = None):  # type: ignore[no-untyped-def]
        import openstack.config
        import openstack.connection

        config = openstack.config.OpenStackConfig(config_files=[str(self.clouds_yaml)])
        region = config.get_one(cloud=cloud or self.cloud)
        return openstack.connection.Connection(config=region)


def _mem_available_gib() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _skip_reason() -> str | None:
    if os.environ.get("VNFM_TESTBED") == "skip":
        return "VNFM_TESTBED=skip"
    if os.geteuid() != 0:
        return "the OpenStack test bed needs root (apt, MariaDB and RabbitMQ administration)"
    if not Path("/etc/debian_version").exists() or shutil.which("apt-get") is None:
        return "the OpenStack test bed is made for Debian/Ubuntu (apt)"
    mem = _mem_available_gib()
    if mem < MIN_MEM_GIB:
        return f"the OpenStack test bed needs {MIN_MEM_GIB:.0f} GiB available memory, {mem:.1f} GiB free"
    probe = STATE_DIR if STATE_DIR.exists() else STATE_DIR.parent
    free = shutil.disk_usage(probe).free / 1024**3
    if not (STATE_DIR / "venv").exists() and free < MIN_DISK_GIB:
        return f"the OpenStack test bed needs {MIN_DISK_GIB:.0f} GiB free disk in {probe}, {free:.1f} GiB free"
    return None


def _testbed(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TESTBED), command],
        capture_output=True,
        text=True,
        timeout=UP_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="session")
def openstack_cloud() -> Iterator[OpenStackCloud]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    up = _testbed("up")
    if up.returncode != 0:
        pytest.fail(
            f"scripts/openstack-testbed up failed ({up.returncode}):\n"
            f"{up.stdout[-3000:]}\n{up.stderr[-3000:]}",
            pytrace=False,
        )
    # 'env' is the interface people use too: take the paths from it rather than guessing.
    env = dict(re.findall(r"^export (\w+)=(\S+)$", _testbed("env").stdout, re.MULTILINE))
    yield OpenStackCloud(
        clouds_yaml=Path(env["OS_CLIENT_CONFIG_FILE"]),
        cloud=env["OS_CLOUD"],
        demo_cloud=f"{env['OS_CLOUD']}-demo",
    )
    if os.environ.get("VNFM_TESTBED") == "up-down":
        _testbed("down")
