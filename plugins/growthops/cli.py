"""`growthops` command line: demo data, the pipeline, settings."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from growthops.config import ConfigError, Settings, settings
from growthops.landing import make_inboxes


def _demo_config(args: argparse.Namespace):  # -> DemoConfig (import kept lazy)
    from growthops.demo.simulate import DemoConfig
    from growthops.demo.world import SCALES

    return DemoConfig(
        scale=SCALES[args.scale],
        seed=args.seed,
        dirt_rate=args.dirt_rate,
        start=date.fromisoformat(args.start),
    )


def cmd_demo_generate(args: argparse.Namespace) -> int:
    from growthops.demo.generate import generate

    cfg = settings()
    landing = cfg.landing_dir
    if args.clean and landing.exists():
        shutil.rmtree(landing)
    t0 = time.perf_counter()
    truth = generate(_demo_config(args), landing, cfg.demo_truth_dir, progress=print)
    seconds = time.perf_counter() - t0
    print(
        f"demo world '{args.scale}' (seed {args.seed}, dirt rate {args.dirt_rate:g}): "
        f"{len(truth.files)} files, {truth.events_generated:,} app events, "
        f"{len(truth.persons):,} users, {len(truth.spend_rows):,} spend rows in {seconds:.1f}s"
    )
    print(f"  landing files: {landing}")
    print(f"  ground truth:  {cfg.demo_truth_dir}")
    print("  dirt injected: " + ", ".join(f"{k}={v}" for k, v in truth.dirt.items()))
    return 0


def cmd_demo_drip(args: argparse.Namespace) -> int:
    from growthops.demo.generate import drip, generate

    cfg = settings()
    outbox = cfg.data_root / "demo_outbox"
    if outbox.exists():
        shutil.rmtree(outbox)
    generate(_demo_config(args), outbox, cfg.demo_truth_dir)
    moved = drip(
        outbox,
        cfg.landing_dir,
        args.interval,
        batch=args.batch,
        on_file=lambda p: print(f"delivered {p.relative_to(cfg.landing_dir)}", flush=True),
    )
    print(f"{moved} files delivered into {cfg.landing_dir}")
    return 0


def cmd_config(_: argparse.Namespace) -> int:
    for env, value, doc in settings().describe():
        print(f"{env}={value}\n    {doc}")
    return 0


@contextlib.contextmanager
def _one_run_per_data_root(cfg: Settings) -> Iterator[bool]:
    """An exclusive lock on the data root for `run` / `rebuild`: yields False when another
    one holds it (the caller says so in one line instead of racing it)."""
    import fcntl

    cfg.data_root.mkdir(parents=True, exist_ok=True)
    with (cfg.data_root / ".growthops-run.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _exclusively(cfg: Settings, work: Callable[[], int]) -> int:
    """`work` holding the data root's run lock, or one line when another run holds it."""
    with _one_run_per_data_root(cfg) as mine:
        if not mine:
            print(f"growthops: another `growthops run` or `rebuild` is working on "
                  f"{cfg.data_root}: wait for it to finish", file=sys.stderr)  # fmt: skip
            return 1
        return work()


def cmd_run(args: argparse.Namespace) -> int:
    cfg = settings()
    return _exclusively(cfg, lambda: _run(args, cfg))


def _run(args: argparse.Namespace, cfg: Settings) -> int:
    """The main job: every DAG in-process on what landed. Demo data only when asked
    (`--demo`: generated once into an empty data root; `--regenerate`: deleted and made
    again); nothing in landing/ is ever deleted otherwise."""
    from growthops.landing import iter_complete_files

    if args.regenerate:
        for folder in (cfg.landing_dir, cfg.archive_dir, cfg.quarantine_dir, cfg.warehouse_dir,
                       cfg.demo_truth_dir):  # fmt: skip
            shutil.rmtree(folder, ignore_errors=True)
    has_files = any(iter_complete_files(cfg.landing_dir))
    if not has_files and not cfg.pipeline_db.exists():
        if not (args.demo or args.regenerate):
            make_inboxes(cfg.landing_dir)
            print(f"nothing in {cfg.landing_dir} yet: deliver files there, or run "
                  f"`growthops run --demo` for the demo company")  # fmt: skip
            return 0
        args.clean = False  # an empty data root: nothing to empty (uploads in progress stay)
        cmd_demo_generate(args)
    elif not has_files:
        print(f"nothing new in {cfg.landing_dir} (`--demo --regenerate` starts the demo over)")

    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")  # the summary says it all
    from growthops.runner import run_dags

    print("running the DAGs in-process (dag.test(): the same DAG code, no Airflow services) ...")
    if cfg.dbt_target == "spark":
        print(f"  models built on Apache Spark ({cfg.spark_master}), raw read from {cfg.lake_dir}")
    dags = [f"ingest_{family}" for family in ("channel", "content", "app")]
    if has_files or not cfg.serving_db.exists():
        dags.append("transform")  # as under the scheduler: only new raw data starts a transform
    log_path = cfg.data_root / "logs" / "make_run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"  (task logs: {log_path})", flush=True)
    terminal = sys.stdout

    def progress(line: str) -> None:
        print(line, file=terminal, flush=True)

    with (
        log_path.open("a") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        results = run_dags(dags, cfg, progress=progress, transcript=log_path)
    failed = [r for r in results if r.state != "success"]
    print()
    print(_warehouse_summary(cfg))
    if cfg.serving_db.exists():
        print()
        print(_report_summary(cfg))
    for r in failed:
        print(f"FAILED: {r.dag_id} {r.task_states}: see ops.pipeline_runs and {log_path}")
    return 1 if failed else 0


def _report_summary(cfg: Settings) -> str:
    """The latest complete week's headline and the reports' paths (the transform DAG wrote
    them after publishing; written here when it did not run)."""
    from growthops import report

    lines = [f"published marts: {cfg.serving_db}"]
    try:
        lines.append(report.summary(cfg))
        marts = report.Marts(cfg)
        try:
            periods = [report.resolve_period(marts, unit, None) for unit in report.PERIOD_UNITS]
        finally:
            marts.close()
        paths = [report.report_path(cfg, p) for p in periods]
        if not all(p.exists() for p in paths):
            paths = report.latest_reports(cfg)
    except report.ReportError as exc:
        return f"{lines[0]}\nno report: {exc}"
    lines.append("reports (open in a browser; all of them: reports/index.html):")
    lines += [f"  {p}" for p in paths]
    lines.append(
        "query the marts (read-only, safe while the pipeline runs):\n"
        "  .venv/bin/growthops sql \"select * from mart_kpi_periods where period_unit = 'week'\""
    )
    return "\n".join(lines)


def _warehouse_summary(cfg) -> str:
    from growthops import warehouse

    con = warehouse.open_pipeline(cfg, read_only=True)
    try:
        names = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' order by 1"
        ).fetchall()
        tables = [(n, con.execute(f"select count(*) from raw.{n}").fetchone()[0]) for (n,) in names]
        manifest = con.execute(
            "select family, status, count(*), sum(rows_in), sum(rows_loaded), "
            "sum(rows_quarantined) from raw.ingest_manifest group by all order by all"
        ).fetchall()
    finally:
        con.close()
    lines = [f"pipeline warehouse: {cfg.pipeline_db}"]
    lines += [f"  raw.{name:<22} {rows:>9,} rows" for name, rows in tables]
    lines.append("files by outcome (rows in = loaded + quarantined):")
    lines += [
        f"  {fam:<8} {status:<9} {n:>5} files  in={i:,} loaded={ld:,} quarantined={q:,}"
        for fam, status, n, i, ld, q in manifest
    ]
    lines += [
        f"rejected files and their reasons: {cfg.quarantine_dir}/<family>/<load>/*.reason.txt",
        "quarantined rows: select source_file, row_number, rule, reason "
        "from raw.quarantine_rows limit 20;",
        f"the pipeline's own file (raw, staging, quarantine): {cfg.pipeline_db}",
    ]
    return "\n".join(lines)


def cmd_up(args: argparse.Namespace) -> int:
    """Airflow standalone with the growthops DAGs unpaused; Ctrl-C stops it."""
    from growthops import standalone

    cfg = settings()
    sa = standalone.start(cfg, port=args.port)  # init-airflow creates the landing folders
    print(f"starting airflow standalone (log: {sa.log_path}) ...", flush=True)
    try:
        seconds = standalone.wait_healthy(sa)
        print(f"Airflow UI: http://localhost:{args.port}  (healthy after {seconds:.0f}s)")
        print(
            f"  user: admin   password: {sa.password}  (from {sa.home}/{standalone.PASSWORD_FILE})"
        )
        print(f"  drop files into {cfg.landing_dir}/<family>/ (write, then rename) or run:")
        print("  .venv/bin/growthops demo drip --interval 5 --batch 10")
        print("Ctrl-C stops Airflow.", flush=True)
        sa.process.wait()
    except KeyboardInterrupt:
        print("stopping airflow ...")
    finally:
        standalone.stop(sa)
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    """`airflow <args>` with growthops' Airflow settings (values already set win).

    docker-compose.yml's containers run their components through this (`growthops airflow
    scheduler`, ...), so growthops' Airflow settings live in airflow_env alone."""
    from growthops import airflow_env

    airflow_env.apply(settings())
    # this environment's airflow (the venv's, or the image's) even when PATH lacks it
    airflow = shutil.which("airflow", path=str(Path(sys.executable).parent)) or "airflow"
    os.execvp(airflow, [airflow, *args.airflow_args])  # becomes Airflow: signals reach it


def cmd_init_airflow(_: argparse.Namespace) -> int:
    """Create or migrate Airflow's metadata DB, the DuckDB pool and the landing folders
    (idempotent): docker-compose.yml's airflow-init."""
    from growthops import airflow_env

    cfg = settings()
    if example := airflow_env.example_secret_in_use(cfg):
        print(f"growthops init-airflow: {example}", file=sys.stderr)
        return 2
    make_inboxes(cfg.landing_dir)
    airflow_env.apply(cfg)
    airflow_env.prepare_metadata_db()
    print(
        f"airflow metadata DB ready; pool {airflow_env.DUCKDB_POOL} (1 slot); inboxes in {cfg.landing_dir}"
    )
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Query the published marts, and the pipeline's tables as pipeline.<schema>.<table>, with
    nothing writable and no file reachable; errors in one line."""
    import duckdb

    from growthops import warehouse

    cfg = settings()
    if not cfg.serving_db.exists():
        print(f"no published marts yet at {cfg.serving_db}: run `make run` first", file=sys.stderr)
        return 1
    try:
        con, note = warehouse.analyst_connection(cfg)
    except (duckdb.Error, warehouse.WarehouseLockedError) as exc:
        print(f"growthops sql: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    try:
        if note:
            print(f"note: {note}", file=sys.stderr)
        refused = warehouse.refused_statement(con, args.query)
        if refused:
            print(f"growthops sql: {refused}", file=sys.stderr)
            return 1
        con.sql(args.query).show(max_rows=args.max_rows)
    except duckdb.Error as exc:
        print(f"growthops sql: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        con.close()
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    """dbt docs of the project, generated against this data root's warehouse and served."""
    import subprocess

    from growthops.dbt import dbt_command, dbt_environment, run_dbt

    cfg = settings()
    generated = run_dbt(["docs", "generate"], cfg)
    if not generated.success:
        print(f"growthops docs: dbt docs generate failed: {generated.output.strip().splitlines()[-1]}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"dbt docs on http://localhost:{args.port} (Ctrl-C stops)", flush=True)
    serve = dbt_command(cfg, ["docs", "serve", "--port", str(args.port), "--no-browser"])
    with contextlib.suppress(KeyboardInterrupt):
        subprocess.run(serve, env=dbt_environment(cfg), check=False)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from growthops.report import ReportError, build_report

    try:
        path = build_report(settings(), args.period, args.date)
    except ReportError as exc:
        print(f"growthops report: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def cmd_rebuild(_: argparse.Namespace) -> int:
    cfg = settings()
    return _exclusively(cfg, lambda: _rebuild(cfg))


def _rebuild(cfg: Settings) -> int:
    """Rebuild every model from raw with the current settings and publish (after a change of
    GROWTHOPS_REPORTING_TZ or GROWTHOPS_REPORTING_CURRENCY)."""
    from growthops.runner import run_dags

    print(f"rebuilding every model from raw (full refresh) in {cfg.reporting_timezone}, "
          f"{cfg.reporting_currency} ...", flush=True)  # fmt: skip
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    log_path = cfg.data_root / "logs" / "rebuild.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        log_path.open("a") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        [result] = run_dags(["transform"], cfg, conf={"full_refresh": True})
    print(f"  transform {result.state} in {result.seconds:.1f}s (task logs: {log_path})")
    if result.state != "success":
        print(f"FAILED: {result.task_states}: see ops.pipeline_runs and {log_path}")
        return 1
    print(f"published: {cfg.serving_db}")
    return 0


def cmd_accept_restatement(args: argparse.Namespace) -> int:
    """Apply a held restatement: it goes back to landing/ and replaces the loaded version."""
    from growthops.ingest.loader import accept_restatement

    try:
        print(accept_restatement(Path(args.held_file), settings()))
    except ValueError as exc:
        print(f"growthops: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_world_args(p: argparse.ArgumentParser) -> None:
    from growthops.demo.world import SCALES

    p.add_argument("--scale", choices=sorted(SCALES), default="small")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--dirt-rate", type=float, default=0.01, help="share of rows/files made dirty")
    p.add_argument("--start", default="2026-06-01", help="first day of the world (YYYY-MM-DD)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="growthops", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the main job on the demo data")
    _add_world_args(run)
    run.add_argument(
        "--demo", action="store_true", help="generate the demo company into an empty data root"
    )
    run.add_argument(
        "--regenerate",
        action="store_true",
        help="delete the data root's landing/, archive/, quarantine/, warehouse/ and make the "
        "demo again",
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="the demo business simulator").add_subparsers(
        dest="demo_command", required=True
    )
    gen = demo.add_parser("generate", help="write a demo world into landing/")
    _add_world_args(gen)
    gen.add_argument("--clean", action="store_true", help="empty landing/ first")
    gen.set_defaults(func=cmd_demo_generate)

    drip = demo.add_parser("drip", help="deliver a demo world into landing/ over time")
    _add_world_args(drip)
    drip.add_argument("--interval", type=float, default=5.0, help="seconds between deliveries")
    drip.add_argument("--batch", type=int, default=1, help="files per delivery")
    drip.set_defaults(func=cmd_demo_drip)

    up = sub.add_parser("up", help="start Airflow standalone (UI, scheduler, triggerer)")
    up.add_argument("--port", type=int, default=8080)
    up.set_defaults(func=cmd_up)

    air = sub.add_parser(
        "airflow", help="run an airflow command with growthops' settings (docker-compose uses it)"
    )
    air.add_argument("airflow_args", nargs=argparse.REMAINDER, help="e.g. scheduler, dags list")
    air.set_defaults(func=cmd_airflow)

    init = sub.add_parser("init-airflow", help="create/migrate Airflow's metadata DB and the pool")
    init.set_defaults(func=cmd_init_airflow)

    sql = sub.add_parser(
        "sql",
        help="query the published marts and (as pipeline.raw.*, pipeline.ops.*) the pipeline's "
        "tables, read-only",
    )
    sql.add_argument("query")
    sql.add_argument("--max-rows", type=int, default=40)
    sql.set_defaults(func=cmd_sql)

    rebuild = sub.add_parser(
        "rebuild",
        help="rebuild every model with the current settings and publish (after a change of "
        "GROWTHOPS_REPORTING_TZ or _CURRENCY)",
    )
    rebuild.set_defaults(func=cmd_rebuild)

    accept = sub.add_parser(
        "accept-restatement",
        help="apply a held restatement (a file delivered again with far fewer rows)",
    )
    accept.add_argument("held_file", help="the held file under quarantine/ (its .reason.txt says)")
    accept.set_defaults(func=cmd_accept_restatement)

    rep = sub.add_parser(
        "report",
        help="write the ops report (HTML) of a day or an ISO week from the published marts",
    )
    rep.add_argument("--period", choices=("day", "week"), default="day")
    rep.add_argument(
        "--date",
        type=date.fromisoformat,
        default=None,
        help="a day in the period (YYYY-MM-DD); default: the latest complete period",
    )
    rep.set_defaults(func=cmd_report)

    docs = sub.add_parser("docs", help="generate and serve the dbt docs (marts, columns, lineage)")
    docs.add_argument("--port", type=int, default=8081, help="8080 is Airflow's")
    docs.set_defaults(func=cmd_docs)

    cfg = sub.add_parser("config", help="print the effective settings")
    cfg.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"growthops: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
