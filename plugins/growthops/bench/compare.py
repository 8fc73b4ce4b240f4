"""The benchmark's results check: every mart row the same, whoever computed it."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Doubles (averages, medians, rates) are equal within 1e-6 + a relative 1e-9: DuckDB takes
# seconds between timestamps as a difference of epochs (~1.8e9 s, so up to ~2.4e-7 s of
# rounding) where pandas subtracts exact microseconds, and millisecond data puts values on
# rounding boundaries, so no fixed number of digits compares them reliably. One person more
# or less moves a rate by far more than 1e-6.
ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE = 1e-6, 1e-9


def export_pandas_inputs(pipeline_db: Path, out: Path) -> tuple[Path, Path]:
    """The two marts' inputs as Parquet: what a team exports before its pandas job."""
    events, persons = out / "person_events.parquet", out / "persons.parquet"
    con = duckdb.connect(str(pipeline_db), read_only=True)
    try:
        con.execute(
            f"""copy (select person_key, event_at, message_id, event_name, properties
                      from intermediate.int_person_events
                      where message_type <> 'identify' and person_key is not null)
                to '{events}' (format parquet)"""
        )
        # each person's profile and segments: what a funnel / retention breakdown reads
        con.execute(
            f"""copy (select persons.person_key, persons.acquisition_channel,
                             persons.acquisition_platform, persons.acquisition_campaign_id,
                             profiles.* exclude (person_key, acquisition_channel,
                                                 acquisition_platform, acquisition_campaign_id),
                             segments.segments
                      from intermediate.int_persons as persons
                      left join marts.mart_person_profiles as profiles
                          on persons.person_key = profiles.person_key
                      left join (select person_key, list(segment_name) as segments
                                 from marts.mart_segment_members group by person_key) as segments
                          on persons.person_key = segments.person_key)
                to '{persons}' (format parquet)"""
        )
    finally:
        con.close()
    return events, persons


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[str]]:
    """(exact columns, double columns) of a relation."""
    rows = con.execute(f"describe select * from {relation}").fetchall()
    exact = [name for name, kind, *_ in rows if kind not in ("DOUBLE", "FLOAT")]
    doubles = [name for name, kind, *_ in rows if kind in ("DOUBLE", "FLOAT")]
    return exact, doubles


def _diff(con: duckdb.DuckDBPyConnection, expected: str, actual: str) -> dict[str, int]:
    """Rows of `expected` without an equal row in `actual` and the reverse: rows pair up on
    their exact columns (duplicates by position), then their doubles must agree."""
    exact, doubles = _columns(con, expected)
    cols = ", ".join(exact + doubles)
    numbered = "select {cols}, row_number() over (partition by {keys}) as _n from {rel}"
    keys = ", ".join(exact)
    on = " and ".join([f"l.{c} is not distinct from r.{c}" for c in exact] + ["l._n = r._n"])
    agree = " and ".join(
        [f"(l.{c} is null and r.{c} is null or abs(l.{c} - r.{c}) <= "
         f"{ABSOLUTE_TOLERANCE} + {RELATIVE_TOLERANCE} * abs(l.{c}))" for c in doubles] or ["true"]
    )  # fmt: skip
    missing, extra, rows = con.execute(
        f"""with l as ({numbered.format(cols=cols, keys=keys, rel=expected)}),
                 r as ({numbered.format(cols=cols, keys=keys, rel=f"(select {cols} from {actual})")})
            select count(*) filter (where l._n is not null and (r._n is null or not ({agree}))),
                   count(*) filter (where r._n is not null and (l._n is null or not ({agree}))),
                   count(l._n)
            from l full join r on {on}"""
    ).fetchone()
    return {"rows": rows, "only_in_pipeline": missing, "only_in_other": extra}


def compare_databases(serving: Path, other_pipeline_db: Path) -> dict[str, dict[str, int]]:
    """Every mart of a serving file against the same mart in another pipeline file (but the
    marts about deliveries, transform.DELIVERY_MARTS: the floor has no door)."""
    from growthops.transform import DELIVERY_MARTS

    con = duckdb.connect()
    try:
        con.execute("attach ? as pipeline_marts (read_only)", [str(serving)])
        con.execute("attach ? as other (read_only)", [str(other_pipeline_db)])
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'pipeline_marts' "
            "and starts_with(table_name, 'mart_') order by 1").fetchall()]  # fmt: skip
        return {
            t: _diff(con, f"pipeline_marts.main.{t}", f"other.marts.{t}")
            for t in tables
            if t not in DELIVERY_MARTS
        }
    finally:
        con.close()


def compare_parquet(serving: Path, folder: Path, marts: list[str]) -> dict[str, dict[str, int]]:
    """Marts computed elsewhere (folder/<mart>.parquet) against the serving file's."""
    con = duckdb.connect()
    try:
        con.execute("attach ? as pipeline_marts (read_only)", [str(serving)])
        results = {}
        for m in marts:  # paths as parameters: a folder may hold any character
            con.execute(
                f"create or replace temp table other_{m} as select * from read_parquet(?)",
                [str(folder / f"{m}.parquet")],
            )
            results[m] = _diff(con, f"pipeline_marts.main.{m}", f"other_{m}")
        return results
    finally:
        con.close()


def compare_spark(pipeline_db: Path, spark_warehouse: Path) -> dict[str, dict[str, int]]:
    """Every mart dbt built in a pipeline file against the same mart Spark wrote (Parquet
    under <warehouse>/marts.db/<mart>/); the marts written in Python are not Spark's."""
    from growthops.spark import PYTHON_MARTS

    con = duckdb.connect()
    try:
        con.execute("attach ? as pipeline (read_only)", [str(pipeline_db)])
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'pipeline' "
            "and schema_name = 'marts' order by 1").fetchall()]  # fmt: skip
        results = {}
        for t in tables:
            if t in PYTHON_MARTS:
                continue
            files = spark_warehouse / "marts.db" / t
            if not files.is_dir():  # a mart Spark did not build: every row missing
                rows = con.execute(f"select count(*) from pipeline.marts.{t}").fetchone()[0]
                results[t] = {"rows": rows, "only_in_pipeline": rows, "only_in_other": 0}
                continue
            con.execute(
                f"create or replace temp table spark_{t} as select * from read_parquet(?)",
                [str(files / "*.parquet")],
            )
            results[t] = _diff(con, f"pipeline.marts.{t}", f"spark_{t}")
        return results
    finally:
        con.close()


def mismatches(checks: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    lines: list[str] = []
    for check, tables in checks.items():
        for table, d in tables.items():
            if d["only_in_pipeline"] or d["only_in_other"]:
                lines.append(
                    f"{check}: {table}: {d['only_in_pipeline']} of {d['rows']} pipeline rows "
                    f"missing, {d['only_in_other']} rows not in the pipeline's"
                )
    return lines
