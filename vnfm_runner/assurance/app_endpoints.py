"""Which VNFC exposes application metrics where: the exporter's ``endpoints.json``.

The exporter reads no store; the server tells it, from each watched instance's
package and flavour (``vnfm.policies.MetricEndpoint``, vnfd/metric_endpoints.py),
which VDU serves metrics on which port and path: ``{instance: {vduId: {"port": P,
"path": "/metrics", "cp": CPD id or null}}}``, rewritten (atomically) when the instances change.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vnfm_runner.assurance.stack import write_atomic
from vnfm_runner.domain.records import VnfPackageRecord
from vnfm_runner.package_models import package_model
from vnfm_runner.store import mapping
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import InstanceRow, PackageRow

log = logging.getLogger("vnfm.assurance")


class EndpointBook:
    """The declared endpoints of instances, the packages' models read once each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._flavours: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    def _declared(self, pkg: VnfPackageRecord, flavour_id: str) -> dict[str, dict[str, Any]]:
        key = (pkg.id, flavour_id)
        if key not in self._flavours:
            model = package_model(pkg.path)
            flavour = model.flavour(flavour_id)
            self._flavours[key] = {
                e.vdu_id: {"port": e.port, "path": e.path, "cp": e.cp}
                for e in (flavour.metric_endpoints if flavour else [])
            }
        return self._flavours[key]

    def endpoints(self, instance_ids: Iterable[str]) -> dict[str, dict[str, dict[str, Any]]]:
        ids = set(instance_ids)
        if not ids:
            return {}
        with self.store.reading() as s:
            rows = [
                mapping.instance_record(r)
                for r in s.scalars(select(InstanceRow).where(InstanceRow.id.in_(ids)))
            ]
            packages = {p.id: mapping.package_record(p) for p in s.scalars(select(PackageRow))}
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for row in rows:
            pkg = packages.get(row.package_id)
            flavour_id = str((row.desired_state or {}).get("flavourId") or "")
            if pkg is None or not flavour_id:
                continue
            try:
                declared = self._declared(pkg, flavour_id)
            except Exception as exc:  # a package that no longer loads: no app metrics
                log.warning("metric endpoints of instance %s not read: %s", row.id, exc)
                continue
            if declared:
                out[row.id] = declared
        return out


def write_endpoints(path: Path, endpoints: dict[str, dict[str, dict[str, Any]]]) -> bool:
    """Write the file when it changes; whether it did."""
    text = json.dumps(endpoints, indent=1, sort_keys=True) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except OSError:
        pass
    write_atomic(path, text)
    return True
