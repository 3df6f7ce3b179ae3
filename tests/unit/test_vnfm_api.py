"""module_utils/vnfm_api.py without a server: flat survey values to SOL003 bodies (bad
ones refused naming the field), settings from options or the environment, waiting on an
occurrence, pages followed, and hostile answers refused."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.error import HTTPError

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfm_api import (
    OperationFailed,
    VnfmApiError,
    VnfmClient,
    check_completed,
    request_body,
    settings,
)


def test_flat_values_become_the_operation_s_fields() -> None:
    assert request_body(
        "SCALE", {"scale_type": "scale_out", "aspect_id": "web", "number_of_steps": "2"}
    ) == {"type": "SCALE_OUT", "aspectId": "web", "numberOfSteps": 2}
    assert request_body("CHANGE_FLAVOUR", {"flavour_id": "big"}) == {"newFlavourId": "big"}
    assert request_body("HEAL", {"vnfc_ids": "web-0, web-1\nlb-0"}) == {
        "vnfcInstanceId": ["web-0", "web-1", "lb-0"]
    }
    # the flat values go on top of the request body; empty survey answers are left out
    body = request_body(
        "INSTANTIATE",
        {"flavour_id": "default", "instantiation_level_id": ""},
        {"flavourId": "x", "additionalParams": {"a": 1}},
    )
    assert body == {"flavourId": "default", "additionalParams": {"a": 1}}


@pytest.mark.parametrize(
    ("operation", "flat", "message"),
    [
        ("HEAL", {"flavour_id": "default"}, "flavour_id: not a field of HEAL"),
        ("SCALE", {"number_of_steps": "two"}, "number_of_steps: 'two' is not a whole number"),
        ("SCALE", {"number_of_steps": 0}, "number_of_steps: must be at least 1"),
        ("OPERATE", {"vnfc_ids": {"a": 1}}, "vnfc_ids: must be a list"),
        ("REBOOT", {}, "operation: 'REBOOT' is not one of"),
    ],
)
def test_bad_flat_values_are_refused_naming_them(
    operation: str, flat: dict[str, Any], message: str
) -> None:
    with pytest.raises(VnfmApiError, match=message.replace("(", r"\(")):
        request_body(operation, flat)


def test_settings_from_options_else_environment() -> None:
    env = {"VNFM_URL": "http://e:1/", "VNFM_API_USER": "u", "VNFM_API_PASSWORD": "p"}
    assert settings(None, None, None, env) == ("http://e:1", "u", "p")
    assert settings("https://o", "v", None, env) == ("https://o", "v", "p")
    with pytest.raises(VnfmApiError, match="VNFM_URL"):
        settings(None, None, None, {})
    with pytest.raises(VnfmApiError, match="not an http"):
        settings("file:///etc/passwd", None, None, {})


class FakeResponse:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.headers = headers or {}

    def getcode(self) -> int:
        return self.status

    def read(self, limit: int = -1) -> bytes:
        return self.raw


class FakeServer:
    """Answers by (method, path); records the calls."""

    def __init__(self, answers: dict[tuple[str, str], list[FakeResponse]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, url: str, method: str, data: bytes | None, **kw: Any) -> FakeResponse:
        path = url.removeprefix("http://vnfm")
        self.calls.append((method, path, json.loads(data) if data else None))
        queue = self.answers[(method, path)]
        resp = queue.pop(0) if len(queue) > 1 else queue[0]
        if resp.status >= 400:
            raise HTTPError(url, resp.status, "refused", {}, io.BytesIO(resp.raw))  # type: ignore[arg-type]
        return resp


def test_start_and_wait_until_a_final_state() -> None:
    op = "/vnflcm/v2/vnf_lcm_op_occs/op-1"
    fake = FakeServer(
        {
            ("POST", "/vnflcm/v2/vnf_instances/i-1/scale"): [
                FakeResponse(202, b"", {"Location": op})
            ],
            ("GET", op): [
                FakeResponse(200, {"id": "op-1", "operationState": "STARTING"}),
                FakeResponse(200, {"id": "op-1", "operationState": "PROCESSING"}),
                FakeResponse(200, {"id": "op-1", "operationState": "COMPLETED"}),
            ],
        }
    )
    client = VnfmClient("http://vnfm", "u", "p", opener=fake)
    op_id = client.start("SCALE", "i-1", {"type": "SCALE_OUT", "aspectId": "web"})
    slept: list[float] = []
    doc = client.wait(op_id, timeout=10, interval=0.5, clock=lambda: 0.0, sleep=slept.append)
    assert doc["operationState"] == "COMPLETED" and slept == [0.5, 0.5]
    assert fake.calls[0][2] == {"type": "SCALE_OUT", "aspectId": "web"}


def test_a_failed_operation_carries_its_error_detail() -> None:
    doc = {
        "id": "op-2",
        "operation": "HEAL",
        "operationState": "FAILED_TEMP",
        "error": {"status": 500, "detail": "heal_end: web-1 did not start"},
    }
    with pytest.raises(OperationFailed, match="HEAL op-2 ended FAILED_TEMP: heal_end: web-1"):
        check_completed(doc)


def test_refusals_and_hostile_answers() -> None:
    fake = FakeServer(
        {
            ("GET", "/vnflcm/v2/vnf_instances/nope"): [
                FakeResponse(404, {"status": 404, "detail": "VNF instance nope not found"})
            ],
            ("GET", "/vnflcm/v2/vnf_instances/odd"): [FakeResponse(200, ["not", "an", "instance"])],
            ("GET", "/vnflcm/v2/vnf_instances?all_fields"): [
                FakeResponse(
                    200,
                    [{"id": "a"}],
                    {
                        "Link": '<http://vnfm/vnflcm/v2/vnf_instances?all_fields&nextpage_opaque_marker=2>; rel="next"'
                    },
                )
            ],
            ("GET", "/vnflcm/v2/vnf_instances?all_fields&nextpage_opaque_marker=2"): [
                FakeResponse(200, [{"id": "b"}])
            ],
        }
    )
    client = VnfmClient("http://vnfm", opener=fake)
    with pytest.raises(VnfmApiError, match="HTTP 404: VNF instance nope not found") as exc:
        client.instance("nope")
    assert exc.value.status == 404
    with pytest.raises(VnfmApiError, match="not a VnfInstance"):
        client.instance("odd")
    assert [d["id"] for d in client.instances()] == ["a", "b"]
