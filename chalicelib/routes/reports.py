"""The weekly service report: JSON, CSV or a page with charts."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.routes.edge import Area

bp = Area(__name__)


def render_report(figures: dict[str, Any]) -> tuple[str, str, str]:
    from chalicelib.channels import report_views

    return (
        report_views.as_text(figures),
        report_views.as_html(figures),
        report_views.as_csv(figures),
    )


@bp.route("/reports/weekly/{week}", methods=["GET"])
def weekly_report(week: str) -> Any:
    """JSON; CSV with `Accept: text/csv`; a page with charts at `/reports/weekly/<week>.html`."""
    from chalicelib.domain import reports

    bp.actor("manager")
    page = week.endswith(".html")
    figures = reports.weekly(bp.deps, week.removesuffix(".html"))
    if page:
        return Response(
            body=render_report(figures)[1], headers={"Content-Type": "text/html; charset=utf-8"}
        )
    if "text/csv" in (bp.current_request.headers.get("accept") or ""):
        return _csv(figures)
    return figures


def _csv(figures: dict[str, Any]) -> Response:
    name = f"service-report-{figures['week']}.csv"
    return Response(
        body=render_report(figures)[2],
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


@bp.route("/reports/weekly/{week}/cases", methods=["GET"])
def report_cases(week: str) -> dict[str, Any]:
    """The case ids behind a headline figure: `?figure=service_level_text`, ..."""
    from chalicelib.domain import reports

    bp.actor("manager")
    figure = bp.query("figure") or ""
    return {"week": week, "figure": figure, "cases": reports.cases_behind(bp.deps, week, figure)}


@bp.route("/reports/weekly/{week}/export", methods=["GET"])
def report_export(week: str) -> Response:
    """One row per case opened in the week: ids, times, outcome, rating, risk, queue,
    practitioner; never a number, an address or a message."""
    from chalicelib.channels import report_views
    from chalicelib.domain import reports

    bp.actor("manager")
    return Response(
        body=report_views.export_csv(reports.export_rows(bp.deps, week)),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="cases-{week}.csv"',
        },
    )
