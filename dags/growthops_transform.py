"""growthops transform DAG (Airflow 3.3): raw -> staging -> marts, gated, then published.

Thin on purpose: every task imports its logic from growthops.transform inside the task.
"""

from __future__ import annotations

import functools
import operator

import pendulum
from airflow.sdk import (
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)

from growthops import assets
from growthops.airflow_env import DUCKDB_POOL
from growthops.config import settings

RAW_ASSETS = assets.raw_assets()
MART_ASSETS = assets.mart_assets()
ANOMALIES = assets.anomalies_asset()

DOC = """
### Transform, audit, publish

**Runs** when any raw asset is updated (`raw_channel | raw_app | raw_content`, i.e. an
ingest run loaded something), and on `GROWTHOPS_TRANSFORM_SAFETY_NET_CRON` (hourly at :15)
as a safety net. One run at a time; each run builds from everything in raw, so it always
covers all that is new since the last good run.

| task | what | blocks publish when |
|---|---|---|
| `dbt_build_staging` | `dbt build` of staging models and their tests | a model or test errors |
| `gate_staging` | GX `expectations/staging.json` on a daily profile | null keys, negative metrics, stale source |
| `dbt_build_marts` | `dbt build` of intermediate + marts, then mart_experiment_results (scipy) | an error |
| `gate_marts` | GX `expectations/marts/reconciliation.json`, `volume.json` (see below) | a blocking expectation fails |
| `publish` | copy the marts into a new file, rename it over `warehouse/marts.duckdb` | — |
| `report` | the ops report of the latest complete day and week (`data/reports/`) | — |
| `alert_anomalies` | anomalies not alerted before: log, `ops.anomaly_alerts`, asset `anomalies`, notifier | — |
| `record_run` | one row in `ops.pipeline_runs` (inputs, per-model results, gates, published) | runs always |

Mart gate (GX): spend reconciles with raw to the micro; no mart loses > 10% of its rows
against the published version. Model invariants (rates in [0, 1], DAU <= WAU <= MAU,
installs >= sign-ups and payers, funnel steps never increase, retention period 0 = cohort
size) are dbt tests of `dbt_build_marts`. Volume swings in staging only warn.

**Anomalies** a publish flags for the first time are logged as a warning by
`alert_anomalies`, recorded in `ops.anomaly_alerts`, emitted as an event of asset
`anomalies` (its `extra` lists them: schedule a DAG on it to route them), and handed to the
function `GROWTHOPS_ALERT_NOTIFIER` names (`package.module:function`, called with the message
and the list: e.g. one that sends them with an Airflow notifier to email or chat).

**After a reporting setting changed** (`GROWTHOPS_REPORTING_TZ` / `_CURRENCY`), trigger
with `full_refresh` on (or run `growthops rebuild`): a run that finds the warehouse built
in another reporting zone stops at `dbt_build_staging` with one line saying so.

Per-model dbt results (status, seconds, rows) are each build task's return value (XCom
`return_value`, also pushed as `dbt_results` when the build fails) and a table in its log.
A failed gate's log and exception name the expectation, the table and sample rows.
"""


@dag(
    dag_id="transform",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(settings().transform_safety_net_cron, timezone="UTC"),
        assets=functools.reduce(operator.or_, RAW_ASSETS),  # any raw asset
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"execution_timeout": settings().task_timeout},
    tags=["growthops", "transform", "dbt", "quality"],
    doc_md=DOC,
    params={
        "full_refresh": Param(
            False,
            type="boolean",
            description="Rebuild every model from raw, the incremental ones included: after "
            "GROWTHOPS_REPORTING_TZ or _CURRENCY changed (what `growthops rebuild` does).",
        )
    },
)
def transform():
    def build(stage: str) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from growthops.transform import StageFailedError, build_stage

        cfg = settings()
        full_refresh = bool(get_current_context()["params"].get("full_refresh"))
        try:
            result = build_stage(stage, cfg, full_refresh=full_refresh)
        except StageFailedError as exc:
            # the UI shows which model or test failed: XCom `failure` and the log
            get_current_context()["ti"].xcom_push(key="failure", value=str(exc))
            raise AirflowFailException(str(exc)) from exc
        print(result.table())  # per node: status, seconds, rows (counted for every model)
        return {"stage": stage, "nodes": result.as_dicts()}

    def gate(name: str) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from growthops import transform as t

        try:
            report = t.gate_staging() if name == "staging" else t.gate_marts()
        except t.StageFailedError as exc:
            get_current_context()["ti"].xcom_push(key="failure", value=str(exc))
            raise AirflowFailException(str(exc)) from exc
        print(report.summary())
        return {"gate": name, "checks": report.checks}

    @task(pool=DUCKDB_POOL)
    def dbt_build_staging() -> dict:
        return build("staging")

    @task(pool=DUCKDB_POOL)
    def gate_staging() -> dict:
        return gate("staging")

    @task(pool=DUCKDB_POOL)
    def dbt_build_marts() -> dict:
        return build("marts")

    @task(pool=DUCKDB_POOL)
    def gate_marts() -> dict:
        return gate("marts")

    @task(pool=DUCKDB_POOL, outlets=list(MART_ASSETS.values()))
    def publish(*, run_id: str, outlet_events=None) -> dict:
        from growthops.transform import publish as publish_marts

        families = publish_marts(run_id)
        for name, asset in MART_ASSETS.items():
            tables = families.get(name, {})
            outlet_events[asset].extra = {
                "run_id": run_id,
                "tables": tables,
                "rows": sum(tables.values()),
            }
        return families

    @task
    def report() -> list[str]:
        from airflow.sdk.exceptions import AirflowSkipException

        from growthops.report import NothingToReportError, latest_reports

        try:
            paths = [str(p) for p in latest_reports(settings())]
        except NothingToReportError as exc:  # an empty warehouse: nothing to say yet
            raise AirflowSkipException(str(exc)) from exc
        print("\n".join(paths))
        return paths

    @task(pool=DUCKDB_POOL, outlets=[ANOMALIES])
    def alert_anomalies(*, run_id: str, outlet_events=None) -> list[dict]:
        from airflow.sdk.exceptions import AirflowSkipException

        from growthops.alerts import alert, describe

        new = alert(settings(), run_id)
        if not new:
            raise AirflowSkipException("no new anomaly")
        outlet_events[ANOMALIES].extra = {"run_id": run_id, "anomalies": [describe(a) for a in new]}
        return [{k: str(v) for k, v in a.items()} for a in new]

    @task(pool=DUCKDB_POOL, trigger_rule="all_done")
    def record_run(*, run_id: str, dag_run=None, ti=None, triggering_asset_events=None) -> dict:
        """One row in ops.pipeline_runs, whatever happened before (trigger rule all_done)."""
        from growthops.transform import RUN_STEPS, run_outcome
        from growthops.transform import record_run as record

        results = {step: ti.xcom_pull(task_ids=step) for step in RUN_STEPS}
        failures = {step: ti.xcom_pull(task_ids=step, key="failure") for step in RUN_STEPS}
        published, failure = run_outcome(results, failures)
        inputs = {
            str(asset.name): [event.extra for event in events]
            for asset, events in (triggering_asset_events or {}).items()
        }
        record(
            run_id,
            started_at=getattr(dag_run, "start_date", None),
            inputs=inputs,
            stages={s: results[f"dbt_build_{s}"] for s in ("staging", "marts")},
            gates={g: results[f"gate_{g}"] for g in ("staging", "marts")},
            published=published,
            failure=failure,
        )
        if not published:
            from airflow.sdk.exceptions import AirflowFailException

            # the run is recorded; now make it fail, so the Airflow UI shows it red
            raise AirflowFailException(f"nothing published: {failure}")
        return {"published": published, "failure": failure}

    staging = dbt_build_staging()
    staging_ok = gate_staging()
    marts = dbt_build_marts()
    marts_ok = gate_marts()
    published = publish()
    recorded = record_run()
    staging >> staging_ok >> marts >> marts_ok >> published >> recorded
    published >> [report(), alert_anomalies()]


transform()
