"""Rollup rows -> Plotly figures (plotly.graph_objects), drawn in the page by plotly.js's
basic bundle (bar, pie and scatter traces only: a quarter of the full library), vendored
in static/vendor/ with its licence and served gzipped from our static files, never a CDN.

Every figure has a title, axis titles with units, and `customdata` holding the URL of the
audit log filtered to exactly the events behind each bar or slice (charts.js opens it on a
click). Each function returns (figure, table) where the table is the same data for screen
readers and copying."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import plotly.graph_objects as go

from audit.choices import Category
from audit.insights import dashboard
from audit.insights.links import audit_log_url
from governance.choices import reason_text

# The vendored bundle: its version is the one the installed plotly package targets.
PLOTLY_JS = "vendor/plotly-basic-4.1.1.min.js"
# What plotly.js needs beyond the console's Content-Security-Policy, on the pages that draw
# charts (and only there): when it loads, it adds an empty <style> element and fills it
# through the CSS object model, which the hash of the empty string allows (an empty element
# styles nothing, whoever adds it). No 'unsafe-inline'. The basic bundle has no map library,
# so the map stylesheet of the full bundle needs no hash. A bundle that adds inline styles
# fails the browser's CSP test (tests/test_browser_csp.py), whose message names the hash.
PLOTLY_CSP = {"style-src": ["'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"]}
# The only trace types the bundle draws; a chart of another type would not show.
TRACE_TYPES = {"bar", "pie", "scatter"}

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


# The look of plotly's "plotly_white" in the few settings our charts use. A named template
# is deep-copied and validated into every figure (three quarters of the time of building
# ten figures, and 7 kB of JSON each); these few keys cost nothing.
LOOK = {
    "template": "none",
    "paper_bgcolor": "#fff",
    "plot_bgcolor": "#fff",
    "colorway": ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692"],
    "hoverlabel": {"align": "left"},
}
AXIS = {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"}


def _figure(traces: list, title: str, x: str, y: str, **extra) -> go.Figure:
    """The figure, its layout given whole to the constructor (update_layout walks Plotly's
    property tree key by key: five times slower). Titles that fit: the margins grow to hold
    the tick labels and axis titles (automargin) instead of cutting them, and the legend
    sits above the plot, where it never covers an axis title however many lines it takes."""
    layout = {
        **LOOK,
        "title": {"text": title, "x": 0.01, "automargin": True, "yref": "container"},
        "xaxis": {"title": {"text": x}, "automargin": True, **AXIS},
        "yaxis": {"title": {"text": y}, "automargin": True, **AXIS, **extra.pop("yaxis", {})},
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "height": 400,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        **extra,
    }
    if "barmode" in extra:
        # Stacked or grouped bars are told apart by colour only: name them even when
        # there is a single one (Plotly hides a one-trace legend).
        layout["showlegend"] = True
    return go.Figure(data=traces, layout=layout)


def _wrap(label: str, width: int = 18) -> str:
    """A long category label on several lines, so that on a phone the labels leave the
    plot some room and the axis title under it is not cut off."""
    return "<br>".join(textwrap.wrap(label, width)) or label


def _link(window: dashboard.Window, **filters) -> str:
    return audit_log_url(start=window.start, end=window.end, **{**window.filters(), **filters})


def over_time(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.over_time(window)
    traces = []
    for category in dashboard.CATEGORY_ORDER:
        points = [r for r in rows if r["category"] == category]
        if not points:
            continue
        traces.append(
            go.Bar(
                name=LABELS[category],
                x=[r["day"].isoformat() for r in points],
                y=[r["count"] for r in points],
                marker_color=COLORS[category],
                customdata=[
                    audit_log_url(
                        start=r["day"], end=r["day"], category=category, **window.filters()
                    )
                    for r in points
                ],
                hovertemplate="%{x}: %{y} actions<extra>" + LABELS[category] + "</extra>",
            )
        )
    figure = _figure(
        traces, "Agent actions per day, by what happened", "Day", "Actions (count)", barmode="stack"
    )
    table = Table(
        ["Day", "What happened", "Actions"],
        [[r["day"], LABELS[r["category"]], r["count"]] for r in rows],
    )
    return figure, table


def share(window: dashboard.Window) -> tuple[go.Figure, Table]:
    totals = {c: n for c, n in dashboard.totals(window).items() if n}
    total = sum(totals.values()) or 1
    pie = go.Pie(
        labels=[LABELS[c] for c in totals],
        values=list(totals.values()),
        marker_colors=[COLORS[c] for c in totals],
        customdata=[_link(window, category=c) for c in totals],
        hole=0.45,
        sort=False,
        # Percentages inside the slices, and none on a slice too thin to hold one: the
        # legend names every slice, so no label has to squeeze in beside another.
        text=[f"{100 * n / total:.0f} %" if n / total >= 0.04 else "" for n in totals.values()],
        textinfo="text",
        textposition="inside",
        insidetextorientation="horizontal",
        hovertemplate="%{label}: %{value} actions (%{percent})<extra></extra>",
    )
    title = f"Share of each outcome over {window.days} days (% of actions)"
    return _figure([pie], title, "", ""), Table(
        ["What happened", "Actions", "Share"],
        [[LABELS[c], n, f"{100 * n / total:.1f} %"] for c, n in totals.items()],
    )


def approval_rate(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.approval_rates(window)
    bar = go.Bar(
        x=[r["action"] for r in rows],
        y=[round(100 * r["rate"], 1) for r in rows],
        marker_color=COLORS[Category.APPROVED],
        customdata=[_link(window, category=Category.APPROVED, action=r["action"]) for r in rows],
        text=[f"{r['approved']}/{r['decided']}" for r in rows],
        hovertemplate="%{x}: %{y} % approved (%{text})<extra></extra>",
    )
    figure = _figure(
        [bar],
        "Human approval rate by action type (% approved of decided)",
        "Action type",
        "Approved (%)",
        yaxis={"range": [0, 100]},
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
    traces = [
        go.Bar(
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
        for label, values, color in (
            ("Median", [t.median_minutes for t in timings], "#2f5bd3"),
            ("90th percentile", [t.p90_minutes for t in timings], "#8fb0ff"),
        )
    ]
    title = "Time to a human decision, by approver group (minutes)"
    if window.connector:
        # Wait times are kept per group, action and profile, not per connector: say so
        # rather than pass off every connector's figures as this one's.
        title += ", all connectors"
    figure = _figure(traces, title, "Approver group", "Minutes", barmode="group")
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
    rows = dashboard.denials(window, "reason")[::-1]  # the most frequent on top
    bar = go.Bar(
        x=[r["count"] for r in rows],
        y=[_wrap(reason_text(r["key"])) for r in rows],
        orientation="h",
        marker_color=COLORS[Category.DENIED],
        customdata=[_link(window, category=Category.DENIED, reason=r["key"]) for r in rows],
        text=[reason_text(r["key"]) for r in rows],
        textposition="none",
        hovertemplate="%{text}: %{x} denials<extra></extra>",
    )
    return _figure([bar], "Top denial reasons (count)", "Denials", ""), Table(
        ["Reason", "Reason code", "Denials"],
        [[reason_text(r["key"]), r["key"], r["count"]] for r in rows[::-1]],
    )


def denials_by(window: dashboard.Window, by: str) -> tuple[go.Figure, Table]:
    rows = dashboard.denials_by_reason_and(window, by)
    traces = []
    for reason in sorted({r["reason"] for r in rows}):
        points = [r for r in rows if r["reason"] == reason]
        traces.append(
            go.Bar(
                name=reason_text(reason),
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
                hovertemplate="%{x}: %{y} denials<extra>" + reason_text(reason) + "</extra>",
            )
        )
    noun = {"connector": "Connector", "profile": "Profile"}[by]
    figure = _figure(
        traces,
        f"Where denials cluster: by {noun.lower()} and reason (count)",
        noun,
        "Denials (count)",
        barmode="stack",
    )
    return figure, Table(
        [noun, "Reason", "Denials"],
        [[r["key"], reason_text(r["reason"]), r["count"]] for r in rows],
    )


def near_misses(window: dashboard.Window) -> tuple[go.Figure, Table]:
    rows = dashboard.near_misses(window)
    traces = []
    for category in (Category.REJECTED, Category.EXPIRED):
        points = [r for r in rows if r["category"] == category]
        traces.append(
            go.Bar(
                name=LABELS[category],
                x=[r["action"] for r in points],
                y=[r["count"] for r in points],
                marker_color=COLORS[category],
                customdata=[
                    _link(window, category=category, action=r["action"], reversible="false")
                    for r in points
                ],
                hovertemplate="%{x}: %{y}<extra>" + LABELS[category] + "</extra>",
            )
        )
    figure = _figure(
        traces,
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
    traces = []
    for category in dashboard.CATEGORY_ORDER:
        points = [r for r in rows if r["category"] == category]
        if points:
            traces.append(
                go.Bar(
                    name=LABELS[category],
                    x=[r["key"] for r in points],
                    y=[r["count"] for r in points],
                    marker_color=COLORS[category],
                    customdata=[_link(window, category=category, **{by: r["key"]}) for r in points],
                    hovertemplate="%{x}: %{y}<extra>" + LABELS[category] + "</extra>",
                )
            )
    noun = {"profile": "Profile", "runtime": "Agent runtime"}[by]
    figure = _figure(
        traces, f"Actions per {noun.lower()} (count)", noun, "Actions (count)", barmode="stack"
    )
    return figure, Table(
        [noun, "What happened", "Actions"],
        [[r["key"], LABELS[r["category"]], r["count"]] for r in rows],
    )


# What a chart's axes cannot say in a few words.
NOTES = {
    "decision-time": "Each bar is the upper end of the histogram bucket (1, 2, 5, 10, 20, 30, "
    "60 minutes, ...) in which the median or the 90th percentile falls.",
    "near-misses": "Actions that cannot be undone, which a person rejected or nobody decided "
    "in time: each one is a case the guardrails stopped.",
}

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
