"""The FastAPI application: ``create_app(settings, service=None)``.

Nothing is built at import time: the factory makes the service (or takes one),
the worker pool operations run in, the routers and the security around them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vnfm_runner.api import auth as auth_mod
from vnfm_runner.api import packages, pkgm_subscriptions, problems, subscriptions, vnflcm
from vnfm_runner.api.config import ApiSettings, api_settings
from vnfm_runner.api.context import ApiContext
from vnfm_runner.api.metrics import Metrics
from vnfm_runner.lcm import Vnfm
from vnfm_runner.notify.config import NotifySettings
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.notify.worker import DeliveryWorker
from vnfm_runner.secrets import SecretBox
from vnfm_runner.settings import Settings

log = logging.getLogger("vnfm.api")
RECOVER_EVERY = 30.0  # seconds between looks for operations whose engine died

_basic = HTTPBasic(auto_error=False, realm="vnfm")
_bearer = HTTPBearer(auto_error=False)


def create_app(settings: Settings | None = None, service: Vnfm | None = None) -> FastAPI:
    cfg: ApiSettings = api_settings(settings)
    pool = ThreadPoolExecutor(max_workers=max(1, cfg.workers), thread_name_prefix="vnfm-op")
    holder: list[ApiContext] = []

    def submit(op_id: str, mode: str) -> None:
        holder[0].run_operation(op_id, mode)

    svc = service or Vnfm(cfg, submit=submit, recover_now=False)
    if svc.submit is None:
        svc.submit = submit
    authenticator = auth_mod.Authenticator(cfg)
    ctx = ApiContext(settings=cfg, service=svc, pool=pool, auth=authenticator)
    holder.append(ctx)
    metrics = Metrics(svc.store)
    svc.listeners.append(metrics.on_change)
    registry = SubscriptionRegistry(svc.store, SecretBox(cfg.home))
    # Notifications are written by the store in the transaction of each change, by
    # whichever process makes it (this server, the CLI, ...); this worker sends them.
    notifier = DeliveryWorker(svc.store, registry, NotifySettings(), registry=metrics.registry)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        def recover_loop() -> None:
            while not stop.wait(RECOVER_EVERY):
                try:
                    svc.recover()
                except Exception as exc:
                    log.warning("recovery pass failed: %s", type(exc).__name__)

        try:  # now that the listeners are in place, recoveries are notified too
            svc.recover()
        except Exception as exc:
            log.warning("recovery pass failed: %s", type(exc).__name__)
        thread = threading.Thread(target=recover_loop, name="vnfm-recover", daemon=True)
        thread.start()
        notifier.start()
        try:
            yield
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            notifier.stop()

    app = FastAPI(
        title="vnfm-toolkit VNFM",
        version=vnflcm.API_VERSION,
        description="ETSI NFV-SOL 003 VNF LCM v2 and SOL005-style VNF package management.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.subscriptions = registry
    app.state.metrics = metrics
    app.state.notifier = notifier
    problems.install(app)

    # async: the check is a few comparisons (no password hashing: the configured
    # secret is compared in constant time), so it runs on the event loop instead of
    # costing every request a hop to the thread pool.
    async def require_auth(
        request: Request,
        _basic_creds: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
        _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        return authenticator.check(request)

    app.include_router(auth_mod.router(authenticator))
    app.include_router(vnflcm.router(ctx, require_auth))
    app.include_router(subscriptions.router(ctx, registry, require_auth))
    app.include_router(pkgm_subscriptions.router(ctx, registry, require_auth))
    app.include_router(packages.router(ctx, require_auth))

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint(request: Request) -> Response:
        if not cfg.api_metrics_public:
            authenticator.check(request)
        return metrics.render()

    app.add_middleware(ApiMiddleware, metrics=metrics)
    return app


class ApiMiddleware:
    """Plain ASGI (cheaper than BaseHTTPMiddleware): the ``Version`` header of SOL013 —
    checked on requests, set on responses — and the request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = str(scope["path"])
        version = None
        if path.startswith("/vnflcm"):
            version = vnflcm.API_VERSION
        elif path.startswith("/vnfpkgm"):
            version = packages.VERSION
        status = 500

        async def send_with_version(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                if version:
                    MutableHeaders(scope=message)["Version"] = version
            await send(message)

        try:
            asked = Headers(scope=scope).get("version")
            if version and asked and asked.split(".")[0] != version.split(".")[0]:
                response = problems.problem_response(
                    406, f"API version {asked} is not supported here (this is {version})"
                )
                await response(scope, receive, send_with_version)
            else:
                await self.app(scope, receive, send_with_version)
        finally:
            self.metrics.observe_request(
                str(scope.get("method", "")), scope, status, time.perf_counter() - started
            )
