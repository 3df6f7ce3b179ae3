"""Unit tests: Prometheus answers are parsed as untrusted input (assurance/promql.py).

The client against a real Prometheus is exercised by the PM and auto-scale tests."""

from __future__ import annotations

import math
from typing import Any

import pytest

from vnfm_runner.assurance.promql import MAX_SAMPLES, PromError, parse_answer


def vector(*items: Any) -> dict[str, Any]:
    return {"status": "success", "data": {"resultType": "vector", "result": list(items)}}


def test_a_vector_becomes_samples_with_nan_and_inf_kept() -> None:
    doc = vector(
        {"metric": {"vnfc_id": "web-0"}, "value": [1700000000.5, "12.5"]},
        {"metric": {"vnfc_id": "web-1"}, "value": [1700000000.5, "NaN"]},
        {"metric": {}, "value": [1700000000, "+Inf"]},
    )
    s = parse_answer(doc, "x")
    assert [x.labels for x in s] == [{"vnfc_id": "web-0"}, {"vnfc_id": "web-1"}, {}]
    assert s[0].value == 12.5 and s[0].timestamp == 1700000000.5 and s[0].finite
    assert math.isnan(s[1].value) and not s[1].finite
    assert s[2].value == math.inf


def test_a_scalar_is_one_unlabelled_sample() -> None:
    doc = {"status": "success", "data": {"resultType": "scalar", "result": [5, "3"]}}
    assert parse_answer(doc, "1+2")[0].value == 3.0


@pytest.mark.parametrize(
    ("doc", "why"),
    [
        ([], "not an object"),
        ({"status": "error", "error": "parse error at char 3"}, "parse error at char 3"),
        ({"status": "success"}, "no data"),
        ({"status": "success", "data": {"resultType": "matrix", "result": []}}, "instant vector"),
        (vector({"metric": {"a": 1}, "value": [1, "2"]}), "labels are not strings"),
        (vector({"metric": {}, "value": [1, 2]}), "value is not a string"),
        (vector({"metric": {}, "value": [1, "twelve"]}), "not a number"),
        (vector({"metric": {}, "value": ["1", "2"]}), "time is not a number"),
        (vector({"metric": {}, "value": [float("nan"), "2"]}), "time is not a number"),
        (vector({"metric": {}, "value": [1]}), "not \\[time, value\\]"),
        (vector("\udcff"), "not an object"),
        (vector(*[{"metric": {}, "value": [1, "1"]}] * (MAX_SAMPLES + 1)), "more than"),
    ],
)
def test_what_is_not_a_query_result_is_refused_by_name(doc: Any, why: str) -> None:
    with pytest.raises(PromError, match=why) as info:
        parse_answer(doc, "up")
    assert "'up'" in str(info.value)
