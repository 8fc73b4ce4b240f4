"""Test session setup: Airflow gets its own home and configuration before anything
imports it (Airflow reads its configuration once, at first import)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from growthops import airflow_env

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="growthops-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
os.environ.setdefault("GROWTHOPS_DATA_ROOT", str(_AIRFLOW_HOME / "data"))
# the simulator's ground truth counts UTC days; a reporting zone set in the shell must not leak in
os.environ["GROWTHOPS_REPORTING_TZ"] = "UTC"
airflow_env.apply()


# ---------------------------------------------------------------- the shared clean run


@dataclass(frozen=True)
class CleanRun:
    """The demo world (support.DEMO) through every DAG once, nothing going wrong.

    Never change `root`: copy it (support.copy_data_root). `marts` are its published marts,
    what every fault must end with when the good data is the same.
    """

    root: Path
    marts: dict[str, list[tuple]]
    run_ids: dict[str, str]  # dag_id -> the run's id in Airflow's metadata DB


@pytest.fixture(scope="session")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    from support import ALL_DAGS, DEMO, published_marts, settings_for

    from growthops.demo.generate import generate
    from growthops.runner import run_dags

    cfg = settings_for(tmp_path_factory.mktemp("clean_run"))
    generate(DEMO, cfg.landing_dir, cfg.demo_truth_dir)
    results = run_dags(ALL_DAGS, cfg)
    assert {r.dag_id: r.state for r in results} == dict.fromkeys(ALL_DAGS, "success"), [
        (r.dag_id, r.task_states) for r in results
    ]
    return CleanRun(cfg.data_root, published_marts(cfg), {r.dag_id: r.run_id for r in results})
