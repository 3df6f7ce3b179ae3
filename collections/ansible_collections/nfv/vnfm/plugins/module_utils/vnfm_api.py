# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""A small client of the VNFM's own SOL003 REST API (``vnfm serve``).

Shared by the modules ``vnf_lcm_op_occ`` and ``vnf_instance_info`` and by the
inventory plugin ``nfv.vnfm.vnfm``: an AWX job (or any ``ansible-playbook`` run)
asks the VNFM to run an operation instead of running the runner's playbooks
itself, so the operation is recorded, notified and locked like any other.

HTTP goes through Ansible's ``open_url`` (no third-party dependency). Answers are
untrusted input: every document is checked to be the JSON shape we read before
it is used. :func:`request_body` turns the flat variables a survey gives into a
SOL003 request body; it is pure, for unit tests.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote

from ansible.module_utils.urls import open_url

# The environment a job (an AWX credential's injector) gives; options win over it.
ENV_URL = "VNFM_URL"
ENV_USER = "VNFM_API_USER"
ENV_PASSWORD = "VNFM_API_PASSWORD"

API_VERSION = "2.0.0"
LCM = "/vnflcm/v2"
# The final states of a VnfLcmOpOcc: nothing moves it on without a new request.
FINAL_STATES = ("COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK")
MAX_ANSWER = 16 * 1024 * 1024  # bytes read from one answer, at most

# The LCM operations a job can start: operation -> the task path after
# /vnf_instances/{id}/ ("" for MODIFY_INFO, which is a PATCH of the instance).
TASKS: dict[str, str] = {
    "INSTANTIATE": "instantiate",
    "SCALE": "scale",
    "SCALE_TO_LEVEL": "scale_to_level",
    "CHANGE_FLAVOUR": "change_flavour",
    "TERMINATE": "terminate",
    "HEAL": "heal",
    "OPERATE": "operate",
    "CHANGE_EXT_CONN": "change_ext_conn",
    "MODIFY_INFO": "",
    "CHANGE_VNFPKG": "change_vnfpkg",
}

# flat variable -> {operation that reads it: its SOL003 field in the request body}
FLAT_FIELDS: dict[str, dict[str, str]] = {
    "flavour_id": {"INSTANTIATE": "flavourId", "CHANGE_FLAVOUR": "newFlavourId"},
    "instantiation_level_id": {
        op: "instantiationLevelId" for op in ("INSTANTIATE", "SCALE_TO_LEVEL", "CHANGE_FLAVOUR")
    },
    "scale_type": {"SCALE": "type"},
    "aspect_id": {"SCALE": "aspectId"},
    "number_of_steps": {"SCALE": "numberOfSteps"},
    "vnfc_ids": {"HEAL": "vnfcInstanceId", "OPERATE": "vnfcInstanceId"},
    "change_state_to": {"OPERATE": "changeStateTo"},
    "vnfd_id": {"CHANGE_VNFPKG": "vnfdId", "MODIFY_INFO": "vnfdId"},
    "termination_type": {"TERMINATE": "terminationType"},
}


class VnfmApiError(Exception):
    """A refused or failed call; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0, problem: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem


class OperationFailed(VnfmApiError):
    """The operation ended in another final state than COMPLETED."""

    def __init__(self, message: str, occurrence: dict[str, Any]) -> None:
        super().__init__(message)
        self.occurrence = occurrence


def settings(
    url: str | None,
    username: str | None,
    password: str | None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str | None, str | None]:
    """The API's URL and credentials: the options given, else the environment."""
    if env is None:
        env = os.environ
    base = url or env.get(ENV_URL) or ""
    if not base:
        raise VnfmApiError(f"url is required (or the environment variable {ENV_URL})")
    if not base.startswith(("http://", "https://")):
        raise VnfmApiError(f"url: {base!r} is not an http(s) URL")
    return base.rstrip("/"), username or env.get(ENV_USER), password or env.get(ENV_PASSWORD)


def problem_text(problem: Any) -> str:
    """The ``detail`` (or ``title``) of a SOL013 ProblemDetails, else the answer itself."""
    if isinstance(problem, dict):
        for key in ("detail", "title"):
            if isinstance(problem.get(key), str) and problem[key]:
                return str(problem[key])[:2000]
    return str(problem)[:2000]


def request_body(
    operation: str, flat: Mapping[str, Any], request: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The SOL003 request body of ``operation``: ``request`` with the flat values on top.

    A flat value the operation does not read is refused (naming it), so that a
    survey field put on the wrong job template is not silently ignored.
    """
    if operation not in TASKS:
        raise VnfmApiError(f"operation: {operation!r} is not one of {', '.join(TASKS)}")
    if request is not None and not isinstance(request, Mapping):
        raise VnfmApiError("vnfm_request: must be a SOL003 request body (a mapping)")
    body = dict(request or {})
    for name, value in flat.items():
        if value is None or value == "" or value == []:
            continue
        if name not in FLAT_FIELDS:
            raise VnfmApiError(f"{name}: not a field of any operation")
        fields = FLAT_FIELDS[name]
        if operation not in fields:
            raise VnfmApiError(f"{name}: not a field of {operation} (only of {', '.join(fields)})")
        field = fields[operation]
        if name == "number_of_steps":
            value = _positive_int(name, value)
        elif name == "vnfc_ids":
            value = _ids(name, value)
        elif name in ("scale_type", "change_state_to", "termination_type"):
            value = str(value).upper()
        else:
            value = str(value)
        body[field] = value
    return body


def _positive_int(name: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise VnfmApiError(f"{name}: {value!r} is not a whole number") from None
    if number < 1:
        raise VnfmApiError(f"{name}: must be at least 1, not {number}")
    return number


def _ids(name: str, value: Any) -> list[str]:
    """A list of ids from a list or a comma/space/newline-separated text (an AWX survey)."""
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return [str(v) for v in value]
    raise VnfmApiError(f"{name}: must be a list of VNFC ids or a comma-separated text")


Opener = Callable[..., Any]


class VnfmClient:
    """Calls of the VNFM's API with HTTP Basic authentication (``Version`` header set)."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        validate_certs: bool = True,
        timeout: float = 30.0,
        opener: Opener = open_url,
    ) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self.password = password
        self.validate_certs = validate_certs
        self.timeout = timeout
        self._open = opener

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, str], Any]:
        """One request; (status, headers, decoded JSON or None). Raises VnfmApiError on >= 400."""
        headers = {"Version": API_VERSION, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        try:
            resp = self._open(
                self.url + path,
                method=method,
                data=data,
                headers=headers,
                url_username=self.username,
                url_password=self.password,
                force_basic_auth=self.username is not None,
                validate_certs=self.validate_certs,
                timeout=self.timeout,
                follow_redirects="none",
            )
            status, raw, answer_headers = resp.getcode(), resp.read(MAX_ANSWER + 1), resp.headers
        except HTTPError as exc:
            status, raw = exc.code, exc.read(MAX_ANSWER + 1) if exc.fp else b""
            problem = _decode(raw)
            raise VnfmApiError(
                f"{method} {path}: HTTP {status}: {problem_text(problem)}", status, problem
            ) from None
        except (URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise VnfmApiError(
                f"{method} {path}: the VNFM at {self.url} did not answer: {reason}"
            ) from None
        if len(raw) > MAX_ANSWER:
            raise VnfmApiError(f"{method} {path}: answer larger than {MAX_ANSWER} bytes")
        return int(status), {k.lower(): v for k, v in answer_headers.items()}, _decode(raw)

    def get_json(self, path: str) -> Any:
        return self.call("GET", path)[2]

    # --- instances -----------------------------------------------------------------

    def instance(self, instance_id: str) -> dict[str, Any]:
        doc = self.get_json(f"{LCM}/vnf_instances/{quote(instance_id, safe='')}")
        return _dict(doc, "VnfInstance")

    def instances(self, filter_expr: str | None = None) -> list[dict[str, Any]]:
        """Every VnfInstance, whole (``all_fields``: a list leaves out instantiatedVnfInfo
        by default, SOL013), following the pages (``Link: <...>; rel="next"``)."""
        path = f"{LCM}/vnf_instances?all_fields"
        if filter_expr:
            path += "&filter=" + quote(filter_expr, safe="")
        out: list[dict[str, Any]] = []
        for _page in range(10000):  # bounded: a hostile server could link pages in a circle
            _status, headers, doc = self.call("GET", path)
            if not isinstance(doc, list):
                raise VnfmApiError(f"GET {path}: the answer is not a list of VnfInstance")
            out.extend(_dict(d, "VnfInstance") for d in doc)
            nxt = _next_link(headers.get("link", ""), self.url)
            if nxt is None:
                return out
            path = nxt
        raise VnfmApiError(f"GET {LCM}/vnf_instances: too many pages")

    def create_instance(
        self, vnfd_id: str, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"vnfdId": vnfd_id}
        if name:
            body["vnfInstanceName"] = name
        if description:
            body["vnfInstanceDescription"] = description
        return _dict(self.call("POST", f"{LCM}/vnf_instances", body)[2], "VnfInstance")

    def delete_instance(self, instance_id: str) -> None:
        self.call("DELETE", f"{LCM}/vnf_instances/{quote(instance_id, safe='')}")

    # --- operations ----------------------------------------------------------------

    def start(self, operation: str, instance_id: str, body: dict[str, Any]) -> str:
        """Ask for an operation; the id of its VnfLcmOpOcc (from the Location header)."""
        if operation not in TASKS:
            raise VnfmApiError(f"operation: {operation!r} is not one of {', '.join(TASKS)}")
        base = f"{LCM}/vnf_instances/{quote(instance_id, safe='')}"
        task = TASKS[operation]
        if task:
            status, headers, _doc = self.call("POST", f"{base}/{task}", body)
        else:
            status, headers, _doc = self.call("PATCH", base, body, "application/merge-patch+json")
        location = headers.get("location", "")
        prefix = "/vnf_lcm_op_occs/"
        if status != 202 or prefix not in location:
            raise VnfmApiError(f"{operation}: the VNFM accepted no operation (HTTP {status})")
        return location.rsplit("/", 1)[1]

    def occurrence(self, op_id: str) -> dict[str, Any]:
        doc = self.get_json(f"{LCM}/vnf_lcm_op_occs/{quote(op_id, safe='')}")
        return _dict(doc, "VnfLcmOpOcc")

    def wait(
        self,
        op_id: str,
        timeout: float,
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """The occurrence once in a final state; VnfmApiError after ``timeout`` seconds."""
        deadline = clock() + timeout
        while True:
            doc = self.occurrence(op_id)
            if doc.get("operationState") in FINAL_STATES:
                return doc
            if clock() >= deadline:
                raise VnfmApiError(
                    f"operation {op_id} still {doc.get('operationState')} after {timeout:g} s"
                )
            sleep(interval)


def check_completed(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` when COMPLETED; else OperationFailed with the operation's error detail."""
    state = doc.get("operationState")
    if state == "COMPLETED":
        return doc
    detail = problem_text(doc.get("error")) if doc.get("error") else "no error detail"
    raise OperationFailed(
        f"{doc.get('operation')} {doc.get('id')} ended {state}: {detail}", occurrence=doc
    )


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw[:2000].decode("utf-8", "replace")


def _dict(doc: Any, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str):
        raise VnfmApiError(f"the VNFM's answer is not a {what}")
    return doc


def _next_link(link: str, base: str) -> str | None:
    """The path of the ``rel="next"`` page of a Link header, when it is on ``base``."""
    for part in link.split(","):
        target, _sep, params = part.partition(";")
        if 'rel="next"' not in params.replace(" ", ""):
            continue
        url = target.strip().strip("<>")
        if url.startswith(base):
            url = url[len(base) :]
        return url if url.startswith("/") else None
    return None
