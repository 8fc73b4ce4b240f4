"""Run growthops DAGs in-process with `dag.test()`: the same DAG code as under the
scheduler, with no Airflow services (what `make run` and the DAG tests use)."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from growthops import airflow_env
from growthops.config import Settings, settings


@dataclass(frozen=True)
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    seconds: float
    task_states: dict[str, str]
    returns: dict[str, Any]
    task_seconds: dict[str, float]


def run_dags(
    dag_ids: list[str],
    cfg: Settings | None = None,
    conf: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    transcript: Path | None = None,
) -> list[DagRunResult]:
    """Run each DAG once, in order, with dag.test(); returns their states and XCom returns.

    Tasks read their settings from the environment, as under the scheduler: for the
    duration of the call the environment holds `cfg`'s settings. `conf` is each run's
    configuration (its params, e.g. {"full_refresh": True} for the transform). `progress`
    hears one line as each DAG starts and one as it ends. `transcript`: the file this
    process's output goes to, from which each task's log is written for the Airflow UI.
    """
    cfg = cfg or settings()
    with _environment(cfg.environment()):
        return _run_dags(dag_ids, cfg, conf, progress or (lambda _: None), transcript)


@contextmanager
def _task_logs_for_the_ui(transcript: Path | None) -> Iterator[None]:
    """dag.test() runs each task in this process and writes no task log file, so the
    Airflow UI (`make up` on the same data root) showed the runs of `make run` with empty
    logs. When this process's output goes to a file (`transcript`: growthops run's log),
    each task's share of it is also written where the UI reads task logs:
    <AIRFLOW_HOME>/logs/<log_filename_template>."""
    if transcript is None:
        yield
        return
    import airflow.sdk.definitions.dag as dag_module
    from airflow.configuration import conf

    run_task = dag_module._run_task
    folder = Path(conf.get("logging", "base_log_folder"))

    def logged(*, ti: Any, task: Any, **kwargs: Any) -> Any:
        sys.stdout.flush()
        sys.stderr.flush()
        start = transcript.stat().st_size
        try:
            return run_task(ti=ti, task=task, **kwargs)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            mapped = f"map_index={ti.map_index}/" if ti.map_index >= 0 else ""
            path = (folder / f"dag_id={ti.dag_id}" / f"run_id={ti.run_id}"
                    / f"task_id={ti.task_id}" / f"{mapped}attempt={ti.try_number}.log")  # fmt: skip
            path.parent.mkdir(parents=True, exist_ok=True)
            with transcript.open("rb") as source:
                source.seek(start)
                path.write_bytes(source.read())

    dag_module._run_task = logged
    try:
        yield
    finally:
        dag_module._run_task = run_task


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run_dags(
    dag_ids: list[str],
    cfg: Settings,
    conf: dict[str, Any] | None,
    progress: Callable[[str], None],
    transcript: Path | None,
) -> list[DagRunResult]:
    airflow_env.apply(cfg)
    airflow_env.prepare_metadata_db()
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(cfg.home / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"DAG files failed to import: {bag.import_errors}")
    results = []
    with _task_logs_for_the_ui(transcript):
        for dag_id in dag_ids:
            results.append(_run_dag(bag, dag_id, cfg, conf, progress))
    logging.getLogger(__name__).info("ran %s", [(r.dag_id, r.state) for r in results])
    return results


def _run_dag(
    bag: Any,
    dag_id: str,
    cfg: Settings,
    conf: dict[str, Any] | None,
    progress: Callable[[str], None],
) -> DagRunResult:
    dag = bag.get_dag(dag_id)
    if dag is None:
        raise KeyError(f"no DAG {dag_id!r} in {cfg.home / 'dags'}; have {sorted(bag.dag_ids)}")
    started = time.perf_counter()
    progress(f"  {dag_id:<16} running ...")
    run = dag.test(run_conf=conf)
    result = _result(dag_id, run, time.perf_counter() - started)
    skipped = sorted(t for t, s in result.task_states.items() if s == "skipped")
    note = f"  (skipped: {', '.join(skipped)})" if skipped else ""
    progress(f"  {dag_id:<16} {result.state:<8} {result.seconds:5.1f}s{note}")
    return result


def _result(dag_id: str, run: Any, seconds: float) -> DagRunResult:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = run.get_task_instances(session=session)
        states = {ti.task_id: str(ti.state) for ti in tis}
        durations = {ti.task_id: float(ti.duration or 0.0) for ti in tis}
        returns = {}
        for ti in tis:
            row = (
                session.query(XComModel)
                .filter_by(dag_id=dag_id, run_id=run.run_id, task_id=ti.task_id, key="return_value")
                .one_or_none()
            )
            if row is not None:
                returns[ti.task_id] = row.value
    return DagRunResult(dag_id, run.run_id, str(run.state), seconds, states, returns, durations)
