"""The growth (AARRR) and content marts of the shared clean run (the demo world through every
DAG), checked against the simulator's ground truth (demo_truth/persons.csv).

Expected numbers come from the truth, never from the pipeline. The one piece of dirt that
changes them is a malformed line: it replaces the real event, so a person whose install
event was malformed loses the utm touch it carried (the truth lists those message ids),
and one whose Signed Up event was malformed is not a sign-up (the truth does not name
those, hence the small tolerances below).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from support import DEMO

pytestmark = pytest.mark.slow
DIRT_RATE = DEMO.dirt_rate
# truth channel (+ ad platform) -> int_persons.acquisition_channel
PAID = {
    "google_ads": "paid_search",
    "baidu_sem": "paid_search",
    "meta_ads": "paid_social",
    "ocean_engine": "paid_social",
}
UNPAID = {
    "organic": "organic_search",
    "content": "content",
    "referral": "referral",
    "direct": "direct",
}


@pytest.fixture(scope="module")
def data_root(clean_run) -> Path:
    """The shared clean run (support.DEMO through every DAG), read only."""
    return clean_run.root


def _q(root: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(root / "warehouse" / "pipeline.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _persons(root: Path) -> list[dict[str, str]]:
    with (root / "demo_truth" / "persons.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _malformed(root: Path) -> set[str]:
    truth = json.loads((root / "demo_truth" / "truth.json").read_text())
    return set(truth["malformed_message_ids"])


def _expected_channel(person: dict[str, str], malformed: set[str]) -> str:
    if person["install_message_id"] in malformed:
        return "direct"  # the install event carried the only utm touch
    if person["channel"] == "paid":
        return PAID[person["platform"]]
    return UNPAID[person["channel"]]


def test_new_users_per_day_and_channel_match_the_truth(data_root: Path) -> None:
    malformed = _malformed(data_root)
    expected = Counter(
        (p["install_at"][:10], _expected_channel(p, malformed)) for p in _persons(data_root)
    )
    rows = _q(
        data_root,
        "select cast(report_date as varchar), acquisition_channel, new_users "
        "from marts.mart_growth_daily where new_users > 0",
    )
    actual = Counter({(d, ch): n for d, ch, n in rows})
    assert sum(actual.values()) == sum(expected.values())
    # a malformed install makes the person's next event (seconds later) their first: it
    # may cross midnight, nothing else may differ.
    off = sum(((actual - expected) + (expected - actual)).values())
    assert off <= 2, sorted(((actual - expected) + (expected - actual)).items())


def test_signups_per_day_match_the_truth_within_the_dirt(data_root: Path) -> None:
    expected = Counter(p["signed_up_at"][:10] for p in _persons(data_root) if p["signed_up_at"])
    actual = Counter(
        dict(
            _q(
                data_root,
                "select cast(report_date as varchar), sum(signups) from marts.mart_growth_daily "
                "group by report_date having sum(signups) > 0",
            )
        )
    )
    assert not actual - expected  # a sign-up is only ever lost, never invented
    missing = sum((expected - actual).values())
    assert missing <= max(3, 3 * DIRT_RATE * sum(expected.values())), expected - actual


def test_content_credit_per_item_matches_the_truth(data_root: Path) -> None:
    malformed = _malformed(data_root)
    content_people = [
        p
        for p in _persons(data_root)
        if p["channel"] == "content" and p["install_message_id"] not in malformed
    ]
    expected_new = Counter(p["content_id"] for p in content_people)
    expected_signups = Counter(p["content_id"] for p in content_people if p["signed_up_at"])
    rows = _q(
        data_root,
        "select content_id, sum(new_users_attributed), sum(signups_attributed_utm) "
        "from marts.mart_content_daily group by content_id",
    )
    new = Counter({c: n for c, n, _ in rows if n})
    signups = Counter({c: s for c, _, s in rows if s})
    assert new == expected_new
    assert not signups - expected_signups, signups - expected_signups
    missing = sum((expected_signups - signups).values())
    assert missing <= max(2, 3 * DIRT_RATE * sum(expected_signups.values()))
    # utm credit also agrees with the growth mart's content channel
    (growth_content_signups,) = _q(
        data_root,
        "select sum(signups) from marts.mart_growth_daily where acquisition_channel = 'content'",
    )[0]
    assert sum(signups.values()) == growth_content_signups


def test_growth_invariants(data_root: Path) -> None:
    (bad,) = _q(
        data_root,
        """
        select count(*) from marts.mart_growth_daily
        where not (dau <= wau and wau <= mau and new_users <= dau and paying_users <= dau)
            or stickiness > 1
            or (stickiness is not null and abs(stickiness - dau / mau) > 1e-9)
            or d1_retention_rate > 1 or d7_retention_rate > 1
        """,
    )[0]
    assert bad == 0
    days, channels, rows = _q(
        data_root,
        "select count(distinct report_date), count(distinct acquisition_channel), count(*) "
        "from marts.mart_growth_daily",
    )[0]
    assert rows == days * channels  # a dense spine: every day for every channel
    # day N is NULL exactly when it lies beyond the last day in the data
    (last,) = _q(data_root, "select max(report_date) from marts.mart_growth_daily")[0]
    nulls = _q(
        data_root,
        "select report_date, d1_retained is null, d7_retained is null from marts.mart_growth_daily",
    )
    for day, d1_null, d7_null in nulls:
        assert d1_null == ((last - day).days < 1)
        assert d7_null == ((last - day).days < 7)
    # totals agree with the person model
    persons, signups = _q(
        data_root,
        "select count(*), count(signed_up_at) from intermediate.int_persons",
    )[0]
    assert _q(data_root, "select sum(new_users), sum(signups) from marts.mart_growth_daily")[0] == (
        persons,
        signups,
    )


def test_referral_signups_match_the_truth_within_the_dirt(data_root: Path) -> None:
    expected = sum(1 for p in _persons(data_root) if p["referrer_user_id"] and p["signed_up_at"])
    (actual,) = _q(data_root, "select sum(referral_signups) from marts.mart_growth_daily")[0]
    assert expected - max(2, 3 * DIRT_RATE * expected) <= actual <= expected


def test_content_roll_ups_add_up(data_root: Path) -> None:
    for mart, dim in (
        ("mart_content_platform_daily", "content_platform"),
        ("mart_content_author_daily", "author"),
    ):
        (bad,) = _q(
            data_root,
            f"""
            with items as (
                select report_date, coalesce({dim}, 'unknown') as {dim},
                    sum(views) as views, sum(shares) as shares, sum(app_views) as app_views,
                    sum(app_unique_viewers) as viewers, sum(signups_attributed) as signups
                from marts.mart_content_daily group by all
            )
            select count(*) from items
            full outer join marts.{mart} as r using (report_date, {dim})
            where r.views is distinct from items.views
                or r.app_views is distinct from items.app_views
                or r.signups_attributed is distinct from items.signups
                or r.app_unique_viewers > items.viewers
                or r.share_rate is distinct from cast(items.shares as double) / nullif(items.views, 0)
            """,
        )[0]
        assert bad == 0, mart
    (bad,) = _q(
        data_root,
        """
        select count(*) from marts.mart_content_daily
        where app_unique_viewers > app_views or share_rate > 1 or engagement_rate < 0
            or signups_attributed <> signups_attributed_utm + signups_attributed_first_view
        """,
    )[0]
    assert bad == 0
