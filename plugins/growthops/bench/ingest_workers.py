"""`make bench-ingest`: the ingest of one cached world with 1 and with N workers
(GROWTHOPS_INGEST_WORKERS), timed side by side, the raw they load compared, the section
written to BENCHMARKS.md (kept by make bench).

Each run is a measured step of its own (bench.run: wall seconds; peak RSS of the largest
process, the workers included) on a fresh data root with the world's files hard-linked into
landing/. The runs must load the same rows: every raw table equal in every column but the
lineage (which of two copies of a messageId loads follows the commit order when two workers
race), every file balanced, no messageId twice, and the lake's visible parts equal to raw.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from growthops.bench.world import add_world_arguments
from growthops.config import settings

SECTION = "ingest-workers"  # its marked section of BENCHMARKS.md (bench.report.write_section)
FAMILIES = ("channel", "content", "app")  # FX rates (channel) first, as the DAGs' schedule
LINEAGE = ("load_id", "source_file", "row_number", "raw_record")


def step_ingest(args: dict[str, Any]) -> dict[str, Any]:
    """Every family of the world's full files ingested with `workers` workers."""
    from growthops.bench.world import World, link_files
    from growthops.ingest.loader import ingest

    cfg = replace(settings(), data_root=Path(args["data_root"]))
    shutil.rmtree(cfg.data_root, ignore_errors=True)
    for family in FAMILIES:
        (cfg.landing_dir / family).mkdir(parents=True)
    world = World.from_json(args["world"])
    link_files(world.root, world.full_files(), cfg.landing_dir)
    out: dict[str, Any] = {"families": {}}
    started = time.perf_counter()
    for family in FAMILIES:
        began = time.perf_counter()
        report = ingest(family, cfg, workers=int(args["workers"]))
        out["families"][family] = {
            "seconds": time.perf_counter() - began,
            "files": len(report.files),
            "rows": report.rows_loaded,
            "rows_quarantined": report.rows_quarantined,
            "workers": len({f.worker for f in report.files}),
        }
    out["seconds"] = time.perf_counter() - started
    out["cpu_seconds"] = _cpu_seconds()
    return out


def _cpu_seconds() -> float:
    """User + system CPU of this process and the workers it waited for."""
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def compare_runs(one: Path, many: Path) -> dict[str, Any]:
    """What differs between two ingests of the same files (empty lists: nothing)."""
    import duckdb

    from growthops.ingest.schema import TABLE_COLUMNS

    con = duckdb.connect()
    try:
        con.execute("attach ? as one (read_only)", [str(one / "warehouse" / "pipeline.duckdb")])
        con.execute("attach ? as many (read_only)", [str(many / "warehouse" / "pipeline.duckdb")])
        checks: dict[str, Any] = {}
        for table, columns in TABLE_COLUMNS.items():
            names = ", ".join(n for n, _ in columns if n not in LINEAGE)
            differ = con.execute(
                f"select (select count(*) from (select {names} from one.raw.{table} "
                f"except all select {names} from many.raw.{table})), "
                f"(select count(*) from (select {names} from many.raw.{table} "
                f"except all select {names} from one.raw.{table}))"
            ).fetchone()
            checks[table] = list(differ)
        for name in ("one", "many"):
            unbalanced = con.execute(
                f"select count(*) from {name}.raw.ingest_manifest "
                "where rows_in <> rows_loaded + rows_quarantined"
            ).fetchone()[0]
            doubled = con.execute(
                f"select count(*) from (select message_id from {name}.raw.app_events "
                "group by 1 having count(*) > 1)"
            ).fetchone()[0]
            raw_rows = " + ".join(f"(select count(*) from {name}.raw.{t})" for t in TABLE_COLUMNS)
            lake = con.execute(
                f"select (select sum(row_count) from {name}.raw.lake_parts "
                f"where status = 'visible') - ({raw_rows})"
            ).fetchone()[0]
            checks[f"{name}: unbalanced files, doubled messageIds, lake minus raw rows"] = [
                unbalanced, doubled, lake]  # fmt: skip
        return checks
    finally:
        con.close()


def failures(checks: dict[str, Any]) -> list[str]:
    return [f"{what}: {values}" for what, values in checks.items() if any(values)]


def run(scale: str, seed: int, dirt_rate: float, workers: list[int]) -> dict[str, Any]:
    from growthops.bench.run import _run_step
    from growthops.bench.world import ensure_world

    cfg = settings()
    work = cfg.bench_dir / "runs" / f"{scale}-ingest-workers"
    work.mkdir(parents=True, exist_ok=True)
    world = ensure_world(cfg.bench_dir, scale, seed, dirt_rate)
    print(f"world '{scale}': {world.events:,} events in {world.files:,} files", flush=True)
    results: dict[str, Any] = {"scale": scale, "world": {"events": world.events,
                                                         "files": world.files, "days": world.days},
                               "runs": {}}  # fmt: skip
    for n in workers:
        root = work / f"workers-{n}"
        args = {"data_root": root, "world": world.to_json(), "workers": n}
        results["runs"][str(n)] = _run_step(f"ingest_{n}_workers", "ingest", args, work)
    first = work / f"workers-{workers[0]}"
    results["checks"] = {str(n): compare_runs(first, work / f"workers-{n}") for n in workers[1:]}
    for n in workers[1:]:  # the copies are large; the first run stays for a look
        shutil.rmtree(work / f"workers-{n}", ignore_errors=True)
    return results


def section(r: dict[str, Any], machine: dict[str, Any]) -> str:
    w = r["world"]
    base = r["runs"][min(r["runs"], key=int)]
    problems = [line for checks in r["checks"].values() for line in failures(checks)]
    verdict = ("every run loaded the same rows (all columns but lineage), every file balanced, "
               "no messageId twice, the lake's visible parts = raw" if not problems
               else "**differences**: " + "; ".join(problems))  # fmt: skip
    rows = []
    for n, run in sorted(r["runs"].items(), key=lambda kv: int(kv[0])):
        app = run["families"]["app"]
        rows.append(
            f"| {n} | {run['seconds']:,.1f} | {app['seconds']:,.1f} ({app['workers']} worked) | "
            f"{base['seconds'] / run['seconds']:.2f}x | {run.get('cpu_seconds', 0):,.0f} | "
            f"{run['peak_rss_mb']:,.0f} |"
        )
    return "\n".join([
        f"<!-- {SECTION}:begin -->",
        f"## Ingest on 1 and more workers: `{r['scale']}` world, {w['events']:,} events, "
        f"{w['files']:,} files",
        "",
        f"Measured {machine['date']} by `make bench-ingest` (scale `{r['scale']}`) on "
        f"{machine['cores']} cores: the world's files ingested (all three families, "
        f"FX first) into a new data root with GROWTHOPS_INGEST_WORKERS = N. Results check: "
        f"{verdict}.",
        *([f"Note: {r['note']}"] if r.get("note") else []),
        "",
        "| Workers | Seconds | of which app | Speed-up | CPU seconds | Peak RSS (MB, largest process) |",
        "|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Workers parse, gate and write Parquet parts in parallel; their commits (manifest, "
        "quarantine, the embedded raw copy) take turns on the pipeline file, which bounds the "
        "speed-up. FX and content files are few: they run on one worker.",
        f"<!-- {SECTION}:end -->",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m growthops.bench.ingest_workers",
                                     description=__doc__)  # fmt: skip
    add_world_arguments(parser, default_scale="medium")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    args = parser.parse_args(argv)
    from growthops.bench import report

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    counts = [int(n) for n in args.workers.split(",")]
    results = run(args.scale, args.seed, args.dirt_rate, counts)
    report.save_section(results, SECTION, section, Path(args.output))
    failed = [line for checks in results["checks"].values() for line in failures(checks)]
    for line in failed:
        print(f"CHECK FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
