"""Experiment statistics against numbers computed elsewhere: GrowthBook's own engine (gbstats
at growthbook/growthbook@8f1db44, run in a separate virtualenv because it pins numpy < 2:
tests/reference/make_gbstats_reference.py -> gbstats_reference.json), the issue's published
case, and hand computations."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from growthops.experiments import (
    RESULTS_COLUMNS,
    Arm,
    analyze,
    compare,
    holm_adjusted,
    srm_p_value,
)

REFERENCE = json.loads(
    (Path(__file__).parents[1] / "reference" / "gbstats_reference.json").read_text()
)


def _arms(inputs: dict) -> tuple[Arm, Arm]:
    def arm(side: dict) -> Arm:
        if inputs["kind"] == "proportion":
            return Arm(side["n"], side["sum"], side["sum"], binomial=True)
        if inputs["kind"] == "cuped":
            return Arm(side["n"], side["post_sum"], side["post_sum_squares"],
                       pre_total=side["pre_sum"], pre_sum_squares=side["pre_sum_squares"],
                       sum_cross=side["cross_sum"])  # fmt: skip
        return Arm(side["n"], side["sum"], side["sum_squares"])

    return arm(inputs["a"]), arm(inputs["b"])


def test_the_issues_published_case() -> None:
    """100/1000 vs 130/1000: relative lift 0.30, 95% CI [-0.019, 0.619], p 0.0656."""
    result = compare(Arm(1000, 100, 100, binomial=True), Arm(1000, 130, 130, binomial=True))
    assert result is not None
    assert round(result.relative_lift, 2) == 0.30
    assert [round(x, 3) for x in result.relative_ci] == [-0.019, 0.619]
    assert round(result.p_value, 4) == 0.0656


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_agrees_with_gbstats(case: str) -> None:
    ref = REFERENCE["cases"][case]
    control, treatment = _arms(ref["inputs"])
    result = compare(control, treatment, cuped=ref["inputs"]["kind"] == "cuped")
    assert result is not None
    rel, ab, bayes = (ref["frequentist_relative"], ref["frequentist_absolute"],
                      ref["bayesian_relative_default_improper_prior"])  # fmt: skip
    close = pytest.approx
    assert result.relative_lift == close(rel["point_estimate"], rel=1e-9)
    assert result.relative_ci == close(tuple(rel["ci"]), rel=1e-9)
    assert result.p_value == close(rel["p_value"], rel=1e-7)
    assert result.absolute_lift == close(ab["point_estimate"], rel=1e-9)
    assert result.absolute_ci == close(tuple(ab["ci"]), rel=1e-9)
    assert result.chance_to_win == close(bayes["chance_to_win"], rel=1e-9)
    # gbstats' risk = [loss if the control is kept, loss if the variation is shipped]
    assert result.expected_loss == close(bayes["risk"][1], rel=1e-6, abs=1e-12)
    assert result.control_mean == close(ref["control_stat"]["mean"], rel=1e-9)
    assert result.treatment_mean == close(ref["treatment_stat"]["mean"], rel=1e-9)
    if "variance_reduction_relative" in ref:
        assert result.theta == close(ref["control_stat"]["theta"], rel=1e-9)
        expected = ref["variance_reduction_relative"]["reduction_fraction"]
        assert result.variance_reduction == close(expected, rel=1e-6)


@pytest.mark.parametrize("case", range(3))
def test_srm_agrees_with_gbstats(case: int) -> None:
    ref = REFERENCE["srm"][case]
    p = srm_p_value(ref["observed"], ref["weights"])
    assert p == pytest.approx(ref["p_value"], rel=1e-9)
    assert (p < 0.001) == ref["flagged_at_0_001"]


def test_srm_by_hand() -> None:
    """60/40 of 1000 against 50/50: chi-square = 2 x 100^2 / 500 = 40, 1 df -> p = 2.5e-10;
    exactly on the weights: p = 1."""
    assert srm_p_value([600, 400], [0.5, 0.5]) == pytest.approx(
        math.erfc(math.sqrt(40 / 2)), rel=1e-9
    )
    assert srm_p_value([300, 100], [3, 1]) == pytest.approx(1.0)


def test_cuped_by_hand() -> None:
    """Two arms whose metric is exactly 2 x covariate + arm effect: theta = 2 (covariance
    over variance of the pooled arms), the adjusted variance is 0 within the arms but the
    arm means differ, so CUPED leaves only the effect; pre-period constant: no CUPED."""
    xs_a, xs_b = [1, 2, 3, 4], [1, 2, 3, 4]
    ys_a, ys_b = [2 * x for x in xs_a], [2 * x + 1 for x in xs_b]

    def arm(xs: list[int], ys: list[int]) -> Arm:
        return Arm(len(xs), sum(ys), sum(y * y for y in ys), pre_total=sum(xs),
                   pre_sum_squares=sum(x * x for x in xs),
                   sum_cross=sum(x * y for x, y in zip(xs, ys, strict=True)))  # fmt: skip

    # identical covariates, so the pooled slope is exactly 2 and the adjusted variances 0:
    # no test is possible (gbstats reports 'zero variance' too)
    assert compare(arm(xs_a, ys_a), arm(xs_b, ys_b), cuped=True) is None
    # noise added: theta by hand = cov(x, y) / var(x) of the 8 pooled points
    ys_b = [3, 4, 8, 9]
    a, b = arm(xs_a, ys_a), arm(xs_b, ys_b)
    xs, ys = xs_a + xs_b, ys_a + ys_b
    mx, my = sum(xs) / 8, sum(ys) / 8
    theta = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    result = compare(a, b, cuped=True)
    assert result is not None and result.theta == pytest.approx(theta)
    assert result.absolute_lift == pytest.approx((6 - theta * 2.5) - (5 - theta * 2.5))
    assert 0 < result.variance_reduction < 1
    flat = Arm(4, 20, 120, pre_total=4, pre_sum_squares=4, sum_cross=20)
    plain = compare(flat, Arm(4, 24, 160, pre_total=4, pre_sum_squares=4, sum_cross=24), True)
    assert plain is not None and plain.theta == 0 and plain.variance_reduction is None


def test_bayesian_chance_to_win_by_hand() -> None:
    """Flat prior: the posterior of the relative lift is N(lift, se^2), so the chance to win is
    Phi(lift / se) and the expected loss of shipping se*phi(z) - lift*Phi(-z)."""
    result = compare(Arm(1000, 100, 100, binomial=True), Arm(1000, 130, 130, binomial=True))
    assert result is not None
    se = math.sqrt(0.13 * 0.87 / (1000 * 0.01) + 0.09 * 0.13**2 / (1000 * 0.1**4))
    z = 0.3 / se
    phi = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    assert result.chance_to_win == pytest.approx(cdf, rel=1e-12)
    assert result.expected_loss == pytest.approx(se * phi - 0.3 * (1 - cdf), rel=1e-9)


def test_no_test_without_variance_or_baseline() -> None:
    assert compare(Arm(100, 0, 0, binomial=True), Arm(100, 5, 5, binomial=True)) is None
    assert compare(Arm(100, 100, 100, binomial=True), Arm(100, 100, 100, binomial=True)) is None


def _statistics_row(variation: str, index: int, n: int, total: float, **extra: float) -> dict:
    return {
        "experiment_id": "lp", "variation_id": variation, "variation_index": index,
        "is_control": index == 0, "weight": 0.5, "is_randomized": True, "metric_name": "signed_up",
        "metric_type": "binomial", "analysis_date": date(2026, 6, 3), "persons": n,
        "metric_sum": total, "metric_sum_squares": total, "pre_period_days": 0, "pre_sum": 0.0,
        "pre_sum_squares": 0.0, "sum_cross": 0.0, "paid_persons": n, "arm_cost": 2.0 * n,
        **extra,
    }  # fmt: skip


def test_results_rows_and_price() -> None:
    """The mart's rows: the control carries its mean, the variation its lift; the price: each
    arm's cost per sign-up and what the added sign-ups cost / are worth, by hand."""
    stats = pd.DataFrame(
        [_statistics_row("control", 0, 1000, 100), _statistics_row("new", 1, 1000, 130),
         {**_statistics_row("control", 0, 500, 50), "analysis_date": date(2026, 6, 2)},
         {**_statistics_row("new", 1, 500, 60), "analysis_date": date(2026, 6, 2)}]
    )  # fmt: skip
    results = analyze(stats)
    assert list(results.columns) == [name for name, _, _ in RESULTS_COLUMNS]
    latest = results[results["is_latest"]].set_index("variation_id")
    assert len(results) == 4 and len(latest) == 2
    control, new = latest.loc["control"], latest.loc["new"]
    assert control["mean"] == 0.1 and pd.isna(control["relative_lift"])
    assert round(new["relative_lift"], 2) == 0.30 and round(new["p_value"], 4) == 0.0656
    assert not new["has_srm"] and new["srm_p_value"] == pytest.approx(1.0)
    # 2.00 per person: control 2000 / 100 sign-ups = 20.00, variation 2000 / 130 = 15.38;
    # it added 0.03 x 1000 = 30 sign-ups: 2000 / 30 = 66.67 each, worth 30 x 20.00 = 600
    assert control["cost_per_conversion"] == pytest.approx(20.0)
    assert new["cost_per_conversion"] == pytest.approx(2000 / 130)
    assert new["incremental_conversions"] == pytest.approx(30.0)
    assert new["cost_per_incremental"] == pytest.approx(2000 / 30)
    assert new["incremental_value"] == pytest.approx(600.0)


def test_holm_by_hand() -> None:
    """p = (0.01, 0.04, 0.03) -> sorted 0.01 x 3, 0.03 x 2, 0.04 x 1, then monotone:
    0.03, 0.06, 0.06 (0.04 lifted to the 0.06 before it)."""
    assert holm_adjusted([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjusted([0.5, 0.9]) == pytest.approx([1.0, 1.0])
