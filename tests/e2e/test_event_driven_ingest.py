"""Event-driven ingestion under real `airflow standalone` (scheduler, triggerer, API).

A file dropped into landing/ must start its ingest run by itself (LandingWatcher ->
asset event -> asset-triggered run) and load; a burst of 20 files must all load.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest
from support import AIRFLOW_PASSWORD, Api, assert_ingest_invariants, deliver, free_port, wait_for

from growthops import standalone, warehouse
from growthops.config import Settings
from growthops.demo.generate import generate
from growthops.demo.simulate import DemoConfig
from growthops.demo.world import SCALES

# ~3 min (airflow standalone + three pipeline runs): make test-extended, which CI runs
pytestmark = [pytest.mark.standalone, pytest.mark.slow, pytest.mark.extended]


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Settings, Path]]:
    root = tmp_path_factory.mktemp("standalone")
    # The safety nets set to once a year: a cron run that happens to fire during a test
    # would take its files first, and the test must see the file events start the runs.
    cfg = Settings(
        home=Settings.from_env().home,
        data_root=root / "data",
        ingest_safety_net_cron="0 0 1 1 *",
        transform_safety_net_cron="0 0 1 1 *",
    )
    for family in ("channel", "app", "content"):
        (cfg.landing_dir / family).mkdir(parents=True)
    outbox = root / "outbox"  # a demo world to deliver from
    generate(DemoConfig(SCALES["small"], seed=5, dirt_rate=0.0), outbox, root / "truth")
    sa = standalone.start(
        cfg,
        port=free_port(),
        password=AIRFLOW_PASSWORD,
        extra_env={
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        },
    )
    try:
        standalone.wait_healthy(sa)
        api = Api(sa.base_url)
        wait_for(
            lambda: api.get("/dags/ingest_app")["is_paused"] is False,
            120,
            "ingest_app parsed, unpaused",
        )
        # With catchup=False the safety-net cron fires once right after unpause; let those
        # runs finish so they cannot take the test's files first.
        for family in ("channel", "app", "content"):
            wait_for(lambda f=family: all(r["state"] in ("success", "failed") for r in api.runs(f"ingest_{f}")),
                     120, f"ingest_{family} idle")  # fmt: skip
        time.sleep(3)  # the dag processor registers the asset watchers with the triggerer
        # the FX feed first, as in any deployment: orders in CNY are held until it has a rate
        rates = sorted((outbox / "channel" / "fx_rates").glob("*.csv"))
        (cfg.landing_dir / "channel" / "fx_rates").mkdir()
        for src in rates:
            deliver(src, cfg.landing_dir / "channel" / "fx_rates")
        wait_for(lambda: sum(f.startswith("channel/fx_rates/") for f in _manifest(cfg)) == len(rates),
                 180, "the FX feed loaded")  # fmt: skip
        yield api, cfg, outbox
    finally:
        standalone.stop(sa)
        assert sa.process.poll() is not None


def _manifest(cfg: Settings) -> dict[str, tuple[str, int]]:
    if not cfg.pipeline_db.exists():
        return {}
    con = warehouse.connect(cfg.pipeline_db, read_only=True, wait_seconds=2)
    try:
        return {
            s: (st, n)
            for s, st, n in con.execute(
                "select source_file, status, rows_loaded from raw.ingest_manifest"
            ).fetchall()
        }
    except duckdb.CatalogException:  # the file exists, its raw schema not yet: still starting
        return {}
    finally:
        con.close()


def test_a_dropped_file_starts_its_ingest_run_and_loads(
    airflow: tuple[Api, Settings, Path],
) -> None:
    api, cfg, outbox = airflow
    before = {r["dag_run_id"] for r in api.runs("ingest_app")}
    src = sorted((outbox / "app").glob("*.ndjson.gz"))[30]
    lines = len(gzip.decompress(src.read_bytes()).splitlines())
    dropped = time.monotonic()
    deliver(src, cfg.landing_dir / "app")

    def new_successful_run() -> dict | None:
        return next(
            (
                r
                for r in api.runs("ingest_app")
                if r["dag_run_id"] not in before and r["state"] == "success"
            ),
            None,
        )

    run = wait_for(new_successful_run, 180, "an ingest_app run started by the file")
    print(f"\nfile dropped -> ingest_app success in {time.monotonic() - dropped:.1f}s")
    assert run["run_type"] == "asset_triggered"
    xcom = api.get(
        f"/dags/ingest_app/dagRuns/{run['dag_run_id']}/taskInstances/ingest_app_files/xcomEntries/return_value"
    )
    value = xcom["value"] if isinstance(xcom["value"], dict) else json.loads(xcom["value"])
    assert value["rows"] == lines and value["files"] == 1
    assert _manifest(cfg)[f"app/{src.name}"] == ("loaded", lines)
    assert not list((cfg.landing_dir / "app").iterdir())


@pytest.mark.faults  # also the fault suite's "50 files landing in one burst"
def test_a_burst_of_50_files_all_load_once(airflow: tuple[Api, Settings, Path]) -> None:
    api, cfg, outbox = airflow
    before = {r["dag_run_id"] for r in api.runs("ingest_app")}
    files = sorted((outbox / "app").glob("*.ndjson.gz"))[40:90]
    assert len(files) == 50
    for src in files:
        deliver(src, cfg.landing_dir / "app")
    expected = {f"app/{f.name}": len(gzip.decompress(f.read_bytes()).splitlines()) for f in files}

    def all_loaded() -> bool:
        manifest = _manifest(cfg)
        return all(manifest.get(name) == ("loaded", n) for name, n in expected.items())

    wait_for(all_loaded, 240, "all 50 burst files loaded")
    assert not list((cfg.landing_dir / "app").iterdir())
    new_runs = [r for r in api.runs("ingest_app") if r["dag_run_id"] not in before]
    print(f"\n50 files -> {len(new_runs)} run(s): {[r['run_type'] for r in new_runs]}")
    assert any(r["run_type"] == "asset_triggered" for r in new_runs)
    assert_ingest_invariants(cfg)  # every file balances, no event held twice


def test_dropped_files_reach_the_published_marts_with_per_model_results(
    airflow: tuple[Api, Settings, Path],
) -> None:
    api, cfg, outbox = airflow
    before = {r["dag_run_id"] for r in api.runs("transform")}
    src = sorted((outbox / "app").glob("*.ndjson.gz"))[200]
    deliver(src, cfg.landing_dir / "app")  # ingest_app -> raw_app -> transform -> publish

    def published_run() -> dict | None:
        return next(
            (r for r in api.runs("transform")
             if r["dag_run_id"] not in before and r["state"] == "success" and r["run_type"] == "asset_triggered"),
            None,
        )  # fmt: skip

    run = wait_for(published_run, 300, "an asset-triggered transform run that publishes")
    con = duckdb.connect(str(cfg.serving_db), read_only=True)
    try:
        assert con.execute("select run_id from publication").fetchall()[0][0] == run["dag_run_id"]
        assert con.execute("select count(*) from mart_growth_daily").fetchall()[0][0] > 0
    finally:
        con.close()
    assert _manifest(cfg)[f"app/{src.name}"][0] == "loaded"
    # the per-model dbt results of that run, through the REST API
    xcom = api.get(
        f"/dags/transform/dagRuns/{run['dag_run_id']}/taskInstances/dbt_build_marts/xcomEntries/return_value"
    )
    value = xcom["value"] if isinstance(xcom["value"], dict) else json.loads(xcom["value"])
    nodes = {n["name"]: n for n in value["nodes"]}
    assert nodes["mart_funnel_conversion"]["status"] == "success"
    assert nodes["int_events_enriched"]["rows"] > 0
    assert all(set(n) >= {"status", "seconds", "rows"} for n in nodes.values())


def test_the_ops_reports_are_in_the_ui_for_signed_in_users(
    airflow: tuple[Api, Settings, Path],
) -> None:
    """The growthops plugin: a Browse entry, and the reports the transform wrote, served by
    the API server to a signed-in user only."""
    api, cfg, _ = airflow
    plugins = {p["name"]: p for p in api.get("/plugins")["plugins"]}
    [view] = plugins["growthops"]["external_views"]
    assert (view["name"], view["href"], view["category"]) == (
        "Ops reports", "growthops-reports/index.html", "browse",
    )  # fmt: skip
    base = str(api.client.base_url).rstrip("/").removesuffix("/api/v2")
    wait_for(lambda: (cfg.reports_dir / "index.html").exists(), 300, "a report after a publish")
    assert httpx.get(f"{base}/growthops-reports/index.html").status_code in (401, 403)
    page = httpx.get(f"{base}/growthops-reports/index.html",
                     headers={"Authorization": api.client.headers["Authorization"]})  # fmt: skip
    assert page.status_code == 200 and "growthops reports" in page.text
    # nothing outside the reports folder, even signed in
    outside = httpx.get(f"{base}/growthops-reports/..%2F..%2Fairflow%2Fairflow.cfg",
                        headers={"Authorization": api.client.headers["Authorization"]})  # fmt: skip
    assert outside.status_code == 404
