"""What every route shares: settings, the service, the worker pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from vnfm_runner.api.auth import Authenticator
from vnfm_runner.api.config import ApiSettings
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.lcm import Vnfm
from vnfm_runner.secrets import redact

log = logging.getLogger("vnfm.api")


@dataclass
class ApiContext:
    settings: ApiSettings
    service: Vnfm
    pool: ThreadPoolExecutor
    auth: Authenticator

    def background(self, what: str, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run fn in the worker pool; a failure is logged (type only: no request data)."""

        def run() -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                log.error("%s failed: %s", what, type(exc).__name__)
                raise

        return self.pool.submit(run)

    def run_operation(self, op_id: str, mode: str) -> None:
        """The service's ``submit``: carry an operation forward in the pool."""
        self.background(
            f"operation {op_id} ({mode})", lambda: self.service.execute(op_id, mode=mode)
        )


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def respond(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response; secret-named values never leave (belt and braces over the service)."""
    return JSONResponse(redact(doc), status_code=status, headers=headers)


def merge_patch(request: Request) -> None:
    """PATCH bodies are JSON merge patches (checked before the body is read)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/merge-patch+json", "application/json"):
        raise ApiProblem(415, "PATCH takes application/merge-patch+json")
