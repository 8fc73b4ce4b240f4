"""`make bench`: time the pipeline, the floor, pandas and an incremental day on one cached
world, check that they agree, and write BENCHMARKS.md.

Every measured step runs in its own process, so its peak memory is its own: the parent
reads the child's rusage (ru_maxrss: the largest resident set of the step's process and
the processes it waited for, dbt included). Steps hand their results back as JSON files.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from growthops.bench.world import add_world_arguments
from growthops.config import Settings, settings

PIPELINE_DAGS = ["ingest_channel", "ingest_content", "ingest_app", "transform"]
PANDAS_MARTS = ["mart_funnel_conversion", "mart_retention"]


# ------------------------------------------------------------------------ measured steps


def _step_pipeline(args: dict[str, Any]) -> dict[str, Any]:
    """One pipeline run (the DAGs, in-process with dag.test()) over the files given."""
    from growthops.bench.world import World, link_files
    from growthops.runner import run_dags

    cfg = replace(settings(), data_root=Path(args["data_root"]))
    if args["fresh"]:
        shutil.rmtree(cfg.data_root, ignore_errors=True)
    for family in ("channel", "content", "app"):
        (cfg.landing_dir / family).mkdir(parents=True, exist_ok=True)
    world = World.from_json(args["world"])
    files = world.full_files() if args["files"] == "full" else world.next_day_files()
    link_files(world.root, files, cfg.landing_dir)
    started = time.perf_counter()
    results = run_dags(PIPELINE_DAGS, cfg)
    total = time.perf_counter() - started
    failed = [r.dag_id for r in results if r.state != "success"]
    if failed:
        raise RuntimeError(f"pipeline DAGs failed: {failed}; see {cfg.data_root}/logs")
    out: dict[str, Any] = {"seconds": total, "files": len(files), "dags": {}, "stages": {}}
    raw_gate = 0.0
    for r in results:
        out["dags"][r.dag_id] = r.seconds
        for task, seconds in r.task_seconds.items():
            out["stages"][f"{r.dag_id}.{task}"] = seconds
        for value in r.returns.values():
            if isinstance(value, dict) and "gate_seconds" in value:
                raw_gate += float(value["gate_seconds"])
                out.setdefault("rows_loaded", 0)
                out["rows_loaded"] += int(value.get("rows", 0))
        marts = r.returns.get("dbt_build_marts")
        if marts:
            out["mart_models"] = {n["name"]: n["seconds"] for n in marts["nodes"]}
    gates = raw_gate + sum(
        s
        for k, s in out["stages"].items()
        if k in ("transform.gate_staging", "transform.gate_marts")
    )
    out["gates"] = {"raw_gate": raw_gate, "all_gates": gates}
    return out


def _step_floor(args: dict[str, Any]) -> dict[str, Any]:
    from growthops.bench import floor
    from growthops.bench.world import World

    world = World.from_json(args["world"])
    cfg = replace(settings(), data_root=Path(args["data_root"]))
    compile_cfg = replace(cfg, data_root=cfg.data_root.with_name("floor_compile"))
    shutil.rmtree(compile_cfg.data_root, ignore_errors=True)
    compile_cfg.warehouse_dir.mkdir(parents=True)
    models, seed = floor.compile_models(compile_cfg)  # writing the SQL: not timed
    started = time.perf_counter()
    timings = floor.run_floor(cfg, world.root, world.full_files(), models, seed)
    return {"seconds": time.perf_counter() - started, "models": len(models),
            **floor.describe(timings)}  # fmt: skip


def _step_pandas(args: dict[str, Any]) -> dict[str, Any]:
    from growthops.bench import pandas_marts as pm

    cfg = settings()
    started = time.perf_counter()
    events, persons = pm.load_inputs(Path(args["events"]), Path(args["persons"]))
    loaded = time.perf_counter()
    funnels, definitions = pm.analyses(cfg.dbt_project_dir)
    funnel = pm.funnel_conversion(events, persons, funnels, cfg.reporting_timezone)
    retention = pm.retention(events, persons, definitions, cfg.reporting_timezone)
    seconds = time.perf_counter() - started
    out = Path(args["out"])
    funnel.to_parquet(out / "mart_funnel_conversion.parquet")
    retention.to_parquet(out / "mart_retention.parquet")
    return {"seconds": seconds, "read_seconds": loaded - started, "events": len(events)}


def _step_dbt_build(args: dict[str, Any]) -> dict[str, Any]:
    from growthops.bench.engines import step_dbt_build

    return step_dbt_build(args)


def _step_ingest(args: dict[str, Any]) -> dict[str, Any]:
    from growthops.bench.ingest_workers import step_ingest

    return step_ingest(args)


STEPS = {"pipeline": _step_pipeline, "floor": _step_floor, "pandas": _step_pandas,
         "dbt_build": _step_dbt_build, "ingest": _step_ingest}  # fmt: skip


class StepFailedError(RuntimeError):
    """A measured step exited non-zero; what it cost until then is kept (a failure to
    finish, e.g. the kernel's OOM killer, is a result of the benchmark too)."""

    def __init__(self, message: str, record: dict[str, Any]) -> None:
        super().__init__(message)
        self.record = record


def _exit_meaning(code: int) -> str:
    if code == -9:
        return "killed by SIGKILL (-9): on this machine, the kernel's OOM killer (see dmesg)"
    return f"exit {code}"


def _run_step(label: str, step: str, args: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Run a step in a child process; its JSON result plus wall seconds and peak RSS."""
    args_file, out_file = workdir / f"{label}.args.json", workdir / f"{label}.out.json"
    args_file.write_text(json.dumps(args, default=str))
    out_file.unlink(missing_ok=True)
    log = (workdir / f"{label}.log").open("w")
    print(f"  {label:<22} running ... (log: {workdir / label}.log)", flush=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "growthops.bench.run", "_step", step, str(args_file), str(out_file)]  # fmt: skip
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    log.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not out_file.exists():
        tail = (workdir / f"{label}.log").read_text(errors="replace")[-3000:]
        # the step never reported its own time: wall seconds until it ended are the figure
        record = {
            "failed": _exit_meaning(code),
            "seconds": wall,
            "peak_rss_mb": usage.ru_maxrss / 1024,
        }
        raise StepFailedError(
            f"bench step {label} failed ({record['failed']}) after {wall:,.0f} s, peak RSS "
            f"{record['peak_rss_mb']:,.0f} MB; log {workdir / label}.log:\n{tail}",
            record,
        )
    result = json.loads(out_file.read_text())
    result["wall_seconds"] = wall
    result["peak_rss_mb"] = usage.ru_maxrss / 1024
    out_file.write_text(json.dumps(result, default=str))  # kept, RSS included (--reuse-pipeline)
    print(
        f"  {label:<22} {result['seconds']:8.1f} s   peak RSS {result['peak_rss_mb']:7.0f} MB",
        flush=True,
    )
    return result


# ------------------------------------------------------------------------ the benchmark


def side_arguments(module: str, doc: str | None, default_scale: str, argv: list[str] | None) -> Any:
    """A side benchmark's command line: the world, BENCHMARKS.md and --reuse-pipeline (see
    side_pipeline); Airflow's logging is quietened for the pipeline step."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc)
    add_world_arguments(parser, default_scale=default_scale)
    parser.add_argument("--reuse-pipeline", action="store_true",
                        help="keep the last pipeline run's raw instead of ingesting again")  # fmt: skip
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    return parser.parse_args(argv)


def side_pipeline(
    name: str, scale: str, seed: int, dirt_rate: float, reuse: bool
) -> tuple[Path, Any, Path]:
    """A side benchmark's start (`make bench-spark`, `make bench-incremental`): its folder
    data/bench/runs/<scale>-<name>, the cached world, and the data root of one full pipeline
    run there (kept from the last time when `reuse` and it finished)."""
    from growthops.bench.world import ensure_world

    cfg = settings()
    work = cfg.bench_dir / "runs" / f"{scale}-{name}"
    work.mkdir(parents=True, exist_ok=True)
    world = ensure_world(cfg.bench_dir, scale, seed, dirt_rate)
    print(f"world '{scale}': {world.events:,} events in {world.files:,} files", flush=True)
    root = work / "pipeline"
    if reuse and (work / "pipeline.out.json").exists():
        print(f"  pipeline (reused from {root})", flush=True)
    else:
        args = {"data_root": root, "world": world.to_json(), "files": "full", "fresh": True}
        _run_step("pipeline", "pipeline", args, work)
    return work, world, root


def run(
    scale: str,
    seed: int,
    dirt_rate: float,
    only_pipeline: bool,
    cfg: Settings,
    reuse_pipeline: bool = False,
) -> dict[str, Any]:
    from growthops.bench import compare
    from growthops.bench.world import ensure_world

    bench = cfg.bench_dir
    work = bench / "runs" / scale
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"world '{scale}' (seed {seed}): generating once, then cached under {bench / 'worlds'} ...",
        flush=True,
    )
    world = ensure_world(bench, scale, seed, dirt_rate)
    print(
        f"  {world.events:,} events in {world.files:,} files (generated in {world.generate_seconds:.0f} s)"
    )
    world_args = world.to_json()
    pipeline_root = work / "pipeline"
    results: dict[str, Any] = {"scale": scale, "seed": seed, "dirt_rate": dirt_rate,
                               "world": {"events": world.events, "files": world.files,
                                         "days": world.days, "generate_seconds": world.generate_seconds}}  # fmt: skip
    kept, incremented = work / "pipeline.out.json", work / "incremental_day.out.json"
    if reuse_pipeline and kept.exists() and not incremented.exists():
        # a previous run's full pipeline (its incremental day not yet applied): the slow step
        # is not repeated when a later step is being fixed
        results["pipeline"] = json.loads(kept.read_text())
        results["pipeline"].setdefault("peak_rss_mb", None)
        print(f"  pipeline (reused from {kept})", flush=True)
    else:
        incremented.unlink(missing_ok=True)
        try:
            results["pipeline"] = _run_step(
                "pipeline",
                "pipeline",
                {"data_root": pipeline_root, "world": world_args, "files": "full", "fresh": True},
                work,
            )
        except StepFailedError as exc:
            if not only_pipeline:
                raise
            # "does the large world finish on this machine" is what this run answers
            print(exc, file=sys.stderr)
            results["pipeline"] = exc.record
    if only_pipeline:
        return results
    pipeline_cfg = replace(cfg, data_root=pipeline_root)
    snapshot = work / "pipeline_full_marts.duckdb"
    shutil.copyfile(pipeline_cfg.serving_db, snapshot)
    events, persons = compare.export_pandas_inputs(pipeline_cfg.pipeline_db, work)
    results["floor"] = _run_step(
        "floor", "floor", {"data_root": work / "floor", "world": world_args}, work
    )
    results["pandas"] = _run_step(
        "pandas", "pandas", {"events": events, "persons": persons, "out": work}, work
    )
    results["incremental"] = _run_step(
        "incremental_day",
        "pipeline",
        {"data_root": pipeline_root, "world": world_args, "files": "next_day", "fresh": False},
        work,
    )
    results["checks"] = {
        "floor_vs_pipeline": compare.compare_databases(
            snapshot, work / "floor" / "warehouse" / "pipeline.duckdb"
        ),
        "pandas_vs_pipeline": compare.compare_parquet(snapshot, work, PANDAS_MARTS),
    }
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_step":  # a measured step, in its own process
        step, args_file, out_file = argv[1:4]
        result = STEPS[step](json.loads(Path(args_file).read_text()))
        Path(out_file).write_text(json.dumps(result, default=str))
        return 0
    parser = argparse.ArgumentParser(prog="python -m growthops.bench.run", description=__doc__)
    add_world_arguments(parser, default_scale="medium")
    parser.add_argument("--pipeline-only", action="store_true",
                        help="time the full pipeline run only (what the large world gets)")  # fmt: skip
    parser.add_argument("--reuse-pipeline", action="store_true",
                        help="keep the last full pipeline run instead of repeating it")  # fmt: skip
    args = parser.parse_args(argv)
    from growthops.bench import report

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    cfg = settings()
    results = run(args.scale, args.seed, args.dirt_rate, args.pipeline_only, cfg,
                  args.reuse_pipeline)  # fmt: skip
    results["machine"] = report.machine()
    path = report.save(results, cfg.bench_dir / "results")
    print(f"results: {path}")
    output = Path(args.output)
    kept = {name: report.section_of(output, name) for name in report.KEPT_SECTIONS}
    output.write_text(report.render(cfg.bench_dir / "results"), encoding="utf-8")
    for name, text in kept.items():  # make bench-spark's and bench-ingest's
        if text:
            report.write_section(output, name, text)
    print(f"wrote {args.output}")
    failed = report.failed_checks(results)
    for line in failed:
        print(f"CHECK FAILED: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
