"""Test session setup: Airflow gets its own home before anything imports it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Airflow reads its configuration at first import: point it at a throwaway home now.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="growthops-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
os.environ.setdefault("GROWTHOPS_DATA_ROOT", str(_AIRFLOW_HOME / "data"))
