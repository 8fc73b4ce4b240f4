"""Experiments on the demo world against its ground truth (demo_truth/): the simulator
assigns every device by a hash, logs (or, for the broken split, drops) the exposure, and
makes the landing page's second variation lift sign-ups by a known factor.

Counted here straight from the truth files: persons per variation (logged exposures, minus
those the door held as malformed; persons who saw two variations excluded) and their
sign-ups within a day (the sign-up message delivered intact). The statistics are read from
the published mart_experiment_results."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from support import copy_data_root, project_copy, query, settings_for

from growthops import report
from growthops.config import Settings
from growthops.demo.world import build_ad_units
from growthops.transform import build_stage

pytestmark = pytest.mark.slow


def _truth(root: Path) -> tuple[dict, list[dict], dict[str, dict], set[str]]:
    truth_dir = root / "demo_truth"
    summary = json.loads((truth_dir / "truth.json").read_text())
    with (truth_dir / "experiment_exposures.csv").open(encoding="utf-8") as fh:
        exposures = list(csv.DictReader(fh))
    with (truth_dir / "persons.csv").open(encoding="utf-8") as fh:
        persons = {p["person_id"]: p for p in csv.DictReader(fh)}
    return summary, exposures, persons, set(summary["malformed_message_ids"])


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _truth_arms(root: Path, experiment: str) -> dict[str, tuple[int, int]]:
    """variation -> (persons in the analysis, of them signed up within a day of exposure)."""
    _, exposures, persons, malformed = _truth(root)
    seen: dict[str, list[dict]] = defaultdict(list)
    for e in exposures:
        logged = e["logged"] == "True" and e["message_id"] not in malformed
        if e["experiment_id"] == experiment and logged:
            seen[e["person_id"]].append(e)
    arms: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for person_id, rows in seen.items():
        if len({r["variation_id"] for r in rows}) > 1:
            continue  # saw both: excluded
        first = min(rows, key=lambda r: r["exposed_at"])
        person = persons[person_id]
        arm = arms[first["variation_id"]]
        arm[0] += 1
        signed = person["signed_up_at"] and person["signup_message_id"] not in malformed
        exposed = _at(first["exposed_at"])
        if signed and exposed <= _at(person["signed_up_at"]) < exposed + timedelta(days=1):
            arm[1] += 1
    return {v: (n, s) for v, (n, s) in arms.items()}


def _results(root: Path, experiment: str) -> dict[tuple[str, str], dict]:
    db = root / "warehouse" / "marts.duckdb"
    columns = [r[0] for r in query(db, "select column_name from duckdb_columns() "
                                       "where table_name = 'mart_experiment_results' order by column_index")]  # fmt: skip
    rows = query(
        db,
        "select * from mart_experiment_results where experiment_id = ? and is_latest",
        experiment,
    )
    named = [dict(zip(columns, r, strict=True)) for r in rows]
    return {(r["variation_id"], r["metric_name"]): r for r in named}


def test_persons_and_signups_per_variation_match_the_truth(clean_run) -> None:
    expected = _truth_arms(clean_run.root, "landing_page_hero")
    results = _results(clean_run.root, "landing_page_hero")
    actual = {
        variation: (row["persons"], round(row["mean"] * row["persons"]))
        for (variation, metric), row in results.items()
        if metric == "signed_up_1d"
    }
    assert actual == expected


def test_the_real_lift_is_recovered_within_its_interval(clean_run) -> None:
    summary, *_ = _truth(clean_run.root)
    design = summary["experiments"]["landing_page_hero"]
    row = _results(clean_run.root, "landing_page_hero")[("new_hero", design["metric"])]
    assert row["relative_ci_low"] <= design["relative_lift"] <= row["relative_ci_high"], row
    assert row["relative_lift"] > 0 and row["chance_to_win"] > 0.95, row
    assert not row["has_srm"]
    # priced: paid traffic, so each added sign-up has a cost
    assert row["arm_cost"] > 0 and row["incremental_conversions"] > 0
    assert row["cost_per_incremental"] == pytest.approx(
        row["arm_cost"] / row["incremental_conversions"]
    )


def test_the_a_a_test_is_not_significant(clean_run) -> None:
    results = _results(clean_run.root, "home_feed_aa")
    variations = {v for v, _ in results}
    assert variations == {"a", "b"}
    tested = [row for (v, _), row in results.items() if v == "b"]
    assert len(tested) == 3
    for row in tested:
        assert row["is_significant"] is False, row
        assert (
            row["relative_ci_low"] <= 0 <= row["relative_ci_high"]
            or row["p_value_adjusted"] >= 0.05
        )
        assert not row["has_srm"]


def test_the_broken_split_raises_srm(clean_run) -> None:
    results = _results(clean_run.root, "push_prompt")
    assert all(row["has_srm"] for row in results.values())
    assert all(row["srm_p_value"] < 0.001 for row in results.values())
    for other in ("landing_page_hero", "home_feed_aa"):
        assert not any(row["has_srm"] for row in _results(clean_run.root, other).values())


def test_persons_on_two_variations_are_excluded_and_counted(clean_run) -> None:
    _, exposures, _, malformed = _truth(clean_run.root)
    seen: dict[str, set[str]] = defaultdict(set)
    for e in exposures:
        if e["experiment_id"] == "home_feed_aa" and e["message_id"] not in malformed:
            seen[e["person_id"]].add(e["variation_id"])
    both = sum(1 for variations in seen.values() if len(variations) > 1)
    (excluded,) = query(
        clean_run.root / "warehouse" / "marts.duckdb",
        "select sum(persons_multiple_variations) from mart_experiment_exposures "
        "where experiment_id = 'home_feed_aa'",
    )[0]
    assert both > 0 and excluded == both


def test_an_observational_comparison_of_a_campaigns_ad_sets(clean_run, tmp_path: Path) -> None:
    """The demo's Meta lookalike campaign, ad set against ad set (not randomised): persons per
    ad set are the truth's paid installs of each (the install intact), the larger one is the
    control, no SRM, and the sign-up difference the world built in (each unit's hidden
    sign-up rate) lies inside the CI."""
    summary, _, persons, malformed = _truth(clean_run.root)
    config = summary["config"]
    units = [u for u in build_ad_units(int(config["seed"]), float(config["scale"]["traffic"]))
             if u.campaign_name == "Prospecting | Lookalike 1%"]  # fmt: skip
    campaign_id = units[0].campaign_id
    dbt = project_copy(Settings.from_env().home, tmp_path / "home")
    spec = yaml.safe_load((dbt / "dbt_project.yml").read_text(encoding="utf-8"))
    [lookalike] = [e for e in spec["vars"]["experiments"] if e["name"] == "lookalike_ad_sets"]
    lookalike["observational"] = {"campaign_id": campaign_id}  # this world's id of the campaign
    (dbt / "dbt_project.yml").write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    cfg = settings_for(copy_data_root(clean_run.root, tmp_path / "data"), home=tmp_path / "home")
    build_stage("marts", cfg)

    rows = query(
        cfg.pipeline_db,
        "select variation_id, variation_index, is_randomized, persons, relative_ci_low, "
        "relative_ci_high, srm_p_value from marts.mart_experiment_results "
        "where experiment_id = 'lookalike_ad_sets' and metric_name = 'signed_up_1d' and is_latest "
        "order by variation_index",
    )
    expected = defaultdict(int)
    for p in persons.values():
        if p["campaign_id"] == campaign_id and p["install_message_id"] not in malformed:
            expected[p["ad_group_id"]] += 1
    assert {r[0]: r[3] for r in rows} == expected
    (control, *_), (variation, _, randomized, _, low, high, srm) = rows[0], rows[1]
    assert expected[control] >= expected[variation] and not randomized and srm is None
    rate = {u.ad_group_id: u.signup_rate for u in units}
    assert low <= rate[variation] / rate[control] - 1 <= high


def test_the_run_summary_names_the_broken_split_and_the_winner(clean_run) -> None:
    """What `make run` prints: the SRM once, the significant lift, nothing of the A/A test."""
    text = report.summary(settings_for(clean_run.root))
    assert text.count("experiment push_prompt: sample ratio mismatch") == 1, text
    assert "experiment landing_page_hero: new_hero signed_up_1d +" in text, text
    assert "home_feed_aa" not in text, text
