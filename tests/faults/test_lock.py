"""The DuckDB lock held by another process (a person's shell, a stray script).

DuckDB allows one writing process per file. A task that finds the file locked waits with
backoff up to GROWTHOPS_LOCK_RETRY_SECONDS, then fails naming the file and how to find
the holder; Airflow's retry (ingest DAGs) or the next run picks the work up once the
lock is free, and nothing is lost or published half-way in between.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support import (
    assert_ingest_invariants,
    assert_landing_empty,
    copy_data_root,
    published_marts,
    published_run_id,
    settings_for,
    start_dags,
    wait_until,
)

from growthops.config import Settings
from growthops.runner import run_dags

pytestmark = [pytest.mark.faults, pytest.mark.faults_full]
BOUND_SECONDS = 2.0


def _hold_lock(db: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
         "time.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


@pytest.fixture
def locked(clean_run, tmp_path: Path) -> Iterator[tuple[Settings, subprocess.Popen[str]]]:
    cfg = replace(
        settings_for(copy_data_root(clean_run.root, tmp_path / "data")),
        lock_retry_seconds=BOUND_SECONDS,
    )
    holder = _hold_lock(cfg.pipeline_db)
    try:
        yield cfg, holder
    finally:
        holder.kill()
        holder.wait()


def test_ingest_waits_fails_clearly_and_its_retry_loads_once_the_lock_is_free(locked) -> None:
    cfg, holder = locked
    archived = next((cfg.data_root / "archive" / "content").rglob("content_stats_*.csv"))
    again = cfg.landing_dir / "content" / "stats" / archived.name
    shutil.copyfile(archived, again)  # something to ingest: an identical re-delivery
    proc = start_dags(cfg, ["ingest_content"])
    log = next((cfg.data_root / "logs").glob("ingest_content_*.log"))
    try:
        message = "is locked by another process (waited 2s, GROWTHOPS_LOCK_RETRY_SECONDS)"
        wait_until(lambda: message in log.read_text(errors="replace"), 120, "the lock error", proc)
        assert str(cfg.pipeline_db) in log.read_text(errors="replace")
        assert again.exists(), "nothing may happen while the lock is held"
    finally:
        holder.kill()
        holder.wait()
    assert proc.wait(timeout=180) == 0, log.read_text(errors="replace")[-3000:]  # the retry
    assert_landing_empty(cfg)
    assert_ingest_invariants(cfg)


def test_transform_fails_without_publishing_and_the_next_run_publishes(locked, clean_run) -> None:
    cfg, holder = locked
    before = published_run_id(cfg)
    [failed] = run_dags(["transform"], cfg)
    assert failed.state == "failed"
    assert failed.task_states["dbt_build_staging"] == "failed"
    assert failed.task_states["publish"] == "upstream_failed"
    assert published_run_id(cfg) == before
    holder.kill()
    holder.wait()
    [result] = run_dags(["transform"], cfg)
    assert result.state == "success"
    assert published_run_id(cfg) == result.run_id != before
    assert published_marts(cfg) == clean_run.marts
