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
from support import query

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
    return {(r[1], r[4]): dict(zip(columns, r, strict=True)) for r in rows}


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
