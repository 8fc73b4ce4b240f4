"""The benchmark's results check: every mart row the same, whoever computed it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

FLOAT_DIGITS = 6  # averages and rates summed in another order differ in the last bits


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
        con.execute(
            f"""copy (select person_key, acquisition_channel, acquisition_platform,
                             acquisition_campaign_id from intermediate.int_persons)
                to '{persons}' (format parquet)"""
        )
    finally:
        con.close()
    return events, persons


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    rows = con.execute(f"describe select * from {relation}").fetchall()
    out = []
    for name, kind, *_ in rows:
        if kind in ("DOUBLE", "FLOAT"):
            out.append(f"round({name}, {FLOAT_DIGITS}) as {name}")
        else:
            out.append(name)
    return out


def _diff(con: duckdb.DuckDBPyConnection, expected: str, actual: str) -> dict[str, int]:
    cols = ", ".join(_columns(con, expected))
    names = ", ".join(c.split(" as ")[-1] for c in _columns(con, expected))
    left = f"select {cols} from {expected}"
    right = f"select {cols} from (select {names} from {actual})"
    count = con.execute(f"select count(*) from {expected}").fetchone()[0]
    missing = con.execute(f"select count(*) from ({left} except all {right})").fetchone()[0]
    extra = con.execute(f"select count(*) from ({right} except all {left})").fetchone()[0]
    return {"rows": count, "only_in_pipeline": missing, "only_in_other": extra}


def compare_databases(serving: Path, other_pipeline_db: Path) -> dict[str, dict[str, int]]:
    """Every mart of a serving file against the same mart in another pipeline file."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{serving}' as pipeline_marts (read_only)")
        con.execute(f"attach '{other_pipeline_db}' as other (read_only)")
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'pipeline_marts' "
            "and starts_with(table_name, 'mart_') order by 1").fetchall()]  # fmt: skip
        return {t: _diff(con, f"pipeline_marts.main.{t}", f"other.marts.{t}") for t in tables}
    finally:
        con.close()


def compare_parquet(serving: Path, folder: Path, marts: list[str]) -> dict[str, dict[str, int]]:
    """Marts computed elsewhere (folder/<mart>.parquet) against the serving file's."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{serving}' as pipeline_marts (read_only)")
        return {
            m: _diff(
                con, f"pipeline_marts.main.{m}", f"read_parquet('{folder / (m + '.parquet')}')"
            )
            for m in marts
        }
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


def summarize(checks: Any) -> str:
    bad = mismatches(checks)
    return "all equal" if not bad else "; ".join(bad)
