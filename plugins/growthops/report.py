"""The ops report: one self-contained HTML page per reporting day or ISO week, read from the
published marts (marts.duckdb) and nothing else.

Every figure on the page is read from a mart row; the report computes no metric of its own
(period sums, ratios, changes, anomaly verdicts are marts: mart_kpi_periods,
mart_spend_periods, mart_funnel_periods, ...). Each figure carries where it came from
(`data-mart`, `data-column`, `data-key`, `data-value`), and each chart the rows it drew, so a
test - or a doubtful reader - can check any number against the marts.
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from growthops import charts, warehouse
from growthops.config import Settings

log = logging.getLogger(__name__)

PERIOD_UNITS = ("day", "week")
# the headline, in reading order: (kpi in mart_kpi_periods, label, format, up is good)
HEADLINE: tuple[tuple[str, str, str, bool], ...] = (
    ("new_users", "New users", "count", True),
    ("signups", "Sign-ups", "count", True),
    ("activated", "Activated", "count", True),
    ("dau", "DAU (mean)", "count", True),
    ("wau", "WAU", "count", True),
    ("mau", "MAU", "count", True),
    ("spend", "Spend", "money", False),
    ("cpa", "CPA", "money", False),
    ("cac", "CAC", "money", False),
    ("roas", "ROAS to date", "ratio", True),
    ("k_factor", "K-factor", "ratio3", True),
    ("revenue", "Revenue", "money", True),
)
TOP_ROWS = 10
ANOMALY_CHARTS = 4


class ReportError(RuntimeError):
    """The report cannot be written; the message says why and what to do."""


class NothingToReportError(ReportError):
    """Nothing published yet, or the marts hold no period (nothing has been ingested)."""


@dataclass(frozen=True)
class Period:
    unit: str  # day | week
    start: date
    end: date
    complete: bool

    @property
    def label(self) -> str:
        if self.unit == "day":
            return f"{self.start:%A %d %B %Y}"
        return f"week {self.start:%G-W%V} ({self.start:%d %b} – {self.end:%d %b %Y})"


@dataclass
class Section:
    title: str
    intro: str = ""
    parts: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ figures


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def fmt(value: Any, kind: str, currency: str = "") -> str:
    """A figure as a person reads it (the raw value stays in data-value)."""
    if value is None:
        return "–"
    if kind == "count":
        return f"{float(value):,.0f}"
    if kind == "money":
        return f"{float(value):,.2f} {currency}".strip()
    if kind == "ratio":
        return f"{float(value):.2f}×"
    if kind == "ratio3":
        return f"{float(value):.3f}"
    if kind == "number":
        return f"{float(value):,.3f}"
    if kind == "p":
        return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"
    if kind == "rate":
        return f"{float(value):.1%}"
    if kind == "change":
        return f"{float(value):+.1%}"
    if kind == "z":
        return f"{float(value):.1f}"
    return html.escape(str(value))


def figure(
    mart: str,
    column: str,
    key: dict[str, Any],
    value: Any,
    kind: str,
    currency: str = "",
) -> str:
    """A number with its provenance: the mart, column and key of the row it was read from."""
    attrs = {
        "class": "fig",
        "data-mart": mart,
        "data-column": column,
        "data-key": json.dumps({k: _plain(v) for k, v in key.items()}, sort_keys=True),
        "data-value": "" if value is None else json.dumps(_plain(value)),
    }
    text = "".join(f' {k}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    return f"<span{text}>{html.escape(fmt(value, kind, currency))}</span>"


def chart_block(
    svg: str,
    mart: str,
    keys: Sequence[str],
    values: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> str:
    """A chart and, beside it, the rows it drew (JSON), named by their mart and key."""
    data = {
        "mart": mart,
        "keys": list(keys),
        "values": list(values),
        "rows": [{c: _plain(r[c]) for c in (*keys, *values)} for r in rows],
    }
    payload = json.dumps(data).replace("</", "<\\/")
    return (
        f'<figure class="chart">{svg}'
        f'<script type="application/json" class="chart-data">{payload}</script></figure>'
    )


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # count | money | ratio | rate | change | text | ...


def table(
    mart: str,
    keys: Sequence[str],
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    currency: str,
    empty: str,
) -> str:
    """Rows of a mart as a table; every number a figure with its provenance."""
    if not rows:
        return f'<p class="empty">{html.escape(empty)}</p>'
    head = "".join(
        f'<th class="{"num" if c.kind != "text" else ""}">{html.escape(c.label)}</th>'
        for c in columns
    )
    body = []
    for r in rows:
        key = {k: r[k] for k in keys}
        cells = []
        for c in columns:
            if c.kind == "text":
                cells.append(f"<td>{html.escape('' if r[c.name] is None else str(r[c.name]))}</td>")
            else:
                cells.append(
                    f'<td class="num">{figure(mart, c.name, key, r[c.name], c.kind, currency)}</td>'
                )
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


# ------------------------------------------------------------------------ reading the marts


class Marts:
    """Read-only queries on the serving file; values as parameters, names from this module."""

    def __init__(self, cfg: Settings) -> None:
        if not cfg.serving_db.exists():
            raise NothingToReportError(
                f"no published marts at {cfg.serving_db}: run the pipeline first "
                f"(`growthops run`, or the transform DAG)"
            )
        self.con = warehouse.connect(
            cfg.serving_db, read_only=True, wait_seconds=cfg.lock_retry_seconds
        )

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


def resolve_period(marts: Marts, unit: str, on: date | None) -> Period:
    """The period holding `on`; without a date, the latest complete one (else the latest)."""
    if unit not in PERIOD_UNITS:
        raise ReportError(f"--period {unit!r}: expected one of {', '.join(PERIOD_UNITS)}")
    periods = marts.rows(
        "select period_start, period_end, is_complete from mart_kpi_periods "
        "where period_unit = ? and kpi = 'new_users' order by period_start",
        unit,
    )
    if not periods:
        raise NothingToReportError(
            "the published marts hold no period yet: run the pipeline on some data"
        )
    if on is not None:
        match = [p for p in periods if p["period_start"] <= on <= p["period_end"]]
        if not match:
            raise ReportError(
                f"--date {on}: the marts cover {periods[0]['period_start']} to "
                f"{periods[-1]['period_end']}; pick a date in that range"
            )
        chosen = match[0]
    else:
        complete = [p for p in periods if p["is_complete"]]
        chosen = (complete or periods)[-1]
    return Period(unit, chosen["period_start"], chosen["period_end"], chosen["is_complete"])


# ------------------------------------------------------------------------ sections


def _headline(m: Marts, p: Period, cur: str) -> Section:
    rows = {
        r["kpi"]: r
        for r in m.rows(
            "select period_unit, period_start, kpi, value, previous_value, relative_change "
            "from mart_kpi_periods where period_unit = ? and period_start = ?",
            p.unit,
            p.start,
        )
    }
    cards = []
    for kpi, label, kind, up_is_good in HEADLINE:
        r = rows.get(kpi)
        if r is None:
            continue
        key = {"period_unit": p.unit, "period_start": p.start, "kpi": kpi}
        change = r["relative_change"]
        tone = ""
        if change is not None and change != 0:
            tone = "good" if (change > 0) == up_is_good else "bad"
        cards.append(
            f'<div class="card"><div class="label">{label}</div>'
            f'<div class="value">{figure("mart_kpi_periods", "value", key, r["value"], kind, cur)}</div>'
            f'<div class="change {tone}">'
            f"{figure('mart_kpi_periods', 'relative_change', key, change, 'change')}"
            f" vs {figure('mart_kpi_periods', 'previous_value', key, r['previous_value'], kind, cur)}"
            f"</div></div>"
        )
    since = p.end - timedelta(days=27)
    trend = m.rows(
        "select report_date, kpi, dimension, dimension_value, value from mart_kpi_daily "
        "where dimension = 'channel' and dimension_value = 'all' "
        "and kpi in ('new_users', 'signups', 'activated') "
        "and report_date between ? and ? order by report_date, kpi",
        since,
        p.end,
    )
    previous = "day" if p.unit == "day" else "week"
    section = Section(
        "Headline",
        f"{p.label}{'' if p.complete else ' (not complete yet: data still arriving)'}; "
        f"change against the previous {previous}.",
        [f'<div class="cards">{"".join(cards)}</div>'],
    )
    if trend:
        svg = charts.lines(
            trend,
            "report_date",
            "value",
            color="kpi",
            title="New users, sign-ups, activated per day (28 days)",
        )
        section.parts.append(
            chart_block(
                svg,
                "mart_kpi_daily",
                ["report_date", "kpi", "dimension", "dimension_value"],
                ["value"],
                trend,
            )
        )
    return section


SPEND_COLUMNS = (
    Column("spend", "Spend", "money"),
    Column("installs", "Installs", "count"),
    Column("signups", "Sign-ups", "count"),
    Column("payers", "Payers", "count"),
    Column("cpa", "CPA", "money"),
    Column("cac", "CAC", "money"),
    Column("roas_to_date", "ROAS", "ratio"),
    Column("previous_spend", "Spend before", "money"),
)
SPEND_KEYS = ("period_unit", "period_start", "level", "platform", "campaign_id")


def _spend(m: Marts, p: Period, cur: str) -> Section:
    select = f"select {', '.join(SPEND_KEYS)}, campaign_name, " + ", ".join(
        c.name for c in SPEND_COLUMNS
    )
    platforms = m.rows(
        f"{select} from mart_spend_periods where period_unit = ? "
        "and period_start = ? and level = 'platform' order by spend desc",
        p.unit,
        p.start,
    )
    campaigns = m.rows(
        f"{select} from mart_spend_periods where period_unit = ? "
        "and period_start = ? and level = 'campaign' order by spend desc, "
        "platform, campaign_id limit ?",
        p.unit,
        p.start,
        TOP_ROWS,
    )
    section = Section(
        "Spend and what it bought",
        f"By ad platform and campaign, in {cur}. Users are credited by last non-direct touch; "
        "CPA = spend ÷ sign-ups, CAC = spend ÷ payers, ROAS = revenue to date ÷ spend.",
    )
    if platforms:
        svg = charts.bars(
            platforms, "platform", "spend", value_format=",.0f", title=f"Spend by platform ({cur})"
        )
        section.parts.append(
            chart_block(svg, "mart_spend_periods", SPEND_KEYS, ["spend"], platforms)
        )
    section.parts.append(
        table(
            "mart_spend_periods",
            SPEND_KEYS,
            (Column("platform", "Platform", "text"), *SPEND_COLUMNS),
            platforms,
            cur,
            "No spend in this period.",
        )
    )
    section.parts.append(f"<h3>Top {TOP_ROWS} campaigns by spend</h3>")
    section.parts.append(
        table(
            "mart_spend_periods",
            SPEND_KEYS,
            (
                Column("platform", "Platform", "text"),
                Column("campaign_name", "Campaign", "text"),
                *SPEND_COLUMNS,
            ),
            campaigns,
            cur,
            "No campaign spent in this period.",
        )
    )
    return section


KEYWORD_KEYS = ("report_date", "platform", "ad_group_id", "keyword_id")
AD_UNIT_KEYS = ("report_date", "platform", "campaign_id", "ad_group_id")
_WHY = (
    "case when is_wasted then 'wasted: spent, no sign-up' "
    "when is_junk then 'junk: sign-ups do not activate' "
    "when is_star then 'star: top ROAS D7' end as why"
)
_UNIT_FIGURES = (
    Column("action", "Action", "text"),
    Column("why", "Why", "text"),
    Column("trailing_spend", "Spend (window)", "money"),
    Column("trailing_signups", "Sign-ups", "count"),
    Column("cpa", "CPA", "money"),
    Column("activation_rate", "Activated (D7)", "rate"),
    Column("cost_per_activated", "Cost per activated", "money"),
    Column("roas_d7", "ROAS D7", "ratio"),
    Column("viral_adjusted_cac", "Viral-adj. CAC", "money"),
)


def _budget_actions(m: Marts, p: Period, cur: str) -> Section:
    """The cut / scale list of the period's last day: keywords for search platforms, ad
    groups / ad sets for the others; how many units are kept, per platform."""
    keywords = m.rows(
        f"select {', '.join(KEYWORD_KEYS)}, keyword_text, match_type, action, {_WHY}, "
        f"{', '.join(c.name for c in _UNIT_FIGURES[2:])} from mart_keyword_performance "
        "where report_date = ? and action in ('cut', 'scale') "
        "order by platform, action, trailing_spend desc, keyword_id limit ?",
        p.end,
        TOP_ROWS * 2,
    )
    ad_units = m.rows(
        f"select {', '.join(AD_UNIT_KEYS)}, campaign_name, ad_group_name, action, {_WHY}, "
        f"{', '.join(c.name for c in _UNIT_FIGURES[2:])} from mart_ad_unit_performance "
        "where report_date = ? and action in ('cut', 'scale') and platform not in "
        "(select distinct platform from mart_keyword_performance) "
        "order by platform, action, trailing_spend desc, ad_group_id limit ?",
        p.end,
        TOP_ROWS * 2,
    )
    counts = m.rows(
        "select platform, action, count(*) as units from ("
        "select platform, action from mart_keyword_performance where report_date = ? "
        "union all select platform, action from mart_ad_unit_performance where report_date = ? "
        "and platform not in (select distinct platform from mart_keyword_performance)"
        ") as units where action is not null group by platform, action order by platform, action",
        p.end,
        p.end,
    )
    tally: dict[str, dict[str, int]] = {}
    for r in counts:
        tally.setdefault(r["platform"], {})[r["action"]] = r["units"]
    summary = "; ".join(
        f"{platform}: " + ", ".join(f"{n} {a}" for a, n in sorted(by.items()))
        for platform, by in tally.items()
    )
    return Section(
        "Cut, keep, scale",
        f"Every unit that spent in the trailing window ending {p.end} ({summary or 'none'}). "
        "Cut: wasted (spent over the threshold without a sign-up) or junk (its sign-ups do "
        "not activate: its activation rate is below the floor with the confidence set in "
        "dbt_project.yml). Scale: stars, the best ROAS D7 of their platform with enough "
        "sign-ups. D7 columns are the cohorts whose first week is over (README, 'Cut, keep, "
        "scale').",
        [
            "<h3>Search keywords</h3>",
            table(
                "mart_keyword_performance",
                KEYWORD_KEYS,
                (
                    Column("platform", "Platform", "text"),
                    Column("keyword_text", "Keyword", "text"),
                    Column("match_type", "Match", "text"),
                    *_UNIT_FIGURES,
                ),
                keywords,
                cur,
                "No keyword to cut or scale: every keyword is a keep.",
            ),
            "<h3>Ad groups and ad sets (feeds)</h3>",
            table(
                "mart_ad_unit_performance",
                AD_UNIT_KEYS,
                (
                    Column("platform", "Platform", "text"),
                    Column("campaign_name", "Campaign", "text"),
                    Column("ad_group_name", "Ad group / set", "text"),
                    *_UNIT_FIGURES,
                ),
                ad_units,
                cur,
                "No ad group to cut or scale: every one is a keep.",
            ),
        ],
    )


FUNNEL_KEYS = ("period_unit", "period_start", "funnel_name", "step_number")


def _funnels(m: Marts, p: Period, cur: str) -> Section:
    steps = m.rows(
        "select period_unit, period_start, funnel_name, funnel_order, step_number, step_label, "
        "persons, conversion_from_start, conversion_from_previous from mart_funnel_periods "
        "where period_unit = ? and period_start = ? order by funnel_name, step_number",
        p.unit,
        p.start,
    )
    section = Section(
        "Funnels",
        "Persons who entered each funnel in this period and how far they got (cohorts still "
        "inside their conversion window can still convert).",
    )
    names = sorted({s["funnel_name"] for s in steps})
    if not names:
        section.parts.append('<p class="empty">No one entered a funnel in this period.</p>')
    for name in names:
        rows = [s for s in steps if s["funnel_name"] == name]
        for r in rows:
            r["step"] = f"{r['step_number']}. {r['step_label']}"
        svg = charts.bars(
            rows,
            "step",
            "persons",
            sort=[r["step"] for r in rows],
            title=f"{name} ({rows[0]['funnel_order']})",
        )
        section.parts.append(
            chart_block(svg, "mart_funnel_periods", FUNNEL_KEYS, ["persons"], rows)
        )
        section.parts.append(
            table(
                "mart_funnel_periods",
                FUNNEL_KEYS,
                (
                    Column("step", "Step", "text"),
                    Column("persons", "Persons", "count"),
                    Column("conversion_from_start", "From start", "rate"),
                    Column("conversion_from_previous", "From previous", "rate"),
                ),
                rows,
                cur,
                "",
            )
        )
    # the trend: each funnel's full conversion (its last step from the start), period by period
    span = timedelta(days=13) if p.unit == "day" else timedelta(weeks=7)
    trend = m.rows(
        "select f.period_unit, f.period_start, f.funnel_name, f.step_number, "
        "f.conversion_from_start from mart_funnel_periods f where f.period_unit = ? "
        "and f.period_start between ? and ? and f.step_number = (select max(s.step_number) "
        "from mart_funnel_periods s where s.funnel_name = f.funnel_name) "
        "order by f.funnel_name, f.period_start",
        p.unit,
        p.start - span,
        p.start,
    )
    if trend:
        svg = charts.lines(
            trend,
            "period_start",
            "conversion_from_start",
            color="funnel_name",
            y_format=".0%",
            title=f"Conversion to the last step, by {p.unit} of entry",
        )
        section.parts.append(
            chart_block(svg, "mart_funnel_periods", FUNNEL_KEYS, ["conversion_from_start"], trend)
        )
    return section


VALUE_CURVE_KEYS = ("platform", "day_number")


def _value_curves(m: Marts, p: Period, cur: str) -> Section:
    curves = m.rows(
        "select platform, day_number, cohorts, roas, arpu from mart_platform_value_curves "
        "order by platform, day_number"
    )
    section = Section(
        "What a paid user is worth",
        "Revenue per acquisition spend (ROAS) and per person (ARPU) N days after the ad "
        "brought them (24-hour blocks), over the cohorts observed that far: where a line "
        "crosses 100%, that platform's users have paid back what they cost.",
    )
    for value, title, y_format in (("roas", "ROAS by day N", ".0%"),
                                   ("arpu", f"ARPU by day N ({cur})", ",.2f")):  # fmt: skip
        rows = [c for c in curves if c[value] is not None]
        if rows:
            svg = charts.lines(rows, "day_number", value, color="platform", x_type="Q",
                               y_format=y_format, title=title)  # fmt: skip
            section.parts.append(
                chart_block(svg, "mart_platform_value_curves", VALUE_CURVE_KEYS, [value], rows)
            )
    if not curves:
        section.parts.append('<p class="empty">No paid cohort has a complete day yet.</p>')
    return section


RETENTION_KEYS = ("definition_name", "acquisition_channel", "period_number")


def _retention(m: Marts, p: Period, cur: str) -> Section:
    curves = m.rows(
        "select definition_name, period_unit, acquisition_channel, period_number, cohorts, "
        "cohort_size, retained_persons, retention_rate from mart_retention_curves "
        "order by definition_name, acquisition_channel, period_number"
    )
    section = Section(
        "Retention by acquisition channel",
        "Each point: the share of a cohort still active N periods after it started, over all "
        "cohorts observed that far (as published).",
    )
    for name in sorted({c["definition_name"] for c in curves}):
        rows = [c for c in curves if c["definition_name"] == name]
        svg = charts.lines(
            rows,
            "period_number",
            "retention_rate",
            color="acquisition_channel",
            x_type="O",
            y_format=".0%",
            title=f"{name}: retained by {rows[0]['period_unit']}",
        )
        section.parts.append(
            chart_block(svg, "mart_retention_curves", RETENTION_KEYS, ["retention_rate"], rows)
        )
    if not curves:
        section.parts.append('<p class="empty">No complete retention period yet.</p>')
    return section


LIFECYCLE_KEYS = ("period_unit", "period_start", "acquisition_channel", "status")
STICKINESS_KEYS = ("window_days", "window_end", "acquisition_channel", "active_days")
LIFECYCLE_PERIODS = {"day": 28, "week": 12}  # how many periods the lifecycle chart shows


def _users(m: Marts, p: Period, cur: str) -> Section:
    """Lifecycle (PostHog's: new / returning / resurrecting above zero, dormant below) over
    the periods up to this one, and stickiness of the latest complete windows."""
    lifecycle = m.rows(
        f"select {', '.join(LIFECYCLE_KEYS)}, persons from mart_lifecycle "
        "where period_unit = ? and period_start <= ? and period_start > ? "
        "order by period_start, status, acquisition_channel",
        p.unit,
        p.start,
        p.start - timedelta(days=LIFECYCLE_PERIODS[p.unit] * (7 if p.unit == "week" else 1)),
    )
    section = Section(
        "Users: lifecycle and stickiness",
        "Lifecycle (PostHog's): each period's active persons are new (first seen then), "
        "returning (active the period before too) or resurrecting (back after a gap); "
        "dormant persons (active the period before, not now) are drawn below zero. "
        "Stickiness: persons by the number of days they were active in the window.",
    )
    if lifecycle:
        svg = charts.stacked_bars(lifecycle, "period_start", "persons", "status", x_type="O",
                                  color_order=("new", "returning", "resurrecting", "dormant"),
                                  title=f"Lifecycle by {p.unit}")  # fmt: skip
        section.parts.append(
            chart_block(svg, "mart_lifecycle", LIFECYCLE_KEYS, ["persons"], lifecycle)
        )
    for window in (7, 28):
        rows = m.rows(
            f"select {', '.join(STICKINESS_KEYS)}, persons from mart_stickiness "
            "where window_days = ? and window_end = (select max(window_end) from mart_stickiness "
            "where window_days = ? and window_end <= ?) order by active_days, acquisition_channel",
            window,
            window,
            p.end,
        )
        if rows:
            svg = charts.bars(
                rows,
                "active_days",
                "persons",
                color="acquisition_channel",
                sort=list(range(1, window + 1)),
                title=f"Days active in the {window} days to {rows[0]['window_end']}",
            )
            section.parts.append(
                chart_block(svg, "mart_stickiness", STICKINESS_KEYS, ["persons"], rows)
            )
    if not lifecycle:
        section.parts.append('<p class="empty">No activity in these periods.</p>')
    return section


CONTENT_KEYS = ("period_unit", "period_start", "content_id")


def _content(m: Marts, p: Period, cur: str) -> Section:
    rows = m.rows(
        "select period_unit, period_start, content_id, content_platform, author, title, views, "
        "engagement_rate, app_views, new_users_attributed, signups_attributed, "
        "activated_attributed from mart_content_periods where period_unit = ? "
        "and period_start = ? order by signups_attributed desc, views desc, content_id limit ?",
        p.unit,
        p.start,
        TOP_ROWS,
    )
    return Section(
        "Content that worked",
        "Top items by the sign-ups they brought (utm_content, else the first item viewed "
        "before signing up), then by views.",
        [
            table(
                "mart_content_periods",
                CONTENT_KEYS,
                (
                    Column("title", "Title", "text"),
                    Column("content_platform", "Platform", "text"),
                    Column("author", "Author", "text"),
                    Column("views", "Views", "count"),
                    Column("engagement_rate", "Engagement", "rate"),
                    Column("signups_attributed", "Sign-ups", "count"),
                    Column("activated_attributed", "Activated", "count"),
                ),
                rows,
                cur,
                "No content activity in this period.",
            )
        ],
    )


ANOMALY_KEYS = ("report_date", "kpi", "dimension", "dimension_value")


def _anomalies(m: Marts, p: Period, cur: str) -> Section:
    flagged = m.rows(
        "select report_date, kpi, unit, dimension, dimension_value, value, expected, "
        "relative_change, robust_z from mart_kpi_anomalies where is_anomaly "
        "and report_date between ? and ? order by report_date, abs(relative_change) desc, kpi, "
        "dimension, dimension_value",
        p.start,
        p.end,
    )
    section = Section(
        "Anomalies",
        "Complete days whose value is far from the same weekday of the previous weeks "
        "(median and robust z-score; rule in mart_kpi_anomalies).",
    )
    if not flagged:
        section.parts.append('<p class="empty">Nothing unusual: no KPI left its usual range.</p>')
        return section
    for r in flagged:
        r["series"] = f"{r['kpi']} · {r['dimension']} {r['dimension_value']}"
    section.parts.append(
        '<div class="scroll"><table><thead><tr><th>Day</th><th>KPI</th><th class="num">Value'
        '</th><th class="num">Expected</th><th class="num">Change</th><th class="num">z</th>'
        "</tr></thead><tbody>"
        + "".join(
            f"<tr><td>{r['report_date']}</td><td>{html.escape(r['series'])}</td>"
            + "".join(
                f'<td class="num">{figure("mart_kpi_anomalies", col, {k: r[k] for k in ANOMALY_KEYS}, r[col], kind, cur)}</td>'  # noqa: E501
                for col, kind in (
                    ("value", r["unit"]),
                    ("expected", r["unit"]),
                    ("relative_change", "change"),
                    ("robust_z", "z"),
                )
            )
            + "</tr>"
            for r in flagged
        )
        + "</tbody></table></div>"
    )
    for r in flagged[:ANOMALY_CHARTS]:
        history = m.rows(
            "select report_date, kpi, dimension, dimension_value, value, expected "
            "from mart_kpi_anomalies where kpi = ? and dimension = ? and dimension_value = ? "
            "and report_date between ? and ? order by report_date",
            r["kpi"],
            r["dimension"],
            r["dimension_value"],
            r["report_date"] - timedelta(days=34),
            r["report_date"],
        )
        svg = charts.lines(
            history,
            "report_date",
            "value",
            dashed="expected",
            title=f"{r['series']} (dashed: expected)",
        )
        section.parts.append(
            chart_block(svg, "mart_kpi_anomalies", ANOMALY_KEYS, ["value", "expected"], history)
        )
    return section


EXPERIMENT_KEYS = ("experiment_id", "variation_id", "metric_name", "analysis_date")
EXPERIMENT_COLUMNS = (
    Column("persons", "Persons", "count"),
    Column("mean", "Per person", "number"),
    Column("relative_lift", "Lift", "change"),
    Column("relative_ci_low", "CI low", "change"),
    Column("relative_ci_high", "CI high", "change"),
    Column("p_value_adjusted", "p (Holm)", "p"),
    Column("chance_to_win", "Chance to win", "rate"),
    Column("cost_per_incremental", "Cost per added", "money"),
)


def _experiments(m: Marts, p: Period, cur: str) -> Section:
    """Each experiment as of the period's end: SRM first (a broken split voids the rest),
    then every variation x metric against the control, and the lifts with their CIs."""
    rows = m.rows(
        f"select {', '.join(EXPERIMENT_KEYS)}, is_control, is_randomized, has_srm, srm_p_value, "
        + ", ".join(c.name for c in EXPERIMENT_COLUMNS)
        + " from mart_experiment_results as r where analysis_date = ("
        "select max(analysis_date) from mart_experiment_results as d "
        "where d.experiment_id = r.experiment_id and d.analysis_date <= ?) "
        "order by experiment_id, metric_name, variation_id",
        p.end,
    )
    section = Section(
        "Experiments",
        "Each variation against the control with the persons exposed by the period's end: "
        "lift and 95% CI (Welch t, delta method), p adjusted for the experiment's several "
        "comparisons (Holm), Bayesian chance to win; for tests on paid traffic, what each "
        "added conversion cost. A sample ratio mismatch means the split is broken: fix the "
        "assignment before reading the results.",
    )
    for experiment in sorted({r["experiment_id"] for r in rows}):
        mine = [r for r in rows if r["experiment_id"] == experiment]
        first = mine[0]
        key = {k: first[k] for k in EXPERIMENT_KEYS}
        srm = figure("mart_experiment_results", "srm_p_value", key, first["srm_p_value"], "p")
        if not first["is_randomized"]:
            verdict = (
                "<p>Observational: the campaign's ad groups were not assigned at random, so a "
                "difference mixes the ad with the audience it reached (control: the largest).</p>"
            )
        elif first["has_srm"]:
            verdict = f'<p class="bad">Sample ratio mismatch (p {srm}): the split is broken.</p>'
        else:
            verdict = f'<p class="good">Split as configured (SRM p {srm}).</p>'
        kind = "" if first["is_randomized"] else ", observational"
        section.parts.append(
            f"<h3>{html.escape(experiment)} (as of {first['analysis_date']}{kind})</h3>"
        )
        section.parts.append(verdict)
        tested = [
            {**r, "label": f"{r['metric_name']}: {r['variation_id']}"}
            for r in mine
            if not r["is_control"] and r["relative_lift"] is not None
        ]
        if tested:
            svg = charts.intervals(tested, "label", "relative_lift", "relative_ci_low",
                                   "relative_ci_high", title=f"{experiment}: lift and 95% CI")  # fmt: skip
            section.parts.append(
                chart_block(svg, "mart_experiment_results", EXPERIMENT_KEYS,
                            ["relative_lift", "relative_ci_low", "relative_ci_high"], tested)
            )  # fmt: skip
        columns = (Column("metric_name", "Metric", "text"),
                   Column("variation_id", "Variation", "text"), *EXPERIMENT_COLUMNS)  # fmt: skip
        section.parts.append(
            table("mart_experiment_results", EXPERIMENT_KEYS, columns, mine, cur, "")
        )
    if not rows:
        section.parts.append('<p class="empty">No experiment has exposures yet.</p>')
    return section


def _data_health(m: Marts, published: dict[str, Any], cur: str) -> Section:
    until = published["published_at"].date()
    since = until - timedelta(days=6)
    deliveries = m.rows(
        "select delivery_date, family, source_name, files, files_loaded, files_held, "
        "files_rejected, rows_in, rows_loaded, rows_quarantined from mart_data_health_daily "
        "where delivery_date between ? and ? order by delivery_date desc, family, source_name",
        since,
        until,
    )
    held = m.rows(
        "select quarantine_date, family, source_file, rule, quarantined_rows, example_reason "
        "from mart_quarantine_daily where quarantine_date between ? and ? "
        "order by quarantined_rows desc, source_file, rule limit 20",
        since,
        until,
    )
    late = m.rows(
        "select family, source_name, files, last_delivery_at, hours_behind, is_late "
        "from mart_source_freshness where is_late order by hours_behind desc"
    )
    published_text = (
        f"Built from publish <code>{html.escape(str(published['run_id']))}</code> "
        f"at {published['published_at']:%Y-%m-%d %H:%M} UTC."
    )
    return Section(
        "Data health",
        f"{published_text} Deliveries from {since} to {until} (the week up to the publish).",
        [
            table(
                "mart_data_health_daily",
                ("delivery_date", "family", "source_name"),
                (
                    Column("delivery_date", "Day", "text"),
                    Column("source_name", "Source", "text"),
                    Column("files", "Files", "count"),
                    Column("files_loaded", "Loaded", "count"),
                    Column("files_held", "Held", "count"),
                    Column("files_rejected", "Rejected", "count"),
                    Column("rows_in", "Rows in", "count"),
                    Column("rows_quarantined", "Rows held back", "count"),
                ),
                deliveries,
                cur,
                "No file arrived in the week before the publish.",
            ),
            "<h3>Held back, and why</h3>",
            table(
                "mart_quarantine_daily",
                ("quarantine_date", "family", "source_file", "rule"),
                (
                    Column("source_file", "File", "text"),
                    Column("rule", "Rule", "text"),
                    Column("quarantined_rows", "Rows", "count"),
                    Column("example_reason", "Example", "text"),
                ),
                held,
                cur,
                "Nothing held back.",
            ),
            "<h3>Late sources</h3>",
            table(
                "mart_source_freshness",
                ("source_name",),
                (
                    Column("source_name", "Source", "text"),
                    Column("last_delivery_at", "Last delivery (UTC)", "text"),
                    Column("hours_behind", "Hours behind", "count"),
                ),
                late,
                cur,
                "Every source is up to date.",
            ),
        ],
    )


# ------------------------------------------------------------------------ the page

CSS = """
:root{color-scheme:light dark;--fg:#0f172a;--muted:#64748b;--bg:#fff;--card:#f8fafc;
--line:#e2e8f0;--good:#15803d;--bad:#b91c1c}
@media (prefers-color-scheme:dark){:root{--fg:#e2e8f0;--muted:#94a3b8;--bg:#0f172a;
--card:#1e293b;--line:#334155;--good:#4ade80;--bad:#f87171}
figure.chart svg{background:#fff;border-radius:6px}}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"PingFang SC","Microsoft YaHei",sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:980px;margin:0 auto;padding:16px}header p,.intro{color:var(--muted)}
h1{font-size:1.5em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid var(--line);
padding-bottom:.2em}h3{font-size:1em;margin:1.2em 0 .4em}
nav a{margin-right:1em}.cards{display:grid;grid-template-columns:repeat(auto-fill,
minmax(140px,1fr));gap:8px}.card{background:var(--card);border:1px solid var(--line);
border-radius:8px;padding:8px 10px}.card .label{color:var(--muted);font-size:.85em}
.card .value{font-size:1.35em;font-weight:600}.change{font-size:.8em;color:var(--muted)}
.change.good .fig:first-child{color:var(--good)}.change.bad .fig:first-child{color:var(--bad)}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
figure.chart{margin:12px 0}figure.chart svg{max-width:100%;height:auto}
.empty{color:var(--muted);font-style:italic}code{font-size:.9em}
p.bad{color:var(--bad);font-weight:600}p.good{color:var(--good)}
"""


def _page(title: str, header: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main><header>{header}</header>{body}</main></body></html>"
    )


def render(
    period: Period, sections: Iterable[Section], published: dict[str, Any], currency: str
) -> str:
    body = "".join(
        f"<section><h2>{html.escape(s.title)}</h2>"
        + (f'<p class="intro">{s.intro}</p>' if s.intro else "")
        + "".join(s.parts)
        + "</section>"
        for s in sections
    )
    header = (
        f'<nav><a href="../index.html">All reports</a></nav>'
        f"<h1>growthops {'daily' if period.unit == 'day' else 'weekly'} report</h1>"
        f"<p>{html.escape(period.label)} · money in {html.escape(currency)} · "
        f"published {published['published_at']:%Y-%m-%d %H:%M} UTC</p>"
    )
    return _page(f"growthops {period.unit} report {period.start}", header, body)


def report_path(cfg: Settings, period: Period) -> Path:
    return cfg.reports_dir / period.unit / f"{period.start.isoformat()}.html"


def _write(path: Path, text: str) -> None:
    """Atomically: a reader (a browser, a web server) never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_index(cfg: Settings) -> Path:
    """reports/index.html: every report written, newest first, by period."""
    parts = []
    for unit in PERIOD_UNITS:
        pages = sorted((cfg.reports_dir / unit).glob("*.html"), reverse=True)
        links = "".join(
            f'<li><a href="{unit}/{html.escape(p.name)}">{html.escape(p.stem)}</a></li>'
            for p in pages
        )
        title = "Daily" if unit == "day" else "Weekly (by the Monday that starts the week)"
        parts.append(f"<section><h2>{title}</h2><ul>{links or '<li>none yet</li>'}</ul></section>")
    index = cfg.reports_dir / "index.html"
    _write(index, _page("growthops reports", "<h1>growthops reports</h1>", "".join(parts)))
    return index


def build_report(cfg: Settings, unit: str = "day", on: date | None = None) -> Path:
    """Write the report of the period (`unit` day | week) holding `on`, or of the latest
    complete period; update the index; return the report's path."""
    marts = Marts(cfg)
    try:
        period = resolve_period(marts, unit, on)
        [published] = marts.rows("select run_id, published_at from publication")
        cur = cfg.reporting_currency
        sections = [
            _headline(marts, period, cur),
            _anomalies(marts, period, cur),
            _spend(marts, period, cur),
            _budget_actions(marts, period, cur),
            _funnels(marts, period, cur),
            _retention(marts, period, cur),
            _users(marts, period, cur),
            _value_curves(marts, period, cur),
            _content(marts, period, cur),
            _experiments(marts, period, cur),
            _data_health(marts, published, cur),
        ]
    finally:
        marts.close()
    path = report_path(cfg, period)
    _write(path, render(period, sections, published, cur))
    write_index(cfg)
    log.info("report: %s", path)
    return path


def latest_reports(cfg: Settings) -> list[Path]:
    """The daily and weekly report of the latest complete periods (what a publish writes)."""
    return [build_report(cfg, unit) for unit in PERIOD_UNITS]


# ------------------------------------------------------------------------ the terminal


def summary(cfg: Settings, unit: str = "week") -> str:
    """The headline of the latest complete period, as `make run` prints it."""
    marts = Marts(cfg)
    try:
        period = resolve_period(marts, unit, None)
        rows = {
            r["kpi"]: r
            for r in marts.rows(
                "select kpi, value, relative_change from mart_kpi_periods "
                "where period_unit = ? and period_start = ?",
                unit,
                period.start,
            )
        }
        flagged = marts.rows(
            "select report_date, kpi, dimension, dimension_value, value, expected "
            "from mart_kpi_anomalies where is_anomaly and report_date between ? and ? "
            "order by report_date",
            period.start,
            period.end,
        )
        # experiments as of now: a broken split, and the variations that win or lose
        verdicts = marts.rows(
            "select experiment_id, variation_id, metric_name, has_srm, srm_p_value, "
            "relative_lift, relative_ci_low, relative_ci_high, chance_to_win "
            "from mart_experiment_results where is_latest and not is_control "
            "and (has_srm or is_significant) order by experiment_id, metric_name, variation_id"
        )
    finally:
        marts.close()
    lines = [f"{period.label}:"]
    for kpi, label, kind, _ in HEADLINE:
        if kpi in rows:
            r = rows[kpi]
            change = fmt(r["relative_change"], "change") if r["relative_change"] is not None else ""
            lines.append(
                f"  {label:<14} {fmt(r['value'], kind, cfg.reporting_currency):>16}  {change}"
            )
    for a in flagged:
        lines.append(
            f"  anomaly: {a['report_date']} {a['kpi']} {a['dimension']} "
            f"{a['dimension_value']}: {a['value']:,.2f} (expected {a['expected']:,.2f})"
        )
    broken: dict[str, float] = {}  # experiment -> its smallest SRM p over the metrics
    for v in verdicts:
        if v["has_srm"]:
            broken[v["experiment_id"]] = min(v["srm_p_value"], broken.get(v["experiment_id"], 1))
    for experiment, p in sorted(broken.items()):
        lines.append(f"  experiment {experiment}: sample ratio mismatch (p {fmt(p, 'p')}): "
                     "the split is broken, its results are not read")  # fmt: skip
    for v in verdicts:
        if not v["has_srm"]:
            lines.append(
                f"  experiment {v['experiment_id']}: {v['variation_id']} {v['metric_name']} "
                f"{fmt(v['relative_lift'], 'change')} (95% CI {fmt(v['relative_ci_low'], 'change')}"
                f" to {fmt(v['relative_ci_high'], 'change')}, chance to win "
                f"{fmt(v['chance_to_win'], 'rate')})"
            )
    return "\n".join(lines)
