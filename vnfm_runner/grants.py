"""SOL003 Grant: ask the NFVO before changing resources.

Before an operation touches the VIM (STARTING → PROCESSING) the VNFM sends a
GrantRequest naming the resources it will add, remove and update, with the
placement constraints of the plan. The NFVO answers 201 (granted), or 202
with a Location to poll, or refuses (4xx): the operation then ends
``ROLLED_BACK`` with the NFVO's reason. The grant's VIM assets (flavours,
images) feed the plan. Without an NFVO endpoint, a built-in auto-grant
allows everything.

The NFVO (grant and token URLs, and the Location it has polled) is reached
through the outbound address policy (vnfm_runner/outbound.py): an address it
refuses ends the operation ``ROLLED_BACK`` without a connection, as a refusal
would, since asking again cannot help until the settings change. Each request
has a wall-clock deadline.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from vnfm_runner.outbound import OutboundError, Policy, client, deadline
from vnfm_runner.settings import Settings

CALL_TIMEOUT = 30.0  # seconds of wall-clock time for one request to the NFVO
TOKEN_TIMEOUT = 10.0


class GrantRefused(Exception):
    """The NFVO said no; the message is its reason."""


class GrantError(Exception):
    """The NFVO could not be asked (unreachable, timeout, bad answer)."""


@dataclass
class Grant:
    id: str
    doc: dict[str, Any] = field(default_factory=dict)
    automatic: bool = False

    def vim_mapping(self) -> dict[str, Any]:
        """Flavours per VDU and images per sw image from the grant's vimAssets."""
        assets = self.doc.get("vimAssets") or {}
        flavours = {
            str(f["vnfdVirtualComputeDescId"]): f["vimFlavourId"]
            for f in assets.get("computeResourceFlavours") or []
            if f.get("vnfdVirtualComputeDescId") and f.get("vimFlavourId")
        }
        images = {
            str(i["vnfdSoftwareImageId"]): i["vimSoftwareImageId"]
            for i in assets.get("softwareImages") or []
            if i.get("vnfdSoftwareImageId") and i.get("vimSoftwareImageId")
        }
        return {"flavours": flavours, "images": images}


def _resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The plan's grantable resources by id: (type, template id)."""
    out: dict[str, dict[str, Any]] = {}
    for vnfc in plan.get("vnfcs", []):
        out[vnfc["id"]] = {
            "type": "COMPUTE",
            "resourceTemplateId": vnfc["vduId"],
            "vduId": vnfc["vduId"],
        }
        for cp in vnfc.get("cps", []):
            out[cp["name"]] = {"type": "LINKPORT", "resourceTemplateId": cp["cpdId"]}
    for vl in plan.get("virtualLinks", []):
        out[vl["name"]] = {"type": "VL", "resourceTemplateId": vl["id"]}
    for vol in plan.get("volumes", []):
        out[vol["name"]] = {"type": "STORAGE", "resourceTemplateId": vol["storageId"]}
    return out


def grant_request(
    *,
    instance_id: str,
    op_id: str,
    operation: str,
    vnfd_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    heal: list[str] | None = None,
) -> dict[str, Any]:
    """A SOL003 GrantRequest for going from plan ``before`` to plan ``after``."""
    old = _resources(before or {})
    new = _resources(after or {})
    target = after or before or {}
    request: dict[str, Any] = {
        "vnfInstanceId": instance_id,
        "vnfLcmOpOccId": op_id,
        "vnfdId": vnfd_id,
        "flavourId": target.get("flavourId"),
        "operation": operation,
        "isAutomaticInvocation": False,
        "addResources": [dict(id=rid, **new[rid]) for rid in sorted(new.keys() - old.keys())],
        "removeResources": [dict(id=rid, **old[rid]) for rid in sorted(old.keys() - new.keys())],
        "updateResources": [dict(id=rid, **new[rid]) for rid in sorted(heal or []) if rid in new],
        "placementConstraints": [
            {
                "affinityOrAntiAffinity": "AFFINITY"
                if g["policy"] == "affinity"
                else "ANTI_AFFINITY",
                "scope": str(g["scope"]).upper().replace("-", "_"),
                "resource": [
                    {"idType": "GRANT", "resourceId": v["id"]}
                    for v in target.get("vnfcs", [])
                    if v["vduId"] in g["vduIds"]
                ],
            }
            for g in target.get("serverGroups", [])
        ],
        "_links": {
            "vnfLcmOpOcc": {"href": f"/vnflcm/v2/vnf_lcm_op_occs/{op_id}"},
            "vnfInstance": {"href": f"/vnflcm/v2/vnf_instances/{instance_id}"},
        },
    }
    if target.get("instantiationLevelId"):
        request["instantiationLevelId"] = target["instantiationLevelId"]
    return request


class GrantClient:
    """Talks to the NFVO's Grant interface, or grants automatically."""

    def __init__(self, settings: Settings) -> None:
        self.url = (settings.nfvo_url or "").rstrip("/")
        self.settings = settings
        self.policy = Policy.from_settings(settings)
        self._token: tuple[str, float] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def ask(self, request: dict[str, Any]) -> Grant:
        if not self.enabled:
            return Grant(id=f"auto-{uuid.uuid4()}", doc={}, automatic=True)
        with client(self.policy, timeout=CALL_TIMEOUT) as http:
            return self._ask(http, request)

    def _ask(self, http: httpx.Client, request: dict[str, Any]) -> Grant:
        status, headers, body = self._call(http, "POST", f"{self.url}/grant/v1/grants", request)
        deadline_at = time.monotonic() + self.settings.grant_timeout
        while status == 202:
            location = headers.get("Location")
            if not location:
                raise GrantError("the NFVO answered 202 without a Location to poll")
            if time.monotonic() > deadline_at:
                raise GrantError(f"the NFVO did not decide within {self.settings.grant_timeout} s")
            time.sleep(float(headers.get("Retry-After") or 1))
            url = location if location.startswith("http") else f"{self.url}{location}"
            status, headers, body = self._call(http, "GET", url, None)
        if status in (200, 201) and isinstance(body, dict) and body.get("id"):
            return Grant(id=str(body["id"]), doc=body)
        if 400 <= status < 500:
            reason = body.get("detail") or body.get("title") if isinstance(body, dict) else None
            raise GrantRefused(str(reason or f"the NFVO refused the grant (HTTP {status})"))
        raise GrantError(f"unexpected answer from the NFVO: HTTP {status}")

    def _auth(self, http: httpx.Client) -> dict[str, str]:
        s = self.settings
        if s.nfvo_token_url and s.nfvo_client_id:
            if self._token is None or self._token[1] < time.monotonic():
                self._token = self._fetch_token(http, s.nfvo_token_url)
            return {"Authorization": f"Bearer {self._token[0]}"}
        if s.nfvo_user:
            pair = f"{s.nfvo_user}:{s.nfvo_password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        return {}

    def _fetch_token(self, http: httpx.Client, url: str) -> tuple[str, float]:
        s = self.settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.nfvo_client_id or "",
            "client_secret": s.nfvo_client_secret or "",
        }
        try:
            with deadline(TOKEN_TIMEOUT):
                resp = http.post(url, data=form)
        except OutboundError as exc:
            raise GrantRefused(f"VNFM_NFVO_TOKEN_URL: {exc}") from None
        except httpx.HTTPError as exc:
            raise GrantError(
                f"no token from the NFVO's token endpoint ({type(exc).__name__})"
            ) from None
        try:
            if resp.status_code != 200:
                raise ValueError(resp.status_code)
            token = resp.json()
            return (
                str(token["access_token"]),
                time.monotonic() + float(token.get("expires_in", 300)) - 10,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise GrantError(
                f"no token from the NFVO's token endpoint (HTTP {resp.status_code})"
            ) from None

    def _call(
        self, http: httpx.Client, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, Mapping[str, str], Any]:
        headers = {"Accept": "application/json", "Version": "1.5.0", **self._auth(http)}
        try:
            with deadline(CALL_TIMEOUT):
                resp = http.request(method, url, json=body, headers=headers)
        except OutboundError as exc:
            # the VNFM's own settings forbid the address: asking again cannot help
            where = "VNFM_NFVO_URL" if url.startswith(self.url) else "the NFVO's Location"
            raise GrantRefused(f"{where}: {exc}") from None
        except httpx.InvalidURL:
            raise GrantRefused("the NFVO's address is not a valid URI") from None
        except httpx.HTTPError as exc:
            raise GrantError(f"cannot reach the NFVO at {url}: {type(exc).__name__}") from None
        try:
            parsed = resp.json() if resp.content else {}
        except ValueError:
            parsed = {"detail": resp.text[:500]} if resp.status_code >= 400 else None
        return resp.status_code, resp.headers, parsed
