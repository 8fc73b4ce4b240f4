"""`make bench-spark`: the same dbt project built on DuckDB and on Spark (local mode) from the
same raw rows, timed side by side, the marts compared, the section written to BENCHMARKS.md.

The world's raw comes from one pipeline run (cached like `make bench`'s). Each build runs in
its own process (bench.run's steps: wall seconds and the peak RSS of the process tree):
DuckDB rebuilds every model and data test from the pipeline file's raw (--full-refresh);
Spark reads the lake the ingest wrote (its bookkeeping snapshot is published first, timed on
its own), then builds the same models and tests. One box says what Spark costs next to an
embedded engine, not how it scales.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from growthops import warehouse
from growthops.config import settings

BUILD = ["build", "--full-refresh", "--exclude", "test_type:unit"]
SECTION = "engines"  # its marked section of BENCHMARKS.md (bench.report.write_section)


def step_dbt_build(args: dict[str, Any]) -> dict[str, Any]:
    """One dbt build of the whole project on `target` (spark: the lake is published first)."""
    from growthops.dbt import run_dbt

    cfg = replace(settings(), data_root=Path(args["data_root"]), dbt_target=args["target"])
    out: dict[str, Any] = {}
    if cfg.dbt_target == "spark":  # the data is in the lake already: its bookkeeping joins it
        from growthops import lake

        started = time.perf_counter()
        lake.publish_catalog(cfg)
        out["lake_seconds"] = time.perf_counter() - started
        con = warehouse.open_pipeline(cfg, read_only=True)
        try:
            out["lake_rows"] = con.execute(
                "select sum(row_count) from raw.lake_parts where status = 'visible'"
            ).fetchone()[0]
        finally:
            con.close()
    started = time.perf_counter()
    with _peak_descendant_rss() as peak:
        result = run_dbt(BUILD, cfg)
    out["seconds"] = time.perf_counter() - started
    out["descendant_peak_rss_mb"] = peak["mb"]
    if not result.success:
        raise RuntimeError(f"dbt build on {cfg.dbt_target} failed:\n{result.table()}")
    kinds = [r.resource_type for r in result.results]
    out["models"], out["tests"] = kinds.count("model"), kinds.count("test")
    out["model_seconds"] = sum(r.seconds for r in result.results if r.resource_type == "model")
    out["test_seconds"] = sum(r.seconds for r in result.results if r.resource_type == "test")
    return out


@contextmanager
def _peak_descendant_rss(interval: float = 0.5) -> Iterator[dict[str, float]]:
    """The largest resident set any process below this one had, sampled every `interval`:
    Spark's JVM is never waited for by dbt, so the kernel's rusage does not count it."""
    import psutil

    peak = {"mb": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            for child in psutil.Process().children(recursive=True):
                try:
                    peak["mb"] = max(peak["mb"], child.memory_info().rss / 2**20)
                except psutil.Error:
                    continue

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def run(scale: str, seed: int, dirt_rate: float, reuse_pipeline: bool) -> dict[str, Any]:
    from growthops.bench import compare
    from growthops.bench.run import _run_step, side_pipeline

    cfg = settings()
    work, world, root = side_pipeline("engines", scale, seed, dirt_rate, reuse_pipeline)
    results: dict[str, Any] = {"scale": scale, "world": {"events": world.events,
                                                         "files": world.files, "days": world.days}}  # fmt: skip
    results["duckdb"] = _run_step("dbt_duckdb", "dbt_build", {"data_root": root, "target": "duckdb"}, work)  # fmt: skip
    results["spark"] = _run_step("dbt_spark", "dbt_build", {"data_root": root, "target": "spark"}, work)  # fmt: skip
    results["checks"] = {"spark_vs_duckdb": compare.compare_spark(
        replace(cfg, data_root=root).pipeline_db, root / "spark" / "warehouse")}  # fmt: skip
    return results


def _peak(step: dict[str, Any]) -> float:
    """The step's peak: its rusage, or a process below it seen larger (the JVM)."""
    return max(step["peak_rss_mb"], step.get("descendant_peak_rss_mb") or 0.0)


def section(r: dict[str, Any], machine: dict[str, Any]) -> str:
    from growthops.bench.compare import mismatches

    d, s, w = r["duckdb"], r["spark"], r["world"]
    differ = mismatches(r["checks"])
    marts = len(r["checks"]["spark_vs_duckdb"])
    verdict = (f"all {marts} marts equal, value for value" if not differ
               else f"**{len(differ)} of {marts} marts differ**: " + "; ".join(differ))  # fmt: skip
    rows = [
        ("dbt build (models + data tests), DuckDB", d["seconds"], _peak(d)),
        (
            "the lake's bookkeeping snapshot (manifest, quarantine, parts), for Spark",
            s["lake_seconds"],
            None,
        ),
        ("dbt build (models + data tests), Spark local", s["seconds"], _peak(s)),
    ]
    return "\n".join([
        "<!-- engines:begin -->",
        f"## dbt on DuckDB vs Apache Spark (local mode): `{r['scale']}` world, "
        f"{w['events']:,} events, {w['files']:,} files",
        "",
        f"Measured {machine['date']} by `make bench-spark` (scale `{r['scale']}`), on the same raw "
        f"rows ({s['lake_rows']:,}); {d['models']} models and {d['tests']} data tests on each "
        f"engine. Results check: {verdict}.",
        # "note": written into the results file by whoever re-checked or explained a run
        *([f"Note: {r['note']}"] if r.get("note") else []),
        "",
        "| What | Seconds | Peak RSS (MB, largest process incl. Spark's JVM) |",
        "|---|---:|---:|",
        *[f"| {what} | {sec:,.1f} | {'' if mb is None else f'{mb:,.0f}'} |" for what, sec, mb in rows],
        "",
        f"Spark / DuckDB: {s['seconds'] / d['seconds']:.1f}x (models {s['model_seconds']:,.1f} s "
        f"vs {d['model_seconds']:,.1f} s, tests {s['test_seconds']:,.1f} s vs "
        f"{d['test_seconds']:,.1f} s; Spark's figure includes its JVM and session start). "
        "On one box the embedded engine wins; what Spark buys is that the same SQL runs on a "
        "cluster.",
        "<!-- engines:end -->",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from growthops.bench.run import side_arguments

    args = side_arguments("growthops.bench.engines", __doc__, "small", argv)
    from growthops.bench import report
    from growthops.bench.compare import mismatches

    results = run(args.scale, args.seed, args.dirt_rate, args.reuse_pipeline)
    report.save_section(results, SECTION, section, Path(args.output))
    failed = mismatches(results["checks"])
    for line in failed:
        print(f"CHECK FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
