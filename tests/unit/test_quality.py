"""quality.validate runs a real GX suite and reports failing rows by ROW_ID, whatever the
frame's index and however many columns the suite does not read."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from growthops import quality

SUITE = {
    "name": "unit",
    "expectations": [
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "message_id"},
            "meta": {"reason": "messageId is missing", "show": ["raw_record"]},
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {
                "column": "volume_ratio",
                "min_value": 0.25,
                "max_value": 4,
                "row_condition": "is_complete_day == True",
                "condition_parser": "pandas",
            },
            "meta": {"reason": "volume off", "blocking": False},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "event", "value_set": {"$PARAMETER": "events"}},
            "meta": {"reason": "event not in the plan"},
        },
    ],
}


def _suite(tmp_path: Path) -> Path:
    path = tmp_path / "unit.json"
    path.write_text(json.dumps(SUITE), encoding="utf-8")
    return path


def test_columns_used_reads_kwargs_and_row_conditions() -> None:
    columns = ["raw_record", "message_id", "event", "volume_ratio", "is_complete_day", "other"]
    assert quality.columns_used(SUITE, columns) == [
        "message_id",
        "event",
        "volume_ratio",
        "is_complete_day",
    ]
    table_level = {"expectations": [{"type": "expect_table_row_count_to_equal", "kwargs": {}}]}
    assert quality.columns_used(table_level, columns) == columns


def test_failing_rows_are_row_ids_not_positions(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "raw_record": ["{a}", "{b}", "{c}", "{d}", "{e}"],
            "message_id": ["m1", None, "m3", "m4", None],
            "event": ["Signed Up", "Signed Up", "Bogus", "Signed Up", "Bogus"],
            # row 3 is out of range but on an incomplete day: the condition excludes it
            "volume_ratio": [1.0, 5.0, 1.0, 9.0, 0.1],
            "is_complete_day": [True, True, True, False, True],
            quality.ROW_ID: [10, 11, 12, 13, 14],
        },
        index=[7, 3, 5, 1, 0],  # not 0..n-1, not sorted: positions must map to ROW_ID
    )
    result = quality.validate(frame, _suite(tmp_path), {"events": ["Signed Up"]})
    by_rule = {r.rule: r for r in result.rules}
    assert by_rule["expect_column_values_to_not_be_null(message_id)"].failing_rows == (11, 14)
    volume = by_rule["expect_column_values_to_be_between(volume_ratio)"]
    assert (volume.failing_rows, volume.blocking) == ((11, 14), False)
    assert by_rule["expect_column_values_to_be_in_set(event)"].failing_rows == (12, 14)
    assert by_rule["expect_column_values_to_not_be_null(message_id)"].show == ("raw_record",)
    assert not result.success


def test_the_staging_volume_ratio_ignores_the_partial_first_day_and_needs_three_days() -> None:
    """Hand case: a source whose first day is partial (5 events), then 100 a day, then a
    drop to 10. Day 2 is not measured against the partial day (that was a warning on every
    demo run); a ratio needs three complete days before it; the drop is 0.1."""
    import duckdb

    from growthops.transform import STAGING_PROFILE_SQL

    con = duckdb.connect()
    con.execute("create schema staging")
    events = [5, 100, 100, 100, 100, 10, 100]
    con.execute(
        "create table staging.stg_app__events as select "
        "timestamp '2026-06-01' + to_days(d) as event_at, 'm' || d || '-' || i as message_id "
        "from unnest(range(?)) as t(d), unnest(range(100)) as u(i) "
        "where i < (?)[d + 1]",
        [len(events), events],
    )
    con.execute("create table staging.stg_channel__spend_reports (report_date date, "
                "campaign_id varchar, spend_account_currency decimal(18,6), clicks bigint)")  # fmt: skip
    con.execute("create table staging.stg_content__daily_stats (stat_date date, "
                "content_id varchar, views bigint, likes bigint)")  # fmt: skip
    ratios = [r[0] for r in con.execute(
        f"select volume_ratio from ({STAGING_PROFILE_SQL}) where model = 'stg_app__events'"
    ).fetchall()]  # fmt: skip
    assert ratios == [None, None, None, None, 1.0, 0.1, 1.0]
