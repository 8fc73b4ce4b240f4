"""The lists dbt_project.yml holds for dbt and Python alike (its `vars`): one home per list,
read from the project under GROWTHOPS_HOME (Settings.dbt_project_dir) by the ingest gate, as
dbt reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def project_vars(dbt_project_dir: Path) -> dict[str, Any]:
    path = dbt_project_dir / "dbt_project.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["vars"]


def platforms(dbt_project_dir: Path) -> frozenset[str]:
    """The ad platforms (vars.platforms): each has an adapter and utm pairs in the seed."""
    return frozenset(project_vars(dbt_project_dir)["platforms"])


def track_events(dbt_project_dir: Path) -> frozenset[str]:
    """The app's track events (vars.tracking_plan): the gate's list and dbt's."""
    return frozenset(project_vars(dbt_project_dir)["tracking_plan"])


def experiments(dbt_project_dir: Path) -> list[dict[str, Any]]:
    """The experiment definitions (vars.experiments), as written: dbt validates them."""
    return list(project_vars(dbt_project_dir).get("experiments") or [])
