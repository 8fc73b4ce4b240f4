"""Test session setup: Airflow gets its own home and configuration before anything
imports it (Airflow reads its configuration once, at first import)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from growthops import airflow_env

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="growthops-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
os.environ.setdefault("GROWTHOPS_DATA_ROOT", str(_AIRFLOW_HOME / "data"))
airflow_env.apply()
