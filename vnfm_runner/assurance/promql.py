"""A small client of Prometheus' HTTP query API, shared by PM, indicators and auto-scale.

Prometheus is a process of ours, but its answers are still parsed as untrusted input:
the result type is checked, every value must be a finite float or one of Prometheus'
own spellings of NaN/Inf (kept as floats, callers decide), labels must be strings, and
the answer's size is bounded. Any failure is a :class:`PromError` naming the query.

Only instant queries: a PM collection or an auto-scale decision asks "what is the value
now" of an expression that carries its own window (``rate(x[30s])``,
``avg_over_time(y[1m])``).
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_ANSWER_BYTES = 8 * 1024 * 1024
MAX_SAMPLES = 100_000


class PromError(RuntimeError):
    """Prometheus could not be asked, or answered something that is not a query result."""


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector (or a scalar, with no labels)."""

    labels: dict[str, str]
    value: float  # may be NaN or +-Inf: Prometheus' own results (e.g. 0/0)
    timestamp: float  # seconds since the epoch

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value)


def _value(pair: Any, expr: str) -> tuple[float, float]:
    if not (isinstance(pair, list) and len(pair) == 2):
        raise PromError(f"query {expr!r}: a sample is not [time, value]: {str(pair)[:80]}")
    ts, raw = pair
    if not isinstance(ts, int | float) or isinstance(ts, bool) or not math.isfinite(ts):
        raise PromError(f"query {expr!r}: a sample time is not a number: {str(ts)[:40]}")
    if not isinstance(raw, str) or len(raw) > 64:
        raise PromError(f"query {expr!r}: a sample value is not a string: {str(raw)[:40]}")
    try:
        value = float(raw)  # accepts Prometheus' "NaN", "+Inf", "-Inf"
    except ValueError:
        raise PromError(f"query {expr!r}: a sample value is not a number: {raw!r}") from None
    return float(ts), value


def _labels(metric: Any, expr: str) -> dict[str, str]:
    if not isinstance(metric, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metric.items()
    ):
        raise PromError(f"query {expr!r}: a sample's labels are not strings")
    return dict(metric)


def parse_answer(doc: Any, expr: str) -> list[Sample]:
    """The samples of a ``/api/v1/query`` answer (vector or scalar)."""
    if not isinstance(doc, dict):
        raise PromError(f"query {expr!r}: the answer is not an object")
    if doc.get("status") != "success":
        err = str(doc.get("error") or doc.get("status"))[:300]
        raise PromError(f"query {expr!r} failed: {err}")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise PromError(f"query {expr!r}: the answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        ts, value = _value(result, expr)
        return [Sample({}, value, ts)]
    if kind != "vector" or not isinstance(result, list):
        raise PromError(f"query {expr!r}: expected an instant vector, got {str(kind)[:20]}")
    if len(result) > MAX_SAMPLES:
        raise PromError(f"query {expr!r}: {len(result)} samples (more than {MAX_SAMPLES})")
    out = []
    for item in result:
        if not isinstance(item, dict):
            raise PromError(f"query {expr!r}: a vector element is not an object")
        ts, value = _value(item.get("value"), expr)
        out.append(Sample(_labels(item.get("metric", {}), expr), value, ts))
    return out


@dataclass(frozen=True)
class PromClient:
    """Instant queries against ``base_url`` (e.g. ``http://127.0.0.1:9090``)."""

    base_url: str
    timeout_s: float = 5.0

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        params = {"query": expr}
        if at is not None:
            params["time"] = repr(float(at))
        body = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(
            f"{self.base_url.rstrip('/')}/api/v1/query",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                raw = resp.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:  # 400/422 carry Prometheus' own error
            raw = exc.read(MAX_ANSWER_BYTES + 1)
            if not raw:
                raise PromError(f"query {expr!r}: HTTP {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise PromError(f"query {expr!r}: Prometheus not reachable: {exc}") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise PromError(f"query {expr!r}: the answer exceeds {MAX_ANSWER_BYTES} bytes")
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise PromError(f"query {expr!r}: the answer is not JSON") from None
        return parse_answer(doc, expr)

    def value(self, expr: str, at: float | None = None) -> float | None:
        """The single finite value of ``expr``, or None when it has no (finite) sample."""
        samples = [s for s in self.query(expr, at) if s.finite]
        if len(samples) > 1:
            raise PromError(f"query {expr!r}: {len(samples)} series where one was expected")
        return samples[0].value if samples else None
