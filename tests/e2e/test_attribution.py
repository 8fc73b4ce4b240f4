"""Multi-touch attribution on the demo world: every model credits exactly the conversions
there were — sign-ups counted from the simulator's truth, orders from the loaded raw
events — and the spend the platforms billed; the models differ where people came back
through a second link (the world's returning-user touches)."""

from __future__ import annotations

import csv
import json

import pytest
from support import query

pytestmark = pytest.mark.slow

MODELS = {"first_touch", "last_touch", "last_non_direct", "linear", "position_based", "time_decay"}


def _per_model(clean_run) -> dict[str, tuple[float, float, float, float]]:
    rows = query(
        clean_run.root / "warehouse" / "marts.duckdb",
        "select attribution_model, sum(credited_signups), sum(credited_orders), "
        "sum(credited_revenue), sum(spend) from mart_attribution_daily group by 1",
    )
    return {r[0]: tuple(float(x) for x in r[1:]) for r in rows}


def test_every_model_credits_exactly_the_conversions_and_the_spend(clean_run) -> None:
    truth_dir = clean_run.root / "demo_truth"
    malformed = set(json.loads((truth_dir / "truth.json").read_text())["malformed_message_ids"])
    with (truth_dir / "persons.csv").open(encoding="utf-8") as fh:
        signups = sum(1 for p in csv.DictReader(fh)
                      if p["signed_up_at"] and p["signup_message_id"] not in malformed)  # fmt: skip
    db = clean_run.root / "warehouse"
    ((orders,),) = query(db / "pipeline.duckdb", "select count(distinct message_id) from "
                         "raw.app_events where event = 'Order Completed'")  # fmt: skip
    ((spend,),) = query(db / "marts.duckdb", "select sum(spend) from mart_spend_daily")
    ((revenue,),) = query(db / "marts.duckdb", "select sum(revenue) from mart_growth_daily")
    per_model = _per_model(clean_run)
    assert set(per_model) == MODELS
    for model, (
        credited_signups,
        credited_orders,
        credited_revenue,
        model_spend,
    ) in per_model.items():
        assert credited_signups == pytest.approx(signups, abs=1e-6), model
        assert credited_orders == pytest.approx(orders, abs=1e-6), model
        # each credit row's revenue is rounded to the micro: at most half a micro per row off
        assert credited_revenue == pytest.approx(float(revenue), abs=1e-3), model
        assert model_spend == pytest.approx(float(spend), abs=1e-6), model


def test_the_models_differ_where_people_came_back_through_another_link(clean_run) -> None:
    rows = query(
        clean_run.root / "warehouse" / "marts.duckdb",
        "select attribution_model, channel, sum(credited_orders) from mart_attribution_daily "
        "group by 1, 2",
    )
    by_model: dict[str, dict[str, float]] = {}
    for model, channel, orders in rows:
        by_model.setdefault(model, {})[channel] = round(float(orders), 6)
    assert by_model["first_touch"] != by_model["last_touch"]
    assert by_model["last_touch"] == by_model["last_non_direct"]  # touches carry utm: none direct
    # the fractional models spread an order over its touches: neither end's split
    assert by_model["linear"] not in (by_model["first_touch"], by_model["last_touch"])


def test_value_curves_reconcile_with_the_spend_mart(clean_run) -> None:
    """Day 0 of the curves holds each campaign day's acquired persons (mart_spend_daily's
    installs); day 6 and day 29 hold its revenue_d7 / revenue_d30; a feed campaign's cohort
    carries the day's spend."""
    db = clean_run.root / "warehouse" / "marts.duckdb"
    by_campaign_day = """
        select acquisition_date, acquisition_platform, acquisition_campaign_id,
               sum(cohort_size) filter (where day_number = 0),
               sum(cumulative_revenue) filter (where day_number = 6),
               sum(cumulative_revenue) filter (where day_number = 29),
               sum(spend) filter (where day_number = 0 and acquisition_keyword_id is null),
               min(payback_day)
        from mart_cohort_value_curves where acquisition_platform is not null group by 1, 2, 3
    """
    curves = {r[:3]: r[3:] for r in query(db, by_campaign_day)}
    spend_mart = {r[:3]: r[3:] for r in query(
        db, "select report_date, platform, campaign_id, installs, revenue_d7, revenue_d30, spend, "
            "platform in ('meta_ads', 'ocean_engine'), payback_days from mart_spend_daily "
            "where installs > 0")}  # fmt: skip
    assert curves.keys() == spend_mart.keys()
    sixes = twenty_nines = 0
    paybacks = 0
    for key, (size, d6, d29, feed_spend, payback_day) in curves.items():
        installs, revenue_d7, revenue_d30, spend, is_feed, payback_days = spend_mart[key]
        assert size == installs, key
        if d6 is not None:
            sixes += 1
            assert d6 == revenue_d7, key
        if d29 is not None:
            twenty_nines += 1
            assert d29 == revenue_d30, key
        if is_feed:  # no spend row that day: NULL in the curves, 0 in the spend mart
            assert (feed_spend or 0) == spend, key
            # a feed cohort is its campaign's day: both count payback in 24-hour blocks
            assert payback_day == payback_days, key
            paybacks += payback_days is not None
    assert sixes > 0 and paybacks > 0
