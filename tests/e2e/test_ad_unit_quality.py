"""The ad-unit lists on the demo world: the junk keywords found are the ones the world
made junk, each verdict recomputed from the simulator's truth with scipy's Beta
distribution (not the mart's SQL sums), and they are on the cut list; the units add up to
the spend mart. (Wasted keywords against the truth: test_pipeline.py.)"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from scipy.stats import beta
from support import query

from growthops.config import Settings

pytestmark = pytest.mark.slow

WINDOW, FLOOR, CONFIDENCE = 14, 0.1, 0.9  # dbt_project.yml's defaults


def _truth(clean_run, name: str) -> list[dict[str, str]]:
    with (clean_run.root / "demo_truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_junk_keywords_found_are_the_worlds_junk_keywords(clean_run) -> None:
    marts = clean_run.root / "warehouse" / "marts.duckdb"
    zone = ZoneInfo(Settings.from_env().reporting_timezone)
    spend_rows = _truth(clean_run, "spend_rows.csv")
    designed_junk = {r["keyword_id"] for r in spend_rows if r["junk_keyword"] == "True"}
    assert len(designed_junk) == 2
    malformed = set(json.loads((clean_run.root / "demo_truth" / "truth.json").read_text())
                    ["malformed_message_ids"])  # fmt: skip
    persons = [p for p in _truth(clean_run, "persons.csv") if p["keyword_id"]]
    latest = dict(query(marts, "select platform, max(report_date) from mart_keyword_performance "
                               "group by platform"))  # fmt: skip
    checked = 0
    for platform, day in latest.items():
        # the D7 window: acquisition days 7..20 days before the report day
        d7_days = {day - timedelta(days=d) for d in range(7, 7 + WINDOW)}
        signups: Counter[str] = Counter()
        activated: Counter[str] = Counter()
        for p in persons:
            if (
                p["platform"] != platform
                or not p["signed_up_at"]
                or p["signup_message_id"] in malformed
            ):
                continue
            installed = _at(p["install_at"])
            if installed.astimezone(zone).date() not in d7_days:
                continue
            signups[p["keyword_id"]] += 1
            if p["activated_at"] and _at(p["activated_at"]) < installed + timedelta(days=7):
                activated[p["keyword_id"]] += 1
        spent = {r["keyword_id"] for r in spend_rows
                 if r["date"] and date.fromisoformat(r["date"]) in d7_days and float(r["spend"]) > 0}  # fmt: skip
        expected = {
            k
            for k in signups
            if k in spent
            and beta.cdf(FLOOR, activated[k] + 1, signups[k] - activated[k] + 1) > CONFIDENCE
        }
        flagged = {k for (k,) in query(
            marts, "select keyword_id from mart_keyword_performance "
                   "where platform = ? and report_date = ? and is_junk", platform, day)}  # fmt: skip
        assert flagged == expected, (platform, flagged ^ expected)
        assert flagged == designed_junk & {
            r["keyword_id"] for r in spend_rows if r["platform"] == platform
        }
        checked += len(flagged)
        cut = {k for (k,) in query(
            marts, "select keyword_id from mart_keyword_performance "
                   "where platform = ? and report_date = ? and action = 'cut'", platform, day)}  # fmt: skip
        assert flagged <= cut, platform
    assert checked == len(designed_junk)


def test_the_posterior_in_sql_is_scipys_beta(clean_run) -> None:
    """Every row's P(activation rate < floor), summed term by term in SQL, against scipy."""
    rows = query(
        clean_run.root / "warehouse" / "marts.duckdb",
        "select d7_signups, d7_activated, p_activation_below_floor from mart_ad_unit_performance "
        "union all select d7_signups, d7_activated, p_activation_below_floor "
        "from mart_keyword_performance",
    )
    assert max(s for s, _, _ in rows) >= 40
    for s, a, p in rows:
        assert p == pytest.approx(beta.cdf(FLOOR, a + 1, s - a + 1), abs=1e-8), (s, a)


def test_the_units_add_up_to_the_spend_mart(clean_run) -> None:
    """Every campaign day's spend and credited persons are in the ad-unit list exactly once,
    and a search platform's keywords add up to its ad groups."""
    marts = clean_run.root / "warehouse" / "marts.duckdb"
    units = query(marts, "select report_date, platform, campaign_id, sum(spend), sum(installs), "
                         "sum(signups) from mart_ad_unit_performance group by 1, 2, 3 "
                         "having sum(spend) > 0 or sum(installs) > 0")  # fmt: skip
    spend_mart = query(marts, "select report_date, platform, campaign_id, spend, installs, signups "
                              "from mart_spend_daily where spend > 0 or installs > 0")  # fmt: skip
    assert sorted(units) == sorted(spend_mart)
    by_group = "select report_date, platform, ad_group_id, sum(spend), sum(signups) from {} " \
               "where platform in ('google_ads', 'baidu_sem') group by 1, 2, 3"  # fmt: skip
    assert sorted(query(marts, by_group.format("mart_keyword_performance"))) == sorted(
        query(marts, by_group.format("mart_ad_unit_performance"))
    )
