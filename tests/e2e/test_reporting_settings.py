"""Changing the reporting time zone on a built warehouse: one clear line, then the documented
command rebuilds every mart in the new zone and publishes."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from support import copy_data_root, settings_for

from growthops import cli
from growthops.runner import run_dags

# ~1 min (a rebuild in another zone): make test-extended, which CI runs
pytestmark = [pytest.mark.slow, pytest.mark.extended]


def test_a_zone_change_stops_with_the_command_that_rebuilds_and_publishes(
    clean_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = copy_data_root(clean_run.root, tmp_path / "data")
    monkeypatch.setenv("GROWTHOPS_DATA_ROOT", str(root))
    monkeypatch.setenv("GROWTHOPS_REPORTING_TZ", "Asia/Shanghai")
    cfg = settings_for(root)
    assert cfg.reporting_timezone == "Asia/Shanghai"

    [stopped] = run_dags(["transform"], cfg)
    assert stopped.state == "failed" and stopped.task_states["dbt_build_staging"] == "failed"
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    [(failure,)] = con.execute(
        "select failure from ops.pipeline_runs where run_id = ?", [stopped.run_id]
    ).fetchall()
    con.close()
    assert "GROWTHOPS_REPORTING_TZ=UTC and it is now Asia/Shanghai" in failure
    assert "growthops rebuild" in failure

    assert cli.main(["rebuild"]) == 0  # the command, as the line names it
    assert "published" in capsys.readouterr().out
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    try:
        # every event's day is now its day in Shanghai, computed here from its UTC time
        wrong = con.execute(
            "select count(*) from intermediate.int_events_enriched "
            "where event_date <> cast(timezone('Asia/Shanghai', timezone('UTC', event_at)) as date)"
        ).fetchone()[0]
        assert wrong == 0
    finally:
        con.close()
    serving = duckdb.connect(str(cfg.serving_db), read_only=True)
    try:
        assert serving.execute("select reporting_timezone from publication").fetchone() == (
            "Asia/Shanghai",
        )
    finally:
        serving.close()
    # and the next scheduled run goes on as usual
    [again] = run_dags(["transform"], cfg)
    assert again.state == "success", again.task_states
    assert os.environ["GROWTHOPS_REPORTING_TZ"] == "Asia/Shanghai"
