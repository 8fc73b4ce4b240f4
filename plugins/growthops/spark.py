"""The spark target seen from the embedded side: where Spark's tables lie (Parquet under
<data root>/spark/warehouse/<schema>.db/<table>/) and how the transform reads them back.

With GROWTHOPS_DBT_TARGET=spark the models are built by Spark from the lake; the marts are
then read into the pipeline file, so everything after the build (the marts written in
Python, the gates, the audited publish, the report) is the same on both targets.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from growthops import warehouse
from growthops.config import Settings

log = logging.getLogger(__name__)

# the marts written in Python after each marts build (transform.build_stage), not by dbt
PYTHON_MARTS = frozenset({"mart_experiment_results", "mart_segment_membership_daily"})


def warehouse_dir(cfg: Settings) -> Path:
    return cfg.spark_dir / "warehouse"


def table_files(cfg: Settings, schema: str, table: str) -> str:
    """The glob of a Spark table's Parquet files."""
    return str(warehouse_dir(cfg) / f"{schema}.db" / table / "*.parquet")


def spark_tables(cfg: Settings) -> dict[str, str]:
    """Every table Spark has written: name -> schema."""
    return {folder.name: folder.parent.name.removesuffix(".db")
            for folder in warehouse_dir(cfg).glob("*.db/*")
            if folder.is_dir() and any(folder.glob("*.parquet"))}  # fmt: skip


def import_marts(cfg: Settings, built: list[str]) -> dict[str, int]:
    """The marts this build wrote, into the pipeline file's marts schema (replacing the last)."""
    started = time.monotonic()
    tables = spark_tables(cfg)
    rows: dict[str, int] = {}
    with warehouse.pipeline_writer(cfg) as con:
        con.execute("create schema if not exists marts")
        for table in sorted(t for t in built if tables.get(t) == "marts"):
            # the path is a parameter: a data root may hold any character
            con.execute(
                f"create or replace table marts.{table} as select * from read_parquet(?)",
                [table_files(cfg, "marts", table)],
            )
            rows[table] = con.execute(f"select count(*) from marts.{table}").fetchone()[0]
    log.info("spark: %d marts read into %s in %.1f s", len(rows), cfg.pipeline_db,
             time.monotonic() - started)  # fmt: skip
    return rows


def row_counts(cfg: Settings, names: list[str]) -> dict[str, int]:
    """Rows in each named table Spark wrote (read from the Parquet footers)."""
    import duckdb

    tables = spark_tables(cfg)
    con = duckdb.connect()
    try:
        return {
            name: con.execute(
                "select count(*) from read_parquet(?)", [table_files(cfg, tables[name], name)]
            ).fetchone()[0]
            for name in names
            if name in tables
        }
    finally:
        con.close()
