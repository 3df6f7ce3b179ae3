"""The VNFM's metrics exporter: CPU, memory and CP counters of the local VIM's VNFCs.

Its own process (``vnfm exporter --listen 127.0.0.1:PORT`` or ``python -m
vnfm_runner.assurance.exporter``), started and supervised beside Prometheus by the
monitoring stack, scraped through the file_sd target the VNFM writes. It keeps no
state and reads no store: at each scrape it

* lists the VNFC namespaces (``/run/netns/vnfm-*``) and, with one rtnetlink link
  dump per namespace (a socket made inside it by ``setns`` in the scraping thread:
  no process per VNFC), reads who the VNFC is (its ``lo`` alias: instance, VNFC,
  VDU) and the counters of its CPs (their aliases: CPD id, internal or external);
* reads the VNFC's cgroup (``_local/cgroup.py``): CPU time, memory in use, and
  the VDU's sizing the VIM recorded on it;
* fetches the application metrics a VDU declares (``vnfm.policies.MetricEndpoint``;
  which VDU has which endpoint comes from ``--endpoints FILE``, written by the
  server from the packages) from inside the VNFC's namespace, and re-exposes them
  with the VNFC's labels.

CP counters are the VNFC-side interface's: "received" is what came into the VNFC
(IFA 027 "Incoming"), bytes as the kernel counts them on a veth (Ethernet frame
without FCS). A VNF's metrics answer is untrusted: size, time, sample count, names
and labels are bounded, and a VNF cannot write a ``vnfm_`` series nor the VNFC labels.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from vnfm_runner import paths
from vnfm_runner.assurance.rules import INSTANCE_LABEL

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.health import netns  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import (  # noqa: E402
    cgroup,
    naming,
)

log = logging.getLogger("vnfm.exporter")

VNFC_LABELS = (INSTANCE_LABEL, "vnfc_id", "vdu_id")
CP_LABELS = (*VNFC_LABELS, "cpd_id", "cp_type")
NETNS_DIR = "/run/netns"

# rtnetlink (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h)
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR = 16, 18, 20, 22
IFA_LOCAL = 2
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFLA_IFNAME, IFLA_IFALIAS, IFLA_STATS64 = 3, 20, 23
NLA_TYPE_MASK = 0x3FFF

# bounds on what a VNF's metrics endpoint may answer
APP_MAX_BYTES = 256 * 1024
APP_MAX_SAMPLES = 1000
APP_MAX_LABELS = 16
APP_MAX_LABEL_VALUE = 256
APP_TIMEOUT_S = 1.0
_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
_LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")
_LABEL_VALUE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")  # a CPD id
_APP_TYPES = {"counter", "gauge", "untyped", "unknown", "histogram", "summary"}


# -- interfaces: one rtnetlink dump per namespace --------------------------------------------------
@dataclass(frozen=True)
class Link:
    index: int
    ifname: str
    alias: str | None
    rx_packets: int
    tx_packets: int
    rx_bytes: int
    tx_bytes: int


def parse_links(data: bytes) -> tuple[list[Any], bool]:
    """The RTM_NEWLINK (a :class:`Link`) and IPv4 RTM_NEWADDR (``(index, address)``)
    messages of one netlink datagram; True once the dump is done."""
    links: list[Any] = []
    pos = 0
    while pos + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, pos)
        if length < 16 or pos + length > len(data):
            break
        if kind == NLMSG_DONE:
            return links, True
        if kind == NLMSG_ERROR:
            (code,) = struct.unpack_from("=i", data, pos + 16)
            if code:
                raise OSError(-code, f"rtnetlink: {os.strerror(-code)}")
        elif kind == RTM_NEWLINK and length >= 32:
            (index,) = struct.unpack_from("=i", data, pos + 20)
            links.append(_link(index, data[pos + 32 : pos + length]))
        elif kind == RTM_NEWADDR and length >= 24:
            family, _plen, _flags, _scope, index = struct.unpack_from("=BBBBi", data, pos + 16)
            if family == socket.AF_INET:
                local = _attrs(data[pos + 24 : pos + length]).get(IFA_LOCAL, b"")
                if len(local) == 4:
                    links.append((index, socket.inet_ntoa(local)))
        pos += (length + 3) & ~3
    return links, False


def _attrs(data: bytes) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    pos = 0
    while pos + 4 <= len(data):
        alen, atype = struct.unpack_from("=HH", data, pos)
        if alen < 4:
            break
        out.setdefault(atype & NLA_TYPE_MASK, data[pos + 4 : pos + alen])
        pos += (alen + 3) & ~3
    return out


def _link(index: int, attrs: bytes) -> Link:
    name, alias, stats = "", None, (0, 0, 0, 0)
    pos = 0
    while pos + 4 <= len(attrs):
        alen, atype = struct.unpack_from("=HH", attrs, pos)
        if alen < 4:
            break
        value = attrs[pos + 4 : pos + alen]
        atype &= NLA_TYPE_MASK
        if atype == IFLA_IFNAME:
            name = value.split(b"\0", 1)[0].decode(errors="replace")
        elif atype == IFLA_IFALIAS:
            alias = value.split(b"\0", 1)[0].decode(errors="replace")
        elif atype == IFLA_STATS64 and len(value) >= 32:
            stats = struct.unpack_from("=4Q", value)
        pos += (alen + 3) & ~3
    rx_p, tx_p, rx_b, tx_b = stats
    return Link(index, name, alias, rx_p, tx_p, rx_b, tx_b)


def _dump(sock: socket.socket, kind: int, body: bytes) -> list[Any]:
    sock.send(struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
    out: list[Any] = []
    while True:
        items, done = parse_links(sock.recv(1 << 16))
        out += items
        if done:
            return out


def namespace_links(name: str) -> list[Link]:
    """Every interface of network namespace ``name`` with its alias and counters."""
    with netns.socket_in(name, socket.AF_NETLINK, socket.SOCK_RAW) as sock:
        sock.settimeout(2.0)
        sock.bind((0, 0))
        body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)
        return [link for link in _dump(sock, RTM_GETLINK, body) if isinstance(link, Link)]


def namespace_ipv4(name: str) -> dict[int, str]:
    """Interface index -> its first IPv4 address, in network namespace ``name``."""
    with netns.socket_in(name, socket.AF_NETLINK, socket.SOCK_RAW) as sock:
        sock.settimeout(2.0)
        sock.bind((0, 0))
        out: dict[int, str] = {}
        for item in _dump(sock, RTM_GETADDR, struct.pack("=BBBBi", socket.AF_INET, 0, 0, 0, 0)):
            if isinstance(item, tuple):
                out.setdefault(item[0], item[1])
        return out


# -- one VNFC as the kernel shows it ---------------------------------------------------------------
@dataclass(frozen=True)
class CpCounters:
    cpd_id: str
    cp_type: str  # "int" | "ext"
    link: Link


@dataclass
class VnfcView:
    netns: str
    instance_id: str
    vnfc_id: str
    vdu_id: str
    cps: list[CpCounters] = field(default_factory=list)


def vnfc_view(name: str, links: Sequence[Link]) -> VnfcView | None:
    """The VNFC a namespace holds (None: not a VNFC, or its marks contradict its name)."""
    lo = next((link for link in links if link.ifname == "lo"), None)
    rec = naming.parse_vnfc_alias(lo.alias) if lo is not None else None
    if rec is None or naming.vnfc_netns(rec[0], rec[1]) != name:
        return None
    view = VnfcView(name, rec[0], rec[1], rec[2])
    for link in links:
        cp = naming.parse_alias(link.alias, "cp", 6)
        if cp is not None and cp[1] in ("vl", "ext"):
            view.cps.append(CpCounters(cp[0], "int" if cp[1] == "vl" else "ext", link))
    return view


def vnfc_namespaces() -> list[str]:
    try:
        names = os.listdir(NETNS_DIR)
    except FileNotFoundError:
        return []
    return sorted(
        n for n in names if n.startswith(naming.NS_PREFIX + "-") and not n.endswith("-vim")
    )


# -- application metrics ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    port: int
    path: str
    cp: str | None = None  # fetched on this CP's address; None: on 127.0.0.1


def load_endpoints(text: str) -> dict[tuple[str, str], Endpoint]:
    """``{instance: {vduId: {"port": P, "path": "/metrics", "cp": CPD or null}}}`` ->
    (instance, vdu) -> endpoint."""
    out: dict[tuple[str, str], Endpoint] = {}
    doc = json.loads(text or "{}")
    if not isinstance(doc, dict):
        return out
    for inst, vdus in doc.items():
        for vdu, ep in (vdus or {}).items() if isinstance(vdus, dict) else ():
            if not isinstance(ep, dict):
                continue
            port, path = ep.get("port"), ep.get("path")
            if not isinstance(path, str) or not path.startswith("/") or " " in path:
                continue
            cp = ep.get("cp")
            if cp is not None and (not isinstance(cp, str) or not _LABEL_VALUE_RE.match(cp)):
                continue
            if type(port) is int and 0 < port < 65536 and path.isprintable():
                out[(str(inst), str(vdu))] = Endpoint(port, path, cp)
    return out


def fetch_in(
    name: str, ep: Endpoint, address: str = "127.0.0.1", timeout: float = APP_TIMEOUT_S
) -> str:
    """GET the endpoint at ``address`` from inside the VNFC; the body (bounded), or OSError."""
    deadline = time.monotonic() + timeout
    with netns.socket_in(name) as sock:
        sock.settimeout(timeout)
        sock.connect((address, ep.port))
        sock.sendall(
            f"GET {ep.path} HTTP/1.0\r\nHost: {address}:{ep.port}\r\n"
            "Accept: text/plain;version=0.0.4\r\nConnection: close\r\n\r\n".encode()
        )
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{name}: metrics endpoint slower than {timeout:g}s")
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > APP_MAX_BYTES + 8192:
                raise OSError(f"{name}: metrics answer larger than {APP_MAX_BYTES} bytes")
            chunks.append(chunk)
    head, sep, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if not sep or len(status) < 2 or status[1] != b"200":
        raise OSError(f"{name}: metrics endpoint answered {head[:60]!r}")
    if len(body) > APP_MAX_BYTES:
        raise OSError(f"{name}: metrics answer larger than {APP_MAX_BYTES} bytes")
    return body.decode("utf-8")


def parse_app_metrics(text: str, view: VnfcView) -> list[Metric]:
    """The VNF's families with the VNFC labels added; what breaks the bounds is dropped.

    Raises ValueError when the text is not the Prometheus text format.
    """
    values = (view.instance_id, view.vnfc_id, view.vdu_id)
    out: list[Metric] = []
    samples = 0
    for family in text_string_to_metric_families(text):
        if (
            family.type not in _APP_TYPES
            or not _NAME_RE.match(family.name)
            or family.name.startswith("vnfm_")
        ):
            continue
        metric = Metric(family.name, (family.documentation or "")[:200], family.type)
        for s in family.samples:
            if samples >= APP_MAX_SAMPLES:
                return out + ([metric] if metric.samples else [])
            if not _NAME_RE.match(s.name) or len(s.labels) > APP_MAX_LABELS:
                continue
            labels = {
                (f"exported_{k}" if k in VNFC_LABELS else k): v
                for k, v in s.labels.items()
                if _LABEL_RE.match(k) and not k.startswith("__") and len(v) <= APP_MAX_LABEL_VALUE
            }
            if len(labels) != len(s.labels) or not isinstance(s.value, int | float):
                continue
            labels.update(zip(VNFC_LABELS, values, strict=True))
            metric.add_sample(s.name, labels, float(s.value))
            samples += 1
        if metric.samples:
            out.append(metric)
    return out


# -- the collector ---------------------------------------------------------------------------------
class VnfcCollector(Collector):
    """Reads everything at scrape time (nothing cached but the endpoints file)."""

    def __init__(
        self,
        tree: cgroup.CgroupTree | None,
        endpoints_file: Path | None = None,
        workers: int = 8,
    ) -> None:
        self.tree = tree
        self.endpoints_file = endpoints_file
        self._endpoints: dict[tuple[str, str], Endpoint] = {}
        self._endpoints_stamp: tuple[int, int] | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vnfm-exporter")
        self._lock = threading.Lock()

    def endpoints(self) -> dict[tuple[str, str], Endpoint]:
        if self.endpoints_file is None:
            return {}
        try:
            st = self.endpoints_file.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._endpoints_stamp:
            try:
                self._endpoints = load_endpoints(self.endpoints_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("endpoints file %s not read: %s", self.endpoints_file, exc)
            self._endpoints_stamp = stamp
        return self._endpoints

    def _read(self, name: str) -> tuple[VnfcView | None, dict[str, float | None]]:
        try:
            view = vnfc_view(name, namespace_links(name))
        except OSError:
            return None, {}  # deleted meanwhile, or unreadable: not reported
        figures: dict[str, float | None] = {}
        if view is not None and self.tree is not None:
            info = self.tree.info(name) or {}
            figures = {
                "cpu": self.tree.cpu_seconds(name),
                "mem": self.tree.memory_bytes(name),
                "vcpus": _num(info.get("vcpus")),
                "mem_size": _num(info.get("memorySizeBytes")),
            }
        return view, figures

    def _app(self, view: VnfcView, ep: Endpoint) -> list[Metric] | None:
        try:
            address = "127.0.0.1"
            if ep.cp is not None:
                index = next((c.link.index for c in view.cps if c.cpd_id == ep.cp), None)
                found = namespace_ipv4(view.netns).get(index) if index is not None else None
                if found is None:
                    raise OSError(f"{view.netns}: CP {ep.cp} has no IPv4 address")
                address = found
            return parse_app_metrics(fetch_in(view.netns, ep, address), view)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            log.debug("application metrics of %s: %s", view.netns, exc)
            return None

    def collect(self) -> Iterator[Metric]:
        start = time.perf_counter()
        with self._lock:  # one scrape at a time: the figures of one moment
            names = vnfc_namespaces()
            read = list(self._pool.map(self._read, names))
            endpoints = self.endpoints()
            jobs = [
                (view, self._pool.submit(self._app, view, ep))
                for view, _f in read
                if view is not None
                and (ep := endpoints.get((view.instance_id, view.vdu_id))) is not None
            ]
            apps = [(view, job.result()) for view, job in jobs]
        yield from self._families(read)
        failures = 0
        merged: dict[str, Metric] = {}
        for _view, families in apps:
            if families is None:
                failures += 1
                continue
            for fam in families:
                have = merged.setdefault(fam.name, Metric(fam.name, fam.documentation, fam.type))
                if have.type == fam.type:  # two VNFs disagreeing on a type: the first wins
                    have.samples.extend(fam.samples)
        yield from merged.values()
        yield GaugeMetricFamily(
            "vnfm_exporter_app_failures",
            "Application metric endpoints that did not answer usably in this scrape",
            value=failures,
        )
        yield GaugeMetricFamily(
            "vnfm_exporter_vnfcs", "VNFCs seen in this scrape", value=sum(1 for v, _ in read if v)
        )
        yield GaugeMetricFamily(
            "vnfm_exporter_scrape_seconds",
            "Wall time spent reading the VNFCs for this scrape",
            value=time.perf_counter() - start,
        )

    @staticmethod
    def _families(read: list[tuple[VnfcView | None, dict[str, float | None]]]) -> Iterator[Metric]:
        cpu = CounterMetricFamily(
            "vnfm_vnfc_cpu_seconds", "CPU time of the VNFC's processes (cgroup)", labels=VNFC_LABELS
        )
        vcpus = GaugeMetricFamily(
            "vnfm_vnfc_vcpus", "Virtual CPUs of the VNFC's VDU", labels=VNFC_LABELS
        )
        mem = GaugeMetricFamily(
            "vnfm_vnfc_memory_bytes",
            "Memory in use by the VNFC's processes (cgroup working set)",
            labels=VNFC_LABELS,
        )
        mem_size = GaugeMetricFamily(
            "vnfm_vnfc_memory_size_bytes",
            "Virtual memory size of the VNFC's VDU",
            labels=VNFC_LABELS,
        )
        cps = {
            key: CounterMetricFamily(f"vnfm_cp_{key}", help_, labels=CP_LABELS)
            for key, help_ in (
                ("received_bytes", "Bytes received by the VNFC on the connection point"),
                ("sent_bytes", "Bytes sent by the VNFC on the connection point"),
                ("received_packets", "Packets received by the VNFC on the connection point"),
                ("sent_packets", "Packets sent by the VNFC on the connection point"),
            )
        }
        for view, figures in read:
            if view is None:
                continue
            labels = [view.instance_id, view.vnfc_id, view.vdu_id]
            for family, key in (
                (cpu, "cpu"),
                (vcpus, "vcpus"),
                (mem, "mem"),
                (mem_size, "mem_size"),
            ):
                value = figures.get(key)
                if value is not None:
                    family.add_metric(labels, value)
            for cp in view.cps:
                cp_labels = [*labels, cp.cpd_id, cp.cp_type]
                cps["received_bytes"].add_metric(cp_labels, cp.link.rx_bytes)
                cps["sent_bytes"].add_metric(cp_labels, cp.link.tx_bytes)
                cps["received_packets"].add_metric(cp_labels, cp.link.rx_packets)
                cps["sent_packets"].add_metric(cp_labels, cp.link.tx_packets)
        yield from (cpu, vcpus, mem, mem_size, *cps.values())


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


# -- the process -----------------------------------------------------------------------------------
def exporter_argv(listen: str, endpoints: Path | None, python: str) -> list[str]:
    """How the monitoring stack starts this exporter."""
    argv = [python, "-m", "vnfm_runner.assurance.exporter", "--listen", listen]
    return argv + (["--endpoints", str(endpoints)] if endpoints is not None else [])


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen {value!r}: give HOST:PORT, e.g. 127.0.0.1:9577")
    return host.strip("[]") or "127.0.0.1", int(port)


def serve(listen: str, endpoints: Path | None) -> None:
    """Serve ``/metrics`` until SIGTERM or SIGINT."""
    host, port = parse_listen(listen)
    registry = CollectorRegistry()
    registry.register(VnfcCollector(cgroup.detect(), endpoints))
    server, thread = start_http_server(port, addr=host, registry=registry)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.shutdown()
    with contextlib.suppress(Exception):
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vnfm exporter", description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:9577", help="HOST:PORT to serve on")
    parser.add_argument("--endpoints", type=Path, help="application metric endpoints (JSON)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        serve(args.listen, args.endpoints)
    except (ValueError, OSError) as exc:
        parser.exit(2, f"vnfm exporter: {exc}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
