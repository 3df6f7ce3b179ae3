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
``softPlacementPolicies``, ``volumes``, ``workers``.
"""

from __future__ import annotations

import time
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (
    ReconcileResult,
    VimError,
    vnfc_marks,
)
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

__all__ = ["OpenStackDriver"]


class OpenStackDriver:
    """:class:`~ansible_collections.nfv.vnfm.plugins.module_utils.vim.VimDriver` of ``vimType: openstack``."""

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
    def reconcile(
        self,
        plan: dict[str, Any],
        *,
        heal: list[str],
        check_mode: bool,
        heal_token: str | None = None,
    ) -> ReconcileResult:
        if not isinstance(plan, dict):
            raise VimError("plan must be a mapping")
        inst = naming.check_instance_id(plan.get("vnfInstanceId"))
        desired = self._desired(plan)
        obs = discover(self.connection(), inst, self.has_volumes(), self.settings.workers)
        token = vnfc_marks.token_digest(heal_token)
        changes = compute_changes(desired, obs, list(heal or []), token)
        return self._run(inst, desired, obs, changes, check_mode)

    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the cloud holds for the instance now, in SOL003 shapes (changes nothing).

        The VNFCs, links and volumes are those of ``plan`` (the resource info lists
        what a plan names); without a plan, none.
        """
        inst = naming.check_instance_id(vnf_instance_id)
        if isinstance(plan, dict) and plan.get("vnfInstanceId") not in (None, inst):
            raise VimError("plan.vnfInstanceId is not the instance's id")
        desired = self._desired(plan) if isinstance(plan, dict) and plan else None
        obs = discover(self.connection(), inst, self.has_volumes(), self.settings.workers)
        return build_resources(self.conn_id, desired, obs)

    def remove(self, vnf_instance_id: str, *, check_mode: bool) -> ReconcileResult:
        inst = naming.check_instance_id(vnf_instance_id)
        conn = self.connection()
        obs = discover(conn, inst, self.has_volumes(), self.settings.workers)
        return self._run(inst, None, obs, removal_changes(inst, obs), check_mode)

    # -- internals -----------------------------------------------------------------------------
    def connection(self) -> Any:
        if self._conn is None:
            self._conn = connect(self.vim, self._credentials, min(self.timeout, 120.0))
        return self._conn

    def _desired(self, plan: dict[str, Any]) -> Desired:
        conn, has_volumes = self.connection(), self.has_volumes()
        cat = catalog(conn, plan, self.vim, has_volumes, self.settings.workers)
        return desired_state(plan, self.vim, cat, self.package_dir)

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

    def _run(
        self,
        inst: str,
        desired: Desired | None,
        obs: Observed,
        changes: Changes,
        check_mode: bool,
    ) -> ReconcileResult:
        before = summary(obs)
        final = obs
        if changes.changed and not check_mode:
            apply_changes(self.connection(), changes, desired, obs, self.settings)
            final = self._converge(inst, desired)
        after = predicted_summary(desired) if check_mode and changes.changed else summary(final)
        warnings = list(dict.fromkeys(changes.warnings))
        return ReconcileResult(
            changed=changes.changed,
            actions=list(changes.actions) + [f"warning: {w}" for w in warnings],
            resources=build_resources(self.conn_id, desired, final),
            diff={"before": before, "after": after, "warnings": warnings},
        )

    def _converge(self, inst: str, desired: Desired | None) -> Observed:
        """Rediscover (the cloud is the truth) until it matches the plan, or time out."""
        deadline = time.monotonic() + self.timeout
        while True:
            final = discover(self.connection(), inst, self.has_volumes(), self.settings.workers)
            if desired is None:
                remaining = removal_changes(inst, final).actions
            else:
                remaining = compute_changes(desired, final).actions
            if not remaining or not self.settings.wait:
                return final
            if time.monotonic() >= deadline:
                raise VimError(
                    "the OpenStack VIM did not converge to the plan: " + "; ".join(remaining)
                )
            time.sleep(1.0)
