"""Helpers shared by the pipeline-level tests (e2e, faults, deploy): data roots, the published
marts as comparable values, the ingest invariants, DAG runs in a process a test can kill, and
Airflow's REST API of a running deployment."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import httpx

from growthops import project, warehouse
from growthops.config import Settings
from growthops.demo.simulate import DemoConfig
from growthops.demo.world import SCALES

INGEST_DAGS = ["ingest_channel", "ingest_content", "ingest_app"]
ALL_DAGS = [*INGEST_DAGS, "transform"]
# The demo world the shared clean run is built from (and the fault tests deliver again).
DEMO = DemoConfig(SCALES["small"], seed=33, dirt_rate=0.02)


def copy_data_root(src: Path, dst: Path) -> Path:
    """A private copy of a data root (warehouse, archive, landing, truth): tests that change
    state work on one, never on the shared clean run."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".failpoints", "logs"))
    return dst


def project_copy(home: Path, dest: Path) -> Path:
    """A GROWTHOPS_HOME copy (dbt project, suites, DAGs) a test may edit as a developer
    would; returns its dbt project folder."""
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")
    for part in ("dbt_project", "expectations", "dags"):
        shutil.copytree(home / part, dest / part, ignore=ignore)
    return dest / "dbt_project"


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    # waits (bounded) while a pipeline task holds the write lock
    con = warehouse.connect(db, read_only=True, wait_seconds=120)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _comparable(value: Any) -> Any:
    # averages and medians are DOUBLE: equal up to float summation order
    return round(value, 9) if isinstance(value, float) else value


def published_marts(cfg: Settings) -> dict[str, list[tuple]]:
    """Every mart in the serving file, rows in a canonical order: equal marts, equal values.
    The marts about deliveries (when files came) are left out: two runs of the same data
    delivered differently differ there by design (transform.DELIVERY_MARTS)."""
    from growthops.transform import DELIVERY_MARTS

    con = duckdb.connect(str(cfg.serving_db), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' "
                "and starts_with(table_name, 'mart_') order by 1"
            ).fetchall()
        ]
        return {
            t: [
                tuple(map(_comparable, row))
                for row in con.execute(f"select * from main.{t} order by all").fetchall()
            ]
            for t in tables
            if t not in DELIVERY_MARTS
        }
    finally:
        con.close()


def published_run_id(cfg: Settings) -> str | None:
    if not cfg.serving_db.exists():
        return None
    return query(cfg.serving_db, "select run_id from publication")[0][0]


RAW_TABLES = {
    "channel": ("channel_spend", "fx_rates"),
    "app": ("app_events",),
    "content": ("content_items", "content_daily_stats"),
}


def assert_ingest_invariants(cfg: Settings) -> None:
    """For every file: rows_in = rows_loaded + rows_quarantined, and what the manifest says
    was loaded is exactly what the raw tables hold (no row lost, none doubled)."""
    db = cfg.pipeline_db
    unbalanced = query(
        db,
        "select source_file, rows_in, rows_loaded, rows_quarantined "
        "from raw.ingest_manifest where rows_in <> rows_loaded + rows_quarantined",
    )
    assert unbalanced == [], unbalanced
    for family, tables in RAW_TABLES.items():
        held = " union all ".join(
            f"select load_id, source_file, row_number from raw.{t}" for t in tables
        )
        mismatch = query(
            db,
            f"""with held as ({held}),
                per_file as (select load_id, source_file, count(*) as n,
                                    count(distinct row_number) as distinct_rows
                             from held group by all)
                select m.source_file, m.status, m.rows_loaded, p.n, p.distinct_rows
                from raw.ingest_manifest m
                full join per_file p on p.load_id = m.load_id and p.source_file = m.source_file
                where coalesce(m.family, ?) = ?
                  and (m.status is null
                       or coalesce(p.n, 0) <> (case when m.status = 'loaded' then m.rows_loaded else 0 end)
                       or p.n <> p.distinct_rows)""",
            family,
            family,
        )
        assert mismatch == [], f"{family}: manifest vs raw rows {mismatch[:5]}"
    quarantined = query(
        db,
        """select m.source_file, m.rows_quarantined, count(distinct q.row_number)
           from raw.ingest_manifest m
           left join raw.quarantine_rows q on q.load_id = m.load_id and q.source_file = m.source_file
           where m.status = 'loaded' group by all
           having m.rows_quarantined <> count(distinct q.row_number)""",
    )
    assert quarantined == [], quarantined
    doubled = query(
        db, "select message_id, count(*) from raw.app_events group by 1 having count(*) > 1"
    )
    assert doubled == [], f"app events loaded twice: {doubled[:5]}"
    assert lake_differences(cfg) == {}, "the lake's visible parts are not raw"


def lake_differences(cfg: Settings) -> dict[str, tuple[int, int]]:
    """Per raw table: (rows only in raw, rows only in the lake's visible parts), where any."""
    from growthops.ingest.schema import LINEAGE_COLUMNS, TABLE_COLUMNS
    from growthops.lake import part_glob

    differ = {}
    con = warehouse.connect(cfg.pipeline_db, read_only=True, wait_seconds=120)
    try:
        for table in TABLE_COLUMNS:
            if not any(cfg.lake_dir.glob(f"{table}/day=*/part_id=*/*.parquet")):
                continue  # nothing ever landed (the check needs a file to read)
            names = ", ".join(n for n, _ in (*LINEAGE_COLUMNS, *TABLE_COLUMNS[table]))
            lake = (
                f"select {names} from read_parquet(?, hive_partitioning = true) "
                "where part_id in (select part_id from raw.lake_parts "
                "where table_name = ? and status = 'visible')"
            )
            raw = f"select {names} from raw.{table}"
            only_raw, only_lake = con.execute(
                f"select (select count(*) from ({raw} except all {lake})), "
                f"(select count(*) from ({lake} except all {raw}))",
                [part_glob(cfg, table), table, part_glob(cfg, table), table],
            ).fetchone()
            if only_raw or only_lake:
                differ[table] = (only_raw, only_lake)
    finally:
        con.close()
    return differ


def assert_landing_empty(cfg: Settings) -> None:
    left = [p for p in cfg.landing_dir.rglob("*") if p.is_file()]
    assert left == [], f"files still pending in landing/: {left[:5]}"


# ------------------------------------------------------------------ killable DAG runs

_RUN_DAGS = (
    "import sys\n"
    "from growthops.runner import run_dags\n"
    "results = run_dags(sys.argv[1:])\n"
    "sys.exit(0 if all(r.state == 'success' for r in results) else 1)\n"
)


def start_dags(cfg: Settings, dag_ids: list[str], **env: str) -> subprocess.Popen[bytes]:
    """Run DAGs with dag.test() in a new process group (a test can SIGKILL all of it)."""
    log = cfg.data_root / "logs" / f"{'_'.join(dag_ids)}_{time.time_ns()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **cfg.environment(), **env}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", _RUN_DAGS, *dag_ids],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until(
    check: Callable[[], Any],
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    *,
    tolerate: tuple[type[Exception], ...] = (),
    poll: float = 0.1,
) -> Any:
    """check()'s first truthy result; exceptions in `tolerate` count as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except tolerate:
            result = None
        if result:
            return result
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended ({proc.returncode}) before {what}")
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started (dbt included): a worker dying."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def settings_for(root: Path, **changes: Any) -> Settings:
    """The effective settings with the data root (and anything else given) replaced; pass
    them explicitly: run_dags() puts them in the environment for the DAGs' tasks."""
    return replace(Settings.from_env(), data_root=root, **changes)


# ---------------------------------------------------------------- a running Airflow

AIRFLOW_PASSWORD = "growthops-test"  # the tests pre-seed the simple auth manager's file with it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Api:
    """Airflow's REST API v2 as user admin (password AIRFLOW_PASSWORD)."""

    def __init__(self, base_url: str) -> None:
        token = httpx.post(
            f"{base_url}/auth/token", json={"username": "admin", "password": AIRFLOW_PASSWORD}
        )
        token.raise_for_status()
        self.client = httpx.Client(
            base_url=f"{base_url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns", order_by="-run_after", limit=100)["dag_runs"]


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """wait_until for a live Airflow: API errors, a held DuckDB lock and a warehouse still
    being created (the file there, its tables not yet) count as not yet."""
    return wait_until(
        check,
        timeout,
        what,
        tolerate=(httpx.HTTPError, warehouse.WarehouseLockedError, duckdb.CatalogException),
        poll=0.5,
    )


def deliver(src: Path, dest_dir: Path) -> Path:
    """Put a file into landing/ the way the landing contract asks: write, then rename."""
    dest = dest_dir / src.name
    tmp = dest_dir / f".{src.name}.part"
    shutil.copyfile(src, tmp)
    tmp.replace(dest)
    return dest


# ---------------------------------------------------------------- one home per list


def platform_disagreements(
    dbt_project_dir: Path, adapter_folders: set[str], demo_platforms: set[str]
) -> list[str]:
    """Where the places README's "An ad platform" checklist touches disagree with
    `vars.platforms` (the list's one home); empty when they agree."""
    import csv

    import yaml

    platforms = set(project.platforms(dbt_project_dir))
    with (dbt_project_dir / "seeds" / "channel_mapping.csv").open(encoding="utf-8") as fh:
        seeded = {r["platform"] for r in csv.DictReader(fh) if r["platform"]}
    staging = yaml.safe_load(
        (dbt_project_dir / "models" / "staging" / "_staging__models.yml").read_text()
    )
    [spend] = [m for m in staging["models"] if m["name"] == "stg_channel__spend_reports"]
    [platform] = [c for c in spend["columns"] if c["name"] == "platform"]
    [accepted] = [t["accepted_values"] for t in platform["data_tests"] if "accepted_values" in t]
    found = {
        "adapters (plugins/growthops/ingest/adapters.py)": adapter_folders - {"fx_rates"},
        "the seed (seeds/channel_mapping.csv)": seeded,
        "the demo (demo/world.py PLATFORM_UTM)": demo_platforms,
    }
    problems = [
        f"{where}: missing {sorted(platforms - have)}, not listed {sorted(have - platforms)}"
        for where, have in found.items()
        if have != platforms
    ]
    # staging reads the var; a copied list would drift
    if accepted["arguments"]["values"] != "{{ var('platforms') }}":
        problems.append("staging's accepted values copy the list instead of reading the var")
    return problems
