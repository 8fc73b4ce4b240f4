"""Incremental dbt runs give exactly what a full refresh gives.

The demo world arrives in parts, each built incrementally on top of the last:
1. the files of the first 8 days (a full build);
2. the rest - events that belong to the first days but arrived late, loads whose ids sort
   before the first part's (out of order), and an FX rate that lets orders held in the
   first part load into their old files;
3. late identifies (an anonymous-only device becomes a user's; a device moves from one
   user to another), a part-1 file restated with a fifth of its rows gone, and an FX rate
   restated - built by a run that stops after the change logs (as if killed), then a
   normal run.
After the last run, every model must equal a --full-refresh build, row for row, and the
runs must have recomputed only the persons they had to.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import uuid
from datetime import datetime, timedelta
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
# bookkeeping of the incremental runs: differs from a full refresh by design
CHANGE_LOGS = {
    "int_event_changes",
    "int_revenue_changes",
    "int_affected_persons",
    "int_events_this_run",
}


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


def _query(cfg: Settings, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _build(cfg: Settings, *args: str) -> None:
    result = run_dbt(["build", "--exclude", "test_type:unit", *args], cfg)
    assert result.success, result.output[-3000:]


def _affected(cfg: Settings) -> set[str]:
    return {k for (k,) in _query(cfg, "select person_key from intermediate.int_affected_persons")}


def _identify(anonymous_id: str, user_id: str, at: datetime) -> str:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps({"type": "identify", "messageId": str(uuid.uuid4()),
                       "anonymousId": anonymous_id, "userId": user_id, "traits": {},
                       "timestamp": stamp, "sentAt": stamp, "receivedAt": stamp})  # fmt: skip


def _late_identifies(cfg: Settings) -> dict[str, str]:
    """An identify file: device X, anonymous-only so far, becomes user U; device Y moves
    from its user A to user B (an identify earlier than everything Y did). Returns the ids."""
    first_event = """select s.anonymous_id, s.person_key, min(e.event_at)
        from intermediate.int_anonymous_ids_stitched as s
        join intermediate.int_events_enriched as e using (anonymous_id)
        where s.is_identified = ? group by 1, 2 order by 1 limit 1"""
    ((x, _, first_x),) = _query(cfg, first_event, [False])
    ((y, a, first_y),) = _query(cfg, first_event, [True])
    ids = {"x": x, "u": "late-user-u", "y": y, "a": a, "b": "late-user-b"}
    lines = [_identify(x, ids["u"], first_x - timedelta(minutes=1)),
             _identify(y, ids["b"], first_y - timedelta(minutes=1))]  # fmt: skip
    path = cfg.landing_dir / "app" / "segment_late_identifies.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return ids


def _restate(original: Path, cfg: Settings) -> set[str]:
    """Deliver a part-1 app file again under its name with every fifth line gone (within
    the restatement hold); returns the message ids it no longer carries."""
    lines = gzip.decompress(original.read_bytes()).decode().splitlines()
    kept = [line for i, line in enumerate(lines) if i % 5]
    dest = cfg.landing_dir / original.relative_to(original.parents[1])
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(gzip.compress(("\n".join(kept) + "\n").encode()))
    return {json.loads(line)["messageId"] for i, line in enumerate(lines) if not i % 5}


def test_incremental_runs_equal_full_refresh(tmp_path: Path) -> None:
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
    # a part-1 app file, kept to be restated in part 3
    restated = sorted((cfg.landing_dir / "app").glob("*.ndjson.gz"))[3]
    (tmp_path / "app").mkdir()
    shutil.copy(restated, tmp_path / "app" / restated.name)
    fx_day = cfg.landing_dir / "channel" / "fx_rates" / "fx_rates_2026-06-05.csv"
    fx_restated = fx_day.read_text().replace("CNY,0.140056", "CNY,0.150000")
    assert fx_restated != fx_day.read_text()

    # ---- part 1: a full build
    _ingest_all(cfg)
    _build(cfg)

    # ---- part 2: the rest, loaded with ids that sort before part 1's, and an FX rate
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
    assert _query(
        cfg, "select count(*) from raw.app_events where list_contains(?, message_id)", [held]
    )[0][0] == len(held)
    late = _query(
        cfg,
        f"select count(*) from raw.app_events where event_at < date '{CUTOFF}' "
        f"and received_at >= date '{CUTOFF}' + interval 1 day",
    )[0][0]
    assert late > 0, "the second part must carry late events for the first days"
    _build(cfg)
    (persons,) = _query(cfg, "select count(*) from intermediate.int_persons")[0]
    assert 0 < len(_affected(cfg)) < persons, "part 2 ran by person, not everyone"

    # ---- part 3: late identifies, a restated file, a restated FX rate; a run killed after
    # the change logs, then a normal run
    ids = _late_identifies(cfg)
    removed = _restate(tmp_path / "app" / restated.name, cfg)
    removed_owners = {k for (k,) in _query(
        cfg, "select distinct person_key from intermediate.int_person_events "
             "where list_contains(?, message_id)", [sorted(removed)])}  # fmt: skip
    fx_day.write_text(fx_restated)
    _ingest_all(cfg)
    assert _query(cfg, "select count(*) from raw.app_events where list_contains(?, message_id)",
                  [sorted(removed)])[0][0] == 0, "the restatement was applied"  # fmt: skip
    _build(cfg, "--select", "int_event_changes", "int_events_enriched",
           "int_anonymous_ids_stitched", "int_revenue_converted", "int_revenue_changes")  # fmt: skip
    assert _query(cfg, "select count(*) from intermediate.int_event_changes")[0][0] > 0, "pending"
    _build(cfg)
    affected = _affected(cfg)
    assert {f"anon:{ids['x']}", ids["u"], ids["a"], ids["b"]} <= affected
    assert removed_owners <= affected
    cny_payers = _query(cfg, "select count(distinct person_key) from intermediate.int_person_events "
                             "where revenue_currency = 'CNY' and event_date = date '2026-06-05'")  # fmt: skip
    assert cny_payers[0][0] > 0
    (persons,) = _query(cfg, "select count(*) from intermediate.int_persons")[0]
    assert len(affected) < persons, "part 3 ran by person, not everyone"
    assert not _query(cfg, "select 1 from intermediate.int_persons where person_key = ?",
                      [f"anon:{ids['x']}"])  # fmt: skip
    assert _query(cfg, "select count(*) from intermediate.int_event_changes")[0][0] == 0, "consumed"

    # ---- every model equals a full refresh
    tables = [(s_, t) for s_, t in _built_tables(cfg) if t not in CHANGE_LOGS]
    con = duckdb.connect(str(cfg.pipeline_db))
    con.execute("create schema snapshot")
    for schema, table in tables:
        con.execute(f"create table snapshot.{table} as select * from {schema}.{table}")
    con.close()

    _build(cfg, "--full-refresh")
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
    assert {t for _, t in tables} >= {"int_events_enriched", "int_persons", "mart_spend_daily"}
