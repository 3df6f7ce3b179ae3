"""``vnfm pm job|threshold|report``: SOL003 performance management from the command line.

The same records and checks as ``/vnfpm/v2`` (the PmService, on the store of
``VNFM_HOME`` / ``VNFM_DATABASE_URL``); collection, reports and notifications are the
work of ``vnfm serve`` on that store. A callbackUri is checked against the outbound
address policy (the API also makes its test GET; the operator is trusted here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from vnfm_runner.cli.output import FORMATS, RESULT_FORMATS, console, emit, fail_on, table
from vnfm_runner.errors import LcmError

if TYPE_CHECKING:
    from vnfm_runner.assurance.pm import PmService

OBJECT_TYPES = click.Choice(["Vnf", "Vnfc", "VnfIntCp", "VnfExtCp"])


def service() -> PmService:
    from vnfm_runner.assurance.pm import PmService
    from vnfm_runner.bootstrap import open_store
    from vnfm_runner.secrets import SecretBox
    from vnfm_runner.settings import Settings

    settings = Settings()
    return PmService(open_store(settings.db_url), SecretBox(settings.home))


def _callback(uri: str) -> None:
    from vnfm_runner.outbound import OutboundError, Policy
    from vnfm_runner.settings import Settings

    try:
        Policy.from_settings(Settings()).check_uri(uri)
    except OutboundError as exc:
        fail_on(LcmError(f"callbackUri: {exc}", exc.status))


def _done(doc: dict[str, Any], fmt: str, line: str) -> None:
    if fmt in ("json", "yaml"):
        emit(doc, fmt)
    else:
        click.echo(line)


@click.group("pm")
def pm_group() -> None:
    """Performance management (SOL003 vnfpm): PM jobs, their reports, thresholds."""


# -- jobs -------------------------------------------------------------------------------------
@pm_group.group("job")
def job_group() -> None:
    """PM jobs: what is collected, how often it is reported, to whom."""


@job_group.command("create")
@click.option("--object-type", type=OBJECT_TYPES, required=True)
@click.option("--instance", "instances", multiple=True, required=True, help="VNF instance id.")
@click.option("--sub", "subs", multiple=True, help="VNFC or CP instance id (one --instance).")
@click.option("--metric", "metrics", multiple=True, help="IFA 027 metric, e.g. VCpuUsageMeanVnf.")
@click.option("--group", "groups", multiple=True, help="e.g. VirtualisedComputeResource.")
@click.option("--collection-period", type=int, required=True, help="Seconds.")
@click.option("--reporting-period", type=int, required=True, help="Seconds (a multiple).")
@click.option("--reporting-boundary", default=None, help="Date-time after which reporting stops.")
@click.option("--callback", required=True, help="callbackUri of the notifications.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def job_create(
    object_type: str,
    instances: tuple[str, ...],
    subs: tuple[str, ...],
    metrics: tuple[str, ...],
    groups: tuple[str, ...],
    collection_period: int,
    reporting_period: int,
    reporting_boundary: str | None,
    callback: str,
    fmt: str,
) -> None:
    """Create a PM job (CreatePmJobRequest)."""
    criteria: dict[str, Any] = {
        "collectionPeriod": collection_period,
        "reportingPeriod": reporting_period,
    }
    if metrics:
        criteria["performanceMetric"] = list(metrics)
    if groups:
        criteria["performanceMetricGroup"] = list(groups)
    if reporting_boundary:
        criteria["reportingBoundary"] = reporting_boundary
    request: dict[str, Any] = {
        "objectType": object_type,
        "objectInstanceIds": list(instances),
        "criteria": criteria,
        "callbackUri": callback,
    }
    if subs:
        request["subObjectInstanceIds"] = list(subs)
    try:
        from vnfm_runner.assurance.pm import check_job

        check_job(request)
        _callback(callback)
        doc = service().create_job(request)
    except LcmError as exc:
        fail_on(exc)
    _done(doc, fmt, f"PM job {doc['id']} created")


@job_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def job_list(fmt: str) -> None:
    """List PM jobs, oldest first."""
    jobs = service().jobs()
    if fmt != "table":
        emit(jobs, fmt)
        return
    rows = [
        [
            j["id"],
            j["objectType"],
            " ".join(j["objectInstanceIds"]),
            " ".join(
                j["criteria"].get("performanceMetric", [])
                + j["criteria"].get("performanceMetricGroup", [])
            ),
            f"{j['criteria']['collectionPeriod']}/{j['criteria']['reportingPeriod']} s",
            str(len(j.get("reports") or [])),
        ]
        for j in jobs
    ]
    headers = ["id", "object type", "instances", "metrics", "collect/report", "reports"]
    console().print(table("PM jobs", headers, rows))


@job_group.command("show")
@click.argument("job_id")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def job_show(job_id: str, fmt: str) -> None:
    """Show a PM job (SOL003 PmJob, with its reports' links)."""
    try:
        emit(service().job(job_id), fmt)
    except LcmError as exc:
        fail_on(exc)


@job_group.command("update")
@click.argument("job_id")
@click.option("--callback", required=True, help="The new callbackUri.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def job_update(job_id: str, callback: str, fmt: str) -> None:
    """Change a PM job's callbackUri (PmJobModifications)."""
    try:
        _callback(callback)
        done = service().update_job(job_id, {"callbackUri": callback})
    except LcmError as exc:
        fail_on(exc)
    _done(done, fmt, f"PM job {job_id}: callbackUri {callback}")


@job_group.command("delete")
@click.argument("job_id")
def job_delete(job_id: str) -> None:
    """Delete a PM job and its reports."""
    try:
        service().delete_job(job_id)
    except LcmError as exc:
        fail_on(exc)
    click.echo(f"PM job {job_id} deleted")


# -- reports ----------------------------------------------------------------------------------
@pm_group.group("report")
def report_group() -> None:
    """Performance reports of PM jobs."""


@report_group.command("show")
@click.argument("job_id")
@click.argument("report_id")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def report_show(job_id: str, report_id: str, fmt: str) -> None:
    """Show a performance report (SOL003 PerformanceReport)."""
    try:
        emit(service().report(job_id, report_id), fmt)
    except LcmError as exc:
        fail_on(exc)


# -- thresholds -------------------------------------------------------------------------------
@pm_group.group("threshold")
def threshold_group() -> None:
    """Thresholds: a notification when a metric crosses a value (with hysteresis)."""


@threshold_group.command("create")
@click.option("--object-type", type=OBJECT_TYPES, required=True)
@click.option("--instance", required=True, help="VNF instance id.")
@click.option("--sub", "subs", multiple=True, help="VNFC or CP instance id.")
@click.option("--metric", required=True, help="IFA 027 metric, e.g. VCpuUsageMeanVnf.")
@click.option("--value", type=float, required=True, help="thresholdValue.")
@click.option("--hysteresis", type=float, default=0.0, show_default=True)
@click.option("--callback", required=True, help="callbackUri of the notifications.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def threshold_create(
    object_type: str,
    instance: str,
    subs: tuple[str, ...],
    metric: str,
    value: float,
    hysteresis: float,
    callback: str,
    fmt: str,
) -> None:
    """Create a SIMPLE threshold (CreateThresholdRequest)."""
    request: dict[str, Any] = {
        "objectType": object_type,
        "objectInstanceId": instance,
        "criteria": {
            "performanceMetric": metric,
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": {"thresholdValue": value, "hysteresis": hysteresis},
        },
        "callbackUri": callback,
    }
    if subs:
        request["subObjectInstanceIds"] = list(subs)
    try:
        from vnfm_runner.assurance.pm import check_threshold

        check_threshold(request)
        _callback(callback)
        doc = service().create_threshold(request)
    except LcmError as exc:
        fail_on(exc)
    _done(doc, fmt, f"threshold {doc['id']} created")


@threshold_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def threshold_list(fmt: str) -> None:
    """List thresholds, oldest first."""
    found = service().thresholds()
    if fmt != "table":
        emit(found, fmt)
        return
    rows = []
    for t in found:
        details = t["criteria"]["simpleThresholdDetails"]
        rows.append(
            [
                t["id"],
                t["objectType"],
                t["objectInstanceId"],
                t["criteria"]["performanceMetric"],
                f"{details['thresholdValue']} ± {details['hysteresis']}",
            ]
        )
    headers = ["id", "object type", "instance", "metric", "value ± hysteresis"]
    console().print(table("Thresholds", headers, rows))


@threshold_group.command("show")
@click.argument("threshold_id")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def threshold_show(threshold_id: str, fmt: str) -> None:
    """Show a threshold (SOL003 Threshold)."""
    try:
        emit(service().threshold(threshold_id), fmt)
    except LcmError as exc:
        fail_on(exc)


@threshold_group.command("update")
@click.argument("threshold_id")
@click.option("--callback", required=True, help="The new callbackUri.")
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
def threshold_update(threshold_id: str, callback: str, fmt: str) -> None:
    """Change a threshold's callbackUri (ThresholdModifications)."""
    try:
        _callback(callback)
        done = service().update_threshold(threshold_id, {"callbackUri": callback})
    except LcmError as exc:
        fail_on(exc)
    _done(done, fmt, f"threshold {threshold_id}: callbackUri {callback}")


@threshold_group.command("delete")
@click.argument("threshold_id")
def threshold_delete(threshold_id: str) -> None:
    """Delete a threshold."""
    try:
        service().delete_threshold(threshold_id)
    except LcmError as exc:
        fail_on(exc)
    click.echo(f"threshold {threshold_id} deleted")
