"""The short answer `make run` prints, read from the published serving file."""

from __future__ import annotations

from pathlib import Path

import duckdb

SECTIONS: list[tuple[str, str]] = [
    (
        "Spend and what it brought, by platform (reporting currency)",
        """select platform, round(sum(spend), 2) as spend, sum(installs) as installs,
                  sum(signups) as signups, sum(payers) as payers,
                  round(sum(spend) / nullif(sum(signups), 0), 2) as cpa,
                  round(sum(spend) / nullif(sum(payers), 0), 2) as cac,
                  round(sum(revenue_to_date) / nullif(sum(spend), 0), 3) as roas
           from mart_spend_daily group by platform order by spend desc""",
    ),
    (
        "Wasted keywords on the latest day (spend, no sign-up in the window)",
        """select platform, keyword_text, round(trailing_spend, 2) as trailing_spend, trailing_clicks
           from mart_keyword_performance
           where is_wasted and report_date = (select max(report_date) from mart_keyword_performance)
           order by trailing_spend desc limit 5""",
    ),
    (
        "Funnels: persons at each step, all cohorts",
        """select funnel_name, step_number, any_value(step_event) as step_event, sum(persons) as persons,
                  round(sum(persons) / max(sum(persons)) over (partition by funnel_name), 3) as from_start
           from mart_funnel_conversion group by funnel_name, step_number order by funnel_name, step_number""",
    ),
    (
        "D1 / D7 retention of new users, by channel",
        """select acquisition_channel, sum(new_users) as new_users,
                  round(sum(d1_retained)
                        / nullif(sum(case when d1_retained is not null then new_users end), 0), 3) as d1,
                  round(sum(d7_retained)
                        / nullif(sum(case when d7_retained is not null then new_users end), 0), 3) as d7
           from mart_growth_daily group by 1 order by new_users desc""",
    ),
    (
        "Top content by attributed sign-ups",
        """select content_id, any_value(content_platform) as platform, any_value(author) as author,
                  sum(views) as views, sum(signups_attributed) as signups
           from mart_content_daily group by content_id order by signups desc, views desc limit 5""",
    ),
]


def summary(serving_db: Path) -> str:
    con = duckdb.connect(str(serving_db), read_only=True)
    parts = [f"published marts: {serving_db}"]
    try:
        run = con.execute("select run_id, published_at from publication").fetchall()[0]
        parts.append(f"  from run {run[0]} at {run[1]:%Y-%m-%d %H:%M:%S} UTC")
        for title, sql in SECTIONS:
            try:
                parts.append(f"\n{title}\n{con.sql(sql)}")
            except duckdb.CatalogException:
                parts.append(f"\n{title}: (mart not built)")
    finally:
        con.close()
    parts.append(
        "query the marts (read-only, safe while the pipeline runs):\n"
        '  .venv/bin/growthops sql "select * from mart_spend_daily order by report_date desc limit 10"'
    )
    return "\n".join(parts)
