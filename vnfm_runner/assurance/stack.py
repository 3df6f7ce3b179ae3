"""The monitoring stack: real Prometheus and Alertmanager, embedded or external.

Embedded (the default for one machine): :class:`MonitoringStack` starts both on
127.0.0.1 (given ports, or free ones) under ``home``, writes their configuration
itself and keeps them running (a supervisor thread restarts a process that
died). Layout::

    home/prometheus/prometheus.yml   scrape job vnfm-vnfc (file_sd) + rule_files + alerting
    home/prometheus/targets/<instance>.json   one file_sd file per instance (atomic)
    home/prometheus/rules/<instance>.yml      one rule file per instance
    home/prometheus/data/            TSDB (short retention)
    home/alertmanager/alertmanager.yml        one receiver: the VNFM's webhook, send_resolved
    home/alertmanager/webhook.token           its bearer token (0600), when given
    home/alertmanager/data/
    home/exporter/endpoints.json     application metric endpoints of the VNFCs (exporter.py)

Targets are picked up by Prometheus itself (file_sd refresh); rules need a
reload, done by ``POST /-/reload`` (SIGHUP if that fails). External (the
operator's stack at scale): give ``prometheus_url``/``alertmanager_url``; the
files are written the same way for the operator's Prometheus to read
(``file_sd_configs``/``rule_files`` pointing at ``home/prometheus``), nothing is
started, and reloads go to the given URL.

Idle footprint is kept small: 2 h retention, no clustering in Alertmanager
(``--cluster.listen-address=``), a lower Go GC target (``GOGC``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vnfm_runner.assurance.rules import AlertRule, TargetGroup, rules_document

PROMETHEUS_BIN = "/usr/bin/prometheus"
ALERTMANAGER_BIN = "/usr/bin/prometheus-alertmanager"
VNFC_JOB = "vnfm-vnfc"


class StackError(RuntimeError):
    """A monitoring process did not start or refused its configuration."""


@dataclass(frozen=True)
class StackSettings:
    home: Path
    webhook_url: str  # where Alertmanager posts (the VNFM's authenticated endpoint)
    webhook_token: str | None = None  # bearer token Alertmanager presents
    prometheus_url: str | None = None  # external Prometheus: nothing is started
    alertmanager_url: str | None = None  # external Alertmanager
    prometheus_bin: str = PROMETHEUS_BIN
    alertmanager_bin: str = ALERTMANAGER_BIN
    prometheus_port: int = 0  # 0: a free port
    alertmanager_port: int = 0
    scrape_interval_s: float = 5.0
    evaluation_interval_s: float = 5.0
    file_sd_refresh_s: float = 5.0
    group_wait_s: float = 2.0
    group_interval_s: float = 10.0
    repeat_interval_s: float = 3600.0
    alert_resend_delay_s: float = 60.0
    retention: str = "2h"
    gogc: int = 50
    start_timeout_s: float = 30.0
    supervise_interval_s: float = 2.0
    exporter_port: int | None = None  # embedded: start the VNFC exporter (0: a free port)


def _d(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _http(method: str, url: str, timeout: float = 2.0) -> int:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@dataclass
class _Proc:
    name: str
    argv: list[str]
    url: str
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    restarts: int = 0


@dataclass
class MonitoringStack:
    """Start, configure, supervise, reload and stop Prometheus and Alertmanager."""

    settings: StackSettings
    _procs: dict[str, _Proc] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _supervisor: threading.Thread | None = None
    prometheus_url: str = ""
    alertmanager_url: str = ""
    exporter_url: str = ""  # the VNFC metrics exporter, when started (exporter.py)

    # -- paths ------------------------------------------------------------------------------
    @property
    def prom_dir(self) -> Path:
        return self.settings.home / "prometheus"

    @property
    def am_dir(self) -> Path:
        return self.settings.home / "alertmanager"

    def targets_file(self, instance_id: str) -> Path:
        return self.prom_dir / "targets" / f"{_safe(instance_id)}.json"

    def rules_file(self, instance_id: str) -> Path:
        return self.prom_dir / "rules" / f"{_safe(instance_id)}.yml"

    @property
    def embedded(self) -> bool:
        return self.settings.prometheus_url is None

    # -- configuration ----------------------------------------------------------------------
    def prometheus_config(self) -> dict[str, Any]:
        s = self.settings
        am = self.alertmanager_url.removeprefix("http://").removeprefix("https://").rstrip("/")
        return {
            "global": {
                "scrape_interval": _d(s.scrape_interval_s),
                "scrape_timeout": _d(min(s.scrape_interval_s, 10.0)),
                "evaluation_interval": _d(s.evaluation_interval_s),
            },
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [am]}]}]},
            "rule_files": [str(self.prom_dir / "rules" / "*.yml")],
            "scrape_configs": [
                {
                    "job_name": VNFC_JOB,
                    "file_sd_configs": [
                        {
                            "files": [str(self.prom_dir / "targets" / "*.json")],
                            "refresh_interval": _d(s.file_sd_refresh_s),
                        }
                    ],
                }
            ],
        }

    def alertmanager_config(self) -> dict[str, Any]:
        s = self.settings
        hook: dict[str, Any] = {"url": s.webhook_url, "send_resolved": True}
        if s.webhook_token:
            hook["http_config"] = {
                "authorization": {
                    "type": "Bearer",
                    "credentials_file": str(self.am_dir / "webhook.token"),
                }
            }
        return {
            "route": {
                "receiver": "vnfm",
                "group_by": ["alertname", "vnf_instance_id", "vnfc_id"],
                "group_wait": _d(s.group_wait_s),
                "group_interval": _d(s.group_interval_s),
                "repeat_interval": _d(s.repeat_interval_s),
            },
            "receivers": [{"name": "vnfm", "webhook_configs": [hook]}],
        }

    def _write_configs(self) -> None:
        for sub in ("targets", "rules", "data"):
            (self.prom_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.am_dir / "data").mkdir(parents=True, exist_ok=True)
        write_atomic(self.prom_dir / "prometheus.yml", yaml.safe_dump(self.prometheus_config()))
        if self.settings.webhook_token:
            write_atomic(self.am_dir / "webhook.token", self.settings.webhook_token, 0o600)
        write_atomic(
            self.am_dir / "alertmanager.yml", yaml.safe_dump(self.alertmanager_config()), 0o600
        )

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, *, supervise: bool = True) -> MonitoringStack:
        s = self.settings
        if not self.embedded:
            self.prometheus_url = str(s.prometheus_url).rstrip("/")
            self.alertmanager_url = str(s.alertmanager_url or "").rstrip("/")
            for sub in ("targets", "rules"):
                (self.prom_dir / sub).mkdir(parents=True, exist_ok=True)
            return self
        am_port = s.alertmanager_port or free_port()
        prom_port = s.prometheus_port or free_port()
        self.alertmanager_url = f"http://127.0.0.1:{am_port}"
        self.prometheus_url = f"http://127.0.0.1:{prom_port}"
        self._write_configs()
        self._procs = {
            "alertmanager": _Proc(
                "alertmanager",
                [
                    s.alertmanager_bin,
                    f"--config.file={self.am_dir / 'alertmanager.yml'}",
                    f"--storage.path={self.am_dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",  # one node: no gossip port on every address
                    "--data.retention=24h",
                ],
                self.alertmanager_url,
                self.am_dir / "alertmanager.log",
            ),
            "prometheus": _Proc(
                "prometheus",
                [
                    s.prometheus_bin,
                    f"--config.file={self.prom_dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.prom_dir / 'data'}",
                    f"--storage.tsdb.retention.time={s.retention}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--web.enable-lifecycle",  # POST /-/reload
                    f"--rules.alert.resend-delay={_d(s.alert_resend_delay_s)}",
                    "--query.max-concurrency=4",
                ],
                self.prometheus_url,
                self.prom_dir / "prometheus.log",
            ),
        }
        if s.exporter_port is not None:
            self._procs["exporter"] = self._exporter(s.exporter_port or free_port())
        try:
            for proc in self._procs.values():
                self._spawn(proc)
            for proc in self._procs.values():
                self._wait_ready(proc)
        except BaseException:
            self.stop()
            raise
        if supervise:
            self._stopping.clear()
            self._supervisor = threading.Thread(
                target=self._supervise, name="vnfm-monitoring-supervisor", daemon=True
            )
            self._supervisor.start()
        return self

    def _exporter(self, port: int) -> _Proc:
        from vnfm_runner.assurance.exporter import exporter_argv

        home = self.settings.home / "exporter"
        home.mkdir(parents=True, exist_ok=True)
        self.exporter_url = f"http://127.0.0.1:{port}"
        argv = exporter_argv(f"127.0.0.1:{port}", self.endpoints_file, sys.executable)
        return _Proc("exporter", argv, self.exporter_url, home / "exporter.log")

    @property
    def endpoints_file(self) -> Path:
        """The application metric endpoints the exporter fetches (written by the loop)."""
        return self.settings.home / "exporter" / "endpoints.json"

    def _spawn(self, proc: _Proc) -> None:
        env = dict(os.environ, GOGC=str(self.settings.gogc))
        with open(proc.log, "ab") as log:
            proc.popen = subprocess.Popen(
                proc.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=proc.log.parent,
                env=env,
                start_new_session=True,  # a Ctrl-C of the VNFM's terminal is ours to handle
            )

    def _wait_ready(self, proc: _Proc) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            if proc.popen is not None and proc.popen.poll() is not None:
                raise StackError(
                    f"{proc.name} exited ({proc.popen.returncode}): {self._tail(proc)}"
                )
            with contextlib.suppress(OSError):
                if _http("GET", f"{proc.url}/-/ready", timeout=1.0) == 200:
                    return
            time.sleep(0.1)
        raise StackError(f"{proc.name} not ready after {self.settings.start_timeout_s:g}s")

    @staticmethod
    def _tail(proc: _Proc) -> str:
        try:
            return proc.log.read_text(errors="replace")[-800:]
        except OSError:
            return ""

    def _supervise(self) -> None:
        while not self._stopping.wait(self.settings.supervise_interval_s):
            with self._lock:
                for proc in self._procs.values():
                    if self._stopping.is_set():
                        return
                    if proc.popen is not None and proc.popen.poll() is None:
                        continue
                    with contextlib.suppress(OSError, StackError):
                        self._spawn(proc)
                        self._wait_ready(proc)
                        proc.restarts += 1  # counted once it serves again

    def pids(self) -> dict[str, int]:
        return {
            n: p.popen.pid
            for n, p in self._procs.items()
            if p.popen is not None and p.popen.poll() is None
        }

    def restarts(self) -> dict[str, int]:
        return {n: p.restarts for n, p in self._procs.items()}

    def rss_bytes(self) -> dict[str, int]:
        """Resident memory of each embedded process (VmRSS)."""
        out: dict[str, int] = {}
        for name, pid in self.pids().items():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[name] = int(line.split()[1]) * 1024
        return out

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (both flush and exit), SIGKILL after ``timeout``."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=self.settings.supervise_interval_s + 35)
            self._supervisor = None
        with self._lock:
            for proc in self._procs.values():
                if proc.popen is not None and proc.popen.poll() is None:
                    proc.popen.terminate()
            for proc in self._procs.values():
                if proc.popen is None:
                    continue
                try:
                    proc.popen.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.popen.kill()
                    proc.popen.wait(timeout=timeout)

    def __enter__(self) -> MonitoringStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the VNFM writes while it runs --------------------------------------------------
    def write_targets(self, instance_id: str, groups: Iterable[TargetGroup]) -> bool:
        """The instance's file_sd file (atomic); Prometheus reads it at its next refresh.

        Returns whether it changed. An empty list removes the file.
        """
        path = self.targets_file(instance_id)
        docs = [g.as_dict() for g in groups]
        if not docs:
            return _remove(path)
        return _write_if_changed(path, json.dumps(docs, indent=1, sort_keys=True) + "\n")

    def write_rules(self, instance_id: str, rules: Iterable[AlertRule]) -> bool:
        """The instance's rule file (atomic), then a reload when it changed."""
        path = self.rules_file(instance_id)
        rules = list(rules)
        changed = (
            _write_if_changed(path, yaml.safe_dump(rules_document(instance_id, rules)))
            if rules
            else _remove(path)
        )
        if changed:
            self.reload()
        return changed

    def forget(self, instance_id: str) -> None:
        """An instance that is gone: its targets and rules go too."""
        self.write_targets(instance_id, [])
        self.write_rules(instance_id, [])

    def reload(self) -> None:
        """Prometheus re-reads its configuration and rules (``POST /-/reload``, else SIGHUP)."""
        try:
            status = _http("POST", f"{self.prometheus_url}/-/reload", timeout=10.0)
        except OSError:
            status = 0
        if status == 200:
            return
        proc = self._procs.get("prometheus")
        if proc is not None and proc.popen is not None and proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGHUP)
            return
        raise StackError(f"Prometheus at {self.prometheus_url} refused the reload ({status})")


def _safe(instance_id: str) -> str:
    if not instance_id or "/" in instance_id or instance_id.startswith("."):
        raise ValueError(f"invalid instance id {instance_id!r}")
    return instance_id


def _write_if_changed(path: Path, text: str) -> bool:
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == text:
            return False
    write_atomic(path, text)
    return True


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
