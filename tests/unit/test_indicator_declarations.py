"""VNF indicators a package declares: SOL001 ``tosca.policies.nfv.VnfIndicator`` and our
``vnfm.policies.VnfIndicator`` extension (how the VNFM values it).

Good declarations give the model and the summary JSON; bad ones give
``FILE:LINE: message`` errors naming the indicator and pointing at the property.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vnfd_builders import base_vnfd, line_of, write_vnfd

from vnfm_runner.core import PackageError, Problem, load_vnf, package_summary

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = ROOT / "examples" / "packages" / "webfarm"
VNFD = "Definitions/vnfd.yaml"
EXT = "vnfm.policies.VnfIndicator"

INDICATOR_TYPE = {
    "derived_from": "tosca.policies.nfv.VnfIndicator",
    "properties": {
        "name": {"type": "string", "required": False},
        "indicator_value": {"type": "list", "required": False},
        "prometheus": {"type": "string", "required": False},
        "command": {"type": "list", "required": False},
        "vdu": {"type": "string", "required": False},
        "period": {"type": "scalar-unit.time", "default": "10 s"},
        "timeout": {"type": "scalar-unit.time", "required": False},
    },
}


def with_indicators(*policies: tuple[str, dict[str, Any]], targets: Any = None) -> dict[str, Any]:
    doc = base_vnfd()
    doc["policy_types"] = {EXT: INDICATOR_TYPE}
    for name, props in policies:
        body: dict[str, Any] = {"type": EXT, "properties": props}
        if targets is not None:
            body["targets"] = targets
        doc["topology_template"]["policies"].append({name: body})
    return doc


def errors(tmp_path: Path, doc: dict[str, Any]) -> tuple[list[str], str]:
    text = write_vnfd(tmp_path / "pkg", doc)
    with pytest.raises(PackageError) as info:
        load_vnf(tmp_path / "pkg")
    found: list[Problem] = [p for p in info.value.problems if p.severity == "error"]
    return [str(p) for p in found], text


def test_prometheus_and_command_indicators_are_parsed(tmp_path: Path) -> None:
    doc = with_indicators(
        (
            "rps",
            {
                "name": "Requests per second",
                "source": "vnf",
                "prometheus": 'sum(rate(x_total{vnf_instance_id="$vnf_instance_id"}[30s]))',
                "period": "5 s",
            },
        ),
        (
            "mode",
            {
                "source": "both_vnf_and_em",
                "indicator_value": ["active", "standby"],
                "command": ["cat", "/run/mode"],
                "vdu": "VDU2",
                "period": 3,
                "timeout": "500 ms",
            },
        ),
        targets=["VNF"],
    )
    write_vnfd(tmp_path / "pkg", doc)
    model, warnings = load_vnf(tmp_path / "pkg")
    assert warnings == []
    mode, rps = model.flavours[0].indicators  # sorted by id
    assert (rps.id, rps.name, rps.source, rps.kind, rps.period_s, rps.timeout_s) == (
        "rps",
        "Requests per second",
        "vnf",
        "prometheus",
        5.0,
        2.0,
    )
    # the id goes into a PromQL string: quotes and backslashes escaped
    assert rps.expression_for('a"b\\c') == 'sum(rate(x_total{vnf_instance_id="a\\"b\\\\c"}[30s]))'
    assert (mode.source, mode.kind, mode.command, mode.vdu_id) == (
        "both",
        "command",
        ["cat", "/run/mode"],
        "VDU2",
    )
    assert (mode.indicator_value, mode.period_s, mode.timeout_s) == (["active", "standby"], 3, 0.5)
    summary = package_summary(model)["flavours"][0]["vnfIndicators"]
    assert [i["id"] for i in summary] == ["mode", "rps"]
    assert summary[1]["prometheus"].startswith("sum(rate(")


def test_webfarm_declares_requests_per_second_and_backends() -> None:
    model, _ = load_vnf(WEBFARM)
    for flavour_id in ("default",):
        flavour = model.flavour(flavour_id)
        assert flavour is not None
        by_id = {i.id: i for i in flavour.indicators}
        assert "webfarm_requests_total" in (by_id["requests_per_second"].prometheus or "")
        assert (by_id["lb_backends"].kind, by_id["lb_backends"].vdu_id) == ("command", "lb")


@pytest.mark.parametrize(
    ("props", "key", "message"),
    [
        ({"source": "nfvo", "prometheus": "up"}, "source", "source must be one of vnf, em, both"),
        ({"source": "vnf", "prometheus": "up", "command": ["true"]}, "command", "not both"),
        ({"source": "vnf", "prometheus": ""}, "prometheus", "must be a PromQL expression"),
        (
            {"source": "vnf", "prometheus": "x{a='$nope'}"},
            "prometheus",
            "unknown placeholder $nope",
        ),
        ({"source": "vnf", "command": "uptime", "vdu": "VDU1"}, "command", "non-empty list"),
        ({"source": "vnf", "command": ["uptime"]}, "properties", "needs vdu"),
        ({"source": "vnf", "command": ["uptime"], "vdu": "VDU9"}, "vdu", "'VDU9' is not a VDU"),
        ({"source": "vnf", "prometheus": "up", "period": "fast"}, "period", "not a positive time"),
        ({"source": "vnf", "prometheus": "up", "period": "200 ms"}, "period", "at least 1 s"),
        (
            {"source": "vnf", "command": ["x"], "vdu": "VDU1", "period": "2 s", "timeout": "3 s"},
            "timeout",
            "exceeds period",
        ),
        ({"source": "vnf", "prometheus": "up", "indicator_value": "on"}, "indicator_value", "list"),
        ({"source": "vnf", "prometheus": "up", "name": ""}, "name", "non-empty string"),
    ],
)
def test_bad_declarations_name_file_line_and_property(
    tmp_path: Path, props: dict[str, Any], key: str, message: str
) -> None:
    found, text = errors(tmp_path, with_indicators(("ind1", props)))
    start = line_of(text, "ind1:")
    where = line_of(text, f"{key}:", start)
    assert [e for e in found if f"{VNFD}:{where}: indicator 'ind1': " in e and message in e], found


def test_targets_may_name_only_the_vnf(tmp_path: Path) -> None:
    found, text = errors(
        tmp_path, with_indicators(("ind1", {"source": "vnf", "prometheus": "up"}), targets=["VDU1"])
    )
    where = line_of(text, "targets:", line_of(text, "ind1:"))
    assert found == [
        f"{VNFD}:{where}: indicator 'ind1': targets may name only the VNF node, not ['VDU1']"
    ]


def test_a_bad_id_and_a_twice_declared_indicator(tmp_path: Path) -> None:
    doc = with_indicators(("bad id", {"source": "vnf", "prometheus": "up"}))
    doc["topology_template"]["policies"].append(
        {"twice": {"type": EXT, "properties": {"source": "vnf", "prometheus": "up"}}}
    )
    doc["topology_template"]["policies"].append(
        {"twice": {"type": EXT, "properties": {"source": "em", "prometheus": "up"}}}
    )
    found, _text = errors(tmp_path, doc)
    assert any("indicator 'bad id': the policy name is its id" in e for e in found), found
    assert any("indicator 'twice' is declared twice" in e for e in found), found


def test_without_a_way_to_value_it_is_a_warning(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["topology_template"]["policies"].append(
        {"em_only": {"type": "tosca.policies.nfv.VnfIndicator", "properties": {"source": "em"}}}
    )
    write_vnfd(tmp_path / "pkg", doc)
    model, warnings = load_vnf(tmp_path / "pkg")
    (ind,) = model.flavours[0].indicators
    assert (ind.id, ind.source, ind.kind) == ("em_only", "em", "none")
    assert any(
        "indicator 'em_only' says neither prometheus nor command" in str(w) for w in warnings
    )


def test_an_interface_notification_without_a_policy_is_reported(tmp_path: Path) -> None:
    doc = with_indicators(("load", {"source": "vnf", "prometheus": "up"}))
    doc["interface_types"] = {
        "my.Indicators": {
            "derived_from": "tosca.interfaces.nfv.VnfIndicator",
            "notifications": {"load": {}, "temperature": {}},
        }
    }
    doc["node_types"] = {
        "my.VNF": {
            "derived_from": "tosca.nodes.nfv.VNF",
            "interfaces": {"VnfIndicator": {"type": "my.Indicators"}},
        }
    }
    doc["topology_template"]["node_templates"]["VNF"]["type"] = "my.VNF"
    write_vnfd(tmp_path / "pkg", doc)
    model, warnings = load_vnf(tmp_path / "pkg")
    assert [i.id for i in model.flavours[0].indicators] == ["load"]
    notes = [str(w) for w in warnings if "notification" in str(w)]
    assert len(notes) == 1 and "notification 'temperature' has no indicator policy" in notes[0]
