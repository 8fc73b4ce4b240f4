"""`make bench-incremental`: what the transform costs for one new day and one new hour on top
of the whole history, next to a full build of the same raw, written to BENCHMARKS.md.

The world's raw comes from one pipeline run (cached like `make bench-spark`'s). Its last 24
app files (the last day, hour by hour) are held out of raw; the transform's two dbt stages
build everything from the rest (a full build), then 23 of the held files are put back and
the stages run again (a new day), then the last one (a new hour). Each stage is the
production one (transform.build_stage: dbt build of staging, then of the marts, with their
data tests). The dbt processes' peak RSS is sampled. That incremental runs equal a full
refresh is proven by tests/dbt/test_incremental_equals_full_refresh.py, not here.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from growthops import warehouse
from growthops.config import Settings, settings

SECTION = "incremental"  # its marked section of BENCHMARKS.md
HELD_FILES = 24
TOP_NODES = 8


def _hold_last_files(cfg: Settings) -> int:
    """Move the rows of the last HELD_FILES app files to arrive from raw into bench_hold;
    returns the rows."""
    with warehouse.pipeline_writer(cfg) as con:
        con.execute("create schema if not exists bench_hold")
        con.execute("""create or replace table bench_hold.app_events as
            select * from raw.app_events where source_file in (select source_file from raw.app_events
                group by source_file order by max(received_at) desc limit ?)""", [HELD_FILES])  # fmt: skip
        con.execute(
            "delete from raw.app_events where source_file in "
            "(select source_file from bench_hold.app_events)"
        )
        return con.execute("select count(*) from bench_hold.app_events").fetchone()[0]


def _release(cfg: Settings, all_but_last: bool) -> int:
    """Put held files back into raw: all but the last to arrive, or the rest."""
    which = "source_file <> (select arg_max(source_file, received_at) from bench_hold.app_events)"
    where = which if all_but_last else "true"
    with warehouse.pipeline_writer(cfg) as con:
        (rows,) = con.execute(
            f"select count(*) from bench_hold.app_events where {where}"
        ).fetchone()
        con.execute(f"insert into raw.app_events select * from bench_hold.app_events where {where}")
        con.execute(f"delete from bench_hold.app_events where {where}")
    return rows


def _transform(cfg: Settings) -> dict[str, Any]:
    """Both dbt stages as the transform DAG runs them; seconds, peak RSS, slowest nodes."""
    from growthops.bench.engines import _peak_descendant_rss
    from growthops.transform import build_stage

    out: dict[str, Any] = {"stages": {}}
    started = time.perf_counter()
    with _peak_descendant_rss() as peak:
        for stage in ("staging", "marts"):
            stage_started = time.perf_counter()
            result = build_stage(stage, cfg)
            out["stages"][stage] = time.perf_counter() - stage_started
    out["seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = peak["mb"]
    nodes = [r for r in result.results if r.resource_type in ("model", "test")]
    out["model_seconds"] = sum(r.seconds for r in nodes if r.resource_type == "model")
    out["test_seconds"] = sum(r.seconds for r in nodes if r.resource_type == "test")
    out["slowest"] = [
        (r.name, r.seconds) for r in sorted(nodes, key=lambda r: -r.seconds)[:TOP_NODES]
    ]
    with warehouse.pipeline_writer(cfg) as con:
        (out["affected_persons"],) = con.execute(
            "select count(*) from intermediate.int_affected_persons"
        ).fetchone()
        (out["persons"],) = con.execute("select count(*) from intermediate.int_persons").fetchone()
    return out


def run(scale: str, seed: int, dirt_rate: float, reuse_pipeline: bool) -> dict[str, Any]:
    from growthops.bench.run import side_pipeline

    base = settings()
    work, world, ingested = side_pipeline("incremental", scale, seed, dirt_rate, reuse_pipeline)
    cfg = replace(base, data_root=work / "transform")
    shutil.rmtree(cfg.data_root, ignore_errors=True)
    cfg.pipeline_db.parent.mkdir(parents=True)
    shutil.copyfile(replace(base, data_root=ingested).pipeline_db, cfg.pipeline_db)
    with warehouse.pipeline_writer(cfg) as con:  # raw only: the transform starts from nothing
        for schema in ("staging", "intermediate", "marts"):
            con.execute(f"drop schema if exists {schema} cascade")
    results: dict[str, Any] = {"scale": scale, "world": {"events": world.events,
                                                         "files": world.files, "days": world.days}}  # fmt: skip
    results["held_rows"] = _hold_last_files(cfg)
    for label, release in (("full", None), ("day", True), ("hour", False)):
        rows = 0 if release is None else _release(cfg, all_but_last=release)
        print(f"  {label}: transform over {rows:,} new rows ...", flush=True)
        results[label] = {"new_rows": rows, **_transform(cfg)}
        print(f"    {results[label]['seconds']:,.1f} s", flush=True)
    return results


def section(r: dict[str, Any], machine: dict[str, Any]) -> str:
    full, w = r["full"], r["world"]

    def row(label: str, step: dict[str, Any]) -> str:
        share = f"{step['seconds'] / full['seconds']:.0%}" if step is not full else ""
        affected = "" if step is full else f"{step['affected_persons']:,} of {step['persons']:,}"
        new_rows = "all" if step is full else f"{step['new_rows']:,}"
        return (f"| {label} | {new_rows} | {step['stages']['staging']:,.1f} | "
                f"{step['stages']['marts']:,.1f} | {step['seconds']:,.1f} | {share} | "
                f"{step['model_seconds']:,.1f} / {step['test_seconds']:,.1f} | {affected} | "
                f"{step['peak_rss_mb']:,.0f} |")  # fmt: skip

    slowest = "; ".join(f"{name} {sec:.1f} s" for name, sec in r["hour"]["slowest"])
    return "\n".join([
        "<!-- incremental:begin -->",
        f"## The transform for a new day and a new hour: `{r['scale']}` world, "
        f"{w['events']:,} events, {w['days']} days",
        "",
        f"Measured {machine['date']} by `make bench-incremental` (scale `{r['scale']}`): the "
        f"last {HELD_FILES} hourly app files ({r['held_rows']:,} events) held out, a full build "
        "of the rest, then 23 of them (a day), then the last (an hour); each run is the "
        "transform's two dbt stages with their data tests (no ingest, no publish).",
        # "note": written into the results file by whoever re-checked or explained a run
        *([f"Note: {r['note']}"] if r.get("note") else []),
        "",
        "| Run | New events | dbt staging (s) | dbt marts (s) | Total (s) | Of full | "
        "Models / tests (s) | Persons recomputed | Peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("full build", full),
        row("new day (23 files)", r["day"]),
        row("new hour (1 file)", r["hour"]),
        "",
        f"Slowest nodes of the hour: {slowest}.",
        "<!-- incremental:end -->",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from growthops.bench.run import side_arguments

    args = side_arguments("growthops.bench.incremental", __doc__, "medium", argv)
    from growthops.bench import report

    results = run(args.scale, args.seed, args.dirt_rate, args.reuse_pipeline)
    report.save_section(results, SECTION, section, Path(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
