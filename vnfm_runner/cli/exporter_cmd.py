"""``vnfm exporter --listen HOST:PORT [--endpoints FILE]``: the VNFC metrics exporter.

``vnfm serve`` starts it by itself beside its embedded Prometheus; this command runs
it alone (for an operator's own Prometheus). See ``assurance/exporter.py``.
"""

from __future__ import annotations

from pathlib import Path

import click

from vnfm_runner.cli.output import ExitCode, fail


@click.command("exporter")
@click.option(
    "--listen", default="127.0.0.1:9577", show_default=True, help="HOST:PORT to serve on."
)
@click.option(
    "--endpoints",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Application metric endpoints (JSON, as vnfm serve writes them).",
)
def exporter(listen: str, endpoints: Path | None) -> None:
    """Serve the CPU, memory, CP and application metrics of the local VIM's VNFCs."""
    from vnfm_runner.assurance.exporter import parse_listen, serve

    try:
        parse_listen(listen)
    except ValueError as exc:
        fail(str(exc), ExitCode.INVALID)
    serve(listen, endpoints)
