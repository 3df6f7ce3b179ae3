"""Tacker's CNF packages (tests/corpus): read, planned and rendered without error.

Each manifest file is read as if the instantiate request selected it
(``lcm-kubernetes-def-files``): it is accepted, or refused only because it holds a kind a
CNF package may not ship here (cluster-scoped or control objects: Namespace,
PersistentVolume, RBAC, Jobs...). The accepted files are rendered with the real planner's
plan of each flavour and the objects validated against the Kubernetes JSON schemas. The
Helm packages give their values from the plan.
"""

from __future__ import annotations

import uuid
from typing import Any

import kubernetes_validate
import pytest

from tests.corpus import corpus
from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf import helm  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (  # noqa: E402
    WORKLOAD_KINDS,
    load_manifests,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (  # noqa: E402
    LABEL_VDU,
    render,
    vdu_names,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import (  # noqa: E402
    PlanRequest,
    plan,
)

K8S = kubernetes_validate.latest_version()


def _cnf_entries() -> list[Any]:
    entries = corpus.shared_entries()
    try:
        entries += corpus.tacker_entries()
    except corpus.CorpusUnavailable as exc:  # a network edge: the shared helm package still runs
        print(f"SKIP tacker CNF samples: {exc}")
    return [e for e in entries if (e.path / "Files" / "kubernetes").is_dir()]


def _render_package(entry: corpus.Entry) -> tuple[int, int]:
    """(VDUs rendered, charts valued) of one container package; asserts on the way."""
    reading = corpus.read(entry)
    if reading.kind != "container":
        return 0, 0
    model = reading.model
    base = entry.path / "Files" / "kubernetes"
    accepted = []
    for f in sorted(p.name for p in base.iterdir() if p.suffix in (".yaml", ".yml")):
        name = f"Files/kubernetes/{f}"
        try:
            load_manifests(str(entry.path), [name])
        except PackageError as exc:
            others = [
                str(p) for p in exc.problems if "is not accepted in a CNF package" not in p.message
            ]
            assert not others, f"{entry.name}: {others}"
            continue
        accepted.append(name)
    manifests = load_manifests(str(entry.path), accepted) if accepted else []
    workloads = {m["metadata"]["name"] for m in manifests if m["kind"] in WORKLOAD_KINDS}
    vdus = charts = 0
    for flavour in model.flavours:
        names = {k: v for k, v in vdu_names(model, flavour.id).items() if v in workloads}
        p = plan(model, PlanRequest(vnf_instance_id=str(uuid.uuid4()), flavour_id=flavour.id))
        p["vnfcs"] = [v for v in p["vnfcs"] if v["vduId"] in names]
        objects = render(p, manifests, namespace="default", vdu_names=names)
        for obj in objects:
            kubernetes_validate.validate(obj, K8S, strict=True)
        rendered = {o["metadata"]["labels"].get(LABEL_VDU) for o in objects} - {None}
        assert rendered == set(names), entry.name
        vdus += len(rendered)
        for chart in sorted(base.glob("*.tgz")):
            params = {
                "helm_chart_path": f"Files/kubernetes/{chart.name}",
                "helm_value_names": {
                    v.id: {"replica": f"replicaCount{v.id}"} for v in flavour.vdus
                },
            }
            release = helm.helm_release(str(entry.path), params)
            assert release is not None
            full = plan(
                model, PlanRequest(vnf_instance_id=str(uuid.uuid4()), flavour_id=flavour.id)
            )
            values = helm.helm_values(full, release)
            assert sum(values.values()) == len(full["vnfcs"]), entry.name
            charts += 1
    return vdus, charts


def test_tacker_cnf_samples_render() -> None:
    entries = _cnf_entries()
    if not entries:
        pytest.skip("no CNF package in the corpus")
    totals = [_render_package(e) for e in entries]
    vdus = sum(t[0] for t in totals)
    charts = sum(t[1] for t in totals)
    print(
        f"CNF corpus: {len(entries)} packages with Files/kubernetes, {vdus} VDUs rendered, {charts} charts"
    )
    assert charts >= 1  # the shared helmchart package at least
    if len(entries) > 1:
        assert vdus >= 20
