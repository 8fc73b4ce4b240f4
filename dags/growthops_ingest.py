"""growthops ingest DAGs (Airflow 3.3): landing/<family>/ -> raw.* in the pipeline DuckDB.

Thin on purpose: the logic is `growthops.ingest.loader.ingest`, imported inside the task so
parsing this file stays cheap. One DAG per family: ingest_channel, ingest_app, ingest_content.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import (
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    dag,
    get_current_context,
    task,
)

from growthops import assets
from growthops.airflow_env import DUCKDB_POOL
from growthops.config import settings
from growthops.landing import FAMILIES
from growthops.triggers import LandingWatcher

DOC = """
### Ingest `{family}` files

**Wakes up** when a complete file lands in `landing/{family}/` (the `LandingWatcher`
event trigger on asset `landing_{family}`), and on `GROWTHOPS_INGEST_SAFETY_NET_CRON`
(default every 30 minutes) as a safety net. Every run takes **all** pending files, so
merged or lost events lose nothing.

**Per file** (name order): sha256 -> identical re-delivery is a no-op; the adapter reads the
native format; the Great Expectations raw gate (`expectations/raw_*.json`) checks every
row; good rows become immutable Parquet parts in `lake/<table>/day=…/`, then the parts'
commit record, quarantined rows and the manifest row are written in one DuckDB
transaction (a part no commit names is never read, and is cleaned); the file moves to
`archive/` or, rejected whole, to `quarantine/` with a `.reason.txt`.
`rows_in = rows_loaded + rows_quarantined` for every file.

**Emits** asset `raw_{family}` with `extra` = files / rows / rows_quarantined, which
schedules the transform. A run with nothing pending, or whose files changed no row (all
duplicates, rejected, held, or empty), is *skipped*: no asset event, no transform.

Runs in pool `{pool}` (one slot): DuckDB allows one writer per file. Inside the task,
`GROWTHOPS_INGEST_WORKERS` processes claim pending files and parse, check and write parts
in parallel; only their short commits take turns on the writer.
"""


def build_ingest_dag(family: str):
    landing_dir = settings().landing_dir / family
    landing_asset = assets.landing_asset(
        family, landing_dir, LandingWatcher(folder=str(landing_dir))
    )
    raw_asset = assets.raw_asset(family)

    @dag(
        dag_id=f"ingest_{family}",
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(settings().ingest_safety_net_cron, timezone="UTC"),
            assets=[landing_asset],
        ),
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["growthops", "ingest", family],
        doc_md=DOC.format(family=family, pool=DUCKDB_POOL),
        default_args={
            "retries": 2,
            "retry_delay": pendulum.duration(seconds=30),
            "execution_timeout": settings().task_timeout,
        },
    )
    def ingest_dag():
        @task(task_id=f"ingest_{family}_files", outlets=[raw_asset], pool=DUCKDB_POOL)
        def ingest_files(*, outlet_events=None) -> dict:
            from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

            from growthops.config import ConfigError
            from growthops.ingest.loader import ingest

            try:
                report = ingest(family)
            except ConfigError as exc:  # retrying cannot fix a setting
                raise AirflowFailException(f"configuration error: {exc}") from exc
            print(report.summary())
            if not report.files:
                raise AirflowSkipException(f"nothing pending in landing/{family}/")
            if not report.changed_raw:
                # the outcome stays readable (XCom), but no raw_{family} event: no transform
                get_current_context()["ti"].xcom_push(key="return_value", value=report.extra())
                raise AirflowSkipException(
                    f"{len(report.files)} files, no row loaded or replaced (duplicates, "
                    f"rejected or held): nothing new for the transform"
                )
            outlet_events[raw_asset].extra = report.extra()
            return report.extra()

        ingest_files()

    return ingest_dag()


for _family in FAMILIES:
    build_ingest_dag(_family)
