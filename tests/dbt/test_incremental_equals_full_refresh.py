"""An incremental dbt run gives exactly what a full refresh gives, late events included.

The demo world arrives in two parts: files of the first 8 days, then the rest (which
carries events that belong to the first days but arrived late), whose load ids sort before
the first part's (out of order), and an FX rate that lets orders held in the first part
load into their old files. After the second part, the incrementally built models must
equal a --full-refresh build, row for row.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from growthops.config import Settings
from growthops.dbt import run_dbt
from growthops.demo.generate import generate
from growthops.demo.simulate import DemoConfig
from growthops.demo.world import SCALES
from growthops.ingest.loader import ingest
from growthops.landing import FAMILIES, iter_complete_files

# also the fault suite's "loads arriving out of id order"
pytestmark = [pytest.mark.slow, pytest.mark.faults]
CUTOFF = "2026-06-08"


def _file_day(path: Path) -> str:
    digits = re.search(r"(\d{4})-?(\d{2})-?(\d{2})", path.name)
    assert digits, path
    return "-".join(digits.groups())


def _ingest_all(cfg: Settings) -> None:
    for family in FAMILIES:
        ingest(family, cfg)


def _built_tables(cfg: Settings) -> list[tuple[str, str]]:
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    try:
        return con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where schema_name in ('intermediate', 'marts') order by 1, 2"
        ).fetchall()
    finally:
        con.close()


def test_incremental_run_equals_full_refresh(tmp_path: Path) -> None:
    cfg = Settings(home=Settings.from_env().home, data_root=tmp_path / "data")
    held = tmp_path / "not_yet_arrived"
    generate(
        DemoConfig(SCALES["small"], seed=44, dirt_rate=0.01), cfg.landing_dir, cfg.demo_truth_dir
    )
    for path in list(iter_complete_files(cfg.landing_dir)):
        if _file_day(path) >= CUTOFF:
            dest = held / path.relative_to(cfg.landing_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, dest)

    _ingest_all(cfg)
    first = run_dbt(["build", "--exclude", "test_type:unit"], cfg)
    assert first.success, first.output[-3000:]

    shutil.copytree(held, cfg.landing_dir, dirs_exist_ok=True)
    _ingest_all(cfg)
    con = duckdb.connect(str(cfg.pipeline_db))
    # The second part's loads get ids that sort BEFORE the first part's (a host whose clock
    # was behind, or another worker): what the transform picks up must not depend on it.
    (first_id,) = con.execute("select min(load_id) from raw.app_events").fetchone()
    con.execute(
        "update raw.app_events set load_id = 'app_00000000T000000000000_' || load_id "
        "where load_id > ?",
        [first_id],
    )
    assert (
        con.execute(
            "select count(distinct load_id) filter (where load_id < ?), count(distinct load_id) "
            "from raw.app_events",
            [first_id],
        ).fetchone()[0]
        > 0
    )
    con.close()
    # an HKD rate arrives: orders held for it load into the files (and loads) they came with
    held = json.loads((cfg.demo_truth_dir / "truth.json").read_text())["held_order_message_ids"]
    assert held, "the world holds an order in HKD"
    (cfg.landing_dir / "channel" / "fx_rates" / "fx_hkd.csv").write_text(
        "date,currency,usd_per_unit\n2026-05-01,HKD,0.128\n"
    )
    ingest("channel", cfg)
    con = duckdb.connect(str(cfg.pipeline_db))
    assert con.execute(
        "select count(*) from raw.app_events where list_contains(?, message_id)", [held]
    ).fetchone()[0] == len(held)
    late = con.execute(
        f"select count(*) from raw.app_events where event_at < date '{CUTOFF}' "
        f"and received_at >= date '{CUTOFF}' + interval 1 day"
    ).fetchone()[0]
    con.close()
    assert late > 0, "the second part must carry late events for the first days"

    incremental = run_dbt(["build", "--exclude", "test_type:unit"], cfg)
    assert incremental.success, incremental.output[-3000:]
    assert any(r.name == "int_events_enriched" for r in incremental.results)
    tables = _built_tables(cfg)
    con = duckdb.connect(str(cfg.pipeline_db))
    con.execute("create schema snapshot")
    for schema, table in tables:
        con.execute(f"create table snapshot.{table} as select * from {schema}.{table}")
    con.close()

    full = run_dbt(["build", "--full-refresh", "--exclude", "test_type:unit"], cfg)
    assert full.success, full.output[-3000:]
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    try:
        for schema, table in tables:
            only_incremental = con.execute(
                f"select count(*) from (select * from snapshot.{table} except all select * from {schema}.{table})"
            ).fetchone()[0]
            only_full = con.execute(
                f"select count(*) from (select * from {schema}.{table} except all select * from snapshot.{table})"
            ).fetchone()[0]
            assert (only_incremental, only_full) == (0, 0), f"{schema}.{table} differs"
        events = con.execute("select count(*) from intermediate.int_events_enriched").fetchone()[0]
        assert events == con.execute("select count(*) from raw.app_events").fetchone()[0]
    finally:
        con.close()
    assert {t for _, t in tables} >= {"int_events_enriched", "mart_spend_daily"}
