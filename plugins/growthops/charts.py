"""Charts for the ops report: Altair (Vega-Lite) specs rendered to inline SVG by vl-convert,
so a report opens anywhere without a network or a browser's JavaScript (DECISIONS: "The
ops report")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

WIDTH = 560  # px; the page scales SVGs down to the screen (phones)
PALETTE = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#64748b"]


def _data(rows: Sequence[dict[str, Any]]) -> Any:
    """Rows as Vega-Lite inline data: JSON values (decimals as floats, dates as ISO text)."""
    import altair as alt

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        return value.isoformat() if isinstance(value, date | datetime) else value

    return alt.Data(values=[{k: plain(v) for k, v in r.items()} for r in rows])


def _svg(chart: Any) -> str:
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict())
    return svg[svg.index("<svg") :]  # drop the XML declaration: the SVG sits inside HTML


def _color(field: str | None, title: str | None = None, domain: Sequence[str] | None = None) -> Any:
    """A nominal colour scale; `domain` fixes the order (legend and stacking) of its values."""
    import altair as alt

    if field is None:
        return alt.value(PALETTE[0])
    scale = alt.Scale(range=PALETTE, domain=list(domain)) if domain else alt.Scale(range=PALETTE)
    return alt.Color(
        f"{field}:N", title=title, scale=scale, legend=alt.Legend(orient="bottom", columns=4)
    )


def lines(
    rows: Sequence[dict[str, Any]],
    x: str,
    y: str,
    *,
    color: str | None = None,
    x_type: str = "T",
    y_format: str = ",.0f",
    title: str = "",
    dashed: str | None = None,
) -> str:
    """One line per `color` value (or one line). `dashed`: a second y field drawn dashed."""
    import altair as alt

    data = _data(rows)
    base = alt.Chart(data).encode(
        x=alt.X(f"{x}:{x_type}", title=None),
        y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=y_format)),
    )
    chart = base.mark_line(point=True).encode(color=_color(color))
    if dashed:
        chart += base.mark_line(strokeDash=[4, 3], color="#94a3b8").encode(
            y=alt.Y(f"{dashed}:Q", title=None)
        )
    return _svg(chart.properties(width=WIDTH, height=200, title=title))


def bars(
    rows: Sequence[dict[str, Any]],
    category: str,
    value: str,
    *,
    color: str | None = None,
    value_format: str = ",.0f",
    title: str = "",
    sort: Sequence[Any] | None = None,
) -> str:
    """Horizontal bars, one per `category`, labelled with their value; with `color`, each
    bar stacks its rows (no labels: they would overlap)."""
    import altair as alt

    data = _data(rows)
    y = alt.Y(f"{category}:N", title=None, sort=list(sort) if sort else "-x")
    base = alt.Chart(data).encode(
        y=y, x=alt.X(f"{value}:Q", title=None, axis=alt.Axis(format=value_format))
    )
    chart = base.mark_bar().encode(color=_color(color))
    if color is None:
        chart += base.mark_text(align="left", dx=3, fontSize=11).encode(
            text=alt.Text(f"{value}:Q", format=value_format)
        )
    height = max(60, 26 * len({r[category] for r in rows}))
    return _svg(chart.properties(width=WIDTH - 140, height=height, title=title))


def stacked_bars(
    rows: Sequence[dict[str, Any]],
    x: str,
    y: str,
    color: str,
    *,
    title: str = "",
    x_type: str = "T",
    color_order: Sequence[str] | None = None,
) -> str:
    """Vertical bars per `x` (a date; `x_type` "O" draws one band per value), stacked by
    `color` (negative values below zero)."""
    import altair as alt

    chart = (
        alt.Chart(_data(rows))
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:{x_type}", title=None),
            y=alt.Y(f"{y}:Q", title=None, axis=alt.Axis(format=",.0f")),
            color=_color(color, domain=color_order),
        )
    )
    return _svg(chart.properties(width=WIDTH, height=200, title=title))


def intervals(
    rows: Sequence[dict[str, Any]],
    category: str,
    value: str,
    low: str,
    high: str,
    *,
    value_format: str = "+.0%",
    title: str = "",
) -> str:
    """A point per `category` with its interval as a bar through it, and the zero line: a
    lift and its 95% CI, readable at a glance (crossing zero = not shown to differ)."""
    import altair as alt

    data = _data(rows)
    y = alt.Y(f"{category}:N", title=None, sort=None)
    x_axis = alt.Axis(format=value_format)
    rule = (
        alt.Chart(data)
        .mark_rule(strokeWidth=3, color=PALETTE[0], opacity=0.5)
        .encode(y=y, x=alt.X(f"{low}:Q", title=None, axis=x_axis), x2=f"{high}:Q")
    )
    point = (
        alt.Chart(data)
        .mark_point(filled=True, size=60, color=PALETTE[0])
        .encode(y=y, x=f"{value}:Q")
    )
    label = point.mark_text(align="left", dy=-9, fontSize=11).encode(
        text=alt.Text(f"{value}:Q", format=value_format)
    )
    zero = alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#94a3b8").encode(x="zero:Q")
    height = max(60, 30 * len({r[category] for r in rows}))
    return _svg((zero + rule + point + label).properties(width=WIDTH - 160, height=height,
                                                        title=title))  # fmt: skip
