"""``vnfm serve``: the SOL003 / SOL005 HTTP API over the same store as the CLI."""

from __future__ import annotations

import os

import click

from vnfm_runner.cli.output import invalid


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9890, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", type=int, default=None, help="Operations run at once (VNFM_WORKERS).")
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
def serve(host: str, port: int, workers: int | None, log_level: str) -> None:
    """Serve the ETSI NFV-SOL 003 VNF LCM API (/vnflcm/v2) and VNF packages (/vnfpkgm/v1).

    Credentials: VNFM_API_USER/VNFM_API_PASSWORD (HTTP Basic), VNFM_OAUTH_CLIENTS
    (id:secret,... for POST /oauth2/token), or VNFM_API_ANONYMOUS=true. TLS when
    VNFM_TLS_CERT and VNFM_TLS_KEY are set.
    """
    import uvicorn

    from vnfm_runner.api import create_app
    from vnfm_runner.api.config import ApiSettings

    settings = ApiSettings() if workers is None else ApiSettings(workers=workers)
    if bool(settings.tls_cert) != bool(settings.tls_key):
        invalid("error: set both VNFM_TLS_CERT and VNFM_TLS_KEY, or neither")
    if not (
        settings.api_anonymous
        or (settings.api_user and settings.api_password)
        or settings.oauth_client_map()
    ):
        click.echo(
            "warning: no credentials configured (VNFM_API_USER/VNFM_API_PASSWORD or "
            "VNFM_OAUTH_CLIENTS): every request will get 401",
            err=True,
        )
    # where the embedded Prometheus scrapes /metrics and Alertmanager posts its alerts
    here = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    os.environ.setdefault(
        "VNFM_SELF_ADDRESS", f"[{here}]:{port}" if ":" in here else f"{here}:{port}"
    )
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        proxy_headers=False,
    )
