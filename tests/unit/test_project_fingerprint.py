"""A marts build on a changed dbt project is a full refresh: the models kept by person would
otherwise apply a changed model, macro or var only to the persons whose events changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from growthops import transform
from growthops.config import Settings


def _project_copy(tmp_path: Path) -> Settings:
    home = Settings.from_env().home
    shutil.copytree(home / "dbt_project", tmp_path / "home" / "dbt_project",
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))  # fmt: skip
    return Settings(home=tmp_path / "home", data_root=tmp_path / "data")


def test_a_changed_var_or_model_changes_the_fingerprint(tmp_path: Path) -> None:
    cfg = _project_copy(tmp_path)
    project = cfg.dbt_project_dir / "dbt_project.yml"
    before = transform.project_fingerprint(cfg)
    (cfg.dbt_project_dir / "target").mkdir()
    (cfg.dbt_project_dir / "target" / "manifest.json").write_text("{}")
    assert transform.project_fingerprint(cfg) == before, "build output is not the project"
    project.write_text(
        project.read_text().replace("session_timeout_minutes: 30", "session_timeout_minutes: 45")
    )
    changed_var = transform.project_fingerprint(cfg)
    assert changed_var != before
    model = cfg.dbt_project_dir / "models" / "intermediate" / "int_sessions.sql"
    model.write_text(model.read_text() + "\n-- a comment is a change too\n")
    assert transform.project_fingerprint(cfg) not in (before, changed_var)


def test_the_marts_build_after_a_change_is_a_full_refresh(tmp_path: Path) -> None:
    cfg = _project_copy(tmp_path)
    assert transform._project_changed(cfg), "a warehouse never built: nothing to keep"
    transform._record_build_settings(cfg)
    assert not transform._project_changed(cfg)
    macro = cfg.dbt_project_dir / "macros" / "time.sql"
    macro.write_text(macro.read_text() + "\n")
    assert transform._project_changed(cfg)
