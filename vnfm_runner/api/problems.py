"""ProblemDetails (RFC 7807 / SOL013 6.3) for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from vnfm_runner.core import PackageError
from vnfm_runner.errors import LcmError
from vnfm_runner.nospace import NO_SPACE_DETAIL, is_no_space

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("vnfm.api")


class ApiProblem(Exception):
    """Raise anywhere in a route: becomes a ProblemDetails response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _title(status)
        self.headers = headers or {}
        self.extra = extra


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_doc(status: int, detail: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _title(status),
        "status": status,
        "detail": detail,
    }
    doc.update(extra)
    return doc


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    return JSONResponse(
        problem_doc(status, detail, title, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "extVirtualLinks", 0, "id")`` -> ``extVirtualLinks[0].id``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def validation_detail(errors: Sequence[Any]) -> tuple[str, list[dict[str, str]]]:
    """A one-line detail naming every bad field, and the list (never the input values:
    they may hold credentials)."""
    items = []
    for err in errors:
        loc = err.get("loc", ()) if isinstance(err, dict) else ()
        msg = err.get("msg", "invalid") if isinstance(err, dict) else str(err)
        if isinstance(err, dict) and err.get("type") == "json_invalid":
            msg = "the body is not valid JSON"
        items.append({"field": field_name(loc), "message": str(msg)})
    detail = "; ".join(f"{i['field']}: {i['message']}" for i in items) or "invalid request"
    return detail, items


def install(app: FastAPI) -> None:
    """Every error, whatever raised it, leaves as application/problem+json."""

    @app.exception_handler(ApiProblem)
    async def _api_problem(_request: Request, exc: ApiProblem) -> Response:
        return problem_response(
            exc.status, exc.detail, title=exc.title, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(LcmError)
    async def _lcm_error(_request: Request, exc: LcmError) -> Response:
        return problem_response(exc.status, str(exc))

    @app.exception_handler(PackageError)
    async def _package_error(_request: Request, exc: PackageError) -> Response:
        problems = [str(p) for p in exc.problems]
        return problem_response(422, "; ".join(problems), problems=problems)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        detail, items = validation_detail(exc.errors())
        return problem_response(400, detail, invalidParams=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
        return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        if is_no_space(exc):  # the VNFM's disk, not a bug: SOL013 507
            return problem_response(507, NO_SPACE_DETAIL)
        log.error(
            "internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return problem_response(500, f"internal error ({type(exc).__name__})")
