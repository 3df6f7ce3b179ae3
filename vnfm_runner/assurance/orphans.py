"""The resources a VIM holds under our marks, by instance id (for :func:`drift.find_orphans`).

The drivers discover one instance at a time, by its id (the local VIM: netns
``vnfm-<id>-*``, host ports aliased ``vnfm:port:<id>:...``, directories
``<stateDir>/<id>`` and ``<runDir>/<id>``). Orphans are the other way round:
every mark, whatever the instance, so this lists them all and reads the
instance id from each mark - using the driver's own naming and kernel access.

Other VIMs list their marks themselves: a driver with a ``marked_instances(known)``
method (the OpenStack one: tags, metadata, server group names) answers for its
VIM, :func:`vim_marked_resources` asks each VIM it is given and knows no VIM type.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from vnfm_runner import paths
from vnfm_runner.assurance.drift import MarkedResource

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, get_driver  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.iproute import (  # noqa: E402
    Kernel,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.meta import (  # noqa: E402
    DRIVER as LOCAL_DRIVER,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import (  # noqa: E402
    DEFAULT_RUN_DIR,
    DEFAULT_STATE_DIR,
)

# The built-in VIM these marks are read from, as its driver declares it (and, below,
# LOCAL_TARGET: how to reach it).
LOCAL = str(LOCAL_DRIVER.builtin_name)
log = logging.getLogger("vnfm.assurance")


def _lo_owner(kernel: Kernel, netns: str) -> str | None:
    """The instance id in the ``lo`` record of a VNFC namespace (None: no record)."""
    try:
        links = json.loads(kernel.run(["-json", "link", "show", "dev", "lo"], netns=netns) or "[]")
    except (VimError, ValueError):
        return None  # vanished meanwhile, or unreadable: not ours to report
    for link in links:
        rec = naming.parse_vnfc_alias(link.get("ifalias"))
        if rec is not None:
            return rec[0]
    return None


def local_marked_resources(
    *,
    known_instance_ids: Collection[str] = (),
    state_dir: str = DEFAULT_STATE_DIR,
    run_dir: str = DEFAULT_RUN_DIR,
    kernel: Kernel | None = None,
) -> list[MarkedResource]:
    """Every resource of the local VIM that carries an instance's mark.

    A VNFC namespace named after a known instance is attributed by its name alone;
    any other one is attributed by the record on its ``lo`` (one ``ip`` call each),
    so a pass over healthy instances costs one listing, not one query per VNFC.
    """
    kernel = kernel or Kernel(timeout=30)
    kernel.check_access()
    prefixes = {naming.instance_prefix(i): i for i in known_instance_ids}
    found: list[MarkedResource] = []
    for name in kernel.netns_list():
        if not name.startswith(f"{naming.NS_PREFIX}-"):
            continue
        if name.endswith("-vim"):  # vnfm-<id>-vim: the id is the name's middle
            found.append(MarkedResource(LOCAL, "netns", name, name[len("vnfm-") : -len("-vim")]))
            continue
        owner = next((i for p, i in prefixes.items() if name.startswith(p)), None)
        owner = owner or _lo_owner(kernel, name)
        if owner is not None:
            found.append(MarkedResource(LOCAL, "netns", name, owner))
    links = json.loads(kernel.run(["-json", "link", "show"]) or "[]")
    for link in links:
        rec = naming.parse_alias(link.get("ifalias"), "port", 3)
        if rec is not None:
            found.append(MarkedResource(LOCAL, "host-link", str(link.get("ifname")), rec[0]))
    for base in (state_dir, run_dir):
        try:
            entries = sorted(os.listdir(base))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(base, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                try:
                    naming.check_id("vnfInstanceId", entry)
                except VimError:
                    continue
                found.append(MarkedResource(LOCAL, "directory", path, entry))
    return found


VimTargetSpec = tuple[str, Mapping[str, Any], Mapping[str, Any] | None]  # name, connection, secrets
LOCAL_TARGET: VimTargetSpec = (LOCAL, {"vimType": LOCAL_DRIVER.vim_type}, None)


def vim_marked_resources(
    targets: Iterable[VimTargetSpec],
    *,
    known_instance_ids: Collection[str] = (),
    timeout: float = 60.0,
) -> list[MarkedResource]:
    """Every resource carrying an instance's marks on each VIM of ``targets`` whose driver
    lists its marks (``marked_instances``); a VIM that cannot be read is logged and
    skipped (its orphans are told at the next listing), never the others'."""
    found: list[MarkedResource] = []
    seen: set[str] = set()
    for name, connection, credentials in targets:
        if name in seen:
            continue
        seen.add(name)
        try:
            driver = get_driver(
                dict(connection), dict(credentials) if credentials else None, timeout=timeout
            )
            lister = getattr(driver, "marked_instances", None)
            if lister is None:
                continue
            marks = lister(list(known_instance_ids))
        except Exception as exc:
            log.warning("marks on VIM %s not listed: %s", name, exc)
            continue
        found.extend(
            MarkedResource(name, str(m["kind"]), str(m["resourceId"]), str(m["vnfInstanceId"]))
            for m in marks
        )
    return found
