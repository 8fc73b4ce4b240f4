"""The floor: the same marts from the same landing files, in one process and one DuckDB file,
with none of the pipeline's machinery.

What it keeps: the definitions. App events (all but a few thousand of the rows) are read
by bulk DuckDB scans of 256 NDJSON files at a time, parsed by the adapter's own SQL, gated by
the raw suite's rules written as SQL, de-duplicated by messageId in SQL; the channel and
content files (a few thousand rows in native exports, GBK CSVs among them) go through the
pipeline's loader; then every dbt model runs as its compiled SQL, in dependency order.

What it drops: Airflow, dbt's runtime, Great Expectations, per-file transactions, the
manifest and quarantine bookkeeping, the staging and mart gates, publish.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from growthops import project, tracking_plan
from growthops.config import Settings
from growthops.dbt import dbt_paths, run_dbt
from growthops.ingest.adapters import _APP_SQL, app_sql_parameters
from growthops.ingest.loader import MIN_ROWS_FOR_SHARE
from growthops.ingest.schema import ensure_raw_schema

APP_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
FLOOR_MEMORY_LIMIT = "12GB"  # of 24 GB: the rest is Python, the OS and the page cache
SCAN_BATCH_FILES = 256  # files per bulk scan; a damaged file costs one batch's re-scan


@dataclass
class CompiledModel:
    unique_id: str
    schema: str
    name: str
    materialized: str
    sql: str
    depends_on: list[str]


@dataclass
class FloorTimings:
    seconds: dict[str, float] = field(default_factory=dict)
    app_rows_loaded: int = 0
    app_files_skipped: list[str] = field(default_factory=list)


def compile_models(cfg: Settings) -> tuple[list[CompiledModel], Path]:
    """`dbt compile` the models (against an empty warehouse, so the incremental model compiles
    as a full build); returns them in dependency order, and the channel_mapping seed's file."""
    result = run_dbt(["compile", "--select", "channel_mapping", "staging", "intermediate",
                      "marts", "--exclude", "test_type:unit"], cfg)  # fmt: skip
    if not result.success:
        raise RuntimeError(f"dbt compile for the floor failed:\n{result.output[-3000:]}")
    target, _ = dbt_paths(cfg)
    manifest = json.loads((target / "manifest.json").read_text())
    models = {
        uid: CompiledModel(
            unique_id=uid,
            schema=node["schema"],
            name=node.get("alias") or node["name"],
            materialized=node["config"]["materialized"],
            sql=node["compiled_code"],
            depends_on=list(node["depends_on"]["nodes"]),
        )
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node.get("compiled_code")
    }
    seed = next(
        n for n in manifest["nodes"].values()
        if n["resource_type"] == "seed" and n["name"] == "channel_mapping"
    )  # fmt: skip
    return _topological(models), Path(seed["root_path"]) / seed["original_file_path"]


def _topological(models: dict[str, CompiledModel]) -> list[CompiledModel]:
    ordered: list[CompiledModel] = []
    done: set[str] = set()

    def visit(uid: str) -> None:
        if uid in done or uid not in models:
            return
        done.add(uid)
        for dep in models[uid].depends_on:
            visit(dep)
        ordered.append(models[uid])

    for uid in sorted(models):
        visit(uid)
    return ordered


def run_floor(
    cfg: Settings, world_root: Path, files: list[Path], models: list[CompiledModel], seed: Path
) -> FloorTimings:
    """Build the marts from `files` (paths under `world_root`) into cfg.pipeline_db."""
    from growthops.bench.world import link_files
    from growthops.ingest.loader import ingest

    timings = FloorTimings()
    shutil.rmtree(cfg.data_root, ignore_errors=True)
    cfg.warehouse_dir.mkdir(parents=True)
    app, small = [], []
    for f in files:
        (app if f.relative_to(world_root).parts[0] == "app" else small).append(f)
    for family in ("channel", "content"):
        (cfg.landing_dir / family).mkdir(parents=True)
    link_files(world_root, small, cfg.landing_dir)

    started = time.perf_counter()
    for family in ("channel", "content"):
        ingest(family, cfg)
    timings.seconds["channel_content_loader"] = time.perf_counter() - started

    con = duckdb.connect(str(cfg.pipeline_db))
    try:
        started = time.perf_counter()
        # bounded, so big intermediate results spill to disk instead of the process being killed
        con.execute(f"set memory_limit = '{FLOOR_MEMORY_LIMIT}'")
        con.execute("set TimeZone = 'UTC'")  # as the loader's parser: zone-less values are UTC
        ensure_raw_schema(con)
        timings.app_files_skipped = _load_app_events(con, world_root, app, cfg)
        timings.app_rows_loaded = con.execute("select count(*) from raw.app_events").fetchone()[0]
        timings.seconds["app_events_sql"] = time.perf_counter() - started

        started = time.perf_counter()
        con.execute("set preserve_insertion_order = false")  # the models need no scan order
        con.execute("create schema if not exists reference")
        con.execute(
            "create or replace table reference.channel_mapping as "
            "select * from read_csv(?, all_varchar = true)",
            [str(seed)],
        )
        for model in models:
            kind = "view" if model.materialized == "view" else "table"
            con.execute(f"create schema if not exists {model.schema}")
            con.execute(f"create or replace {kind} {model.schema}.{model.name} as {model.sql}")
        con.execute("checkpoint")
        timings.seconds["models_sql"] = time.perf_counter() - started
    finally:
        con.close()
    # the one mart computed in Python, as the pipeline does after its dbt build
    from growthops import experiments

    started = time.perf_counter()
    experiments.build_results(cfg)
    timings.seconds["experiments_python"] = time.perf_counter() - started
    return timings


def _load_app_events(
    con: duckdb.DuckDBPyConnection, world_root: Path, files: list[Path], cfg: Settings
) -> list[str]:
    """raw.app_events from every app file, as the loader would leave it: the same parsing
    SQL, the raw suite's blocking rules, whole files over the bad-row share rejected, the
    first delivery of each messageId kept. Returns the files that could not be read."""
    ordered = sorted(files, key=str)  # the loader's order: pending files sorted by path
    index = {str(p): i for i, p in enumerate(ordered)}
    skipped: list[str] = []
    offset = 0
    # batch by batch into a table in the file: the lines of 20M events do not fit in memory
    # at once (a single scan of all of them was killed at 20 GB on the medium world)
    for start in range(0, len(ordered), SCAN_BATCH_FILES):
        batch = [str(p) for p in ordered[start : start + SCAN_BATCH_FILES]]
        while batch:
            try:
                _scan(con, batch, index)
                break
            except duckdb.Error as exc:  # a truncated gzip: the loader rejects it whole
                bad = _damaged_file(str(exc), batch)
                if bad is None:
                    raise
                skipped.append(bad)
                batch.remove(bad)
        if batch:
            offset = _parse_batch(con, offset, first=offset == 0, cfg=cfg)
    files_table = [
        (i, f"app/{Path(p).relative_to(world_root / 'app').as_posix()}") for p, i in index.items()
    ]
    con.register("_app_files", pd.DataFrame(files_table, columns=["file_index", "source_file"]))
    con.execute("create temp table app_files as select * from _app_files")
    con.unregister("_app_files")
    con.execute(
        f"""
        insert into raw.app_events by name
        with checked as (
            select
                p.*,
                -- expectations/raw_app_events.json, blocking rules (GX skips NULLs in sets)
                not p.ok
                    or p.message_id is null
                    or (p.type is not null and not list_contains($types, p.type))
                    or (p.event is not null and not list_contains($events, p.event))
                    or p.received_at is null
                    or p.event_at is null
                    or p.anonymous_id is null
                    or (p.revenue_text is not null and (
                        p.revenue is null or p.revenue_currency is null
                        or fx.first_rate_date is null or p.event_at < fx.first_rate_date
                    )) as is_bad
            from parsed p
            left join (
                select currency, min(rate_date) as first_rate_date from raw.fx_rates
                where currency <> 'USD' group by 1
                union all select 'USD', date '1900-01-01'  -- USD per unit: USD is always 1
            ) fx on p.revenue_currency = fx.currency
        ), files as (
            select file_index
            from checked
            group by file_index
            having count(*) < {MIN_ROWS_FOR_SHARE}
                or count(*) filter (where is_bad) / count(*) <= {cfg.max_bad_row_share}
        )
        select
            'floor' as load_id, f.source_file, c.file_row as row_number,
            c.* exclude (row_number, ok, file_index, file_row, is_bad,
                         revenue_text, revenue, revenue_currency)
        from checked c
        join files using (file_index)
        join app_files f using (file_index)
        where not c.is_bad
        qualify row_number() over (partition by c.message_id order by c.row_number) = 1
        """,
        {
            "types": sorted(tracking_plan.MESSAGE_TYPES),
            "events": sorted(project.track_events(cfg.dbt_project_dir)),
        },
    )
    con.execute("drop table parsed")
    return skipped


def _parse_batch(con: duckdb.DuckDBPyConnection, offset: int, first: bool, cfg: Settings) -> int:
    """The scanned batch through the adapter's SQL into `parsed`; returns the next row number."""
    con.execute(
        f"""create or replace temp table lines as
            select row_number() over (order by file_index, seq) + {offset} as row_number,
                   file_index, line,
                   row_number() over (partition by file_index order by seq) as file_row
            from landed_lines"""
    )
    select = (
        f"select a.*, l.file_index, l.file_row from ({_APP_SQL}) a join lines l using (row_number)"
    )
    con.execute(
        f"create table parsed as {select}" if first else f"insert into parsed {select}",
        app_sql_parameters(cfg),
    )
    count = con.execute("select count(*) from lines").fetchone()[0]
    con.execute("drop table lines; drop table landed_lines")
    return offset + count


def _scan(con: duckdb.DuckDBPyConnection, batch: list[str], index: dict[str, int]) -> None:
    # one column per line: no delimiter, quote or escape can occur in it
    con.execute(
        """
        create or replace temp table landed_lines as
        select m.file_index, t.line, row_number() over () as seq
        from read_csv(?, columns = {'line': 'varchar'}, header = false, delim = '\x01',
                      quote = '', escape = '', auto_detect = false, filename = true) t
        join (select unnest(?) as filename, unnest(?) as file_index) m using (filename)
        """,
        [batch, batch, [index[p] for p in batch]],
    )


def _damaged_file(message: str, batch: list[str]) -> str | None:
    return next((p for p in batch if p in message), None)


def describe(timings: FloorTimings) -> dict[str, Any]:
    return {
        "seconds_parts": {k: round(v, 2) for k, v in timings.seconds.items()},
        "app_rows_loaded": timings.app_rows_loaded,
        "app_files_skipped": timings.app_files_skipped,
    }
