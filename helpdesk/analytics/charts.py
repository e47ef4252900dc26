"""Charts of a summary, drawn on the server as SVG by pygal (no chart code in the browser)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pygal
from pygal.style import Style

from ..domain.labels import CATEGORY_LABELS

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b2330",
    foreground_strong="#1b2330",
    foreground_subtle="#4a5568",
    opacity="1",
    opacity_hover="0.85",
    colors=("#1d4ed8", "#a15c07", "#3f6212", "#7c3aed", "#b42318"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
    title_font_size=16,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=12,
)
COMMON: dict[str, Any] = {
    "style": STYLE,
    "js": [],  # pygal's tooltips come from a CDN: none here
    "width": 640,
    "height": 320,
    "legend_at_bottom": True,
    "print_values": False,
    "no_data_text": "No tickets yet",
    "margin": 12,
}
STATUS_LABELS = {"open": "Open", "active": "Active", "closed": "Closed"}


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


def backlog(summary: dict[str, Any]) -> str:
    chart = pygal.Bar(title="Waiting now, by category", **COMMON)
    chart.x_labels = [CATEGORY_LABELS[key] for key in summary["backlog_by_category"]]
    chart.add("Open and active", list(summary["backlog_by_category"].values()))
    return chart.render(is_unicode=True)


def status(summary: dict[str, Any]) -> str:
    chart = pygal.Bar(title="Tickets by status", show_legend=False, **COMMON)
    chart.x_labels = [STATUS_LABELS[key] for key in summary["by_status"]]
    chart.add("Tickets", list(summary["by_status"].values()))
    return chart.render(is_unicode=True)


def opened_closed(summary: dict[str, Any]) -> str:
    days = [entry["date"] for entry in summary["opened_per_day"]]
    chart = pygal.Line(
        title="Opened and closed per day",
        x_label_rotation=30,
        show_minor_x_labels=False,
        x_labels_major_count=8,
        dots_size=2,
        **COMMON,
    )
    chart.x_labels = [day[5:] for day in days]
    chart.add("Opened", [entry["count"] for entry in summary["opened_per_day"]])
    chart.add("Closed", [entry["count"] for entry in summary["closed_per_day"]])
    return chart.render(is_unicode=True)


def response_times(summary: dict[str, Any]) -> str:
    chart = pygal.Bar(title="Hours to first response and to resolution", **COMMON)
    chart.x_labels = ["First response", "Resolution"]
    for label, key in (("Median", "median"), ("90th percentile", "p90")):
        chart.add(
            label,
            [
                _hours(summary["first_response_seconds"][key]),
                _hours(summary["resolution_seconds"][key]),
            ],
        )
    return chart.render(is_unicode=True)


def backlog_age(summary: dict[str, Any]) -> str:
    chart = pygal.Bar(title="How long open tickets have waited", show_legend=False, **COMMON)
    chart.x_labels = [entry["bucket"] for entry in summary["backlog_age"]]
    chart.add("Tickets", [entry["count"] for entry in summary["backlog_age"]])
    return chart.render(is_unicode=True)


def top_locations(summary: dict[str, Any]) -> str:
    chart = pygal.HorizontalStackedBar(title="Buildings with the most waiting tickets", **COMMON)
    places = list(reversed(summary["top_locations"]))
    chart.x_labels = [place["location"] for place in places]
    chart.add("Open", [place["open"] for place in places])
    chart.add("Active", [place["active"] for place in places])
    return chart.render(is_unicode=True)


CHARTS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "backlog": ("Waiting tickets by category", backlog),
    "status": ("Tickets by status", status),
    "opened-closed": ("Opened and closed per day", opened_closed),
    "response-times": ("Hours to first response and to resolution", response_times),
    "backlog-age": ("How long open tickets have waited", backlog_age),
    "top-locations": ("Buildings with the most waiting tickets", top_locations),
}
