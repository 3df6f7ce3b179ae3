"""Indicator values are untrusted (a package's command, a Prometheus answer): what is
stored is a finite number or one short printable line, anything else is refused with a
reason; and the notification filter of vnfind/v1."""

from __future__ import annotations

import math

import pytest

from vnfm_runner.assurance.indicators import (
    MAX_OUTPUT,
    MAX_STRING,
    ValueRefused,
    allowed,
    from_output,
    number,
)
from vnfm_runner.notify import indicators as notes


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"3\n", 3),
        (b"  -2.50 \n", -2.5),
        (b"1e3", 1000),
        (b"0.1", 0.1),
        (b"2.0000000000001", 2),  # float noise below 9 digits is no change
        (b"active\n", "active"),
        ("caf\u00e9".encode(), "caf\u00e9"),
    ],
)
def test_command_output_becomes_a_number_or_a_line(raw: bytes, value: object) -> None:
    got = from_output(raw)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "no output"),
        (b" \n\t", "no output"),
        (b"1e999", "not a finite number"),
        (b"\xff\xfe", "not UTF-8"),
        (b"a\nb", "several lines"),
        (b"a\x1b[31mred", "control characters"),
        (b"x" * (MAX_STRING + 1), f"longer than {MAX_STRING}"),
        (b"1" * (MAX_OUTPUT + 1), f"exceeds {MAX_OUTPUT} bytes"),
    ],
)
def test_hostile_output_is_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(ValueRefused, match=reason):
        from_output(raw)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_prometheus_non_finite_values_are_refused(bad: float) -> None:
    with pytest.raises(ValueRefused, match="not a finite number"):
        number(bad)


def test_numbers_are_normalised() -> None:
    assert number(4.0) == 4 and type(number(4.0)) is int
    assert number(1 / 3) == 0.333333333
    assert number(2.0**60) == 1.1529215e18 and type(number(2.0**60)) is float
    assert from_output(b"nan") == "nan"  # a word, not Prometheus' NaN: kept as text
    with pytest.raises(ValueRefused):
        number(True)


def test_declared_values_bound_what_is_stored() -> None:
    assert allowed("active", ["active", "standby"]) == "active"
    assert allowed(7, []) == 7
    with pytest.raises(ValueRefused, match="not one of the declared values"):
        allowed("rebooting", ["active", "standby"])


def test_the_filter_of_indicator_subscriptions() -> None:
    change = {"vnfInstanceId": "i-1", "vnfIndicatorId": "load", "value": 3}
    supported = {"vnfInstanceId": "i-1", "supportedIndicators": []}
    by_id = {"indicatorIds": ["load"]}
    assert notes.selects(by_id, notes.VALUE_CHANGE, change, None)
    assert not notes.selects({"indicatorIds": ["temp"]}, notes.VALUE_CHANGE, change, None)
    assert notes.selects(by_id, notes.SUPPORTED_CHANGE, supported, None)  # about no indicator
    only_values = {"notificationTypes": [notes.VALUE_CHANGE]}
    assert not notes.selects(only_values, notes.SUPPORTED_CHANGE, supported, None)
    inst = {"vnfInstanceSubscriptionFilter": {"vnfInstanceIds": ["i-2"]}}
    assert not notes.selects(inst, notes.VALUE_CHANGE, change, {"id": "i-1"})
    named = {"vnfInstanceSubscriptionFilter": {"vnfInstanceNames": ["farm"]}}
    assert notes.selects(named, notes.VALUE_CHANGE, change, {"vnfInstanceName": "farm"})
    doc = notes.build(notes.VALUE_CHANGE, change, "sub-1")
    assert doc["notificationType"] == notes.VALUE_CHANGE and doc["value"] == 3
    assert doc["_links"] == {
        "vnfInstance": {"href": "/vnflcm/v2/vnf_instances/i-1"},
        "subscription": {"href": "/vnfind/v1/subscriptions/sub-1"},
    }
