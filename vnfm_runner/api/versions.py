"""The ``api_versions`` resources of an interface: ``{root}/api_versions`` (every major
version) and ``{prefix}/api_versions`` (the one served)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from vnfm_runner.api import schemas
from vnfm_runner.api.context import respond


def api_versions(prefix: str, version: str) -> dict[str, Any]:
    return {"uriPrefix": prefix, "apiVersions": [{"version": version, "isDeprecated": False}]}


def add_version_routes(
    api: APIRouter, root: str, prefix: str, version: str, headers: dict[str, str] | None = None
) -> None:
    """GET ``{root}/api_versions`` and ``{prefix}/api_versions`` (``/vnflcm``, ``/vnflcm/v2``)."""

    @api.get(
        f"{root}/api_versions",
        summary=f"API versions of {root}",
        response_model=schemas.ApiVersionInformation,
    )
    async def versions_root() -> Response:
        return respond(api_versions(root, version), 200, headers)

    @api.get(
        f"{prefix}/api_versions",
        summary=f"API versions of {prefix}",
        response_model=schemas.ApiVersionInformation,
        name=f"versions_{prefix.rsplit('/', 1)[-1]}",  # versions_v2: the operationId as before
    )
    async def versions_major() -> Response:
        return respond(api_versions(prefix, version), 200, headers)
