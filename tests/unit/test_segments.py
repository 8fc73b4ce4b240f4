"""The segment history: each marts build adds its day's members and keeps the days before;
building a day again replaces that day only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from growthops import segments
from growthops.config import Settings


def _built(cfg: Settings, day: str, members: list[tuple[str, str]]) -> None:
    """What a marts build leaves: the profiles' day and the segment members."""
    cfg.pipeline_db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(cfg.pipeline_db))
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.mart_person_profiles as select ?::date as as_of_date", [day]
    )
    con.execute("create or replace table marts.mart_segment_members "
                "(segment_name varchar, person_key varchar, as_of_date date)")  # fmt: skip
    con.executemany("insert into marts.mart_segment_members values (?, ?, ?)",
                    [(s, p, day) for s, p in members])  # fmt: skip
    con.close()


def _history(cfg: Settings) -> list[tuple]:
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    rows = con.execute(f"select * from marts.{segments.HISTORY_TABLE} order by all").fetchall()
    con.close()
    return rows


def test_each_day_is_kept_and_a_rebuilt_day_replaced(tmp_path: Path) -> None:
    cfg = Settings(home=Settings.from_env().home, data_root=tmp_path / "data")
    _built(cfg, "2026-06-01", [("payers", "a"), ("payers", "b")])
    assert segments.record_membership(cfg) == 2
    _built(cfg, "2026-06-02", [("payers", "b"), ("android", "c")])
    assert segments.record_membership(cfg) == 2
    # the same day built again (a late file): its members are now only b
    _built(cfg, "2026-06-02", [("payers", "b")])
    assert segments.record_membership(cfg) == 1
    assert _history(cfg) == [
        (date(2026, 6, 1), "payers", "a"),
        (date(2026, 6, 1), "payers", "b"),
        (date(2026, 6, 2), "payers", "b"),
    ]
