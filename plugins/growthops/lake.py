"""Raw as an open lake: each raw table as Parquet under <data root>/lake/<table>/, which any
engine reads without the pipeline's DuckDB file (the spark target's sources, README "Past
one machine").

Today the lake is published from the raw tables at the start of a Spark build (the
transform's staging stage): each table is written to a new folder beside the old one and
swapped in by rename, so a table's folder holds one complete snapshot (a killed publish
leaves the previous one, or none, which the next run writes). The bookkeeping tables
(manifest, quarantine, deliveries) go with the data: the pipeline marts read them too.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from pathlib import Path

from growthops import warehouse
from growthops.config import Settings, settings
from growthops.ingest.schema import RAW_SCHEMA, ensure_raw_schema

log = logging.getLogger(__name__)

PART = "part-0.parquet"


def raw_tables(con: object) -> list[str]:
    return [r[0] for r in con.execute(  # type: ignore[attr-defined]
        "select table_name from duckdb_tables() where schema_name = ? order by 1", [RAW_SCHEMA]
    ).fetchall()]  # fmt: skip


def publish_raw(cfg: Settings | None = None) -> dict[str, int]:
    """Write every raw table to the lake; returns rows per table."""
    cfg = cfg or settings()
    started = time.monotonic()
    cfg.lake_dir.mkdir(parents=True, exist_ok=True)
    for stale in cfg.lake_dir.glob(".*.tmp-*"):  # from a publish that was killed
        shutil.rmtree(stale, ignore_errors=True)
    rows: dict[str, int] = {}
    with warehouse.pipeline_writer(cfg) as con:
        ensure_raw_schema(con)  # before the first file lands the lake has empty tables
        for table in raw_tables(con):
            staged = cfg.lake_dir / f".{table}.tmp-{uuid.uuid4().hex[:8]}"
            staged.mkdir()
            # the path is a parameter: a data root may hold any character
            con.execute(
                f"copy (select * from {RAW_SCHEMA}.{table}) to ? (format parquet)",
                [str(staged / PART)],
            )
            _swap_in(staged, cfg.lake_dir / table)
            rows[table] = con.execute(f"select count(*) from {RAW_SCHEMA}.{table}").fetchone()[0]
    log.info("lake: %d raw tables published to %s in %.1f s (%s rows)", len(rows), cfg.lake_dir,
             time.monotonic() - started, f"{sum(rows.values()):,}")  # fmt: skip
    return rows


def _swap_in(staged: Path, target: Path) -> None:
    """Replace `target` by `staged`: two renames, the old folder removed after."""
    retired = target.with_name(f".{target.name}.tmp-old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
