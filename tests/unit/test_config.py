"""Settings: documented defaults, environment overrides, and errors that name the variable."""

from __future__ import annotations

from dataclasses import field, make_dataclass
from pathlib import Path

import pytest

from growthops import warehouse
from growthops.config import SETTINGS, ConfigError, Setting, Settings
from growthops.dbt import run_dbt


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)
    return monkeypatch


def test_defaults_put_all_data_under_one_root(clean_env: pytest.MonkeyPatch) -> None:
    s = Settings.from_env()
    assert (s.home / "dbt_project").is_dir()
    assert s.data_root == s.home / "data"
    assert s.landing_dir == s.data_root / "landing"
    assert s.quarantine_dir == s.data_root / "quarantine"
    assert s.warehouse_dir == s.data_root / "warehouse"
    assert s.serving_db.parent == s.pipeline_db.parent == s.warehouse_dir
    assert (s.reporting_timezone, s.reporting_currency) == ("UTC", "USD")
    assert s.max_bad_row_share == 0.25
    assert s.duckdb_memory_limit == "50%"


def test_environment_overrides(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("GROWTHOPS_DATA_ROOT", str(tmp_path))
    clean_env.setenv("GROWTHOPS_REPORTING_TZ", "Asia/Shanghai")
    clean_env.setenv("GROWTHOPS_REPORTING_CURRENCY", "cny")
    clean_env.setenv("GROWTHOPS_MAX_BAD_ROW_SHARE", "0.2")
    clean_env.setenv("GROWTHOPS_DUCKDB_MEMORY_LIMIT", "8GB")
    s = Settings.from_env()
    assert s.landing_dir == tmp_path / "landing"
    assert s.reporting_timezone == "Asia/Shanghai"
    assert s.reporting_currency == "CNY"
    assert s.max_bad_row_share == 0.2
    assert s.duckdb_memory_limit == "8GB"


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("GROWTHOPS_REPORTING_TZ", "Mars/Olympus"),
        ("GROWTHOPS_REPORTING_CURRENCY", "dollars"),
        ("GROWTHOPS_MAX_BAD_ROW_SHARE", "half"),
        ("GROWTHOPS_MAX_BAD_ROW_SHARE", "1.5"),
        ("GROWTHOPS_LOCK_RETRY_SECONDS", "-1"),
        ("GROWTHOPS_DUCKDB_MEMORY_LIMIT", "lots"),
        ("GROWTHOPS_DUCKDB_MEMORY_LIMIT", "150%"),
        ("GROWTHOPS_INGEST_SAFETY_NET_CRON", "every 30 minutes"),
    ],
)
def test_bad_values_name_the_variable(clean_env: pytest.MonkeyPatch, env: str, value: str) -> None:
    clean_env.setenv(env, value)
    with pytest.raises(ConfigError, match=env):
        Settings.from_env()


def _readme_disagreements(readme: str, settings: tuple[Setting, ...]) -> list[str]:
    """Where README's settings table (one row per setting, in order, default as written)
    and SETTINGS differ; empty when they agree."""
    rows = [
        line.split("|")[1:3] for line in readme.splitlines() if line.startswith("| `GROWTHOPS_")
    ]
    table = {name.strip().strip("`"): default.strip().strip("`") for name, default in rows}
    problems = (
        [] if list(table) == [s.env for s in settings] else ["rows differ or are out of order"]
    )
    problems += [
        f"{s.env}: README says {table.get(s.env)!r}, the default is {s.default or 'unset'!r}"
        for s in settings
        if table.get(s.env) != (s.default or "unset")
    ]
    return problems


def test_every_setting_is_documented_with_its_default(clean_env: pytest.MonkeyPatch) -> None:
    described = Settings.from_env().describe()
    assert [d[0] for d in described] == [s.env for s in SETTINGS]
    readme = (Settings.from_env().home / "README.md").read_text()
    assert _readme_disagreements(readme, SETTINGS) == []


def test_a_setting_added_by_the_checklist_is_parsed_shown_and_handed_to_tasks(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """README's "A setting", followed on a throwaway: the SETTINGS row, the field, the
    README row; each missing step is caught."""
    from growthops import config

    row = Setting("GROWTHOPS_THROWAWAY_SHARE", "throwaway_share", "0.1",
                  config._float_between(0, 1), "A throwaway share.")  # fmt: skip
    clean_env.setattr(config, "SETTINGS", (*SETTINGS, row))
    # the row without its field: Settings refuses to be built
    with pytest.raises(TypeError, match="throwaway_share"):
        Settings.from_env()
    # with the field, the value is parsed from the environment, shown, and handed to tasks
    with_field = make_dataclass(
        "WithField", [("throwaway_share", float, field(default=0.1))], bases=(Settings,),
        frozen=True,
    )  # fmt: skip
    clean_env.setenv("GROWTHOPS_THROWAWAY_SHARE", "0.3")
    s = with_field.from_env()
    assert s.throwaway_share == 0.3
    assert s.describe()[-1] == ("GROWTHOPS_THROWAWAY_SHARE", "0.3", "A throwaway share.")
    assert s.environment()["GROWTHOPS_THROWAWAY_SHARE"] == "0.3"
    clean_env.setenv("GROWTHOPS_THROWAWAY_SHARE", "2")
    with pytest.raises(ConfigError, match="GROWTHOPS_THROWAWAY_SHARE"):
        with_field.from_env()
    # README's table must gain its row, default as written
    readme = (s.home / "README.md").read_text()
    assert _readme_disagreements(readme, config.SETTINGS)[0] == "rows differ or are out of order"
    documented = readme + "| `GROWTHOPS_THROWAWAY_SHARE` | `0.1` | A throwaway share. |\n"
    assert _readme_disagreements(documented, config.SETTINGS) == []


def test_the_defaults_of_settings_are_the_tables() -> None:
    fields = Settings(home=Path("/h"), data_root=Path("/d"))
    for setting in SETTINGS[2:]:
        default = setting.parse(setting.env, setting.default)
        assert getattr(fields, setting.attr) == default, setting.env


def test_the_memory_limit_reaches_duckdb_and_dbt(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("GROWTHOPS_DATA_ROOT", str(tmp_path))
    clean_env.setenv("GROWTHOPS_DUCKDB_MEMORY_LIMIT", "1GB")
    cfg = Settings.from_env()
    with warehouse.pipeline_writer(cfg) as con:  # how every pipeline task opens the file
        shown = con.execute("select current_setting('memory_limit')").fetchone()
    assert shown == ("953.6 MiB",)  # DuckDB shows 1 GB (10^9 bytes) in binary units
    con = warehouse.open_pipeline(cfg, read_only=True)
    try:
        assert con.execute("select current_setting('memory_limit')").fetchone() == shown
    finally:
        con.close()
    result = run_dbt(
        ["show", "--inline", "select current_setting('memory_limit') as memory_limit"], cfg
    )
    assert result.success, result.output
    assert "953.6 MiB" in result.output
