"""Crashes: SIGKILL at the worst moments, then the next run; and late files on top.

One data root goes through a day that goes wrong, step by step (the tests run in order and
share it): the ingest killed with a file's transaction open, then again between a commit
and the file's move out of landing/; the first publish; one day of app files arriving
3 days late; the transform killed in the middle of dbt; the publish killed between
writing the new serving file and swapping it in; then the next good run. After each
crash the last published marts are intact; at the end the published marts equal the
clean run's (every file at once, built from scratch): nothing lost, nothing doubled.

The kills are real: DAGs run with dag.test() in a separate process group, and SIGKILL
takes the process and everything it started (dbt included), as when a worker dies.
"""

from __future__ import annotations

import shutil

import pytest
from support import (
    DEMO,
    assert_ingest_invariants,
    assert_landing_empty,
    kill_group,
    published_marts,
    published_run_id,
    query,
    settings_for,
    start_dags,
    wait_until,
)

from growthops import failpoints
from growthops.config import Settings
from growthops.demo.generate import generate
from growthops.landing import CLAIMED
from growthops.runner import run_dags

pytestmark = [pytest.mark.faults, pytest.mark.faults_full]

LATE_DAY = "2026-06-11"  # the world's last day is 2026-06-28
STARTUP_SECONDS = 180  # a DAG process reaching a given point: Airflow + GX imports, dbt


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("crashes")
    cfg = settings_for(root / "data")
    generate(DEMO, cfg.landing_dir, cfg.demo_truth_dir)
    late = sorted((cfg.landing_dir / "app").glob(f"segment_{LATE_DAY}T*"))
    assert len(late) > 10
    held = root / "held_back"
    held.mkdir()
    for path in late:
        shutil.move(path, held / path.name)
    return {"cfg": cfg, "held": held}


def _park_and_kill(cfg: Settings, dags: list[str], point: str, nth: int = 1) -> None:
    """Run `dags` in another process until it parks at failpoint `point` (the `nth` time it
    gets there), then SIGKILL it."""
    marker = failpoints.marker(cfg, point)
    marker.unlink(missing_ok=True)
    proc = start_dags(cfg, dags, GROWTHOPS_FAILPOINT=f"{point}@{nth}")
    try:
        wait_until(marker.exists, STARTUP_SECONDS, f"failpoint {point}@{nth}", proc)
    finally:
        kill_group(proc)


def _app_manifest(cfg: Settings) -> dict[str, str]:
    return dict(
        query(
            cfg.pipeline_db,
            "select source_file, status from raw.ingest_manifest where family = 'app'",
        )
    )


def _pending_app_files(cfg: Settings) -> set[str]:
    """Files waiting in landing/app/, counting those a killed worker had claimed
    (landing/app/.claimed/<worker>/: the next ingest puts them back)."""
    inbox = cfg.landing_dir / "app"
    claimed = inbox / CLAIMED
    waiting = [p for p in inbox.iterdir() if p != claimed]
    if claimed.is_dir():
        waiting += [p for p in claimed.rglob("*") if p.is_file() and p.suffix != ".lock"]
    return {f"app/{p.name}" for p in waiting}


def _handled_app_files(cfg: Settings) -> set[str]:
    """Files whose handling committed: loaded or rejected (manifest) or identical (logged)."""
    return set(_app_manifest(cfg)) | {
        f for (f,) in query(cfg.pipeline_db, "select source_file from raw.ingest_deliveries "
                            "where family = 'app' and outcome = 'duplicate'")
    }  # fmt: skip


def test_ingest_killed_inside_a_file_transaction(day: dict) -> None:
    cfg = day["cfg"]
    results = run_dags(["ingest_channel", "ingest_content"], cfg)
    assert [r.state for r in results] == ["success", "success"]
    pending = _pending_app_files(cfg)
    _park_and_kill(cfg, ["ingest_app"], failpoints.INGEST_BEFORE_COMMIT, 5)
    # four files committed and moved out; the fifth's rows were never committed: it waits
    assert len(_app_manifest(cfg)) == 4
    assert pending - _pending_app_files(cfg) == _handled_app_files(cfg)
    assert_ingest_invariants(cfg)


def test_ingest_killed_between_commit_and_move(day: dict) -> None:
    cfg = day["cfg"]
    _park_and_kill(cfg, ["ingest_app"], failpoints.INGEST_AFTER_COMMIT, 3)
    committed = _app_manifest(cfg)
    assert len(committed) == 7
    # the third file of that run is committed but still in landing/ (in the dead worker's claims)
    stranded = [f for f in committed if f in _pending_app_files(cfg)]
    assert len(stranded) == 1
    assert_ingest_invariants(cfg)
    [result] = run_dags(["ingest_app"], cfg)
    assert result.state == "success"
    outcome = result.returns["ingest_app_files"]
    assert outcome["files_duplicate"] == 1, "the stranded file is an identical re-delivery"
    assert_ingest_invariants(cfg)
    assert_landing_empty(cfg)


def test_the_first_publish(day: dict) -> None:
    cfg = day["cfg"]
    [result] = run_dags(["transform"], cfg)
    assert result.state == "success"
    day["published"] = (published_run_id(cfg), published_marts(cfg))


def test_transform_killed_mid_dbt_leaves_the_published_marts(day: dict) -> None:
    cfg = day["cfg"]
    for path in day["held"].iterdir():  # three days late, after the day itself was published
        shutil.copyfile(path, cfg.landing_dir / "app" / path.name)
    [result] = run_dags(["ingest_app"], cfg)
    assert result.state == "success"
    assert query(cfg.pipeline_db, "select count(*) from raw.app_events where "
                 f"cast(received_at as date) = '{LATE_DAY}'")[0][0] > 0  # fmt: skip
    log = cfg.data_root / "dbt" / "logs" / "dbt.log"
    offset = log.stat().st_size
    started = "START sql incremental model intermediate.int_events_enriched"

    def building_the_incremental_model() -> bool:
        with log.open("rb") as fh:
            fh.seek(offset)
            return started.encode() in fh.read()

    proc = start_dags(cfg, ["transform"])
    try:
        wait_until(building_the_incremental_model, STARTUP_SECONDS, "dbt building events", proc)
    finally:
        kill_group(proc)
    assert (published_run_id(cfg), published_marts(cfg)) == day["published"]
    assert_ingest_invariants(cfg)


def test_publish_killed_between_write_and_swap_leaves_the_published_marts(day: dict) -> None:
    cfg = day["cfg"]
    _park_and_kill(cfg, ["transform"], failpoints.PUBLISH_BEFORE_SWAP)
    leftovers = list(cfg.warehouse_dir.glob(".publish-*"))
    assert leftovers, "the new serving file was written before the kill"
    assert (published_run_id(cfg), published_marts(cfg)) == day["published"]


def test_the_next_run_publishes_what_a_clean_full_run_publishes(day: dict, clean_run) -> None:
    cfg = day["cfg"]
    [result] = run_dags(["transform"], cfg)
    assert result.state == "success"
    assert published_run_id(cfg) == result.run_id
    assert list(cfg.warehouse_dir.glob(".publish-*")) == []
    assert published_marts(cfg) == clean_run.marts
    assert_ingest_invariants(cfg)
