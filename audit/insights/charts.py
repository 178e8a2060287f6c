"""Rollup rows -> Plotly figures (plotly.graph_objects), drawn in the page by the plotly.js
that ships inside the plotly package (served from our static files, never a CDN).

Every figure has a title, axis titles with units, and `customdata` holding the URL of the
audit log filtered to exactly the events behind each bar or slice (charts.js opens it on a
click). Each function returns (figure, table) where the table is the same data for screen
readers and copying."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from audit.choices import Category
from audit.insights import dashboard
from audit.insights.links import audit_log_url

COLORS = {
    Category.ALLOWED: "#1d7a46",
    Category.APPROVED: "#2f5bd3",
    Category.REJECTED: "#b3261e",
    Category.EXPIRED: "#a66300",
    Category.DENIED: "#5b6475",
    Category.PENDING: "#c9a227",
}
LABELS = dict(Category.choices)


@dataclass
class Table:
    headers: list[str]
    rows: list[list]


def _layout(figure: go.Figure, title: str, x: str, y: str, **extra) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        xaxis_title=x,
        yaxis_title=y,
        margin={"l": 60, "r": 20, "t": 50, "b": 110},
        height=380,
        legend={"orientation": "h", "y": -0.35, "x": 0},
        template="plotly_white",
        font={"family": "system-ui, sans-serif", "size": 12},
        **extra,
    )
    return figure


def _link(window: dashboard.Window, **filters) -> str:
    return audit_log_url(start=window.start, end=window.end, **{**window.filters(), **filters})


def over_time(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.over_time(window)
    figure = go.Figure()
    for category in dashboard.CATEGORY_ORDER:
        points = [r for r in rows if r["category"] == category]
        if not points:
            continue
        figure.add_bar(
            name=LABELS[category],
            x=[r["day"].isoformat() for r in points],
            y=[r["count"] for r in points],
            marker_color=COLORS[category],
            customdata=[
                audit_log_url(start=r["day"], end=r["day"], category=category, **window.filters())
                for r in points
            ],
            hovertemplate="%{x}: %{y} actions<extra>" + LABELS[category] + "</extra>",
        )
    _layout(
        figure, "Agent actions per day, by what happened", "Day", "Actions (count)", barmode="stack"
    )
    table = Table(
        ["Day", "What happened", "Actions"],
        [[r["day"], LABELS[r["category"]], r["count"]] for r in rows],
    )
    return figure, table


def share(window: dashboard.Window) -> tuple[go.Figure, Table]:
    totals = {c: n for c, n in dashboard.totals(window).items() if n}
    figure = go.Figure(
        go.Pie(
            labels=[LABELS[c] for c in totals],
            values=list(totals.values()),
            marker_colors=[COLORS[c] for c in totals],
            customdata=[_link(window, category=c) for c in totals],
            hole=0.45,
            sort=False,
            hovertemplate="%{label}: %{value} actions (%{percent})<extra></extra>",
        )
    )
    _layout(figure, f"Share of each outcome over {window.days} days (% of actions)", "", "")
    total = sum(totals.values()) or 1
    return figure, Table(
        ["What happened", "Actions", "Share"],
        [[LABELS[c], n, f"{100 * n / total:.1f} %"] for c, n in totals.items()],
    )


def approval_rate(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.approval_rates(window)
    figure = go.Figure(
        go.Bar(
            x=[r["action"] for r in rows],
            y=[round(100 * r["rate"], 1) for r in rows],
            marker_color=COLORS[Category.APPROVED],
            customdata=[
                _link(window, category=Category.APPROVED, action=r["action"]) for r in rows
            ],
            text=[f"{r['approved']}/{r['decided']}" for r in rows],
            hovertemplate="%{x}: %{y} % approved (%{text})<extra></extra>",
        )
    )
    _layout(
        figure,
        "Human approval rate by action type (% approved of decided)",
        "Action type",
        "Approved (%)",
        yaxis_range=[0, 100],
    )
    table = Table(
        ["Action type", "Approved", "Rejected", "Expired", "Approval rate"],
        [
            [r["action"], r["approved"], r["rejected"], r["expired"], f"{100 * r['rate']:.0f} %"]
            for r in rows
        ],
    )
    return figure, table


def decision_time(window: dashboard.Window) -> tuple[go.Figure, Table]:
    timings = dashboard.decision_times(window)
    figure = go.Figure()
    for label, values, color in (
        ("Median", [t.median_minutes for t in timings], "#2f5bd3"),
        ("90th percentile", [t.p90_minutes for t in timings], "#8fb0ff"),
    ):
        figure.add_bar(
            name=label,
            x=[t.group for t in timings],
            y=values,
            marker_color=color,
            customdata=[
                _link(
                    window,
                    event_type=["decision_approved", "decision_rejected"],
                    approval_group=t.group,
                    connector="",  # the bars count every connector (see the title)
                )
                for t in timings
            ],
            hovertemplate="%{x}: %{y:.0f} min<extra>" + label + "</extra>",
        )
    title = "Time to a human decision, by approver group (minutes)"
    if window.connector:
        # Wait times are kept per group, action and profile, not per connector: say so
        # rather than pass off every connector's figures as this one's.
        title += ", all connectors"
    _layout(
        figure,
        title,
        "Approver group",
        "Minutes (upper bound of the histogram bucket)",
        barmode="group",
    )
    table = Table(
        ["Approver group", "Decided", "Within SLA", "Median (min)", "90th percentile (min)"],
        [
            [t.group, t.decided, t.within_sla, _round(t.median_minutes), _round(t.p90_minutes)]
            for t in timings
        ],
    )
    return figure, table


def _round(value):
    return None if value is None else round(value)


def denial_reasons(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.denials(window, "reason")
    figure = go.Figure(
        go.Bar(
            x=[r["count"] for r in rows][::-1],
            y=[r["key"] for r in rows][::-1],
            orientation="h",
            marker_color=COLORS[Category.DENIED],
            customdata=[_link(window, category=Category.DENIED, reason=r["key"]) for r in rows][
                ::-1
            ],
            hovertemplate="%{y}: %{x} denials<extra></extra>",
        )
    )
    _layout(figure, "Top denial reasons (count)", "Denials (count)", "Reason code")
    return figure, Table(["Reason code", "Denials"], [[r["key"], r["count"]] for r in rows])


def denials_by(window: dashboard.Window, by: str) -> tuple[go.Figure, Table]:
    rows = dashboard.denials_by_reason_and(window, by)
    figure = go.Figure()
    for reason in sorted({r["reason"] for r in rows}):
        points = [r for r in rows if r["reason"] == reason]
        figure.add_bar(
            name=reason,
            x=[r["key"] for r in points],
            y=[r["count"] for r in points],
            customdata=[
                _link(
                    window,
                    category=Category.DENIED,
                    reason=reason,
                    **({by: r["key"]} if r["key"] != "(none)" else {}),
                )
                for r in points
            ],
            hovertemplate="%{x}: %{y} denials<extra>" + reason + "</extra>",
        )
    noun = {"connector": "Connector", "profile": "Profile"}[by]
    _layout(
        figure,
        f"Where denials cluster: by {noun.lower()} and reason (count)",
        noun,
        "Denials (count)",
        barmode="stack",
    )
    return figure, Table(
        [noun, "Reason code", "Denials"], [[r["key"], r["reason"], r["count"]] for r in rows]
    )


def near_misses(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.near_misses(window)
    figure = go.Figure()
    for category in (Category.REJECTED, Category.EXPIRED):
        points = [r for r in rows if r["category"] == category]
        figure.add_bar(
            name=LABELS[category],
            x=[r["action"] for r in points],
            y=[r["count"] for r in points],
            marker_color=COLORS[category],
            customdata=[_link(window, category=category, action=r["action"]) for r in points],
            hovertemplate="%{x}: %{y}<extra>" + LABELS[category] + "</extra>",
        )
    _layout(
        figure,
        "Near-misses: irreversible actions rejected or left to expire (count)",
        "Action type",
        "Actions (count)",
        barmode="stack",
    )
    return figure, Table(
        ["Action type", "What happened", "Actions"],
        [[r["action"], LABELS[r["category"]], r["count"]] for r in rows],
    )


def volume(window: dashboard.Window, by: str) -> tuple[go.Figure, Table]:
    rows = dashboard.volume(window, by)
    figure = go.Figure()
    for category in dashboard.CATEGORY_ORDER:
        points = [r for r in rows if r["category"] == category]
        if points:
            figure.add_bar(
                name=LABELS[category],
                x=[r["key"] for r in points],
                y=[r["count"] for r in points],
                marker_color=COLORS[category],
                customdata=[_link(window, category=category, **{by: r["key"]}) for r in points],
                hovertemplate="%{x}: %{y}<extra>" + LABELS[category] + "</extra>",
            )
    noun = {"profile": "Profile", "runtime": "Agent runtime"}[by]
    _layout(figure, f"Actions per {noun.lower()} (count)", noun, "Actions (count)", barmode="stack")
    return figure, Table(
        [noun, "What happened", "Actions"],
        [[r["key"], LABELS[r["category"]], r["count"]] for r in rows],
    )


CHARTS = {
    "over-time": over_time,
    "share": share,
    "approval-rate": approval_rate,
    "decision-time": decision_time,
    "denial-reasons": denial_reasons,
    "denials-by-connector": lambda w: denials_by(w, "connector"),
    "denials-by-profile": lambda w: denials_by(w, "profile"),
    "near-misses": near_misses,
    "volume-by-profile": lambda w: volume(w, "profile"),
    "volume-by-runtime": lambda w: volume(w, "runtime"),
}
