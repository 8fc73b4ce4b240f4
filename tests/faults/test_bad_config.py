"""Bad configuration: each is a clear error naming the setting, and nothing is published.

A funnel naming an event the tracking plan does not have, and a funnel with an invalid
window, are edited into a copy of the project (as an operator would edit
dbt_project.yml); a missing landing folder is a data root without its inbox.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from support import copy_data_root, published_run_id, settings_for

from growthops.config import ConfigError, Settings
from growthops.ingest.loader import ingest
from growthops.runner import run_dags
from growthops.transform import StageFailedError, build_stage

pytestmark = pytest.mark.faults


def _project_copy(home: Path, dest: Path, funnel: dict) -> Path:
    """GROWTHOPS_HOME copy whose dbt_project.yml lists one more funnel."""
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages", "__pycache__", ".user.yml")
    for part in ("dbt_project", "expectations", "dags"):
        shutil.copytree(home / part, dest / part, ignore=ignore)
    project = dest / "dbt_project" / "dbt_project.yml"
    spec = yaml.safe_load(project.read_text(encoding="utf-8"))
    spec["vars"]["funnels"].append(funnel)
    project.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


@pytest.mark.parametrize(
    ("funnel", "named"),
    [
        (
            {
                "name": "upgrade_path",
                "window": {"value": 7, "unit": "day"},
                "steps": [{"event": "Signed Up"}, {"event": "Plan Upgraded"}],
            },
            ["funnel 'upgrade_path'", "step 2", "Plan Upgraded", "not in var('tracking_plan')"],
        ),
        # the same stop, another message: compile-level cases cover the messages
        # (tests/dbt/test_funnels_retention.py), so this one runs in make test-faults only
        pytest.param(
            {
                "name": "fast_signup",
                "window": {"value": 0, "unit": "fortnight"},
                "steps": [{"event": "Application Installed"}, {"event": "Signed Up"}],
            },
            ["funnel 'fast_signup'", "window value 0 must be a positive integer"],
            marks=pytest.mark.faults_full,
        ),
    ],
    ids=["unknown_event", "invalid_window"],
)
def test_a_bad_funnel_definition_stops_the_marts_naming_the_setting(
    clean_run, tmp_path: Path, funnel: dict, named: list[str]
) -> None:
    home = _project_copy(Settings.from_env().home, tmp_path / "home", funnel)
    cfg = settings_for(copy_data_root(clean_run.root, tmp_path / "data"), home=home)
    before = published_run_id(cfg)
    with pytest.raises(StageFailedError) as failure:
        build_stage("marts", cfg)
    message = str(failure.value)
    for words in named:
        assert words in message, message[-1500:]
    assert published_run_id(cfg) == before


def test_a_missing_landing_folder_is_an_error_naming_the_data_root(tmp_path: Path) -> None:
    cfg = settings_for(tmp_path / "typo_data_root")
    (cfg.landing_dir / "channel").mkdir(parents=True)
    with pytest.raises(ConfigError) as failure:
        ingest("app", cfg)
    message = str(failure.value)
    assert str(cfg.landing_dir / "app") in message
    assert "GROWTHOPS_DATA_ROOT" in message and "does not exist" in message
    # through the DAG: the run fails (no retries: a setting does not fix itself)
    [result] = run_dags(["ingest_app"], cfg)
    assert result.state == "failed"
    assert result.task_states == {"ingest_app_files": "failed"}
    assert not (cfg.landing_dir / "app").exists(), "a missing inbox must not be created silently"
