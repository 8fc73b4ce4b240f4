"""Funnel and retention marts (generated from dbt_project.yml vars) on the demo world.

The marts come from a copy of the shared clean run (the demo world through every DAG;
dbt gets its own target and log paths there). The tests check the marts' invariants, recompute
both marts in plain Python from int_person_events (an independent implementation of the
semantics documented in _product__models.yml), run the dbt unit tests (the
hand-computed cases) and check that a bad definition fails naming it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from support import copy_data_root

from growthops.tracking_plan import TRACK_EVENTS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")
WINDOW_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def _project_vars() -> dict[str, Any]:
    return yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


@pytest.fixture(scope="module")
def dbt_env(clean_run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """dbt's environment on a copy of the shared clean run (its own target and log paths)."""
    root = copy_data_root(clean_run.root, tmp_path_factory.mktemp("funnels_retention") / "data")
    env = {
        **os.environ,
        "GROWTHOPS_DATA_ROOT": str(root),
        "GROWTHOPS_REPORTING_TZ": "UTC",
        "DBT_TARGET_PATH": str(root / "dbt_target"),
        "DBT_LOG_PATH": str(root / "dbt_logs"),
    }
    env.pop("GROWTHOPS_PIPELINE_DB", None)
    return env


def _dbt(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(DBT), *args, "--profiles-dir", "."],
        cwd=DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _q(env: dict[str, str], sql: str) -> list[tuple]:
    db = Path(env["GROWTHOPS_DATA_ROOT"]) / "warehouse" / "pipeline.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _events(env: dict[str, str]) -> dict[str, list[tuple[datetime, str, str, dict]]]:
    """Each person's non-identify events in event order: (event_at, message_id, name, props)."""
    rows = _q(
        env,
        "select person_key, event_at, message_id, event_name, properties "
        "from intermediate.int_person_events "
        "where message_type <> 'identify' and person_key is not null",
    )
    by_person: dict[str, list[tuple[datetime, str, str, dict]]] = defaultdict(list)
    for person, at, message_id, name, props in rows:
        by_person[person].append((at, message_id, name, json.loads(props) if props else {}))
    for events in by_person.values():
        events.sort(key=lambda e: (e[0], e[1]))
    return by_person


def test_the_tracking_plan_lists_every_event_the_app_sends() -> None:
    from growthops import tracking_plan

    sent = {v for k, v in vars(tracking_plan).items() if k.isupper() and isinstance(v, str)}
    assert sent == set(_project_vars()["tracking_plan"]) == TRACK_EVENTS
    assert {f["steps"][0]["event"] for f in _project_vars()["funnels"]} <= TRACK_EVENTS


# ---- invariants ---------------------------------------------------------------------------


def test_funnel_steps_never_increase(dbt_env: dict[str, str]) -> None:
    bad = _q(
        dbt_env,
        """
        select * from (
            select *, lag(persons) over (
                partition by funnel_name, cohort_date, acquisition_channel,
                    acquisition_platform, acquisition_campaign_id, breakdown_value
                order by step_number) as previous_persons
            from marts.mart_funnel_conversion
        ) where persons > previous_persons
        """,
    )
    assert bad == []
    funnels = {
        name
        for (name,) in _q(dbt_env, "select distinct funnel_name from marts.mart_funnel_conversion")
    }
    assert funnels == {f["name"] for f in _project_vars()["funnels"]}


def test_rates_within_0_and_1(dbt_env: dict[str, str]) -> None:
    out_of_range = _q(
        dbt_env,
        """
        select 'funnel', count(*) from marts.mart_funnel_conversion
        where conversion_from_start not between 0 and 1 or conversion_from_previous not between 0 and 1
        union all
        select 'retention', count(*) from marts.mart_retention
        where retention_rate not between 0 and 1 or retention_rate is null
        """,
    )
    assert dict(out_of_range) == {"funnel": 0, "retention": 0}


def test_retention_period_zero_is_the_cohort_size(dbt_env: dict[str, str]) -> None:
    rows = _q(
        dbt_env,
        """
        select count(*), count(*) filter (where retained_persons <> cohort_size),
            count(distinct definition_name)
        from marts.mart_retention where period_number = 0
        """,
    )
    n, bad, definitions = rows[0]
    assert n > 0 and bad == 0
    assert definitions == len(_project_vars()["retention"])


# ---- an independent recomputation in Python -----------------------------------------------


def _matches(step: dict, event: tuple[datetime, str, str, dict]) -> bool:
    if event[2] != step["event"]:
        return False
    for key, value in (step.get("where") or {}).items():
        actual = event[3].get(key)
        if isinstance(actual, bool):
            actual = "true" if actual else "false"
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if actual is None or str(actual) != expected:
            return False
    return True


def _attempt(funnel: dict, events: list, start: int) -> list[datetime]:
    """Times at which the attempt starting at events[start] reached steps 1, 2, ..."""
    steps, order = funnel["steps"], funnel.get("order", "ordered")
    window = timedelta(seconds=funnel["window"]["value"] * WINDOW_UNITS[funnel["window"]["unit"]])
    end = events[start][0] + window
    if order == "unordered":
        done = []
        for step in steps:
            hit = next((e[0] for e in events[start:] if _matches(step, e)), None)
            if hit is not None and hit <= end:
                done.append(hit)
        return sorted(done)
    reached, position = [events[start][0]], start
    for step in steps[1:]:
        if order == "strict":
            candidates = [position + 1] if position + 1 < len(events) else []
        else:
            candidates = range(position + 1, len(events))
        nxt = next((j for j in candidates if _matches(step, events[j])), None)
        if nxt is None or events[nxt][0] > end:
            break
        reached.append(events[nxt][0])
        position = nxt
    return reached


def test_funnels_match_a_python_recomputation(dbt_env: dict[str, str]) -> None:
    events_by_person = _events(dbt_env)
    expected: dict[tuple, int] = defaultdict(int)
    for funnel in _project_vars()["funnels"]:
        steps = funnel["steps"]
        unordered = funnel.get("order", "ordered") == "unordered"
        for events in events_by_person.values():
            best: list[datetime] = []
            for i, event in enumerate(events):
                starts = (
                    any(_matches(s, event) for s in steps)
                    if unordered
                    else _matches(steps[0], event)
                )
                if starts:
                    reached = _attempt(funnel, events, i)
                    if len(reached) > len(best):
                        best = reached
            for k in range(1, len(best) + 1):
                expected[(funnel["name"], best[0].date(), k)] += 1
    actual = _q(
        dbt_env,
        """
        select funnel_name, cohort_date, step_number, sum(persons)
        from marts.mart_funnel_conversion group by all having sum(persons) > 0
        """,
    )
    assert {(f, d, k): n for f, d, k, n in actual} == dict(expected)
    assert len({key[0] for key in expected}) == len(_project_vars()["funnels"])


def _period(unit: str, day: date) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _periods_between(unit: str, first: date, later: date) -> int:
    if unit == "day":
        return (later - first).days
    if unit == "week":
        return (later - first).days // 7
    return (later.year - first.year) * 12 + later.month - first.month


def test_retention_matches_a_python_recomputation(dbt_env: dict[str, str]) -> None:
    events_by_person = _events(dbt_env)
    expected: dict[tuple, int] = defaultdict(int)
    for d in _project_vars()["retention"]:
        unit, n = d["period"], d["periods"]
        for events in events_by_person.values():
            cohort_periods = sorted(
                {_period(unit, e[0].date()) for e in events if e[2] == d["cohort_event"]}
            )
            if d.get("type", "first_time") == "first_time":
                cohort_periods = cohort_periods[:1]
            returns = {
                _period(unit, e[0].date())
                for e in events
                if d["return_event"] == "any" or e[2] == d["return_event"]
            }
            for cohort in cohort_periods:
                offsets = {_periods_between(unit, cohort, r) for r in returns if r > cohort}
                expected[(d["name"], cohort, 0)] += 1
                for k in range(1, n + 1):
                    rolling = d.get("rolling", False)
                    if (rolling and offsets and max(offsets) >= k) or (
                        not rolling and k in offsets
                    ):
                        expected[(d["name"], cohort, k)] += 1
    actual = _q(
        dbt_env,
        """
        select definition_name, cohort_period, period_number, sum(retained_persons)
        from marts.mart_retention group by all having sum(retained_persons) > 0
        """,
    )
    assert {(name, c, k): v for name, c, k, v in actual} == dict(expected)


# ---- unit tests and validation --------------------------------------------------------------


def test_dbt_unit_tests_pass(dbt_env: dict[str, str]) -> None:
    """Every unit test of every model (metric logic, FX, grain roll-up, attribution...)."""
    defined = sum(
        len(yaml.safe_load(path.read_text(encoding="utf-8")).get("unit_tests") or [])
        for path in (DBT_DIR / "models").rglob("*.yml")
    )
    result = _dbt(dbt_env, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout[-4000:]
    # each unit test's own line ("<i> of <n> PASS <model>::<test>"): the run-start hook is a
    # node of dbt's PASS total too
    passed = re.findall(rf"\b\d+ of {defined} PASS \S+::", result.stdout)
    assert defined >= 18 and len(passed) == defined, result.stdout[-2000:]


def test_a_bad_funnel_definition_fails_naming_it(dbt_env: dict[str, str]) -> None:
    bad = {
        "funnels": [
            {
                "name": "broken_funnel",
                "order": "sideways",
                "window": {"value": 1, "unit": "day"},
                "steps": [{"event": "Signed Up"}, {"event": "Order Completed"}],
            }
        ]
    }
    result = _dbt(
        dbt_env, "compile", "--select", "mart_funnel_conversion", "--vars", json.dumps(bad)
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "funnel 'broken_funnel'" in output and "sideways" in output, output[-2000:]


_EXPERIMENT = {"name": "hero", "variations": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}],
               "metrics": ["signed"]}  # fmt: skip
_METRIC = {"name": "signed", "type": "binomial", "event": "Signed Up",
           "window": {"value": 1, "unit": "day"}}  # fmt: skip


@pytest.mark.parametrize(
    ("experiment", "metric", "named"),
    [
        ({**_EXPERIMENT, "metrics": ["signed", "revenue_90d"]}, _METRIC,
         ["experiment 'hero'", "metric \"revenue_90d\" is not in var('experiment_metrics')"]),
        ({**_EXPERIMENT, "variations": [{"id": "a", "weight": 1}, {"id": "a", "weight": 0}]},
         _METRIC, ["experiment 'hero' variation 2", "weight"]),
        (_EXPERIMENT, {**_METRIC, "event": "Plan Upgraded"},
         ["experiment metric 'signed'", "Plan Upgraded", "not in var('tracking_plan')"]),
        (_EXPERIMENT, {"name": "signed", "type": "funnel", "funnel": "nope"},
         ["experiment metric 'signed'", "funnel \"nope\" is not in var('funnels')"]),
    ],
    ids=["unknown_metric", "bad_weight", "unknown_event", "unknown_funnel"],
)  # fmt: skip
def test_a_bad_experiment_definition_fails_naming_it(
    dbt_env: dict[str, str], experiment: dict, metric: dict, named: list[str]
) -> None:
    bad = {"experiments": [experiment], "experiment_metrics": [metric]}
    result = _dbt(
        dbt_env, "compile", "--select", "int_experiment_exposures", "--vars", json.dumps(bad)
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for words in named:
        assert words in output, output[-2000:]


@pytest.mark.parametrize(
    ("model", "bad", "named"),
    [
        ("mart_paths", {"paths": [{"name": "after_x", "event": "Signed Up", "direction": "sideways"}]},
         ["path definition 'after_x'", "sideways", "after or before"]),
        ("mart_ad_unit_performance", {"junk_activation_floor": 1.5},
         ["junk_activation_floor", "strictly between 0 and 1", "1.5"]),
    ],
    ids=["path_direction", "junk_floor"],
)  # fmt: skip
def test_a_bad_analysis_setting_fails_naming_it(
    dbt_env: dict[str, str], model: str, bad: dict, named: list[str]
) -> None:
    result = _dbt(dbt_env, "compile", "--select", model, "--vars", json.dumps(bad))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    for words in named:
        assert words in output, output[-2000:]
