# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The ``openstack`` VIM: VNFCs are Nova servers, virtual links Neutron networks.

* internal VL -> network ``<prefix>-<vlId>`` + subnet ``…-subnet`` (plan's CIDR,
  gateway or none, DHCP);
* CP -> port ``<prefix>-<vnfcId>-<cpdId>`` with the plan's fixed IPs and MAC; an
  external CP bound by the request -> port on the network the request's
  ``extVirtualLinks[].resourceId`` names (fixed IPs when given), plus a floating
  IP when that ext VL entry says ``floatingIp: true`` (from the VIM connection's
  ``floatingIpNetwork``, else the first ``router:external`` network) or
  ``floatingIp: <network name or id>``; the plan's MAC goes on an external port
  only with ``externalMacAddresses: true`` (Neutron's policy lets only the
  network's owner or an admin choose MACs, and fixed IPs, on a shared network);
* security group rules -> one group ``<prefix>-sg-<cpdId>`` per cpd, on its ports;
* placement rules of scope ``nfvi-node`` -> Nova server groups (``affinity`` /
  ``anti-affinity``, ``soft-*`` when ``softPlacementPolicies: true``); zone scopes
  -> availability zones from ``availabilityZones`` (round-robin for anti-affinity);
* VNFC -> server ``<prefix>-<vnfcId>``: flavor = the plan's ``flavourHint`` if
  the cloud has it, else ``flavourMap[vduId or hint]``, else the smallest flavor
  with enough vCPU/RAM/disk; image = ``image.vimImageId``, else
  ``imageMap[vduId or image name]``, else by name, else uploaded from the
  package (``package_dir`` + ``image.file``); ``bootData`` -> user data / config drive;
* volume -> Cinder volume attached to its VNFC (skipped, with a warning, when
  the cloud has no block storage or ``volumes: false``);
* power state (plan's ``powerState``, set by operate): "off" -> server stopped
  (SHUTOFF), "on" -> started (ACTIVE; a suspended or paused one is resumed or
  unpaused); a new server of a stopped VNFC is stopped once created. Nova has a
  single, clean stop: the plan's ``inputs.stopType``/``gracefulStopTimeout`` say
  how long a GRACEFUL stop waits before warning (see ``_openstack/apply.py``). The
  server's power shows as ``metadata.powerState`` of its ``vnfcResourceInfo``.

Discovery by tag/metadata/name prefix (see ``_openstack/naming.py``) is the
only record. VIM connection keys: ``cloud`` or SOL003 ``interfaceInfo`` /
``accessInfo`` (secrets in ``credentials``), ``vimId``, ``flavourMap``,
``imageMap``, ``availabilityZone(s)``, ``floatingIpNetwork``, ``externalMacAddresses``,
``softPlacementPolicies``, ``volumes``, ``workers``, ``apiTimeout`` (seconds per API call).
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.apply import (
    Settings,
    apply_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.connect import (
    call,
    connect,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import (
    Changes,
    compute_changes,
    removal_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.discover import (
    catalog,
    discover,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.marks import marked
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import (
    Desired,
    Observed,
    desired_state,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.resources import (
    build_resources,
    predicted_summary,
    summary,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import (
    ReconcilingDriver,
    VimError,
)

__all__ = ["OpenStackDriver"]


class OpenStackDriver(ReconcilingDriver[Desired, Observed, Changes]):
    """:class:`~ansible_collections.nfv.vnfm.plugins.module_utils.vim.VimDriver` of ``vimType: openstack``."""

    label = "the OpenStack VIM"
    poll_interval = 1.0

    def __init__(
        self,
        vim: dict[str, Any],
        credentials: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float = 300,
        package_dir: str | None = None,
        connection: Any = None,
    ) -> None:
        self.vim = dict(vim)
        self.timeout = float(timeout or 300)
        self.wait = wait
        # the unpacked VNF package: images to upload, boot data files
        self.package_dir = package_dir or self.vim.get("packageDir") or None
        self.settings = Settings(
            workers=max(1, int(self.vim.get("workers", 8))),
            timeout=self.timeout,
            wait=wait,
        )
        self.conn_id = str(
            self.vim.get("vimId") or self.vim.get("id") or self.vim.get("cloud") or "openstack"
        )
        self._credentials = credentials  # never returned nor logged
        self._conn = connection
        self._has_volumes: bool | None = None

    # -- VimDriver -----------------------------------------------------------------------------
    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the cloud holds for the instance now, in SOL003 shapes (changes nothing).

        The VNFCs, links and volumes are those of ``plan`` (the resource info lists
        what a plan names); without a plan, none.
        """
        inst = naming.check_instance_id(vnf_instance_id)
        if isinstance(plan, dict) and plan.get("vnfInstanceId") not in (None, inst):
            raise VimError("plan.vnfInstanceId is not the instance's id")
        desired = self._desired(plan) if isinstance(plan, dict) and plan else None
        return build_resources(self.conn_id, desired, self._discover(inst))

    def marked_instances(self, known_instance_ids: Collection[str] = ()) -> list[dict[str, str]]:
        """Every resource of the cloud (as far as the connection's project sees) carrying
        an instance's marks, whatever the instance: ``kind``, ``resourceId``,
        ``vnfInstanceId`` (for orphans; ``_openstack/marks.py``). Changes nothing."""
        found = marked(
            self.connection(),
            known_instance_ids,
            has_volumes=self.has_volumes(),
            workers=self.settings.workers,
        )
        return [{"kind": k, "resourceId": r, "vnfInstanceId": i} for k, r, i in found]

    # -- the reconcile steps (base.ReconcilingDriver) ------------------------------------------
    def instance_id(self, value: object) -> str:
        return naming.check_instance_id(value)

    def diff(
        self, inst: str, plan: dict[str, Any], heal: list[str], token: str | None, check_mode: bool
    ) -> tuple[Desired, Observed, Changes]:
        # the catalogue (flavors, images, external networks) and the instance's resources
        # are independent listings: read both at once
        self.has_volumes()
        with ThreadPoolExecutor(max_workers=1) as pool:
            wanted = pool.submit(self._desired, plan)
            obs = self._discover(inst)
            desired = wanted.result()
        return desired, obs, compute_changes(desired, obs, heal, token)

    def removal(self, inst: str, check_mode: bool) -> tuple[Observed, Changes]:
        obs = self._discover(inst)
        return obs, removal_changes(inst, obs)

    def apply(self, desired: Desired | None, obs: Observed, changes: Changes) -> Any:
        apply_changes(self.connection(), changes, desired, obs, self.settings)
        return None

    def observe(self, inst: str, hint: Any) -> Observed:
        return self._discover(inst)

    def remaining(self, inst: str, desired: Desired | None, final: Observed) -> list[str]:
        if desired is None:
            return removal_changes(inst, final).actions
        return compute_changes(desired, final).actions

    def summary(self, obs: Observed) -> dict[str, Any]:
        return summary(obs)

    def created(self, changes: Changes) -> list[str]:
        return sorted(s.vnfc_id for s in changes.create_servers)

    def outcome(
        self, inst: str, desired: Desired | None, final: Observed
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return build_resources(self.conn_id, desired, final), summary(final)

    def prediction(
        self, inst: str, desired: Desired | None, obs: Observed, changes: Changes
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        after = predicted_summary(desired) if changes.changed else summary(obs)
        return build_resources(self.conn_id, desired, obs), after

    def warnings(self, changes: Changes) -> list[str] | None:
        return list(dict.fromkeys(changes.warnings))

    # -- internals -----------------------------------------------------------------------------
    def connection(self) -> Any:
        if self._conn is None:
            self._conn = connect(self.vim, self._credentials, min(self.timeout, 120.0))
        return self._conn

    def has_volumes(self) -> bool:
        if self._has_volumes is None:
            if self.vim.get("volumes") is False:
                self._has_volumes = False
            else:
                conn = self.connection()
                self._has_volumes = bool(
                    call("read the service catalogue", conn.has_service, "block-storage")
                )
        return self._has_volumes

    def _discover(self, inst: str) -> Observed:
        return discover(self.connection(), inst, self.has_volumes(), self.settings.workers)

    def _desired(self, plan: dict[str, Any]) -> Desired:
        conn, has_volumes = self.connection(), self.has_volumes()
        cat = catalog(conn, plan, self.vim, has_volumes, self.settings.workers)
        return desired_state(plan, self.vim, cat, self.package_dir)
