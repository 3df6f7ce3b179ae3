"""What the exporter takes from a VNF's metrics endpoint (untrusted), from its
endpoints file and from rtnetlink: unit tests without namespaces."""

from __future__ import annotations

import socket
import struct

import pytest

from vnfm_runner.assurance import exporter
from vnfm_runner.assurance.exporter import (
    APP_MAX_SAMPLES,
    Endpoint,
    VnfcView,
    load_endpoints,
    parse_app_metrics,
    parse_links,
)

VIEW = VnfcView("vnfm-i-web-0", "i", "web-0", "web")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in parse_app_metrics(text, VIEW)
        for s in fam.samples
    }


def test_samples_get_the_vnfc_labels() -> None:
    got = parse_app_metrics(
        "# TYPE webfarm_requests_total counter\nwebfarm_requests_total 42\n"
        "# TYPE webfarm_lb_active_connections gauge\nwebfarm_lb_active_connections 3\n",
        VIEW,
    )
    assert [(f.name, f.type) for f in got] == [
        ("webfarm_requests", "counter"),
        ("webfarm_lb_active_connections", "gauge"),
    ]
    labels = {"vnf_instance_id": "i", "vnfc_id": "web-0", "vdu_id": "web"}
    assert got[0].samples[0].name == "webfarm_requests_total"
    assert got[0].samples[0].labels == labels and got[0].samples[0].value == 42


def test_a_vnf_cannot_forge_our_series_nor_our_labels() -> None:
    got = samples(
        'vnfm_vnfc_cpu_seconds_total{vnfc_id="other"} 1e9\n'
        'app_x{vnfc_id="other",vnf_instance_id="j",mode="a"} 1\n'
    )
    assert list(got) == [
        (
            "app_x",
            (
                ("exported_vnf_instance_id", "j"),
                ("exported_vnfc_id", "other"),
                ("mode", "a"),
                ("vdu_id", "web"),
                ("vnf_instance_id", "i"),
                ("vnfc_id", "web-0"),
            ),
        )
    ]


def test_bounds_on_samples_labels_and_values() -> None:
    many = "".join(f'm{{i="{i}"}} {i}\n' for i in range(APP_MAX_SAMPLES + 50))
    assert len(samples(many)) == APP_MAX_SAMPLES
    wide = "w{" + ",".join(f'l{i}="v"' for i in range(20)) + "} 1\n"
    long_value = 'lv{l="' + "x" * 300 + '"} 1\n'
    assert samples(wide + long_value + "ok 1\n") == {
        ("ok", (("vdu_id", "web"), ("vnf_instance_id", "i"), ("vnfc_id", "web-0"))): 1.0
    }


@pytest.mark.parametrize(
    "text",
    [
        "not metrics at all {\n",
        'x{l="unterminated} 1\n',
        "x NaNa\n",
    ],
)
def test_not_the_text_format_is_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_app_metrics(text, VIEW)


def test_histograms_keep_their_samples() -> None:
    text = (
        "# TYPE lat histogram\n"
        'lat_bucket{le="0.1"} 1\nlat_bucket{le="+Inf"} 2\nlat_sum 0.3\nlat_count 2\n'
    )
    got = samples(text)
    assert sorted({k[0] for k in got}) == ["lat_bucket", "lat_count", "lat_sum"]
    assert any(("le", "+Inf") in k[1] for k in got)


def test_endpoints_file_is_checked() -> None:
    text = (
        '{"i": {"web": {"port": 80, "path": "/metrics"}, "lb": {"port": 0, "path": "/m"},'
        ' "x": {"port": 80, "path": "no-slash"}, "y": {"port": "80", "path": "/m"},'
        ' "z": {"port": 80, "path": "/a b"}, "w": [1]}, "j": 5}'
    )
    assert load_endpoints(text) == {("i", "web"): Endpoint(80, "/metrics")}
    cp = '{"i": {"web": {"port": 80, "path": "/m", "cp": "web_cp"}, "x": {"port": 80, "path": "/m", "cp": "../x"}}}'
    assert load_endpoints(cp) == {("i", "web"): Endpoint(80, "/m", "web_cp")}
    assert load_endpoints("[]") == {}
    with pytest.raises(ValueError):
        load_endpoints("{")


def _nlmsg(kind: int, payload: bytes) -> bytes:
    length = 16 + len(payload)
    return struct.pack("=IHHII", length, kind, 2, 1, 0) + payload + b"\0" * (-length % 4)


def _attr(kind: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("=HH", length, kind) + value + b"\0" * (-length % 4)


def test_rtnetlink_link_messages() -> None:
    ifinfo = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, 2, 0, 0)
    stats = struct.pack("=8Q", 10, 20, 1000, 2000, 0, 0, 0, 0)
    link = _nlmsg(
        exporter.RTM_NEWLINK,
        ifinfo
        + _attr(exporter.IFLA_IFNAME, b"eth0\0")
        + _attr(exporter.IFLA_IFALIAS, b"vnfm:cp:web_cp:vl:internal_vl:vp1:-:s\0")
        + _attr(exporter.IFLA_STATS64, stats),
    )
    links, done = parse_links(link + _nlmsg(exporter.NLMSG_DONE, b"\0" * 4))
    assert done
    assert links == [
        exporter.Link(2, "eth0", "vnfm:cp:web_cp:vl:internal_vl:vp1:-:s", 10, 20, 1000, 2000)
    ]
    view = exporter.vnfc_view(
        "vnfm-i-web-0",
        [exporter.Link(1, "lo", "vnfm:vnfc:i:web-0:web:-:-", 0, 0, 0, 0), *links],
    )
    assert view is not None and [(c.cpd_id, c.cp_type) for c in view.cps] == [("web_cp", "int")]
    # a namespace whose lo alias names another VNFC is not taken for it
    assert (
        exporter.vnfc_view(
            "vnfm-i-web-1", [exporter.Link(1, "lo", "vnfm:vnfc:i:web-0:web:-:-", 0, 0, 0, 0)]
        )
        is None
    )
    addr = _nlmsg(
        exporter.RTM_NEWADDR,
        struct.pack("=BBBBi", socket.AF_INET, 24, 0, 0, 2)
        + _attr(1, socket.inet_aton("10.10.0.9"))
        + _attr(exporter.IFA_LOCAL, socket.inet_aton("10.10.0.5")),
    )
    assert parse_links(addr) == ([(2, "10.10.0.5")], False)
    # truncated or malformed: no crash, nothing invented
    assert parse_links(link[:20]) == ([], False)
    err = _nlmsg(exporter.NLMSG_ERROR, struct.pack("=i", -1) + b"\0" * 16)
    with pytest.raises(OSError):
        parse_links(err)
