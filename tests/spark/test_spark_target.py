"""The dbt project on Apache Spark (local mode): the transform DAG with
GROWTHOPS_DBT_TARGET=spark publishes the same marts as the DuckDB build of the same raw.

`make test-spark` installs requirements-spark.txt; Java 17+ comes from the system. Without
either the test skips, saying which is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import duckdb
import pytest
from support import copy_data_root, lake_differences, settings_for

from growthops import lake
from growthops.bench.compare import compare_databases, mismatches
from growthops.dbt import run_dbt
from growthops.runner import run_dags
from growthops.spark import PYTHON_MARTS

pytestmark = [pytest.mark.spark, pytest.mark.scale_out, pytest.mark.slow]


def _missing() -> str | None:
    if (
        importlib.util.find_spec("pyspark") is None
        or importlib.util.find_spec("dbt.adapters.spark") is None
    ):
        return "pyspark and dbt-spark are not installed: `make test-spark` installs them"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java 17+: apt-get install openjdk-17-jre-headless"
    return None


@pytest.fixture(scope="module")
def spark_run(clean_run, tmp_path_factory: pytest.TempPathFactory):
    if missing := _missing():
        pytest.skip(missing)
    root = copy_data_root(clean_run.root, tmp_path_factory.mktemp("spark") / "root")
    cfg = settings_for(root, dbt_target="spark")
    # the copy's DuckDB-built marts go: every mart published must come from this build
    con = duckdb.connect(str(cfg.pipeline_db))
    try:
        con.execute("drop schema marts cascade")
    finally:
        con.close()
    (result,) = run_dags(["transform"], cfg)
    assert result.state == "success", result.task_states
    return cfg


def test_spark_publishes_the_marts_duckdb_published(clean_run, spark_run) -> None:
    cfg = spark_run
    # every mart Spark built is in the new serving file; the marts compared value for value
    # (doubles within 1e-6 + 1e-9 relative: float sums in another order)
    checks = compare_databases(clean_run.root / "warehouse" / "marts.duckdb", cfg.pipeline_db)
    assert len(checks) >= 25, sorted(checks)
    assert not mismatches({"spark vs duckdb": checks})
    built = {p.name for p in (cfg.spark_dir / "warehouse" / "marts.db").iterdir()}
    con = duckdb.connect(str(cfg.serving_db), read_only=True)
    try:
        served = {t for (t,) in con.execute(
            "select table_name from duckdb_tables() where starts_with(table_name, 'mart_')"
        ).fetchall()}  # fmt: skip
    finally:
        con.close()
    assert built and built <= served, built - served
    # all of them Spark's, but the two written in Python from Spark's marts
    assert served == built | PYTHON_MARTS, served ^ (built | PYTHON_MARTS)


def test_the_lake_holds_every_raw_row(clean_run, spark_run) -> None:
    # the data tables: the visible parts hold exactly raw's rows (what Spark's sources read)
    assert lake_differences(spark_run) == {}
    # the bookkeeping tables: the snapshot the transform published equals the pipeline's copy
    con = duckdb.connect()
    try:
        con.execute("attach ? as pipeline (read_only)", [str(spark_run.pipeline_db)])
        tables = lake.bookkeeping_tables(con)
        assert {"ingest_manifest", "lake_parts", "quarantine_rows"} <= set(tables), tables
        for table in tables:
            snapshot = str(spark_run.lake_dir / lake.CATALOG / table / lake.SNAPSHOT)
            only_raw, only_snapshot = con.execute(
                f"select (select count(*) from (select * from pipeline.raw.{table} "
                "except all select * from read_parquet(?))), "
                f"(select count(*) from (select * from read_parquet(?) "
                f"except all select * from pipeline.raw.{table}))",
                [snapshot, snapshot],
            ).fetchone()
            assert (only_raw, only_snapshot) == (0, 0), table
    finally:
        con.close()


def test_the_unit_tests_pass_on_spark(spark_run) -> None:
    result = run_dbt(["test", "--select", "test_type:unit"], spark_run)
    assert result.success, result.table()
    assert len(result.results) >= 30
