"""Users as people on the demo world: lifecycle and stickiness against the growth mart's
independently computed activity (DAU, new users, WAU), and each payer's orders in the
profiles against the orders the simulator generated (truth orders.csv)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, timedelta

import pytest
from support import query

pytestmark = pytest.mark.slow


def test_daily_lifecycle_is_the_growth_marts_activity(clean_run) -> None:
    """Per day and channel: new + returning + resurrecting = DAU, new = new users;
    returning + |dormant| = the previous day's DAU."""
    marts = clean_run.root / "warehouse" / "marts.duckdb"
    lifecycle = {
        (day, channel, status): persons
        for day, channel, status, persons in query(
            marts,
            "select period_start, acquisition_channel, status, persons from mart_lifecycle "
            "where period_unit = 'day'",
        )
    }
    growth = {(day, ch): (dau, new) for day, ch, dau, new in query(
        marts, "select report_date, acquisition_channel, dau, new_users from mart_growth_daily")}  # fmt: skip
    assert growth
    for (day, channel), (dau, new) in growth.items():
        got = {
            s: lifecycle.get((day, channel, s), 0)
            for s in ("new", "returning", "resurrecting", "dormant")
        }
        assert got["new"] + got["returning"] + got["resurrecting"] == dau, (day, channel, got)
        assert got["new"] == new, (day, channel)
        before = growth.get((day - timedelta(days=1), channel))
        if before is not None:
            assert got["returning"] - got["dormant"] == before[0], (day, channel, got)
    weeks = query(marts, "select count(distinct period_start) from mart_lifecycle where period_unit = 'week' "
                         "and status = 'dormant'")  # fmt: skip
    assert weeks[0][0] >= 3


def test_seven_day_stickiness_adds_up_to_the_weekly_actives(clean_run) -> None:
    """The 7-day window ending on a Sunday holds, over its buckets, the growth mart's WAU of
    that Sunday (its rolling 7 days), per channel; buckets run 1..7."""
    marts = clean_run.root / "warehouse" / "marts.duckdb"
    buckets = query(marts, "select window_end, acquisition_channel, sum(persons), count(*), "
                           "max(active_days) from mart_stickiness where window_days = 7 group by 1, 2")  # fmt: skip
    wau = {
        (d, ch): w
        for d, ch, w in query(
            marts, "select report_date, acquisition_channel, wau from mart_growth_daily"
        )
    }
    assert len({b[0] for b in buckets}) >= 3
    for end, channel, persons, rows, top in buckets:
        assert end.isoweekday() == 7
        assert (rows, top) == (7, 7)
        assert persons == wau[(end, channel)], (end, channel)


def test_profiles_hold_each_payers_orders_as_generated(clean_run) -> None:
    """Per identified payer: the profile's orders (up to as_of_date) = the truth's orders of
    that person on or before that day that reached the warehouse (malformed and held lines
    are dirt the truth names; a device time the pipeline could not trust moves an order)."""
    marts = clean_run.root / "warehouse" / "marts.duckdb"
    [(as_of,)] = query(marts, "select max(as_of_date) from mart_person_profiles")
    truth_dir = clean_run.root / "demo_truth"
    with (truth_dir / "persons.csv").open(encoding="utf-8") as fh:
        user_of = {p["person_id"]: p["user_id"] for p in csv.DictReader(fh) if p["user_id"]}
    truth = json.loads((truth_dir / "truth.json").read_text())
    lost = set(truth["malformed_message_ids"]) | set(truth["held_order_message_ids"])
    moved = set(truth["implausible_time_message_ids"])
    expected: Counter[str] = Counter()
    uncertain = 0
    with (truth_dir / "orders.csv").open(encoding="utf-8") as fh:
        for o in csv.DictReader(fh):
            uncertain += o["message_id"] in moved
            if o["message_id"] not in lost and date.fromisoformat(o["at"][:10]) <= as_of:
                expected[user_of[o["person_id"]]] += 1
    profiles = dict(
        query(marts, "select person_key, orders from mart_person_profiles where orders > 0")
    )
    differing = {k for k in expected.keys() | profiles.keys() if expected[k] != profiles.get(k, 0)}
    assert len(differing) <= uncertain, sorted(differing)[:10]
    repeat = sum(1 for n in profiles.values() if n > 1)
    assert repeat >= 10  # the world's payers buy again
    classes = dict(query(marts, "select rfm_class, count(*) from mart_person_profiles group by 1"))
    assert {c for c in classes if c} >= {"important_value", "general_win_back"}


def test_the_segment_history_holds_the_published_days_members(clean_run) -> None:
    marts = clean_run.root / "warehouse" / "marts.duckdb"
    members = sorted(
        query(marts, "select as_of_date, segment_name, person_key from mart_segment_members")
    )
    history = sorted(query(marts, "select * from mart_segment_membership_daily"))
    assert members and history == members
