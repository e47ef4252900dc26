"""Analytics for staff: the summary API, the CSV report, the page with its charts, a print view."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError
from quart import Blueprint, Response, render_template, request
from quart.typing import ResponseReturnValue
from quart_schema import document_response, tag, validate_querystring

from ..api.openapi import QUERY, SIGNED_IN, STAFF, CsvFile, errors
from ..domain.access import require_staff
from ..errors import NotFound
from ..models import Category, User
from ..schemas import UserOut
from ..web.context import json_response, services
from ..web.sessions import require_account
from . import charts
from .queries import MAX_DAYS, Window
from .report import report_csv

blueprint = Blueprint("analytics", __name__)
CHART_SECURITY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class AnalyticsQuery(BaseModel):
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 30
    category: Category | None = None

    def window(self) -> Window:
        return Window(self.days, self.category)

    def args(self) -> dict[str, Any]:
        """As query-string arguments for links to the same view."""
        return {"days": self.days, **({"category": self.category.value} if self.category else {})}


class DayCount(BaseModel):
    date: date
    count: int


class Percentiles(BaseModel):
    median: float | None
    p90: float | None


class AgeBucket(BaseModel):
    bucket: str
    count: int


class LocationLoad(BaseModel):
    location: str
    open: int
    active: int


class StaffLoad(BaseModel):
    user: UserOut
    active: int
    closed_in_window: int


class KnownIssueFigures(BaseModel):
    id: int
    public_title: str
    affected_count: int
    duplicates_merged: int
    seconds_to_publish: int = Field(description="from its first report to being published")


class KnownIssuesOut(BaseModel):
    published: int = Field(description="known issues published in the window")
    affected_people: int
    duplicates_merged: int
    seconds_to_publish: Percentiles
    top: list[KnownIssueFigures] = Field(description="the ten affecting most people")


class WindowOut(BaseModel):
    days: int
    category: Category | None
    start: str


class SummaryOut(BaseModel):
    window: WindowOut
    by_status: dict[str, int]
    by_category: dict[str, int]
    backlog_by_category: dict[str, int]
    opened_per_day: list[DayCount]
    closed_per_day: list[DayCount]
    first_response_seconds: Percentiles
    resolution_seconds: Percentiles
    backlog_age: list[AgeBucket]
    top_locations: list[LocationLoad]
    staff_load: list[StaffLoad]
    known_issues: KnownIssuesOut
    generated_at: str


async def _staff() -> User:
    user = await require_account()
    require_staff(user)
    return user


def _query_from_args() -> AnalyticsQuery:
    """Pages take the same parameters as the API; a bad one falls back to its own default,
    leaving the others as chosen."""
    given = request.args.to_dict()
    try:
        return AnalyticsQuery.model_validate(given)
    except ValidationError as error:
        bad = {item["loc"][0] for item in error.errors()}
        return AnalyticsQuery.model_validate(
            {name: value for name, value in given.items() if name not in bad}
        )


@blueprint.get("/api/v1/analytics/summary")
@tag(["analytics"])
@validate_querystring(AnalyticsQuery)
@document_response(SummaryOut, 200)
@errors(QUERY, SIGNED_IN, STAFF)
async def get_summary(query_args: AnalyticsQuery) -> Response:
    """Backlog, flow per day, response and resolution times, waiting ages, busiest buildings,
    staff load: over the last `days` days (UTC), optionally for one category."""
    await _staff()
    return json_response(await services().analytics.summary(query_args.window()))


@blueprint.get("/api/v1/analytics/report.csv")
@tag(["analytics"])
@validate_querystring(AnalyticsQuery)
@document_response(CsvFile, 200)
@errors(QUERY, SIGNED_IN, STAFF)
async def get_report_csv(query_args: AnalyticsQuery) -> ResponseReturnValue:
    """Every ticket opened in the window, with its first-response and resolution times."""
    await _staff()
    query = query_args
    name = (
        f"helpdesk-report-{query.days}d{'-' + query.category.value if query.category else ''}.csv"
    )
    return Response(
        report_csv(query.window()),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@blueprint.get("/analytics")
async def page() -> ResponseReturnValue:
    await _staff()
    query = _query_from_args()
    summary = await services().analytics.summary(query.window())
    return await render_template(
        "analytics.html",
        summary=summary,
        query=query,
        args=query.args(),
        charts=charts.CHARTS,
        categories=charts.CATEGORY_LABELS,
    )


@blueprint.get("/analytics/report")
async def printable_report() -> ResponseReturnValue:
    await _staff()
    query = _query_from_args()
    summary = await services().analytics.summary(query.window())
    return await render_template(
        "analytics_report.html",
        summary=summary,
        query=query,
        args=query.args(),
        charts=charts.CHARTS,
        categories=charts.CATEGORY_LABELS,
    )


@blueprint.get("/analytics/charts/<name>.svg")
async def chart(name: str) -> ResponseReturnValue:
    await _staff()
    if name not in charts.CHARTS:
        raise NotFound("no such chart")
    summary: dict[str, Any] = await services().analytics.summary(_query_from_args().window())
    svg = charts.CHARTS[name][1](summary)
    return Response(
        svg,
        content_type="image/svg+xml",
        headers={"Content-Security-Policy": CHART_SECURITY},
    )
