"""Experiment statistics: mart_experiment_statistics (sufficient statistics, SQL) ->
mart_experiment_results (this module, scipy).

The formulas are GrowthBook's stats engine (gbstats, main branch of 2026-08; its own
numbers are the independent check in tests/unit/test_experiments.py):
- per arm: a binomial metric's variance is p(1 - p); a count / revenue metric's the sample
  variance (n - 1);
- frequentist: Welch's t test (Welch-Satterthwaite degrees of freedom), absolute lift
  mean_b - mean_a and relative lift (mean_b - mean_a) / |mean_a| with the delta-method
  variance, 95% CI and two-sided p;
- Bayesian: a flat prior on the lift (GrowthBook's default), so the posterior is
  N(lift, se^2): chance to win P(lift > 0), expected loss of shipping the variation
  E[max(-lift, 0)];
- CUPED: theta = the slope of the metric on its pre-period covariate over both arms pooled;
  adjusted mean = mean - theta * pre mean, adjusted variance = var + theta^2 var_pre -
  2 theta cov; the relative lift keeps the unadjusted control mean as denominator;
- sample ratio mismatch: chi-square of the persons per variation against the configured
  weights; flagged below p 0.001 once each variation has 8 persons;
- several metrics and variations: significance reads Holm-Bonferroni adjusted p-values over
  the experiment's comparisons of a day (one of GrowthBook's corrections; its default is
  none). An A/A test with 3 metrics has a 14% chance of a false "winner" without it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from growthops import warehouse
from growthops.config import Settings, settings

log = logging.getLogger(__name__)

ALPHA = 0.05
SRM_P_THRESHOLD = 0.001
SRM_MIN_PERSONS = 8
BINOMIAL_TYPES = frozenset({"binomial", "retention", "funnel"})

RESULTS_TABLE = "mart_experiment_results"
RESULTS_AREA = "experiments"  # its folder's asset: marts_experiments
RESULTS_DESCRIPTION = (
    "One row per experiment × variation × metric × analysis date: the variation against the "
    "control (the experiment's first variation) with the persons exposed by the end of that "
    "day. Computed by growthops.experiments from mart_experiment_statistics with GrowthBook's "
    "formulas: Welch t test on absolute and relative lift (delta method), 95% CI, two-sided p; "
    "Bayesian chance to win and expected loss under a flat prior; CUPED when the experiment "
    "configures a pre-period; sample ratio mismatch against the configured weights; and the "
    "price of the result for experiments on paid traffic. The control's rows carry its mean "
    "and persons, with no lift. Observational comparisons (is_randomized false: a campaign's "
    "ad groups against its largest one) get the same statistics and no SRM."
)
# (column, DuckDB type, description): the mart's contract, created before it is filled.
RESULTS_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("experiment_id", "varchar not null", "The experiment."),
    ("variation_id", "varchar not null", "The variation."),
    ("variation_index", "integer not null", "Position in the experiment's variations (0 = control)."),
    ("is_control", "boolean not null", "The control, which the others are compared with."),
    ("is_randomized", "boolean not null", "A randomised experiment; false: an observational "
     "comparison of a campaign's ad groups (the ad is mixed with its audience)."),
    ("metric_name", "varchar not null", "The metric (vars.experiment_metrics)."),
    ("metric_type", "varchar not null", "binomial | count | revenue | retention | funnel."),
    ("analysis_date", "date not null", "The day the result is as of (reporting zone)."),
    ("is_latest", "boolean not null", "The experiment's latest analysis date."),
    ("persons", "bigint not null", "Persons in the analysis (n)."),
    ("weight", "double", "The variation's configured share of traffic."),
    ("mean", "double", "The metric per person (unadjusted)."),
    ("adjusted_mean", "double", "The metric per person after CUPED (= mean without it)."),
    ("srm_p_value", "double", "Chi-square p of persons per variation against the weights "
     "(none when observational: no weights)."),
    ("has_srm", "boolean", "Sample ratio mismatch: srm_p_value < 0.001 (each arm >= 8 persons)."),
    ("absolute_lift", "double", "mean(variation) - mean(control) (CUPED-adjusted when applied)."),
    ("absolute_ci_low", "double", "95% CI of the absolute lift, low end."),
    ("absolute_ci_high", "double", "95% CI of the absolute lift, high end."),
    ("relative_lift", "double", "absolute_lift / |control mean| (unadjusted control mean)."),
    ("relative_ci_low", "double", "95% CI of the relative lift (delta method), low end."),
    ("relative_ci_high", "double", "95% CI of the relative lift, high end."),
    ("p_value", "double", "Two-sided p of the relative lift (Welch t)."),
    ("p_value_adjusted", "double", "p_value, Holm-Bonferroni adjusted over the experiment's "
     "metrics x variations of that day."),
    ("is_significant", "boolean", "p_value_adjusted < 0.05."),
    ("chance_to_win", "double", "Bayesian P(relative lift > 0), flat prior."),
    ("expected_loss", "double", "Bayesian E[max(-relative lift, 0)]: the risk of shipping it."),
    ("cuped_applied", "boolean", "CUPED adjusted this comparison (pre-period with variance)."),
    ("cuped_theta", "double", "CUPED's theta (pooled slope on the pre-period covariate)."),
    ("variance_reduction", "double", "1 - variance with CUPED / without: what CUPED saved."),
    ("paid_persons", "bigint", "Persons of the variation acquired by paid campaigns."),
    ("arm_cost", "double", "What the variation's paid persons cost (reporting currency)."),
    ("cost_per_conversion", "double", "arm_cost / the variation's metric total (CPA, 1/ROAS)."),
    ("incremental_conversions", "double", "absolute_lift x persons: what the variation added."),
    ("cost_per_incremental", "double", "arm_cost / incremental_conversions (when positive)."),
    ("incremental_value", "double", "incremental_conversions x the control's cost_per_conversion: "
     "what buying the added conversions with the control's traffic would cost."),
)  # fmt: skip


# ------------------------------------------------------------------------ statistics


@dataclass(frozen=True)
class Arm:
    """One variation's sufficient statistics for one metric."""

    n: int
    total: float  # sum of the metric
    sum_squares: float
    binomial: bool = False
    pre_total: float = 0.0
    pre_sum_squares: float = 0.0
    sum_cross: float = 0.0

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        return _variance(self.n, self.total, self.sum_squares, self.binomial)

    @property
    def pre_mean(self) -> float:
        return self.pre_total / self.n if self.n else 0.0

    @property
    def pre_variance(self) -> float:
        return _variance(self.n, self.pre_total, self.pre_sum_squares, self.binomial)

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.total, self.pre_total, self.sum_cross, self.binomial)


def _variance(n: int, total: float, sum_squares: float, binomial: bool) -> float:
    if n <= 1:
        return 0.0
    if binomial:
        p = total / n
        return p * (1 - p)
    return (sum_squares - total * total / n) / (n - 1)


def _covariance(n: int, total_a: float, total_b: float, cross: float, binomial: bool) -> float:
    if n <= 1:
        return 0.0
    if binomial:  # gbstats: population form for two proportions
        return cross / n - total_a * total_b / (n * n)
    return (cross - total_a * total_b / n) / (n - 1)


def srm_p_value(persons: list[int], weights: list[float]) -> float:
    """Chi-square goodness of fit of persons per variation to the weights (gbstats check_srm)."""
    from scipy import stats

    total = sum(persons)
    if total == 0:
        return 1.0
    weight_sum = sum(weights)
    x = 0.0
    for observed, weight in zip(persons, weights, strict=True):
        if weight > 0:
            expected = weight / weight_sum * total
            x += (observed - expected) ** 2 / expected
    return float(stats.chi2.sf(x, len(persons) - 1))


def holm_adjusted(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni: the k-th smallest of m p-values times (m - k + 1), made monotone."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def cuped_theta(control: Arm, treatment: Arm) -> float:
    """The slope of the metric on its covariate over both arms pooled (0: no adjustment)."""
    n = control.n + treatment.n
    binomial = control.binomial
    post_var = _variance(n, control.total + treatment.total,
                         control.sum_squares + treatment.sum_squares, binomial)  # fmt: skip
    pre_var = _variance(n, control.pre_total + treatment.pre_total,
                        control.pre_sum_squares + treatment.pre_sum_squares, binomial)  # fmt: skip
    if pre_var <= 0 or post_var <= 0:
        return 0.0
    cov = _covariance(n, control.total + treatment.total, control.pre_total + treatment.pre_total,
                      control.sum_cross + treatment.sum_cross, binomial)  # fmt: skip
    return cov / pre_var


@dataclass(frozen=True)
class Comparison:
    absolute_lift: float
    absolute_ci: tuple[float, float]
    relative_lift: float
    relative_ci: tuple[float, float]
    p_value: float
    chance_to_win: float
    expected_loss: float  # of shipping the treatment, relative scale
    control_mean: float  # adjusted
    treatment_mean: float  # adjusted
    theta: float  # 0 without CUPED
    variance_reduction: float | None  # relative lift's variance saved by CUPED


def compare(control: Arm, treatment: Arm, cuped: bool = False) -> Comparison | None:
    """The treatment against the control; None when a variance or the control mean is 0 (no
    test is possible: gbstats reports an error there)."""
    from scipy import stats

    ua, ub = control.mean, treatment.mean
    theta = cuped_theta(control, treatment) if cuped else 0.0
    if theta:
        mean_a, mean_b = ua - theta * control.pre_mean, ub - theta * treatment.pre_mean
        var_a = control.variance + theta**2 * control.pre_variance - 2 * theta * control.covariance
        var_b = (treatment.variance + theta**2 * treatment.pre_variance
                 - 2 * theta * treatment.covariance)  # fmt: skip
    else:
        mean_a, mean_b, var_a, var_b = ua, ub, control.variance, treatment.variance
    na, nb = control.n, treatment.n
    if var_a <= 0 or var_b <= 0 or ua == 0 or na < 2 or nb < 2:
        return None
    absolute = mean_b - mean_a
    absolute_var = var_b / nb + var_a / na
    relative = absolute / abs(ua)
    if theta:  # gbstats frequentist_variance_relative_cuped
        relative_var = var_b / (nb * ua**2) + (
            control.variance * ub**2 / ua**2
            - 2 * theta * control.covariance * ub / ua
            + theta**2 * control.pre_variance
        ) / (na * ua**2)
    else:
        relative_var = var_b / (nb * ua**2) + var_a * ub**2 / (na * ua**4)
    if relative_var <= 0:
        return None
    dof = absolute_var**2 / (var_b**2 / (nb**2 * (nb - 1)) + var_a**2 / (na**2 * (na - 1)))
    t_crit = float(stats.t.ppf(1 - ALPHA / 2, dof))
    absolute_se, relative_se = math.sqrt(absolute_var), math.sqrt(relative_var)
    p_value = float(2 * stats.t.sf(abs(relative / relative_se), dof))
    chance = float(stats.norm.sf(0, relative, relative_se))
    z = relative / relative_se
    loss = -relative * float(stats.norm.cdf(-z)) + relative_se * float(stats.norm.pdf(z))
    reduction = None
    if theta:
        plain = control.variance / (na * ua**2) * ub**2 / ua**2 + treatment.variance / (nb * ua**2)
        reduction = 1 - relative_var / plain if plain > 0 else None
    return Comparison(
        absolute_lift=absolute,
        absolute_ci=(absolute - t_crit * absolute_se, absolute + t_crit * absolute_se),
        relative_lift=relative,
        relative_ci=(relative - t_crit * relative_se, relative + t_crit * relative_se),
        p_value=p_value,
        chance_to_win=chance,
        expected_loss=loss,
        control_mean=mean_a,
        treatment_mean=mean_b,
        theta=theta,
        variance_reduction=reduction,
    )


# ------------------------------------------------------------------------ the mart


def _arm(row: Any) -> Arm:
    return Arm(
        n=int(row.persons),
        total=float(row.metric_sum),
        sum_squares=float(row.metric_sum_squares),
        binomial=row.metric_type in BINOMIAL_TYPES,
        pre_total=float(row.pre_sum),
        pre_sum_squares=float(row.pre_sum_squares),
        sum_cross=float(row.sum_cross),
    )


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator or denominator <= 0:
        return None
    return numerator / denominator


def analyze(statistics: pd.DataFrame) -> pd.DataFrame:
    """mart_experiment_statistics rows -> mart_experiment_results rows."""
    columns = [name for name, _, _ in RESULTS_COLUMNS]
    if statistics.empty:
        return pd.DataFrame(columns=columns)
    latest = statistics.groupby("experiment_id")["analysis_date"].transform("max")
    statistics = statistics.assign(is_latest=statistics["analysis_date"] == latest)
    rows: list[dict[str, Any]] = []
    for _, group in statistics.groupby(["experiment_id", "metric_name", "analysis_date"]):
        arms = group.sort_values("variation_index")
        randomized = bool(arms["is_randomized"].all())
        srm = (srm_p_value([int(n) for n in arms["persons"]], [float(w) for w in arms["weight"]])
               if randomized else None)  # fmt: skip
        checkable = randomized and bool((arms["persons"] >= SRM_MIN_PERSONS).all())
        rows_in = list(arms.itertuples())
        stats = [_arm(row) for row in rows_in]
        first, control = rows_in[0], stats[0]
        control_cpa = _ratio(float(first.arm_cost), control.total) if first.paid_persons else None
        cuped = int(first.pre_period_days) > 0
        results = [None, *(compare(control, arm, cuped) for arm in stats[1:])]
        # the control's mean as adjusted in its comparison with the first variation (CUPED)
        control_adjusted = results[1].control_mean if len(results) > 1 and results[1] else None
        for row, arm, result in zip(rows_in, stats, results, strict=True):
            adjusted = result.treatment_mean if result else None
            if row.variation_index == 0:
                adjusted = control_adjusted
            if adjusted is None and arm.n:
                adjusted = arm.mean
            cost = float(row.arm_cost) if row.paid_persons else None
            incremental = result.absolute_lift * arm.n if result else None
            rows.append({
                "experiment_id": row.experiment_id, "variation_id": row.variation_id,
                "variation_index": int(row.variation_index),
                "is_control": row.variation_index == 0, "is_randomized": randomized,
                "metric_name": row.metric_name,
                "metric_type": row.metric_type, "analysis_date": row.analysis_date,
                "is_latest": bool(row.is_latest), "persons": arm.n,
                "weight": float(row.weight) if randomized else None,
                "mean": arm.mean if arm.n else None,
                "adjusted_mean": adjusted,
                "srm_p_value": srm,
                "has_srm": (checkable and srm < SRM_P_THRESHOLD) if randomized else None,
                "absolute_lift": result.absolute_lift if result else None,
                "absolute_ci_low": result.absolute_ci[0] if result else None,
                "absolute_ci_high": result.absolute_ci[1] if result else None,
                "relative_lift": result.relative_lift if result else None,
                "relative_ci_low": result.relative_ci[0] if result else None,
                "relative_ci_high": result.relative_ci[1] if result else None,
                "p_value": result.p_value if result else None,
                "p_value_adjusted": None,
                "is_significant": None,
                "chance_to_win": result.chance_to_win if result else None,
                "expected_loss": result.expected_loss if result else None,
                "cuped_applied": bool(result and result.theta),
                "cuped_theta": result.theta if result and result.theta else None,
                "variance_reduction": result.variance_reduction if result else None,
                "paid_persons": int(row.paid_persons), "arm_cost": cost,
                "cost_per_conversion": _ratio(cost, arm.total),
                "incremental_conversions": incremental,
                "cost_per_incremental": _ratio(cost, incremental),
                "incremental_value": (incremental * control_cpa
                                      if incremental is not None and control_cpa else None),
            })  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    tested = frame["p_value"].notna()
    for _, group in frame[tested].groupby(["experiment_id", "analysis_date"]):
        frame.loc[group.index, "p_value_adjusted"] = holm_adjusted(group["p_value"].tolist())
    frame.loc[tested, "is_significant"] = frame.loc[tested, "p_value_adjusted"] < ALPHA
    return frame


def build_results(cfg: Settings | None = None) -> int:
    """Compute mart_experiment_results from the freshly built statistics mart, in the
    pipeline warehouse beside the dbt marts (publish copies it with them). Rows written."""
    cfg = cfg or settings()
    con = warehouse.open_pipeline(cfg, read_only=True)
    try:
        statistics = con.execute(
            "select * from marts.mart_experiment_statistics "
            "order by experiment_id, metric_name, analysis_date, variation_index"
        ).df()
    finally:
        con.close()
    results = analyze(statistics)
    ddl = ", ".join(f"{name} {kind}" for name, kind, _ in RESULTS_COLUMNS)
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(f"create or replace table marts.{RESULTS_TABLE} ({ddl})")
        con.register("experiment_results", results)
        con.execute(f"insert into marts.{RESULTS_TABLE} select * from experiment_results")
        con.unregister("experiment_results")
    log.info("%s: %d rows", RESULTS_TABLE, len(results))
    return len(results)


def results_node() -> dict[str, Any]:
    """The mart's docs in the shape of a dbt manifest node (publish comments from these)."""
    return {
        "name": RESULTS_TABLE,
        "fqn": ["growthops", "marts", RESULTS_AREA, RESULTS_TABLE],
        "description": RESULTS_DESCRIPTION,
        "columns": {name: {"description": text} for name, _, text in RESULTS_COLUMNS},
    }
