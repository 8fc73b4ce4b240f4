"""The transform stages: dbt build -> gate -> dbt build -> gate -> publish, plus the run log.

Write-audit-publish: dbt writes the pipeline DuckDB; the gates audit it; only then does
publish copy the marts into a new serving file and rename it over warehouse/marts.duckdb,
so a reader never sees a half-built or failed mart and a failed run leaves the last good
marts in place.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from growthops import assets, quality, warehouse
from growthops.config import Settings, settings
from growthops.dbt import DbtResult, dbt_paths, run_dbt
from growthops.failpoints import PUBLISH_BEFORE_SWAP, failpoint

log = logging.getLogger(__name__)

STAGES: dict[str, list[str]] = {
    # unit tests run in `make test`; production runs build models and their data tests
    "staging": ["build", "--select", "channel_mapping", "staging", "--exclude", "test_type:unit"],
    "marts": ["build", "--select", "intermediate", "marts", "--exclude", "test_type:unit"],
}
SAMPLE_ROWS = 5


class StageFailedError(RuntimeError):
    """A dbt build or a blocking gate failed; the message names what and where."""


# ------------------------------------------------------------------------ dbt stages


# The reporting settings a warehouse was built with (ops.warehouse_settings). A change of
# the zone needs a full refresh: int_events_enriched is incremental and keeps each event's
# day in the zone it was built in. Money is converted in table models rebuilt every run.
REPORTING_SETTINGS = {
    "GROWTHOPS_REPORTING_TZ": "reporting_timezone",
    "GROWTHOPS_REPORTING_CURRENCY": "reporting_currency",
}
NEEDS_FULL_REFRESH = ("GROWTHOPS_REPORTING_TZ",)
WAREHOUSE_SETTINGS_DDL = """
create schema if not exists ops;
create table if not exists ops.warehouse_settings (
    name varchar primary key, value varchar not null, recorded_at timestamp not null
);
"""


def _reporting_settings_changed(con: Any, cfg: Settings) -> str | None:
    """One line saying which reporting setting changed since the warehouse was built and what
    to run, or None when nothing that needs a rebuild changed."""
    built = dict(con.execute("select name, value from ops.warehouse_settings").fetchall())
    for env in NEEDS_FULL_REFRESH:
        now = str(getattr(cfg, REPORTING_SETTINGS[env]))
        if env in built and built[env] != now:
            return (
                f"the warehouse was built with {env}={built[env]} and it is now {now}: run "
                f"`growthops rebuild` (or trigger the transform DAG with full_refresh) to "
                f"rebuild every mart with the new setting and publish"
            )
    return None


# The models kept by person recompute only the persons whose events changed: a changed model,
# macro, seed or var (a funnel, the session timeout) would reach only those. So a marts build
# whose project differs from the one the warehouse was last built with is a full refresh.
PROJECT_FINGERPRINT = "dbt_project_fingerprint"
PROJECT_PARTS = ("dbt_project.yml", "models", "macros", "seeds")


def project_fingerprint(cfg: Settings) -> str:
    """sha256 over the dbt project's files that decide what the models compute."""
    root = cfg.dbt_project_dir
    paths = []
    for part in PROJECT_PARTS:
        path = root / part
        paths += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _project_changed(cfg: Settings) -> bool:
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(WAREHOUSE_SETTINGS_DDL)
        built = con.execute(
            "select value from ops.warehouse_settings where name = ?", [PROJECT_FINGERPRINT]
        ).fetchone()
    return built is None or built[0] != project_fingerprint(cfg)


def _record_build_settings(cfg: Settings) -> None:
    """What the marts were built with: the reporting settings and the project fingerprint."""
    now = datetime.now(UTC).replace(tzinfo=None)
    built_with = {env: str(getattr(cfg, attr)) for env, attr in REPORTING_SETTINGS.items()}
    built_with[PROJECT_FINGERPRINT] = project_fingerprint(cfg)
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(WAREHOUSE_SETTINGS_DDL)
        for name, value in built_with.items():
            con.execute(
                "insert or replace into ops.warehouse_settings values (?, ?, ?)", [name, value, now]
            )


def build_stage(stage: str, cfg: Settings | None = None, full_refresh: bool = False) -> DbtResult:
    """dbt build of `stage`; `full_refresh` rebuilds the incremental models from raw too (what
    `growthops rebuild` asks for after a reporting setting changed)."""
    cfg = cfg or settings()
    if stage == "staging":
        # before the first file ever lands, raw is empty rather than missing: dbt builds
        # empty marts instead of failing on absent sources
        from growthops.ingest.schema import ensure_raw_schema

        with warehouse.pipeline_writer(cfg) as con:
            ensure_raw_schema(con)
            con.execute(WAREHOUSE_SETTINGS_DDL)
            changed = None if full_refresh else _reporting_settings_changed(con, cfg)
        if changed:
            raise StageFailedError(changed)
        if cfg.dbt_target == "spark":  # Spark reads raw from the lake: its bookkeeping joins it
            from growthops import lake

            lake.publish_catalog(cfg)
    if stage == "marts" and not full_refresh and _project_changed(cfg):
        log.info("the dbt project differs from the one the marts were built with: full refresh")
        full_refresh = True
    result = run_dbt([*STAGES[stage], *(["--full-refresh"] if full_refresh else [])], cfg)
    if result.success:
        _count_rows(cfg, result)
    if not result.success:
        failed = result.failures()
        detail = "; ".join(
            f"{r.resource_type} {r.name}: {r.message}{_failing_rows(cfg, r)}" for r in failed[:5]
        )
        if not failed:
            detail = result.output[-2000:]
        if warehouse.DISK_FULL in result.output:
            detail += " " + warehouse.disk_full_hint(cfg.data_root)
        raise StageFailedError(f"dbt build of {stage} failed: {detail}")
    if stage == "marts":
        if cfg.dbt_target == "spark":  # what follows reads the marts from the pipeline file
            from growthops import spark

            spark.import_marts(cfg, [r.name for r in result.results if r.resource_type == "model"])
        # the marts written in Python: experiment results (scipy) from the statistics dbt
        # just built, and the day's segment members added to their history
        from growthops import experiments, segments

        experiments.build_results(cfg)
        segments.record_membership(cfg)
        _record_build_settings(cfg)
    return result


def _failing_rows(cfg: Settings, node: Any, limit: int = 3) -> str:
    """A failed test's first stored rows (tests configured with store_failures keep them),
    so the message names the rows, e.g. their source file, not only how many failed."""
    if not node.failures_relation:
        return ""
    try:
        con = warehouse.open_pipeline(cfg, read_only=True)
    except Exception:  # a sample is a courtesy: the failure stands without it
        return ""
    try:
        frame = con.execute(f"select * from {node.failures_relation} limit {int(limit)}").df()
    except Exception:
        return ""
    finally:
        con.close()
    return f" e.g. {frame.to_dict('records')}" if not frame.empty else ""


# ------------------------------------------------------------------------ gates


@dataclass
class GateReport:
    gate: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocking_failures(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["success"] and c["blocking"]]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if not c["success"] and not c["blocking"]]

    def summary(self) -> str:
        lines = [f"gate {self.gate}: {len(self.checks)} expectations, "
                 f"{len(self.blocking_failures)} blocking failures, {len(self.warnings)} warnings"]  # fmt: skip
        for c in self.checks:
            if not c["success"]:
                kind = "FAIL" if c["blocking"] else "warn"
                lines.append(f"  {kind} {c['table']}: {c['expectation']} - {c['reason']} "
                             f"({c['failing_rows']} rows) sample: {c['sample']}")  # fmt: skip
        return "\n".join(lines)


def _validate(report: GateReport, table: str, frame: pd.DataFrame, suite: Path) -> None:
    frame = frame.reset_index(drop=True)
    frame[quality.ROW_ID] = range(len(frame))
    result = quality.validate(frame, suite)
    for rule in result.rules:
        failing = list(rule.failing_rows)
        sample = (
            frame.iloc[failing[:SAMPLE_ROWS]].drop(columns=[quality.ROW_ID]) if failing else None
        )
        report.checks.append(
            {
                "table": table,
                "suite": suite.name,
                "expectation": rule.rule,
                "reason": rule.reason if not rule.error else f"could not run: {rule.error}",
                "blocking": rule.blocking,
                "success": rule.success,
                "failing_rows": len(failing),
                "sample": []
                if sample is None
                else json.loads(sample.to_json(orient="records", date_format="iso")),
            }
        )


def _raise_if_blocked(report: GateReport) -> None:
    log.info("%s", report.summary())
    if report.blocking_failures:
        first = report.blocking_failures[0]
        raise StageFailedError(
            f"gate {report.gate} failed: {len(report.blocking_failures)} blocking expectation(s). "
            f"First: {first['expectation']} on {first['table']} - {first['reason']}; "
            f"{first['failing_rows']} failing rows, e.g. {first['sample'][:3]}"
        )


STAGING_PROFILE_SQL = """
with daily as (
    -- an event's day cannot run ahead of its arrival: a device time outside the plausible
    -- window around receivedAt was replaced by receivedAt at the door, so one phone dated
    -- 2030 cannot make every other feed look years behind
    select 'stg_app__events' as model, cast(event_at as date) as day, count(*) as rows,
           count(*) - count(message_id) as null_key_rows, 0 as negative_metric_rows
    from staging.stg_app__events group by 2
    union all
    select 'stg_channel__spend_reports', report_date, count(*),
           count(*) - count(campaign_id), count(*) filter (where spend_account_currency < 0 or clicks < 0)
    from staging.stg_channel__spend_reports group by 2
    union all
    select 'stg_content__daily_stats', stat_date, count(*),
           count(*) - count(content_id), count(*) filter (where views < 0 or likes < 0)
    from staging.stg_content__daily_stats group by 2
), bounded as (
    select *, min(day) over (partition by model) as first_day from daily
), profiled as (
    -- the first day of a source is partial by nature: it is no yardstick for the days after
    select *,
        median(case when day > first_day then rows end) over recent as trailing_median_rows,
        count(case when day > first_day then 1 end) over recent as trailing_days,
        max(day) over (partition by model) as latest_day
    from bounded
    window recent as (partition by model order by day rows between 7 preceding and 1 preceding)
)
select * exclude (first_day, trailing_days),
    -- a ratio needs three complete days before it
    case when trailing_days >= 3 then rows / nullif(trailing_median_rows, 0) end as volume_ratio,
    -- the first and the latest day of a source are partial by nature
    day > first_day and day < latest_day as is_complete_day,
    date_diff('day', latest_day, max(latest_day) over ()) as days_behind_newest_source
from profiled
order by model, day
"""


PROFILED_STAGING = ("stg_app__events", "stg_channel__spend_reports", "stg_content__daily_stats")


def gate_staging(cfg: Settings | None = None) -> GateReport:
    """Volumes against recent history, freshness across sources, null keys, negative metrics."""
    cfg = cfg or settings()
    report = GateReport("staging")
    if cfg.dbt_target == "spark":
        # the staged tables Spark wrote, read in place (paths as parameters)
        import duckdb

        from growthops import spark

        con = duckdb.connect()
        sql = STAGING_PROFILE_SQL
        for model in PROFILED_STAGING:
            sql = sql.replace(f"staging.{model}", f"read_parquet(${model})")
        params = {m: spark.table_files(cfg, "staging", m) for m in PROFILED_STAGING}
    else:
        con = warehouse.open_pipeline(cfg, read_only=True)
        sql, params = STAGING_PROFILE_SQL, {}
    try:
        frame = con.execute(sql, params).df()
    finally:
        con.close()
    _validate(report, "staging (daily profile)", frame, cfg.expectations_dir / "staging.json")
    _raise_if_blocked(report)
    return report


def mart_tables(con: Any) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
    ).fetchall()
    return [r[0] for r in rows]


# Written against raw directly, not through staging's window: for each canonical grain the
# file loaded last (max of [load_id, source_file]) is found by a group-by, and ALL of that
# file's rows of the grain are summed at the source's precision (micros). An independent
# path to the number mart_spend_daily publishes, per platform x campaign x day x currency.
RECONCILIATION_SQL = """
with report_rows as (
    select platform, account_id, report_date, campaign_id, ad_group_id,
           coalesce(ad_id, '') as ad_id, coalesce(keyword_id, '') as keyword_id,
           [load_id, source_file] as file_version, currency, spend
    from raw.channel_spend
), current_file as (
    select platform, account_id, report_date, campaign_id, ad_group_id, ad_id, keyword_id,
           max(file_version) as file_version
    from report_rows group by all
), raw_side as (
    select r.platform, r.campaign_id, r.report_date, r.currency, sum(r.spend) as raw_spend
    from report_rows r
    join current_file c
      on r.platform = c.platform and r.account_id is not distinct from c.account_id
     and r.report_date = c.report_date and r.campaign_id = c.campaign_id
     and r.ad_group_id = c.ad_group_id and r.ad_id = c.ad_id and r.keyword_id = c.keyword_id
     and r.file_version = c.file_version
    group by all
), mart_side as (
    select platform, campaign_id, report_date, account_currency as currency,
           sum(spend_account_currency) as mart_spend
    from marts.mart_spend_daily where account_currency is not null group by all
)
select coalesce(r.platform, m.platform) as platform,
       coalesce(r.campaign_id, m.campaign_id) as campaign_id,
       coalesce(r.report_date, m.report_date) as report_date,
       coalesce(r.currency, m.currency) as currency,
       cast(coalesce(r.raw_spend, 0) as decimal(18, 6)) as raw_spend,
       cast(coalesce(m.mart_spend, 0) as decimal(18, 6)) as mart_spend
from raw_side r full join mart_side m using (platform, campaign_id, report_date, currency)
"""


def gate_marts(cfg: Settings | None = None) -> GateReport:
    """Spend in the marts against raw (reconciliation.json), row counts against the last
    publish (volume.json)."""
    cfg = cfg or settings()
    report = GateReport("marts")
    suites = cfg.expectations_dir / "marts"
    con = warehouse.open_pipeline(cfg, read_only=True)
    try:
        tables = mart_tables(con)
        counts = {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in tables}
        # a mart's own invariants are dbt tests of its build; the gate checks the marts
        # against what lies outside them: raw (reconciliation) and the last publish (volume)
        if "mart_spend_daily" in tables:
            frame = con.execute(RECONCILIATION_SQL).df()
            _validate(
                report,
                "raw.channel_spend vs marts.mart_spend_daily",
                frame,
                suites / "reconciliation.json",
            )
    finally:
        con.close()
    published = published_counts(cfg)
    built_with = published_settings(cfg)
    if built_with and built_with != (cfg.reporting_timezone, cfg.reporting_currency):
        # a rebuild in another zone or currency: the published rows are not comparable
        log.info("volume vs published skipped: published with %s, now %s", built_with,
                 (cfg.reporting_timezone, cfg.reporting_currency))  # fmt: skip
        published = {}
    volume = pd.DataFrame(
        [{"mart": t, "rows": counts.get(t, 0), "published_rows": published.get(t)}
         for t in sorted(counts.keys() | published.keys())]
    )  # fmt: skip
    if not volume.empty:
        volume["ratio_to_published"] = volume["rows"] / volume["published_rows"].where(
            volume["published_rows"] > 0
        )
        _validate(report, "marts (row counts vs published)", volume, suites / "volume.json")
    _raise_if_blocked(report)
    return report


# ------------------------------------------------------------------------ publish


# What the last publish put in the serving file, recorded in the pipeline's own file: the
# gates never open marts.duckdb, so an analyst holding it (even read-write) cannot block a
# publish, which only renames a new file over it.
PUBLICATIONS_DDL = """
create schema if not exists ops;
create table if not exists ops.publications (
    run_id varchar primary key,
    published_at timestamp not null,
    tables json not null,           -- {mart: rows}
    reporting_timezone varchar not null,
    reporting_currency varchar not null
);
"""


def _last_publication(cfg: Settings) -> tuple[dict[str, int], tuple[str, str] | None] | None:
    """({mart: rows}, (zone, currency)) of the last publish from ops.publications; None when
    there is none recorded (a warehouse from before the record, or never published)."""
    if not cfg.pipeline_db.exists():
        return None
    con = warehouse.open_pipeline(cfg, read_only=True)
    try:
        if not con.execute(
            "select 1 from duckdb_tables() where schema_name = 'ops' and table_name = 'publications'"
        ).fetchone():
            return None
        row = con.execute(
            "select tables, reporting_timezone, reporting_currency from ops.publications "
            "order by published_at desc limit 1"
        ).fetchone()
    finally:
        con.close()
    if row is None:
        return None
    return json.loads(row[0]), (row[1], row[2])


def _mart_nodes(cfg: Settings) -> dict[str, dict[str, Any]]:
    """mart -> its node in the manifest of the dbt build this publish follows (and the
    node-shaped docs of the marts written in Python: mart_experiment_results,
    mart_segment_membership_daily)."""
    target, _ = dbt_paths(cfg)
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    from growthops.experiments import results_node
    from growthops.segments import history_node

    return {
        **{node["name"]: node for node in (results_node(), history_node())},
        **{
            node["name"]: node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and node["fqn"][1] == "marts"
        },
    }


def _sql_text(text: str) -> str:
    """A string literal (COMMENT ON takes no parameters); the text is the project's own docs."""
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def _comment(con: Any, table: str, node: dict[str, Any]) -> None:
    """The mart's and its columns' descriptions, where SQL clients and BI tools read them
    (duckdb_tables(), duckdb_columns(), information_schema ..._comment)."""
    if node.get("description"):
        con.execute(f"comment on table main.{table} is {_sql_text(node['description'])}")
    for column, spec in node.get("columns", {}).items():
        if spec.get("description"):
            con.execute(
                f"comment on column main.{table}.{column} is {_sql_text(spec['description'])}"
            )


def published_counts(cfg: Settings) -> dict[str, int]:
    """Rows per mart as last published."""
    if not cfg.serving_db.exists():
        return {}
    recorded = _last_publication(cfg)
    if recorded is not None:
        return recorded[0]
    # published before the record existed: read the serving file itself, once
    con = warehouse.connect(cfg.serving_db, read_only=True, wait_seconds=cfg.lock_retry_seconds)
    try:
        tables = con.execute(
            "select table_name from duckdb_tables() "
            "where schema_name = 'main' and starts_with(table_name, 'mart_') order by 1"
        ).fetchall()
        return {t: con.execute(f"select count(*) from main.{t}").fetchone()[0] for (t,) in tables}
    finally:
        con.close()


def published_settings(cfg: Settings) -> tuple[str, str] | None:
    """(reporting zone, reporting currency) the marts were last published with; None when
    unknown (never published, or before the record)."""
    if not cfg.serving_db.exists():
        return None
    recorded = _last_publication(cfg)
    return recorded[1] if recorded is not None else None


# The serving file is written in DuckDB 1.4's storage format, so analysts' tools on older
# DuckDB builds open it too: the DuckDB CLI on PyPI (duckdb-cli 1.5.6) refuses a file in
# DuckDB 2.0's own format ("version number 69") and reads this one.
SERVING_STORAGE = "v1.4.0"


def publish(run_id: str, cfg: Settings | None = None) -> dict[str, dict[str, int]]:
    """Copy every mart into a new serving file, then rename it over warehouse/marts.duckdb.

    In the serving file the marts sit in the default schema: `select * from mart_spend_daily`.
    """
    import duckdb

    cfg = cfg or settings()
    # publish runs in the one-slot pool: a temporary file left here is from a killed publish
    for stale in cfg.serving_db.parent.glob(".publish-*.duckdb.tmp*"):
        stale.unlink(missing_ok=True)
    tmp = cfg.serving_db.with_name(f".publish-{uuid.uuid4().hex[:8]}.duckdb.tmp")
    published_at = datetime.now(UTC).replace(tzinfo=None)
    families: dict[str, dict[str, int]] = {}
    con = duckdb.connect(str(tmp), config={"storage_compatibility_version": SERVING_STORAGE})
    try:
        _copy_marts(con, cfg, run_id, published_at, families)
    except BaseException as exc:
        con.close()
        tmp.unlink(missing_ok=True)  # a failed publish leaves the serving file untouched
        if warehouse.DISK_FULL in str(exc):
            raise warehouse.DiskFullError(
                f"publish: {exc}. {warehouse.disk_full_hint(cfg.data_root)}"
            ) from exc
        raise
    con.close()
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    failpoint(PUBLISH_BEFORE_SWAP, cfg)
    tmp.replace(cfg.serving_db)  # atomic: readers see the old file or the new one, never a mix
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(PUBLICATIONS_DDL)
        con.execute(
            "insert or replace into ops.publications values (?, ?, ?, ?, ?)",
            [run_id, published_at, json.dumps({t: n for f in families.values()
                                                for t, n in f.items()}),
             cfg.reporting_timezone, cfg.reporting_currency],
        )  # fmt: skip
    log.info("published %s to %s: %s", run_id, cfg.serving_db, families)
    return families


def _copy_marts(
    con: Any,
    cfg: Settings,
    run_id: str,
    published_at: datetime,
    families: dict[str, dict[str, int]],
) -> None:
    con.execute("attach ? as pipeline (read_only)", [str(cfg.pipeline_db)])  # any path, quoted
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'pipeline' "
        "and schema_name = 'marts' order by 1").fetchall()]  # fmt: skip
    nodes = _mart_nodes(cfg)
    for table in tables:
        con.execute(f"create table main.{table} as select * from pipeline.marts.{table}")
        _comment(con, table, nodes[table])
        rows = con.execute(f"select count(*) from main.{table}").fetchone()[0]
        families.setdefault(assets.mart_area_asset(nodes[table]["fqn"][2]), {})[table] = rows
    con.execute(
        "create table main.publication as select ? as run_id, ? as published_at, ? as tables, "
        "? as reporting_timezone, ? as reporting_currency",
        [run_id, published_at, json.dumps(families), cfg.reporting_timezone,
         cfg.reporting_currency],
    )  # fmt: skip
    con.execute("detach pipeline")
    con.execute("checkpoint")


# Marts about the deliveries themselves (when files came, what the door held back, which
# days a build saw: the segment history): two pipelines that load the same data in
# different deliveries differ here by design, so comparisons of marts (floor vs pipeline, a
# fault run vs the clean run) leave them out.
DELIVERY_MARTS = frozenset({"mart_data_health_daily", "mart_quarantine_daily",
                            "mart_source_freshness", "mart_segment_membership_daily"})  # fmt: skip


# ------------------------------------------------------------------------ run log

# The transform DAG's steps whose results (XCom) make up a run's record, in order.
RUN_STEPS = ("dbt_build_staging", "gate_staging", "dbt_build_marts", "gate_marts", "publish")


def run_outcome(
    results: dict[str, Any], failures: dict[str, str | None]
) -> tuple[bool, str | None]:
    """(published, the first failure in one line) from each step's return value and the
    `failure` it pushed: a step without a return value did not complete."""
    failure = next((f"{step}: {why}" for step, why in failures.items() if why), None)
    if failure is None and None in results.values():
        step = next(step for step, value in results.items() if value is None)
        failure = f"{step} did not complete (see its log)"
    return results.get("publish") is not None, failure


RUN_LOG_DDL = """
create schema if not exists ops;
create table if not exists ops.pipeline_runs (
    run_id varchar primary key,
    started_at timestamp,
    finished_at timestamp,
    inputs json,            -- asset events that triggered the run (files / rows per family)
    stages json,            -- per stage: dbt node results (status, seconds), rows per model
    gates json,             -- per gate: expectations, failures, samples
    published boolean not null,
    failure varchar
);
"""


def record_run(
    run_id: str,
    *,
    started_at: datetime | None,
    inputs: Any,
    stages: dict[str, Any],
    gates: dict[str, Any],
    published: bool,
    failure: str | None,
    cfg: Settings | None = None,
) -> None:
    cfg = cfg or settings()
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(RUN_LOG_DDL)
        con.execute("delete from ops.pipeline_runs where run_id = ?", [run_id])
        con.execute(
            "insert into ops.pipeline_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, started_at.replace(tzinfo=None) if started_at else None,
             datetime.now(UTC).replace(tzinfo=None), json.dumps(inputs, default=str),
             json.dumps(stages, default=str), json.dumps(gates, default=str), published, failure],
        )  # fmt: skip


def _count_rows(cfg: Settings, result: DbtResult) -> None:
    """Fill each built model's row count in: dbt-duckdb reports none (rows affected)."""
    counts = model_row_counts(cfg, result)
    result.results = [
        replace(node, rows=counts[node.name]) if node.rows is None and node.name in counts else node
        for node in result.results
    ]


def model_row_counts(cfg: Settings, result: DbtResult) -> dict[str, int]:
    """Rows in each table the stage built (dbt-duckdb does not report rows affected)."""
    if cfg.dbt_target == "spark":
        from growthops import spark

        return spark.row_counts(cfg, [r.name for r in result.results
                                      if r.resource_type in ("model", "seed")])  # fmt: skip
    con = warehouse.open_pipeline(cfg, read_only=True)
    try:
        known = {r[1]: r[0] for r in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts', 'reference')").fetchall()}  # fmt: skip
        counts = {}
        for r in result.results:
            if r.resource_type in ("model", "seed") and r.name in known:
                counts[r.name] = con.execute(
                    f"select count(*) from {known[r.name]}.{r.name}"
                ).fetchone()[0]
        return counts
    finally:
        con.close()
