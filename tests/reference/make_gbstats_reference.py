#!/usr/bin/env python3
"""Compute reference numbers with the real `gbstats` package.

Two flavours of gbstats exist and both are exercised:

* "github_head": growthbook/growthbook main, packages/stats (commit recorded
  in the output).  This is what GrowthBook itself runs today.  Its
  pyproject still says version 0.8.0 but the code is ~2 years newer than the
  PyPI wheel.  Installed into /work/gbstats_venv_head with
      git --git-dir=<mirror> archive HEAD packages/stats | tar -x -C /tmp/gbsrc
      python3.11 -m venv /work/gbstats_venv_head
      /work/gbstats_venv_head/bin/pip install /tmp/gbsrc/packages/stats
* "pypi_0.8.0": the newest release on PyPI (published 2024-06, numpy<2,
  pandas<2).  Installed into /work/gbstats_venv with `pip install gbstats`.

Usage:
    python3 make_reference.py            # runs both venvs, merges -> reference.json
    <venv>/bin/python make_reference.py --single OUT.json   # one flavour only

The two flavours have different call signatures
(HEAD: Test([(stat_a, stat_b)], config); PyPI: Test(stat_a, stat_b, config)),
so everything goes through the small adapter below.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VENVS = {
    "github_head": os.environ.get("GBSTATS_HEAD_PY", "/work/gbstats_venv_head/bin/python"),
    "pypi_0.8.0": os.environ.get("GBSTATS_PYPI_PY", "/work/gbstats_venv/bin/python"),
}
HEAD_COMMIT = "8f1db4456915a8e7b7faf23d5632ca7219d2f469"  # growthbook/growthbook main, 2026-08-21


# --------------------------------------------------------------------------
# Inputs (control first, treatment second)
# --------------------------------------------------------------------------
CASES = {
    "prop_100_1000_vs_130_1000": {
        "kind": "proportion",
        "a": {"n": 1000, "sum": 100},
        "b": {"n": 1000, "sum": 130},
    },
    "prop_500_5000_vs_520_5000": {
        "kind": "proportion",
        "a": {"n": 5000, "sum": 500},
        "b": {"n": 5000, "sum": 520},
    },
    "mean_800_vs_820": {
        "kind": "mean",
        "a": {"n": 800, "sum": 4000, "sum_squares": 40000},
        "b": {"n": 820, "sum": 4510, "sum_squares": 45000},
    },
    "cuped_mean": {
        "kind": "cuped",
        # post = metric in experiment, pre = same metric pre-exposure,
        # cross = sum_i post_i * pre_i
        "a": {
            "n": 1000,
            "post_sum": 5000,
            "post_sum_squares": 35000,
            "pre_sum": 4800,
            "pre_sum_squares": 30000,
            "cross_sum": 31000,
        },
        "b": {
            "n": 1000,
            "post_sum": 5400,
            "post_sum_squares": 38000,
            "pre_sum": 4850,
            "pre_sum_squares": 30500,
            "cross_sum": 32500,
        },
    },
}
SRM_CASES = [
    {"observed": [5000, 4800], "weights": [0.5, 0.5]},
    {"observed": [1000, 1210], "weights": [0.5, 0.5]},
    {"observed": [3000, 1000], "weights": [0.75, 0.25]},
]
ALPHA = 0.05
PROPER_PRIOR_SD_UI = 0.3  # shared/constants.ts DEFAULT_PROPER_PRIOR_STDDEV
PROPER_PRIOR_SD_GBSTATS = 0.1  # MetricSettingsForStatsEngine.prior_stddev default


# --------------------------------------------------------------------------
# Adapter (runs inside a gbstats venv)
# --------------------------------------------------------------------------
def run_single():
    import importlib.metadata
    import inspect

    import numpy as np
    import pandas
    import scipy
    from gbstats.bayesian.tests import (
        EffectBayesianABTest,
        EffectBayesianConfig,
        GaussianPrior,
    )
    from gbstats.frequentist.tests import (
        FrequentistConfig,
        SequentialConfig,
        SequentialTwoSidedTTest,
        TwoSidedTTest,
    )
    from gbstats.models.statistics import (
        ProportionStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )
    from gbstats.utils import check_srm

    head_api = "stats" in inspect.signature(TwoSidedTTest.__init__).parameters
    flavour = "github_head" if head_api else "pypi_0.8.0"

    def make_stats(case):
        k, a, b = case["kind"], case["a"], case["b"]
        if k == "proportion":
            return (
                ProportionStatistic(n=a["n"], sum=a["sum"]),
                ProportionStatistic(n=b["n"], sum=b["sum"]),
            )
        if k == "mean":
            return tuple(
                SampleMeanStatistic(n=x["n"], sum=x["sum"], sum_squares=x["sum_squares"])
                for x in (a, b)
            )
        if k == "cuped":
            out = []
            for x in (a, b):
                out.append(
                    RegressionAdjustedStatistic(
                        n=x["n"],
                        post_statistic=SampleMeanStatistic(
                            n=x["n"], sum=x["post_sum"], sum_squares=x["post_sum_squares"]
                        ),
                        pre_statistic=SampleMeanStatistic(
                            n=x["n"], sum=x["pre_sum"], sum_squares=x["pre_sum_squares"]
                        ),
                        post_pre_sum_of_products=x["cross_sum"],
                        theta=None if head_api else 0,  # theta is recomputed (pooled) by the test
                    )
                )
            return tuple(out)
        if k == "cuped_post_only":
            return tuple(
                SampleMeanStatistic(n=x["n"], sum=x["post_sum"], sum_squares=x["post_sum_squares"])
                for x in (a, b)
            )
        raise ValueError(k)

    def build(cls, case, config):
        sa, sb = make_stats(case)  # fresh objects: PyPI version mutates theta in place
        if head_api:
            return cls([(sa, sb)], config)
        return cls(sa, sb, config)

    def f(x):
        if x is None:
            return None
        x = float(x)
        return x if np.isfinite(x) else str(x)

    def moments(test):
        if head_api:
            return test.moments_result.point_estimate, test.moments_result.standard_error
        return test.point_estimate, float(np.sqrt(test.variance))

    def freq(case, diff, sequential=False):
        if sequential:
            cfg = SequentialConfig(
                difference_type=diff, alpha=ALPHA, sequential_tuning_parameter=5000
            )
            test = build(SequentialTwoSidedTTest, case, cfg)
        else:
            cfg = FrequentistConfig(difference_type=diff, alpha=ALPHA)
            test = build(TwoSidedTTest, case, cfg)
        res = test.compute_result()
        pe, se = moments(test)
        p = res.pValue if head_api else res.p_value
        err = res.errorMessage if head_api else res.error_message
        out = {
            "point_estimate": f(pe),
            "standard_error": f(se),
            "variance": f(se**2),
            "ci": [f(res.ci[0]), f(res.ci[1])],
            "p_value": f(p),
            "error": err,
        }
        if not sequential:
            out["dof_welch"] = f(test.dof)
            out["t_crit"] = f(__import__("scipy.stats").stats.t.ppf(1 - ALPHA / 2, test.dof))
        return out, test

    def bayes(case, diff, prior=None):
        kw = dict(difference_type=diff, alpha=ALPHA, inverse=False, prior_type="relative")
        if prior is not None:
            kw["prior_effect"] = prior
        cfg = EffectBayesianConfig(**kw)
        test = build(EffectBayesianABTest, case, cfg)
        res = test.compute_result()
        ctw = res.chanceToWin if head_api else res.chance_to_win
        err = res.errorMessage if head_api else res.error_message
        return {
            "expected": f(res.expected),
            "posterior_sd": f(res.uplift.stddev),
            "ci": [f(res.ci[0]), f(res.ci[1])],
            "chance_to_win": f(ctw),
            "risk": [f(res.risk[0]), f(res.risk[1])],
            "risk_meaning": "[risk_ctrl = E[max(delta,0)] = expected loss if control is chosen, "
            "risk_trt = E[max(-delta,0)] = expected loss if treatment is chosen]",
            "error": err,
        }

    def stat_summary(s):
        d = {"n": s.n, "mean": f(s.mean), "variance": f(s.variance)}
        if isinstance(s, RegressionAdjustedStatistic):
            d.update(
                {
                    "theta": f(s.theta),
                    "unadjusted_mean": f(s.unadjusted_mean),
                    "post_mean": f(s.post_statistic.mean),
                    "post_variance": f(s.post_statistic.variance),
                    "pre_mean": f(s.pre_statistic.mean),
                    "pre_variance": f(s.pre_statistic.variance),
                    "cov_post_pre": f(s.covariance),
                    "corr_post_pre": f(
                        s.covariance / np.sqrt(s.post_statistic.variance * s.pre_statistic.variance)
                    ),
                }
            )
        return d

    results = {}
    for name, case in CASES.items():
        r = {"inputs": case}
        for diff in ("relative", "absolute"):
            fr, test = freq(case, diff)
            r[f"frequentist_{diff}"] = fr
            r[f"bayesian_{diff}_default_improper_prior"] = bayes(case, diff)
        r["control_stat"] = stat_summary(test.stat_a)
        r["treatment_stat"] = stat_summary(test.stat_b)
        if name == "prop_100_1000_vs_130_1000":
            for diff in ("relative", "absolute"):
                r[f"frequentist_sequential_{diff}_tuning5000"] = freq(case, diff, sequential=True)[
                    0
                ]
                r[f"bayesian_{diff}_proper_prior_N(0,0.3^2)_relative_scale"] = bayes(
                    case, diff, GaussianPrior(mean=0, variance=PROPER_PRIOR_SD_UI**2, proper=True)
                )
                r[f"bayesian_{diff}_proper_prior_N(0,0.1^2)_relative_scale"] = bayes(
                    case,
                    diff,
                    GaussianPrior(mean=0, variance=PROPER_PRIOR_SD_GBSTATS**2, proper=True),
                )
        if case["kind"] == "cuped":
            plain = dict(case, kind="cuped_post_only")
            r["no_cuped_post_only"] = {}
            for diff in ("relative", "absolute"):
                fr, _ = freq(plain, diff)
                r["no_cuped_post_only"][f"frequentist_{diff}"] = fr
                r["no_cuped_post_only"][f"bayesian_{diff}_default_improper_prior"] = bayes(
                    plain, diff
                )
                v_c = r[f"frequentist_{diff}"]["variance"]
                v_p = fr["variance"]
                r[f"variance_reduction_{diff}"] = {
                    "var_lift_cuped": v_c,
                    "var_lift_no_cuped": v_p,
                    "ratio_cuped_over_plain": v_c / v_p,
                    "reduction_fraction": 1 - v_c / v_p,
                }
        results[name] = r

    srm = [
        dict(
            c,
            p_value=f(check_srm(c["observed"], c["weights"])),
            flagged_at_0_001=bool(check_srm(c["observed"], c["weights"]) < 0.001),
        )
        for c in SRM_CASES
    ]

    pipeline = run_pipeline_checks() if head_api else None

    return {
        "flavour": flavour,
        "gbstats_version": importlib.metadata.version("gbstats"),
        "source": (
            f"github growthbook/growthbook@{HEAD_COMMIT} packages/stats"
            if head_api
            else "PyPI gbstats 0.8.0 wheel"
        ),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pandas.__version__,
        "defaults_used": {
            "alpha": ALPHA,
            "two_sided": True,
            "test_value": 0,
            "bayesian_prior": "GaussianPrior(mean=0, variance=1, proper=False) (class default) -> flat/improper",
            "bayesian_prior_type": "relative",
            "inverse": False,
            "cuped_theta": "None -> pooled theta computed by the test from both arms",
            "sequential": "off (except the *_sequential_* entries, tuning=5000)",
            "post_stratify": "False (BaseConfig default; HEAD only)",
        },
        "cases": results,
        "srm": srm,
        "pipeline_cross_check": pipeline,
    }


def run_pipeline_checks():
    """HEAD only: run the same data through gbstats' full metric pipeline
    (process_analysis), exactly as GrowthBook's back end does, to confirm that
    the direct class calls above reproduce what the product shows."""
    import pandas as pd
    from gbstats.gbstats import process_analysis
    from gbstats.models.settings import AnalysisSettingsForStatsEngine, MetricSettingsForStatsEngine

    out = {}

    def analysis(engine, diff):
        return AnalysisSettingsForStatsEngine(
            var_names=["control", "treatment"],
            var_ids=["0", "1"],
            weights=[0.5, 0.5],
            baseline_index=0,
            dimension="",
            stats_engine=engine,
            difference_type=diff,
            alpha=ALPHA,
        )

    def summarize(res):
        v = res[0].variations[1]
        d = {
            "srm": float(res[0].srm),
            "expected": float(v.expected),
            "ci": [float(v.ci[0]), float(v.ci[1])],
        }
        if hasattr(v, "pValue"):
            d["p_value"] = float(v.pValue)
        if hasattr(v, "chanceToWin"):
            d["chance_to_win"] = float(v.chanceToWin)
            d["risk"] = [float(x) for x in v.risk]
        return d

    prop = CASES["prop_100_1000_vs_130_1000"]
    rows = pd.DataFrame(
        [
            {
                "dimension": "",
                "variation": "0",
                "users": prop["a"]["n"],
                "count": prop["a"]["n"],
                "main_sum": prop["a"]["sum"],
                "main_sum_squares": prop["a"]["sum"],
            },
            {
                "dimension": "",
                "variation": "1",
                "users": prop["b"]["n"],
                "count": prop["b"]["n"],
                "main_sum": prop["b"]["sum"],
                "main_sum_squares": prop["b"]["sum"],
            },
        ]
    )
    metric = MetricSettingsForStatsEngine(
        id="m", name="m", statistic_type="mean", main_metric_type="binomial"
    )
    for engine in ("frequentist", "bayesian"):
        for diff in ("relative", "absolute"):
            res = process_analysis(rows.copy(), {"0": 0, "1": 1}, metric, analysis(engine, diff))
            out[f"prop_100_1000_vs_130_1000/{engine}/{diff}"] = summarize(res)

    c = CASES["cuped_mean"]
    rows = pd.DataFrame(
        [
            {
                "dimension": "",
                "variation": v,
                "users": x["n"],
                "count": x["n"],
                "main_sum": x["post_sum"],
                "main_sum_squares": x["post_sum_squares"],
                "covariate_sum": x["pre_sum"],
                "covariate_sum_squares": x["pre_sum_squares"],
                "main_covariate_sum_product": x["cross_sum"],
            }
            for v, x in (("0", c["a"]), ("1", c["b"]))
        ]
    )
    metric = MetricSettingsForStatsEngine(
        id="m",
        name="m",
        statistic_type="mean_ra",
        main_metric_type="count",
        covariate_metric_type="count",
    )
    for engine in ("frequentist", "bayesian"):
        for diff in ("relative", "absolute"):
            res = process_analysis(rows.copy(), {"0": 0, "1": 1}, metric, analysis(engine, diff))
            out[f"cuped_mean/{engine}/{diff}"] = summarize(res)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--single", help="run inside one gbstats venv and write JSON here")
    args = ap.parse_args()
    if args.single:
        with open(args.single, "w") as fh:
            json.dump(run_single(), fh, indent=2)
        return
    merged = {
        "about": "Reference outputs of GrowthBook's gbstats. 'github_head' is the current "
        "engine (what GrowthBook runs); 'pypi_0.8.0' is the latest PyPI release (2024-06). "
        "Control is always the first arm. See FORMULAS.md.",
        "results": {},
    }
    for flavour, py in VENVS.items():
        tmp = os.path.join(HERE, f".tmp_{flavour}.json")
        subprocess.run([py, os.path.abspath(__file__), "--single", tmp], check=True)
        with open(tmp) as fh:
            merged["results"][flavour] = json.load(fh)
        os.remove(tmp)
    with open(os.path.join(HERE, "reference.json"), "w") as fh:
        json.dump(merged, fh, indent=2)
    print("wrote", os.path.join(HERE, "reference.json"))


if __name__ == "__main__":
    main()
