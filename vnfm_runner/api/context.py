"""What every route shares: settings, the services, the worker pools, the page cache.

Built by the app factory (the composition root) and put on ``app.state.ctx``;
routes receive its parts through the dependencies of deps.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from vnfm_runner.api.auth import Authenticator
from vnfm_runner.api.config import ApiSettings
from vnfm_runner.api.listing import PageCache
from vnfm_runner.api.problems import ApiProblem, problem_response
from vnfm_runner.engine import QueueFull
from vnfm_runner.lcm import Vnfm
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.pkgm import PackageService
from vnfm_runner.secrets import redact

log = logging.getLogger("vnfm.api")


@dataclass
class ApiContext:
    settings: ApiSettings
    service: Vnfm  # LCM
    packages: PackageService  # SOL005 package management
    registry: SubscriptionRegistry
    pool: ThreadPoolExecutor  # runs operations (VNFM_WORKERS at once)
    auth: Authenticator
    pages: PageCache  # list pages, built once per change of the store
    # package downloads and onboardings; without one they share ``pool``
    package_pool: ThreadPoolExecutor | None = None

    def background(self, what: str, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run package work in its pool; a failure is logged (type only: no request data)."""
        return _submit(self.package_pool or self.pool, what, fn, *args)

    def run_operation(self, op_id: str, mode: str) -> None:
        """The service's ``submit``: carry an operation forward in the operations' pool."""
        what = f"operation {op_id} ({mode})"
        _submit(self.pool, what, lambda: self.service.execute(op_id, mode=mode))

    def close(self) -> None:
        """Stop at shutdown: operations still queued are never started (their leases
        run out and the next recovery rolls them back)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self.package_pool is not None:
            self.package_pool.shutdown(wait=False, cancel_futures=True)
        if self.service.queue is not None:
            self.service.queue.stop()


def _submit(pool: ThreadPoolExecutor, what: str, fn: Callable[..., Any], *args: Any) -> Future[Any]:
    def run() -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            log.error("%s failed: %s", what, type(exc).__name__)
            raise

    return pool.submit(run)


async def queue_full(_request: Request, exc: Exception) -> Response:
    """503 with Retry-After: the server takes no more operations for now."""
    if not isinstance(exc, QueueFull):  # registered for QueueFull only
        raise exc
    return problem_response(503, str(exc), headers={"Retry-After": str(exc.retry_after)})


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def respond(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON response; secret-named values never leave (belt and braces over the service)."""
    return JSONResponse(redact(doc), status_code=status, headers=headers)


async def merge_patch(request: Request) -> None:
    """PATCH bodies are JSON merge patches (checked before the body is read)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/merge-patch+json", "application/json"):
        raise ApiProblem(415, "PATCH takes application/merge-patch+json")
