"""Raw as an open lake: each landed file version's good rows as immutable Parquet parts in
<data root>/lake/<table>/day=<date>/part_id=<part>/ (Hive-style folders: a day is read
alone), which any engine reads without the pipeline's DuckDB file (the spark target's
sources, README "Past one machine").

The commit record is raw.lake_parts, written in the same transaction as the file's manifest
row and quarantine rows: a part is visible exactly when its row says `visible`. A part is
written before that transaction (by an ingest worker, outside the writer's lock) under a
hidden folder and moved into place complete, so a crash leaves either nothing or an orphan no
reader counts; orphans and retired parts are deleted once older than the task timeout (a
reader that started before they were retired may still be reading them). A restatement
retires the old version's parts; rows released later (an FX rate arrived, a duplicate's
loaded copy was replaced) become a new part of the same file version.

The raw tables in the pipeline file are the embedded engine's copy, inserted from the parts
in the same transaction (raw = the visible parts, which tests/spark checks). Spark reads the
parts, filtered by a snapshot of raw.lake_parts the transform writes to lake/_catalog/ with
the other bookkeeping tables.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from growthops import warehouse
from growthops.config import Settings, settings
from growthops.ingest.schema import (
    LINEAGE_COLUMNS,
    PARTITION_DAY,
    RAW_SCHEMA,
    TABLE_COLUMNS,
    ensure_raw_schema,
)

log = logging.getLogger(__name__)

CATALOG = "_catalog"  # bookkeeping snapshots for lake readers (Spark); "_" keeps it out of globs
NULL_DAY = "__HIVE_DEFAULT_PARTITION__"  # the folder of rows without a date (Hive's and Spark's)
SCHEMA_PART = "schema"  # each table's empty part: a reader learns the columns before any row
SNAPSHOT = "part-0.parquet"


@dataclass(frozen=True)
class Part:
    part_id: str
    table: str
    files: tuple[str, ...]
    rows: int


def _exact(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Decimals as exact text (the cast in SQL keeps every digit), so spend reconciles to the
    micro."""
    frame = frame.copy()
    for name, type_ in TABLE_COLUMNS[table]:
        if type_.startswith("DECIMAL") and frame[name].dtype == object:
            frame[name] = [
                None
                if v is None or (isinstance(v, float) and pd.isna(v))
                else str(v)
                if isinstance(v, Decimal)
                else v
                for v in frame[name]
            ]
    return frame


def write_part(
    cfg: Settings, table: str, rows: pd.DataFrame, load_id: str, source_file: str
) -> Part | None:
    """`rows` (an adapter's frame with row_number) typed as raw.<table> and written as a new
    part; None when there are no rows. Not visible until committed (commit_part)."""
    return write_parts(cfg, table, [(rows, load_id, source_file)])[0]


def write_parts(
    cfg: Settings, table: str, versions: list[tuple[pd.DataFrame, str, str]]
) -> list[Part | None]:
    """Each (rows, load_id, source_file) as a new part of `table`, in one statement: the rows
    are typed as raw.<table>, split by day, written under a hidden folder and moved into
    lake/<table>/day=<date>/part_id=<part>/ complete (a reader never sees half a file)."""
    ids = [uuid.uuid4().hex if not rows.empty else None for rows, _, _ in versions]
    if not any(ids):
        return [None] * len(versions)
    kept = [(v, part_id) for v, part_id in zip(versions, ids, strict=True) if part_id]
    frame = _exact(pd.concat([rows for (rows, _, _), _ in kept], ignore_index=True), table)
    lineage = pd.DataFrame(
        [(load_id, source_file, part_id) for (rows, load_id, source_file), part_id in kept
         for _ in range(len(rows))],
        columns=["_load_id", "_source_file", "_part_id"],
    )  # fmt: skip
    select = ", ".join(f'cast("{name}" as {type_}) as "{name}"' for name, type_ in
                       TABLE_COLUMNS[table])  # fmt: skip
    day = f'cast("{PARTITION_DAY[table]}" as date)'
    staging = cfg.lake_dir / table / f".staging-{uuid.uuid4().hex}"
    con = duckdb.connect()
    try:
        con.register("_rows", pd.concat([frame, lineage], axis=1))
        # paths are parameters: a data root may hold any character
        con.execute(
            f"copy (select _load_id::varchar as load_id, _source_file::varchar as source_file, "
            f"row_number::bigint as row_number, {select}, "
            f"coalesce(strftime({day}, '%Y-%m-%d'), ?) as day, _part_id as part_id "
            f"from _rows) to ? (format parquet, partition_by (day, part_id))",
            [NULL_DAY, str(staging)],
        )
    finally:
        con.close()
    files: dict[str, list[str]] = {part_id: [] for part_id in ids if part_id}
    for written in sorted(staging.glob("day=*/part_id=*/*.parquet")):
        relative = written.relative_to(staging)
        final = cfg.lake_dir / table / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        written.rename(final)
        files[relative.parent.name.removeprefix("part_id=")].append(str(final))
    shutil.rmtree(staging, ignore_errors=True)
    return [
        Part(part_id, table, tuple(files[part_id]), len(rows)) if part_id else None
        for (rows, _, _), part_id in zip(versions, ids, strict=True)
    ]


def discard(part: Part | None) -> None:
    """Delete a part that will not be committed (its file turned out a duplicate)."""
    for file in part.files if part else ():
        Path(file).unlink(missing_ok=True)


def commit_part(
    con: duckdb.DuckDBPyConnection,
    part: Part,
    family: str,
    source_file: str,
    load_id: str,
    now: datetime,
) -> None:
    """Inside the caller's transaction: the part's rows into raw.<table> (read back from the
    part, so the embedded copy is exactly the lake) and its commit record."""
    names = ", ".join(name for name, _ in (*LINEAGE_COLUMNS, *TABLE_COLUMNS[part.table]))
    # by name: a table that gained a column later has it last, not in schema order
    con.execute(
        f"insert into {RAW_SCHEMA}.{part.table} ({names}) "
        f"select {names} from read_parquet(?, hive_partitioning = false)",
        [list(part.files)],
    )
    _record(con, part, family, source_file, load_id, now)


def _record(
    con: duckdb.DuckDBPyConnection,
    part: Part,
    family: str,
    source_file: str,
    load_id: str,
    now: datetime,
) -> None:
    con.execute(
        f"insert into {RAW_SCHEMA}.lake_parts (part_id, table_name, family, source_file, "
        "load_id, row_count, file_count, status, committed_at) "
        "values (?, ?, ?, ?, ?, ?, ?, 'visible', ?)",
        [part.part_id, part.table, family, source_file, load_id, part.rows, len(part.files),
         now.replace(tzinfo=None)],
    )  # fmt: skip


def retire_parts(
    con: duckdb.DuckDBPyConnection, table: str, source_file: str, now: datetime
) -> None:
    """Inside the caller's transaction: the parts of `source_file`'s loaded version leave the
    lake's visible set (their files are deleted later, remove_unreferenced)."""
    con.execute(
        f"update {RAW_SCHEMA}.lake_parts set status = 'retired', retired_at = ? "
        "where table_name = ? and source_file = ? and status = 'visible'",
        [now.replace(tzinfo=None), table, source_file],
    )


def ensure_lake(con: duckdb.DuckDBPyConnection, cfg: Settings) -> None:
    """Every raw table has its empty schema part (a reader of an empty table learns its
    columns), and a warehouse from before the lake gets its raw rows as parts, once."""
    ensure_raw_schema(con)
    for table in TABLE_COLUMNS:
        legacy = cfg.lake_dir / table / SNAPSHOT  # the whole-table snapshot of earlier releases
        legacy.unlink(missing_ok=True)
        schema_part = cfg.lake_dir / table / f"day={NULL_DAY}/part_id={SCHEMA_PART}/data.parquet"
        if not schema_part.exists():
            schema_part.parent.mkdir(parents=True, exist_ok=True)
            hidden = schema_part.with_name(".data.parquet.tmp")
            con.execute(
                f"copy (select * from {RAW_SCHEMA}.{table} limit 0) to ? (format parquet)",
                [str(hidden)],
            )
            hidden.rename(schema_part)
    _backfill(con, cfg)


def _backfill(con: duckdb.DuckDBPyConnection, cfg: Settings) -> None:
    """Raw rows loaded before the lake existed become one part per file version."""
    (parts,) = con.execute(f"select count(*) from {RAW_SCHEMA}.lake_parts").fetchone()
    if parts:
        return
    now = datetime.now(UTC)
    for table in TABLE_COLUMNS:
        versions = con.execute(
            f"select distinct source_file, load_id from {RAW_SCHEMA}.{table} order by 1, 2"
        ).fetchall()
        if versions:
            log.info("lake: writing %d loaded files of raw.%s as parts (once)", len(versions),
                     table)  # fmt: skip
        for source_file, load_id in versions:
            rows = con.execute(
                f"select * exclude (load_id, source_file) from {RAW_SCHEMA}.{table} "
                "where source_file = ? and load_id = ?",
                [source_file, load_id],
            ).df()
            part = write_part(cfg, table, rows, load_id, source_file)
            assert part is not None
            _record(con, part, source_file.split("/", 1)[0], source_file, load_id, now)


def remove_unreferenced(
    con: duckdb.DuckDBPyConnection, cfg: Settings, older_than_seconds: float
) -> int:
    """Delete the parts no committed row makes visible (a crashed worker's orphans, retired
    versions) once older than `older_than_seconds`; returns how many."""
    if not cfg.lake_dir.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    # a part retired lately may still be read by a reader that started before
    keep = {p for (p,) in con.execute(
        f"select part_id from {RAW_SCHEMA}.lake_parts "
        "where status = 'visible' or retired_at > ?",
        [datetime.fromtimestamp(cutoff, UTC).replace(tzinfo=None)]).fetchall()}  # fmt: skip
    removed = 0
    for table in TABLE_COLUMNS:
        folders = [*(cfg.lake_dir / table).glob("day=*/part_id=*"),
                   *(cfg.lake_dir / table).glob(".staging-*")]  # fmt: skip
        for folder in folders:
            part_id = folder.name.removeprefix("part_id=")
            if part_id in keep or part_id == SCHEMA_PART:
                continue
            try:
                if folder.lstat().st_mtime >= cutoff:
                    continue
                shutil.rmtree(folder)
                removed += 1
            except FileNotFoundError:  # another worker removed it first
                continue
    if removed:
        log.info("lake: %d parts no commit refers to removed (orphans, retired)", removed)
    return removed


def publish_catalog(cfg: Settings | None = None) -> dict[str, int]:
    """The bookkeeping tables (manifest, quarantine, deliveries, lake_parts) as snapshots under
    lake/_catalog/<table>/, for readers of the lake; returns rows per table. The data tables
    need no copy: their parts are the lake."""
    cfg = cfg or settings()
    started = time.monotonic()
    folder = cfg.lake_dir / CATALOG
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp-*"):  # from a publish that was killed
        shutil.rmtree(stale, ignore_errors=True)
    rows: dict[str, int] = {}
    with warehouse.pipeline_writer(cfg) as con:
        ensure_lake(con, cfg)
        for table in bookkeeping_tables(con):
            staged = folder / f".{table}.tmp-{uuid.uuid4().hex[:8]}"
            staged.mkdir()
            con.execute(
                f"copy (select * from {RAW_SCHEMA}.{table}) to ? (format parquet)",
                [str(staged / SNAPSHOT)],
            )
            _swap_in(staged, folder / table)
            rows[table] = con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()[0]
    log.info("lake: %d bookkeeping tables published to %s in %.1f s", len(rows), folder,
             time.monotonic() - started)  # fmt: skip
    return rows


def bookkeeping_tables(con: Any) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = ? order by 1", [RAW_SCHEMA]
    ).fetchall() if r[0] not in TABLE_COLUMNS]  # fmt: skip


def part_glob(cfg: Settings, table: str) -> str:
    return str(cfg.lake_dir / table / "day=*" / "part_id=*" / "*.parquet")


def _swap_in(staged: Path, target: Path) -> None:
    """Replace `target` by `staged`: two renames, the old folder removed after."""
    retired = target.with_name(f".{target.name}.tmp-old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
