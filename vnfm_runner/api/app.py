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

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vnfm_runner.api import (
    alertmanager,
    edge,
    listing,
    pkgm_subscriptions,
    problems,
    subscriptions,
    vnffm,
    vnfind,
    vnflcm,
    vnfpm,
)
from vnfm_runner.api import auth as auth_mod
from vnfm_runner.api import packages as packages_api
from vnfm_runner.api.config import ApiSettings, api_settings
from vnfm_runner.api.context import ApiContext, queue_full
from vnfm_runner.api.metrics import Metrics
from vnfm_runner.assurance.alarms import AlarmService
from vnfm_runner.assurance.loop import AssuranceSettings, ClosedLoop
from vnfm_runner.bootstrap import SystemClock
from vnfm_runner.engine import OperationQueue, QueueFull
from vnfm_runner.lcm import Vnfm
from vnfm_runner.notify.config import NotifySettings
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.notify.worker import DeliveryWorker
from vnfm_runner.pkgm import PackageService
from vnfm_runner.secrets import SecretBox
from vnfm_runner.settings import Settings
from vnfm_runner.store.stamp import change_stamp

log = logging.getLogger("vnfm.api")
RECOVER_EVERY = 30.0  # seconds between looks for operations whose engine died


def create_app(settings: Settings | None = None, service: Vnfm | None = None) -> FastAPI:
    """The composition root of the server: settings, services, pools, the page cache,
    put on ``app.state.ctx`` for the routes' dependencies (deps.py). Nothing runs
    here: recovery, adoption of older packages and the notification worker start
    with the app (lifespan)."""
    cfg: ApiSettings = api_settings(settings)
    pool = ThreadPoolExecutor(max_workers=max(1, cfg.workers), thread_name_prefix="vnfm-op")
    # downloads and onboardings on threads of their own: never in the operations' way
    package_pool = ThreadPoolExecutor(cfg.package_workers, thread_name_prefix="vnfm-package")
    holder: list[ApiContext] = []

    def submit(op_id: str, mode: str) -> None:
        holder[0].run_operation(op_id, mode)

    svc = service or Vnfm.open(cfg, submit=submit, recover=False)
    if svc.submit is None:
        svc.submit = submit
    if svc.queue is None:
        svc.queue = OperationQueue(svc.store, cfg.queue_depth, svc.lease_ttl)
    authenticator = auth_mod.Authenticator(cfg)
    registry = SubscriptionRegistry(svc.store, SecretBox(cfg.home))
    packages = PackageService(
        store=svc.store,
        onboarder=svc,
        uploads=cfg.api_dir / "uploads",
        max_package_mb=cfg.api_max_package_mb,
    )
    stamp = change_stamp(svc.store)
    ctx = ApiContext(
        settings=cfg,
        service=svc,
        packages=packages,
        registry=registry,
        pool=pool,
        auth=authenticator,
        pages=listing.PageCache(stamp),
        package_pool=package_pool,
    )
    holder.append(ctx)
    metrics = Metrics(svc.store)
    svc.listeners.append(metrics.on_change)
    # Notifications are written by the store in the transaction of each change, by
    # whichever process makes it (this server, the CLI, ...); this worker sends them.
    notifier = DeliveryWorker(svc.store, registry, NotifySettings(), registry=metrics.registry)
    # The closed loop (docs/assurance.md): alarms, the embedded Prometheus/Alertmanager and
    # the watcher, started with the app (VNFM_WATCH=false, VNFM_MONITORING=false turn off).
    alarms = AlarmService(svc.store, SystemClock())
    loop = ClosedLoop(
        AssuranceSettings(), home=cfg.home, service=svc, alarms=alarms, registry=metrics.registry
    )
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        def recover_loop() -> None:
            # a dead engine's operations are moved on within two leases of its death
            while not stop.wait(min(RECOVER_EVERY, cfg.lease_ttl)):
                try:
                    svc.recover()
                except Exception as exc:
                    log.warning("recovery pass failed: %s", type(exc).__name__)

        try:  # now that the listeners are in place, recoveries are notified too
            svc.recover()
        except Exception as exc:
            log.warning("recovery pass failed: %s", type(exc).__name__)
        try:  # packages onboarded before VnfPkgInfo existed: listed from now on
            packages.adopt()
        except Exception as exc:
            log.warning("adopting older packages failed: %s", type(exc).__name__)
        thread = threading.Thread(target=recover_loop, name="vnfm-recover", daemon=True)
        thread.start()
        notifier.start()
        loop.start()
        try:
            yield
        finally:
            stop.set()
            loop.stop()
            ctx.close()
            notifier.stop()
            if stamp is not None:
                stamp.close()

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
    app.state.alarms = alarms
    app.state.loop = loop  # loop.webhook_token: what Alertmanager presents to the webhook
    problems.install(app)
    app.add_exception_handler(QueueFull, queue_full)
    for module in (auth_mod, vnflcm, subscriptions, pkgm_subscriptions, packages_api):
        app.include_router(module.router)
    app.include_router(vnffm.router)
    app.include_router(vnfind.router)
    app.include_router(vnfpm.router)
    app.include_router(alertmanager.router)  # its own bearer token: public to the edge

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint(request: Request) -> Response:
        if not cfg.api_metrics_public:
            authenticator.check(request)
        return metrics.render()

    # Inside ApiMiddleware (added last, so outermost): its refusals are counted too.
    docs = (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    public = {"/oauth2/token", alertmanager.PATH, *(p for p in docs if p)}
    if cfg.api_metrics_public:
        public.add("/metrics")
    app.add_middleware(
        edge.EdgeMiddleware,
        authenticator=authenticator,
        settings=cfg,
        public=public,
    )
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
            version = packages_api.VERSION
        elif path.startswith("/vnffm"):
            version = vnffm.API_VERSION
        elif path.startswith("/vnfind"):
            version = vnfind.API_VERSION
        elif path.startswith("/vnfpm"):
            version = vnfpm.API_VERSION
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
