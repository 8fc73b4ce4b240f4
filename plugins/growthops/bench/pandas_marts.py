"""mart_funnel_conversion and mart_retention in pandas: what many teams run today.

The same definitions (dbt_project.yml vars, semantics in _product__models.yml)
over the same input: the events of int_person_events and the acquisition of int_persons,
exported to Parquet. Vectorized (group-wise shifts and fills, no Python loop per event);
the benchmark checks that its rows equal the marts'.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

WINDOW_UNITS = {"second": "s", "minute": "min", "hour": "h", "day": "D", "week": "W"}
NONE = "(none)"


def analyses(dbt_project_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The funnels and retention definitions (dbt has validated them)."""
    project = yaml.safe_load((dbt_project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return project["vars"]["funnels"], project["vars"]["retention"]


def load_inputs(events_path: Path, persons_path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    events = pd.read_parquet(events_path)
    events = events.sort_values(["person_key", "event_at", "message_id"], ignore_index=True)
    persons = pd.read_parquet(persons_path)
    for column in ("acquisition_channel", "acquisition_platform", "acquisition_campaign_id"):
        persons[column] = persons[column].fillna(NONE)
    return events, persons.set_index("person_key")


ALL = "(all)"


def breakdown_values(persons: pd.DataFrame, definition: dict[str, Any]) -> pd.Series:
    """Each person's breakdown value (index person_key): the profile column as text, or a
    segment's name / 'not <name>'; '(all)' without breakdown_by."""
    by = definition.get("breakdown_by")
    if not by:
        return pd.Series(ALL, index=persons.index)
    if by.startswith("segment:"):
        name = by.removeprefix("segment:")
        return persons["segments"].map(
            lambda s: name if s is not None and name in list(s) else f"not {name}"
        )
    return persons[by].map(lambda v: NONE if v is None or pd.isna(v) else str(v))


def reporting_dates(ts: pd.Series, timezone: str) -> pd.Series:
    if timezone != "UTC":
        ts = ts.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
    return ts.dt.normalize()


# ---------------------------------------------------------------------------- funnels


def _property_text(value: object) -> str | None:
    # json_extract_string: true/false for booleans, the number as written, NULL for null
    if value is None or isinstance(value, dict | list):
        return None if value is None else json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _matches(events: pd.DataFrame, step: dict[str, Any]) -> np.ndarray:
    hit = (events["event_name"] == step["event"]).to_numpy(copy=True)
    for key, value in (step.get("where") or {}).items():
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        rows = np.flatnonzero(hit)
        props = events["properties"].to_numpy()[rows]
        ok = [_property_text(json.loads(p).get(key)) == expected if p else False for p in props]
        hit[rows] = np.asarray(ok, dtype=bool)
    return hit


def _next_position(positions: pd.Series, persons: pd.Series, include_current: bool) -> pd.Series:
    """For each row, the first position at (or after) it within its person with a value."""
    shifted = positions if include_current else positions.groupby(persons).shift(-1)
    return shifted.groupby(persons).bfill()


def _funnel_reached(events: pd.DataFrame, funnel: dict[str, Any]) -> pd.DataFrame:
    """One row per attempt and step reached: person_key, attempt, start_at, step, reached_at."""
    steps = funnel["steps"]
    n = len(steps)
    order = funnel.get("order", "ordered")
    window = pd.Timedelta(funnel["window"]["value"], WINDOW_UNITS[funnel["window"]["unit"]])
    matches = np.column_stack([_matches(events, s) for s in steps])
    keep = matches.any(axis=1)
    f = events.loc[keep, ["person_key", "event_at"]].copy()
    f["pos"] = np.flatnonzero(keep)  # position in the person-ordered events: event_seq
    m = matches[keep]
    person = f["person_key"]
    frames = []
    if order in ("ordered", "strict"):
        next_pos = {}
        for k in range(2, n + 1):
            if order == "ordered":
                hit = f["pos"].where(m[:, k - 1])
                next_pos[k] = _next_position(hit, person, include_current=False)
            else:  # strict: the very next event of the person, if it matches step k
                lead_pos = f["pos"].groupby(person).shift(-1)
                lead_hit = pd.Series(m[:, k - 1], index=f.index).groupby(person).shift(-1)
                ok = (lead_pos == f["pos"] + 1) & (lead_hit == True)  # noqa: E712 (object)
                next_pos[k] = (f["pos"] + 1).where(ok)
        by_pos = f.set_index("pos")
        lookup = {
            k: pd.Series(v.to_numpy(), index=f["pos"].to_numpy()) for k, v in next_pos.items()
        }
        starts = f[m[:, 0]]
        attempt = starts["pos"].to_numpy()
        start_at = starts["event_at"].to_numpy()
        frames.append(pd.DataFrame({"person_key": starts["person_key"].to_numpy(),
                                    "attempt": attempt, "start_at": start_at,
                                    "step": 1, "reached_at": start_at}))  # fmt: skip
        current = pd.Series(attempt.astype("float64"))
        for k in range(2, n + 1):
            valid = current.notna().to_numpy()
            candidate = np.full(len(current), np.nan)
            candidate[valid] = lookup[k].reindex(current[valid].astype("int64")).to_numpy()
            has = ~np.isnan(candidate)
            at = np.full(len(current), np.datetime64("NaT"), dtype="datetime64[us]")
            at[has] = by_pos["event_at"].reindex(candidate[has].astype("int64")).to_numpy()
            within = has & (at <= start_at + window.to_timedelta64())
            frames.append(pd.DataFrame({"person_key": starts["person_key"].to_numpy()[within],
                                        "attempt": attempt[within], "start_at": start_at[within],
                                        "step": k, "reached_at": at[within]}))  # fmt: skip
            current = pd.Series(np.where(within, candidate, np.nan))
    else:  # unordered: every matching event starts an attempt; step k = k-th distinct step done
        done = []
        for k in range(1, n + 1):
            at = f["event_at"].where(m[:, k - 1])
            done_at = _next_position(at, person, include_current=True)
            ok = done_at <= f["event_at"] + window
            done.append(pd.DataFrame({"person_key": person[ok], "attempt": f["pos"][ok],
                                      "start_at": f["event_at"][ok], "definition_step": k,
                                      "reached_at": done_at[ok]}))  # fmt: skip
        steps_done = pd.concat(done, ignore_index=True)
        steps_done = steps_done.sort_values(["attempt", "reached_at", "definition_step"])
        steps_done["step"] = steps_done.groupby("attempt").cumcount() + 1
        frames.append(steps_done.drop(columns="definition_step"))
    return pd.concat(frames, ignore_index=True)


def _step_label(funnel: dict[str, Any], k: int, step: dict[str, Any]) -> str:
    if funnel.get("order", "ordered") == "unordered":
        return f"completed {k} of {len(funnel['steps'])} steps"
    filters = step.get("where") or {}
    parts = [
        f"{key} = {('true' if v else 'false') if isinstance(v, bool) else v}"
        for key, v in filters.items()
    ]
    return step["event"] + (f" ({', '.join(parts)})" if parts else "")


def funnel_conversion(
    events: pd.DataFrame, persons: pd.DataFrame, funnels: list[dict[str, Any]], timezone: str
) -> pd.DataFrame:
    dims = ["acquisition_channel", "acquisition_platform", "acquisition_campaign_id"]
    out = []
    for funnel in funnels:
        reached = _funnel_reached(events, funnel)
        attempts = reached.groupby(["person_key", "attempt"], as_index=False).agg(
            steps_reached=("step", "max")
        )
        best = attempts.sort_values(
            ["person_key", "steps_reached", "attempt"], ascending=[True, False, True]
        ).drop_duplicates("person_key")
        counted = reached.merge(best[["person_key", "attempt"]], on=["person_key", "attempt"])
        counted["cohort_date"] = reporting_dates(counted["start_at"], timezone)
        seconds = (counted["reached_at"] - counted["start_at"]).dt.total_seconds()
        counted["seconds"] = seconds.where(counted["step"] > 1)
        counted = counted.join(persons[dims], on="person_key")
        counted[dims] = counted[dims].fillna(NONE)
        counted["breakdown_value"] = counted["person_key"].map(breakdown_values(persons, funnel))
        keys = ["cohort_date", *dims, "breakdown_value"]
        totals = counted.groupby([*keys, "step"], as_index=False).agg(
            persons=("person_key", "size"),
            avg_seconds_to_convert=("seconds", "mean"),
            median_seconds_to_convert=("seconds", "median"),
        )
        steps = pd.DataFrame(
            {
                "step": range(1, len(funnel["steps"]) + 1),
                "step_event": [s["event"] for s in funnel["steps"]],
                "step_label": [
                    _step_label(funnel, k, s) for k, s in enumerate(funnel["steps"], start=1)
                ],
            }
        )
        grid = totals[keys].drop_duplicates().merge(steps, how="cross")
        rows = grid.merge(totals, on=[*keys, "step"], how="left")
        rows["persons"] = rows["persons"].fillna(0).astype("int64")
        rows = rows.sort_values([*keys, "step"], ignore_index=True)
        group = rows.groupby(keys, sort=False)["persons"]
        first = group.transform("first").astype("float64")
        previous = group.shift(1).astype("float64")
        rows["conversion_from_start"] = rows["persons"] / first.replace(0, np.nan)
        rows["conversion_from_previous"] = (rows["persons"] / previous.replace(0, np.nan)).where(
            rows["step"] > 1
        )
        rows.insert(0, "funnel_name", funnel["name"])
        rows.insert(1, "funnel_order", funnel.get("order", "ordered"))
        rows["breakdown_by"] = funnel.get("breakdown_by")
        out.append(rows.rename(columns={"step": "step_number"}))
    columns = ["funnel_name", "funnel_order", "cohort_date", *dims, "breakdown_by",
               "breakdown_value", "step_number", "step_event",
               "step_label", "persons", "conversion_from_start", "conversion_from_previous",
               "avg_seconds_to_convert", "median_seconds_to_convert"]  # fmt: skip
    return pd.concat(out, ignore_index=True)[columns]


# ---------------------------------------------------------------------------- retention


def _period_start(days: pd.Series, unit: str) -> pd.Series:
    if unit == "day":
        return days
    if unit == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days.dt.to_period("M").dt.to_timestamp()


def _periods_between(first: pd.Series, later: pd.Series, unit: str) -> pd.Series:
    if unit == "day":
        return (later - first).dt.days
    if unit == "week":
        return (later - first).dt.days // 7
    return (later.dt.year - first.dt.year) * 12 + later.dt.month - first.dt.month


def _add_periods(start: pd.Series, n: pd.Series, unit: str) -> pd.Series:
    if unit == "day":
        return start + pd.to_timedelta(n, unit="D")
    if unit == "week":
        return start + pd.to_timedelta(n * 7, unit="D")
    months = start.dt.year * 12 + start.dt.month - 1 + n
    return pd.to_datetime({"year": months // 12, "month": months % 12 + 1, "day": 1})


def retention(
    events: pd.DataFrame, persons: pd.DataFrame, definitions: list[dict[str, Any]], timezone: str
) -> pd.DataFrame:
    days = reporting_dates(events["event_at"], timezone)
    last_event_date = days.max()
    channel = persons["acquisition_channel"]
    out = []
    for d in definitions:
        unit, periods = d["period"], d["periods"]
        period = _period_start(days, unit)
        frame = pd.DataFrame({"person_key": events["person_key"], "period": period})
        cohort_rows = frame[events["event_name"] == d["cohort_event"]].drop_duplicates()
        if d.get("type", "first_time") == "first_time":
            cohorts = cohort_rows.groupby("person_key", as_index=False)["period"].min()
        else:
            cohorts = cohort_rows
        return_event = d.get("return_event", "any")
        returns = frame if return_event == "any" else frame[events["event_name"] == return_event]
        returns = returns.drop_duplicates().rename(columns={"period": "return_period"})
        joined = cohorts.merge(returns, on="person_key")
        joined = joined[joined["return_period"] > joined["period"]]
        joined["k"] = _periods_between(joined["period"], joined["return_period"], unit)
        if d.get("rolling", False):
            last = joined.groupby(["person_key", "period"], as_index=False)["k"].max()
            last["k"] = last["k"].clip(upper=periods)
            retained = last.loc[last.index.repeat(last["k"])].copy()
            retained["k"] = retained.groupby(level=0).cumcount() + 1
        else:
            retained = joined[joined["k"] <= periods][["person_key", "period", "k"]]
            retained = retained.drop_duplicates()
        values = breakdown_values(persons, d)
        cohorts = cohorts.assign(acquisition_channel=cohorts["person_key"].map(channel),
                                 breakdown_value=cohorts["person_key"].map(values))  # fmt: skip
        retained = retained.assign(acquisition_channel=retained["person_key"].map(channel),
                                   breakdown_value=retained["person_key"].map(values))  # fmt: skip
        keys = ["period", "acquisition_channel", "breakdown_value"]
        for f in (cohorts, retained):
            f["acquisition_channel"] = f["acquisition_channel"].fillna(NONE)
        sizes = cohorts.groupby(keys, as_index=False).size().rename(columns={"size": "cohort_size"})
        counts = retained.groupby([*keys, "k"], as_index=False).size()
        grid = sizes.merge(pd.DataFrame({"k": range(periods + 1)}), how="cross")
        grid = grid.merge(counts, on=[*keys, "k"], how="left")
        grid["retained_persons"] = np.where(
            grid["k"] == 0, grid["cohort_size"], grid["size"].fillna(0)
        ).astype("int64")
        period_end = _add_periods(grid["period"], grid["k"] + 1, unit)
        out.append(
            pd.DataFrame(
                {
                    "definition_name": d["name"],
                    "cohort_event": d["cohort_event"],
                    "return_event": return_event,
                    "retention_type": d.get("type", "first_time"),
                    "is_rolling": bool(d.get("rolling", False)),
                    "period_unit": unit,
                    "cohort_period": grid["period"],
                    "acquisition_channel": grid["acquisition_channel"],
                    "breakdown_by": d.get("breakdown_by"),
                    "breakdown_value": grid["breakdown_value"],
                    "period_number": grid["k"],
                    "period_start": _add_periods(grid["period"], grid["k"], unit),
                    "is_period_complete": period_end <= last_event_date,
                    "cohort_size": grid["cohort_size"].astype("int64"),
                    "retained_persons": grid["retained_persons"],
                    "retention_rate": grid["retained_persons"] / grid["cohort_size"],
                }
            )
        )
    return pd.concat(out, ignore_index=True)
