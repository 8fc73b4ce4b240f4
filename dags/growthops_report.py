"""growthops report DAGs (Airflow 3.3): the ops report on a clock.

The transform DAG writes the daily and weekly report after every publish; these two write
them on a schedule too, so the morning's report exists even when nothing new arrived
overnight. Thin on purpose: the logic is growthops.report.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from growthops.config import settings

DOC = """
### The {adjective} ops report

Writes `data/reports/{unit}/<period start>.html` (self-contained: charts inline, opens
offline and on a phone) for the latest complete {unit}, and `data/reports/index.html`.
Every figure is read from the published marts. Also: `growthops report --period {unit}
[--date D]`, and the transform DAG's `report` task after every publish.
"""


def report_dag(unit: str, adjective: str, cron: str) -> None:
    @dag(
        dag_id=f"report_{adjective}",
        schedule=CronTriggerTimetable(cron, timezone=settings().reporting_timezone),
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        default_args={"execution_timeout": settings().task_timeout},
        tags=["growthops", "report"],
        doc_md=DOC.format(unit=unit, adjective=adjective),
    )
    def build():
        @task
        def write_report() -> str:
            from airflow.sdk.exceptions import AirflowSkipException

            from growthops.report import NothingToReportError, build_report

            try:
                return str(build_report(settings(), unit))
            except NothingToReportError as exc:  # nothing ingested yet
                raise AirflowSkipException(str(exc)) from exc

        write_report()

    build()


report_dag("day", "daily", "0 7 * * *")  # 07:00 in the reporting time zone, every day
report_dag("week", "weekly", "30 7 * * 1")  # 07:30 on Mondays: the week that ended on Sunday
