"""Anomaly alerts: the anomalies a publish flagged for the first time, recorded once in
ops.anomaly_alerts and handed to the operator's notifier (GROWTHOPS_ALERT_NOTIFIER).

The verdicts themselves are mart_kpi_anomalies' (a dbt model); this module only decides
which of them are news and who hears about them.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from growthops import warehouse
from growthops.config import ConfigError, Settings

log = logging.getLogger(__name__)

KEY = ("report_date", "kpi", "dimension", "dimension_value")
ALERTS_DDL = """
create schema if not exists ops;
create table if not exists ops.anomaly_alerts (
    report_date date not null,
    kpi varchar not null,
    dimension varchar not null,
    dimension_value varchar not null,
    value double,
    expected double,
    robust_z double,
    run_id varchar not null,
    alerted_at timestamp not null,
    primary key (report_date, kpi, dimension, dimension_value)
);
"""


def flagged(cfg: Settings) -> list[dict[str, Any]]:
    """Every anomaly the published marts flag."""
    con = warehouse.connect(cfg.serving_db, read_only=True, wait_seconds=cfg.lock_retry_seconds)
    try:
        cur = con.execute(
            "select report_date, kpi, dimension, dimension_value, value, expected, robust_z "
            "from mart_kpi_anomalies where is_anomaly order by report_date, kpi, dimension, "
            "dimension_value"
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def record_new(cfg: Settings, run_id: str) -> list[dict[str, Any]]:
    """The flagged anomalies not alerted before, now recorded as alerted by `run_id`."""
    anomalies = flagged(cfg)
    with warehouse.pipeline_writer(cfg) as con:
        con.execute(ALERTS_DDL)
        seen = set(con.execute(f"select {', '.join(KEY)} from ops.anomaly_alerts").fetchall())
        new = [a for a in anomalies if tuple(a[k] for k in KEY) not in seen]
        now = datetime.now(UTC).replace(tzinfo=None)
        if new:
            con.executemany(
                "insert into ops.anomaly_alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[*(a[k] for k in KEY), a["value"], a["expected"], a["robust_z"], run_id, now]
                 for a in new],
            )  # fmt: skip
    return new


def describe(anomaly: dict[str, Any]) -> str:
    """One line a person reads in a chat message or an email."""
    change = ""
    if anomaly["expected"]:
        change = f" ({(anomaly['value'] - anomaly['expected']) / anomaly['expected']:+.0%})"
    return (
        f"{anomaly['report_date']} {anomaly['kpi']} of {anomaly['dimension']} "
        f"{anomaly['dimension_value']}: {anomaly['value']:,.2f}, expected "
        f"{anomaly['expected']:,.2f}{change}"
    )


def notifier(cfg: Settings) -> Callable[[str, list[dict[str, Any]]], Any] | None:
    """The callable GROWTHOPS_ALERT_NOTIFIER names (`package.module:function`), or None."""
    if not cfg.alert_notifier:
        return None
    module, _, name = cfg.alert_notifier.partition(":")
    try:
        target = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"GROWTHOPS_ALERT_NOTIFIER={cfg.alert_notifier!r} cannot be imported ({exc}); "
            f"name a function as package.module:function on the workers' Python path"
        ) from exc
    if not callable(target):
        raise ConfigError(f"GROWTHOPS_ALERT_NOTIFIER={cfg.alert_notifier!r} is not callable")
    return target


def alert(cfg: Settings, run_id: str) -> list[dict[str, Any]]:
    """Record the new anomalies, log them, and hand them to the notifier; return them."""
    new = record_new(cfg, run_id)
    if not new:
        log.info("anomalies: nothing new")
        return []
    message = f"growthops: {len(new)} new anomal{'y' if len(new) == 1 else 'ies'}\n" + "\n".join(
        f"- {describe(a)}" for a in new
    )
    log.warning("%s", message)
    target = notifier(cfg)
    if target is not None:
        target(message, new)
    return new
