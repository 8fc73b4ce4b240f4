"""The `growthops` command as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import copy_data_root, published_marts, settings_for


def _run(args: list[str], data_root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "GROWTHOPS_DATA_ROOT": str(data_root), **env}
    cli = Path(sys.executable).with_name("growthops")
    return subprocess.run(
        [str(cli), *args], capture_output=True, text=True, env=environ, timeout=300, check=False
    )


def test_demo_generate_writes_landing_and_truth(tmp_path: Path) -> None:
    result = _run(["demo", "generate", "--scale", "small", "--seed", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "app events" in result.stdout
    assert (tmp_path / "landing" / "app").is_dir()
    truth = json.loads((tmp_path / "demo_truth" / "truth.json").read_text())
    assert truth["config"]["seed"] == 3
    assert truth["events_generated"] > 10_000


def test_run_on_a_loaded_warehouse_finds_nothing_new(clean_run, tmp_path: Path) -> None:
    root = copy_data_root(clean_run.root, tmp_path / "root")
    result = _run(["run"], root)
    assert result.returncode == 0, result.stderr
    assert "nothing new" in result.stdout
    assert "transform" not in result.stdout  # no new raw data, so no transform run
    assert published_marts(settings_for(root)) == clean_run.marts


@pytest.mark.extended  # two full demo runs (~2 min); `make run` does the same on every setup
def test_run_generates_demo_data_once(tmp_path: Path) -> None:
    first = _run(["run", "--demo"], tmp_path)
    assert first.returncode == 0, first.stderr
    # progress as each DAG starts and ends, then the week's headline and the reports
    assert "transform        running ..." in first.stdout
    assert "transform        success" in first.stdout
    reports = [Path(line.strip()) for line in first.stdout.splitlines() if line.endswith(".html")]
    assert [p.parent.name for p in reports] == ["day", "week"] and all(p.is_file() for p in reports)
    # every task's log where the Airflow UI reads it, dbt's table with rows for every model
    home = Path(os.environ.get("AIRFLOW_HOME", tmp_path / "airflow"))
    logs = (home / "logs" / "dag_id=transform").glob("*/task_id=dbt_build_marts/attempt=1.log")
    table = max(logs, key=lambda p: p.stat().st_mtime).read_text()  # this run's, the newest
    assert "mart_kpi_anomalies" in table
    assert all(line.split()[3].replace(",", "").isdigit()
               for line in table.splitlines() if line.startswith("success  model"))  # fmt: skip
    second = _run(["run", "--demo"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "nothing new" in second.stdout


def test_bad_setting_is_a_clear_error(tmp_path: Path) -> None:
    result = _run(["config"], tmp_path, GROWTHOPS_REPORTING_TZ="Nowhere/Else")
    assert result.returncode == 2
    assert "GROWTHOPS_REPORTING_TZ" in result.stderr


def test_airflow_commands_run_with_growthops_settings_and_an_explicit_value_wins(
    tmp_path: Path,
) -> None:
    """`growthops airflow` (what docker-compose's services run) adds growthops' Airflow
    settings; a value the deployment sets itself is kept."""
    # none of this test session's Airflow settings: the command must bring its own
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    cli = str(Path(sys.executable).with_name("growthops"))

    def value(section: str, key: str, **env: str) -> str:
        result = subprocess.run(
            [cli, "airflow", "config", "get-value", section, key],
            capture_output=True, text=True, timeout=120, check=False,
            env={**clean, "AIRFLOW_HOME": str(tmp_path / "airflow"), **env},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert value("core", "dags_folder") == str(Path(__file__).resolve().parents[2] / "dags")
    assert value("core", "load_examples") == "False"
    assert value("core", "executor", AIRFLOW__CORE__EXECUTOR="CeleryExecutor") == "CeleryExecutor"


@pytest.mark.faults  # the fault suite's door and operator cases
def test_sql_reads_marts_and_pipeline_tables_and_writes_nothing(clean_run, tmp_path: Path) -> None:
    import hashlib

    root = copy_data_root(clean_run.root, tmp_path / "data")
    pipeline = root / "warehouse" / "pipeline.duckdb"
    before = hashlib.sha256(pipeline.read_bytes()).hexdigest()
    ok = _run(["sql", "select count(*) as held from pipeline.raw.quarantine_rows"], root)
    assert ok.returncode == 0, ok.stderr
    assert "held" in ok.stdout
    for table in ("pipeline.raw.ingest_manifest", "pipeline.ops.pipeline_runs", "mart_spend_daily"):
        assert _run(["sql", f"select count(*) from {table}"], root).returncode == 0, table
    refused = {
        f"copy (select 1) to '{pipeline}'": "COPY statements are refused",
        f"attach '{pipeline}' as rw": "ATTACH statements are refused",
        "select * from read_csv('/etc/passwd')": "file system operations are disabled",
        "create table mart_x as select 1": "CREATE statements are refused",
        "selec 1": "syntax error",
    }
    for query, words in refused.items():
        result = _run(["sql", query], root)
        assert result.returncode == 1, query
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, (
            query,
            result.stderr,
        )
        assert "Traceback" not in result.stderr
    assert hashlib.sha256(pipeline.read_bytes()).hexdigest() == before


@pytest.mark.faults  # the fault suite's door and operator cases
def test_run_never_makes_demo_data_or_deletes_uploads_unless_asked(tmp_path: Path) -> None:
    upload = tmp_path / "landing" / "app" / ".segment_2026-06-01T00.ndjson.gz.part"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"half an upload")  # a producer still writing: not complete yet
    result = _run(["run"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "growthops run --demo" in result.stdout
    assert upload.read_bytes() == b"half an upload"
    assert not (tmp_path / "demo_truth").exists()
    assert {p.name for p in (tmp_path / "landing").iterdir()} == {"app", "channel", "content"}


@pytest.mark.faults  # the fault suite's door and operator cases
def test_a_second_run_on_the_same_data_root_says_so_in_one_line(tmp_path: Path) -> None:
    import fcntl

    tmp_path.mkdir(exist_ok=True)
    with (tmp_path / ".growthops-run.lock").open("a") as held:  # a run in progress
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        for command in (["run"], ["rebuild"]):
            result = _run(command, tmp_path)
            assert result.returncode == 1, command
            assert result.stderr.strip().splitlines() == [
                f"growthops: another `growthops run` or `rebuild` is working on {tmp_path}: "
                "wait for it to finish"
            ]
