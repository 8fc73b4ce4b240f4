"""Each list has one home (dbt_project.yml vars), and every other place agrees with it."""

from __future__ import annotations

from pathlib import Path

import yaml
from support import platform_disagreements

from growthops import project
from growthops.demo.world import PLATFORM_UTM
from growthops.ingest.adapters import ADAPTERS

DBT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_the_platforms_list_is_the_one_every_part_reads() -> None:
    assert project.platforms(DBT) == {"google_ads", "meta_ads", "baidu_sem", "ocean_engine"}
    assert platform_disagreements(DBT, set(ADAPTERS["channel"]), set(PLATFORM_UTM)) == []


def test_every_marts_folder_is_published_under_an_asset() -> None:
    from growthops.assets import MART_AREAS

    areas = {p.name for p in (DBT / "models" / "marts").iterdir() if p.is_dir()}
    assert areas == set(MART_AREAS)


def test_a_runs_outcome_names_the_first_failure_or_the_step_that_did_not_finish() -> None:
    from growthops.transform import RUN_STEPS, run_outcome

    done = {step: {"ok": True} for step in RUN_STEPS}
    assert run_outcome(done, dict.fromkeys(RUN_STEPS)) == (True, None)
    gate_failed = {**done, "gate_marts": None, "publish": None}
    failures = {**dict.fromkeys(RUN_STEPS), "gate_marts": "gate marts failed: x"}
    assert run_outcome(gate_failed, failures) == (False, "gate_marts: gate marts failed: x")
    killed = {**done, "dbt_build_marts": None, "gate_marts": None, "publish": None}
    assert run_outcome(killed, dict.fromkeys(RUN_STEPS)) == (
        False,
        "dbt_build_marts did not complete (see its log)",
    )


def test_each_model_folder_documents_its_models_in_one_yaml_named_after_it() -> None:
    """dbt Labs' layout: `_<folder>__models.yml` beside the models (sources in
    `_<folder>__sources.yml`), so a model's docs and tests are found from its path alone."""
    for folder in {p.parent for p in (DBT / "models").rglob("*.sql")}:
        yamls = sorted(p.name for p in folder.glob("*.yml"))
        expected = f"_{folder.name}__models.yml"
        assert expected in yamls, folder
        assert set(yamls) <= {expected, f"_{folder.name}__sources.yml"}, folder
        documented = {m["name"] for m in yaml.safe_load((folder / expected).read_text())["models"]}
        assert documented == {p.stem for p in folder.glob("*.sql")}, folder


def test_every_model_ends_by_selecting_its_last_cte() -> None:
    """dbt Labs' style: a staging model ends `select * from renamed`, every other model (and a
    macro that is a whole model) ends `select * from final`, so the output of any model is
    found in the same place: its last CTE."""
    import re

    def ending(sql: str) -> str:
        lines = [ln for ln in sql.strip().splitlines() if not re.match(r"\{%-?\s*end", ln)]
        return lines[-1].strip()

    for path in (DBT / "models").rglob("*.sql"):
        sql = path.read_text()
        if re.fullmatch(r"(--[^\n]*\n)*\{\{ \w+\([^)]*\) \}\}\s*", sql):
            continue  # a model that is one macro call: the macro is checked below
        expected = "renamed" if path.parent.name == "staging" else "final"
        assert ending(sql) == f"select * from {expected}", path.name
    rollup = (DBT / "macros" / "content_rollup.sql").read_text()
    assert ending(rollup) == "select * from final"


def test_the_report_periods_are_the_marts_periods() -> None:
    import re

    from growthops.report import PERIOD_UNITS

    macro = (DBT / "macros" / "reporting_period_units.sql").read_text()
    assert tuple(re.findall(r"\('(\w+)'\)", macro)) == PERIOD_UNITS
