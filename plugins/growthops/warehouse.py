"""The pipeline's DuckDB file: one writer at a time, bounded wait on its lock.

DuckDB allows one writing process per file. Airflow serializes writers with a one-slot
pool; this module covers what the pool cannot (a person's shell, a stray process): it
retries the lock with backoff up to GROWTHOPS_LOCK_RETRY_SECONDS, then fails with a
message saying who to look for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from growthops.config import Settings


class WarehouseLockedError(RuntimeError):
    """The DuckDB file stayed locked by another process for longer than allowed."""


class DiskFullError(RuntimeError):
    """A write failed because the disk under the data root is full."""


DISK_FULL = "No space left on device"  # strerror(ENOSPC), in DuckDB's and dbt's messages


def disk_full_hint(data_root: Path) -> str:
    return (
        f"The disk holding {data_root} (GROWTHOPS_DATA_ROOT) is full: free space there, then "
        f"re-run. Nothing half-written was kept: the open DuckDB transaction rolled back, "
        f"files not yet loaded are still in landing/, and the published marts are unchanged."
    )


def _is_lock_error(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Could not set lock" in text or "Conflicting lock" in text)


def connect(
    path: Path,
    *,
    read_only: bool = False,
    wait_seconds: float = 60.0,
    memory_limit: str | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open `path`, retrying while another process holds its lock (bounded).
    `memory_limit`: DuckDB's setting (GROWTHOPS_DUCKDB_MEMORY_LIMIT); None keeps DuckDB's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    config = {"memory_limit": memory_limit} if memory_limit else {}
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"{path} is locked by another process (waited {wait_seconds:g}s, "
                    f"GROWTHOPS_LOCK_RETRY_SECONDS). DuckDB allows one writer: find it with "
                    f"`fuser {path}` and stop it, or wait and re-run this task. ({exc})"
                ) from exc
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 5.0)


def open_pipeline(cfg: Settings, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The pipeline file as every task opens it: within the configured lock wait
    (GROWTHOPS_LOCK_RETRY_SECONDS) and DuckDB memory limit (GROWTHOPS_DUCKDB_MEMORY_LIMIT)."""
    return connect(
        cfg.pipeline_db,
        read_only=read_only,
        wait_seconds=cfg.lock_retry_seconds,
        memory_limit=cfg.duckdb_memory_limit,
    )


@contextmanager
def pipeline_writer(cfg: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """open_pipeline() for writing, always closed (releasing the file lock)."""
    con = open_pipeline(cfg)
    try:
        yield con
    finally:
        con.close()


# What `growthops sql` runs: queries (select, with, from, describe, show, summarize) and
# explain. Anything else (copy, attach, export, install, set, create, ...) is refused.
ANALYST_STATEMENTS = ("SELECT", "EXPLAIN")


def analyst_connection(cfg: Settings) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """The published marts read-only, with the pipeline's raw, quarantine and run tables
    attached read-only as `pipeline` (None, or why not), then every file system access
    switched off and the configuration locked: nothing can be written or read elsewhere."""
    con = connect(cfg.serving_db, read_only=True, wait_seconds=cfg.lock_retry_seconds)
    note = None
    if cfg.pipeline_db.exists():
        try:
            con.execute("attach ? as pipeline (read_only)", [str(cfg.pipeline_db)])
        except duckdb.Error as exc:  # a pipeline task is writing it right now
            note = f"pipeline.* is not available right now ({str(exc).splitlines()[0]})"
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    return con, note


def refused_statement(con: duckdb.DuckDBPyConnection, sql: str) -> str | None:
    """Why `sql` is not run by `growthops sql`, or None when every statement is a query."""
    for statement in con.extract_statements(sql):
        kind = str(statement.type).rsplit(".", 1)[-1]
        if kind not in ANALYST_STATEMENTS:
            return (
                f"{kind} statements are refused: growthops sql is read-only (queries and "
                f"explain only)"
            )
    return None
