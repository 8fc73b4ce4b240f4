"""Segment membership per day: every marts build records the members of each segment on the
profiles' as_of_date (mart_segment_members, a dbt mart) in mart_segment_membership_daily,
which keeps the days before.

A history cannot be a dbt model here: every dbt model is rebuilt from raw (an incremental
run equals a full refresh, tests/dbt), and yesterday's profiles are not in raw. So this
table is the one mart that accumulates: a day's rows are replaced when that day is built
again (a rebuild, a late file) and kept afterwards. Two pipelines fed the same data in
different deliveries differ here by design (transform.DELIVERY_MARTS).
"""

from __future__ import annotations

import logging
from typing import Any

from growthops import warehouse
from growthops.config import Settings, settings

log = logging.getLogger(__name__)

HISTORY_TABLE = "mart_segment_membership_daily"
HISTORY_AREA = "product"  # its folder's asset: marts_product
HISTORY_DESCRIPTION = (
    "One row per day × segment × member: the members of each segment (var('segments')) as "
    "of that day's profiles (mart_segment_members), recorded by every marts build and kept "
    "across builds, so a segment's size and who entered or left it can be read per day. A "
    "day is recorded when a build's profiles are as of that day (the last complete day); "
    "building the same day again replaces its rows."
)
HISTORY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("as_of_date", "date not null", "The profiles' day (mart_person_profiles.as_of_date)."),
    ("segment_name", "varchar not null", "The segment's name."),
    ("person_key", "varchar not null", "A member that day."),
)


def record_membership(cfg: Settings | None = None) -> int:
    """Add (or replace) the day of the freshly built mart_segment_members; rows written."""
    cfg = cfg or settings()
    ddl = ", ".join(f"{name} {kind}" for name, kind, _ in HISTORY_COLUMNS)
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(f"create table if not exists marts.{HISTORY_TABLE} ({ddl})")
        con.execute(
            f"delete from marts.{HISTORY_TABLE} where as_of_date in "
            "(select as_of_date from marts.mart_person_profiles)"
        )
        con.execute(
            f"insert into marts.{HISTORY_TABLE} select as_of_date, segment_name, person_key "
            "from marts.mart_segment_members"
        )
        (rows,) = con.execute(
            f"select count(*) from marts.{HISTORY_TABLE} where as_of_date in "
            "(select as_of_date from marts.mart_person_profiles)"
        ).fetchone()
    log.info("%s: %d members recorded", HISTORY_TABLE, rows)
    return int(rows)


def history_node() -> dict[str, Any]:
    """The table's docs in the shape of a dbt manifest node (publish comments from these)."""
    return {
        "name": HISTORY_TABLE,
        "fqn": ["growthops", "marts", HISTORY_AREA, HISTORY_TABLE],
        "description": HISTORY_DESCRIPTION,
        "columns": {name: {"description": text} for name, _, text in HISTORY_COLUMNS},
    }
