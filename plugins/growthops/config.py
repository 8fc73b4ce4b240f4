"""All growthops settings, in one place.

Every setting is an environment variable with a documented default; `growthops config`
prints the effective values. Paths derive from one data root so a deployment moves the
whole pipeline by changing one variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# plugins/growthops/config.py -> repository root (holds dbt_project/, expectations/, dags/).
_REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


# ------------------------------------------------------------------------ parsers
# Each takes (variable, raw text) and returns the value, or raises ConfigError naming both.


def _float_between(low: float, high: float) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not a number") from exc
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw!r} must be between {low:g} and {high:g}")
        return value

    return parse


def _int_between(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from exc
        if not low <= value <= high:
            raise ConfigError(f"{name}={raw!r} must be between {low} and {high}")
        return value

    return parse


def _time_zone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{name}={raw!r} is not an IANA time zone (e.g. UTC, Asia/Shanghai)"
        ) from exc
    return raw


def _currency(name: str, raw: str) -> str:
    code = raw.upper()
    if len(code) != 3 or not code.isalpha():
        raise ConfigError(f"{name}={code!r} is not an ISO 4217 code (e.g. USD)")
    return code


_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(%|[kmgt]i?b|b)", re.IGNORECASE)


def _memory_limit(name: str, raw: str) -> str:
    raw = raw.strip()
    if not _MEMORY_LIMIT.fullmatch(raw) or (raw.endswith("%") and not 0 < float(raw[:-1]) <= 100):
        raise ConfigError(
            f"{name}={raw!r} is not a DuckDB memory limit: a share of RAM up to 100% "
            f"(e.g. 50%) or a size (e.g. 8GB, 512MiB)"
        )
    return raw


def _callable_path(name: str, raw: str) -> str:
    """`package.module:function`, or empty."""
    if raw and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", raw):
        raise ConfigError(f"{name}={raw!r}: expected package.module:function, or nothing")
    return raw


def _cron(name: str, raw: str) -> str:
    from croniter import croniter  # Airflow's own cron parser; light, imported when parsed

    if not croniter.is_valid(raw):
        raise ConfigError(f"{name}={raw!r} is not a cron expression (e.g. */30 * * * *)")
    return raw


def _text(_: str, raw: str) -> str:
    return raw


def _one_of(*choices: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        if raw not in choices:
            raise ConfigError(f"{name}={raw!r} must be one of {', '.join(choices)}")
        return raw

    return parse


# ------------------------------------------------------------------------ the settings


@dataclass(frozen=True)
class Setting:
    env: str  # the environment variable
    attr: str  # the Settings field
    default: str  # as written in the environment ("" = unset)
    parse: Callable[[str, str], Any]
    doc: str  # one line for `growthops config` (README's table says the same, longer)


# THE list of settings: parsing, `growthops config`, the environment handed to Airflow
# tasks and the defaults of Settings all come from it; a test checks README's table.
# GROWTHOPS_HOME and GROWTHOPS_DATA_ROOT come first: paths, defaulted from each other.
SETTINGS: tuple[Setting, ...] = (
    Setting("GROWTHOPS_HOME", "home", "the repository root", _text,
            "Holds dbt_project/, expectations/, dags/."),
    Setting("GROWTHOPS_DATA_ROOT", "data_root", "$GROWTHOPS_HOME/data", _text,
            "One folder for all data: landing/, archive/, quarantine/, warehouse/ beneath it."),
    Setting("GROWTHOPS_REPORTING_TZ", "reporting_timezone", "UTC", _time_zone,
            "IANA zone in which every mart 'day' is counted."),
    Setting("GROWTHOPS_REPORTING_CURRENCY", "reporting_currency", "USD", _currency,
            "Currency all spend and revenue is converted to."),
    Setting("GROWTHOPS_MAX_BAD_ROW_SHARE", "max_bad_row_share", "0.25", _float_between(0, 1),
            "A file whose share of rule-breaking rows is above this is quarantined whole."),
    Setting("GROWTHOPS_MAX_RESTATEMENT_DROP", "max_restatement_drop", "0.5",
            _float_between(0, 1),
            "A file delivered again under its name with this much smaller a share of the rows "
            "its loaded version has (or with none) is held until `growthops "
            "accept-restatement`."),
    Setting("GROWTHOPS_DEVICE_TIME_MAX_AGE_HOURS", "device_time_max_age_hours", "168",
            _float_between(0, 24 * 3650),
            "An event whose (clock-corrected) device time is more than this before its "
            "receivedAt is placed at receivedAt instead, and flagged (event_at_source)."),
    Setting("GROWTHOPS_DEVICE_TIME_MAX_AHEAD_MINUTES", "device_time_max_ahead_minutes", "60",
            _float_between(0, 60 * 24 * 365),
            "The same for a device time this far after its receivedAt (no event lands in the "
            "future)."),
    Setting("GROWTHOPS_TASK_TIMEOUT_MINUTES", "task_timeout_minutes", "180",
            _float_between(1, 7 * 1440),
            "Execution timeout of every ingest and transform task: a task stuck on anything "
            "fails (and frees the DuckDB writer slot) instead of holding it forever."),
    Setting("GROWTHOPS_INGEST_SAFETY_NET_CRON", "ingest_safety_net_cron", "*/30 * * * *", _cron,
            "When (UTC) each ingest DAG also runs without a file event, taking every pending "
            "file: the safety net for lost or merged events."),
    Setting("GROWTHOPS_TRANSFORM_SAFETY_NET_CRON", "transform_safety_net_cron", "15 * * * *",
            _cron,
            "When (UTC) the transform also runs without a raw asset event."),
    Setting("GROWTHOPS_INGEST_WORKERS", "ingest_workers", "1", _int_between(1, 64),
            "Processes each ingest run claims landing files with (README 'Past one machine'): "
            "parsing, the raw gate and the lake's Parquet run in parallel, commits take turns."),
    Setting("GROWTHOPS_LOCK_RETRY_SECONDS", "lock_retry_seconds", "60", _float_between(0, 86400),
            "How long a writer waits for the DuckDB file lock before failing."),
    Setting("GROWTHOPS_DUCKDB_MEMORY_LIMIT", "duckdb_memory_limit", "50%", _memory_limit,
            "DuckDB memory_limit of every pipeline connection and of dbt: a share of RAM "
            "('50%') or a size ('8GB'). With DuckDB's own 80%, an ingest of the large world "
            "was killed out of memory at 23.2 GiB of the machine's 23.5."),
    Setting("GROWTHOPS_DBT_TARGET", "dbt_target", "duckdb", _one_of("duckdb", "spark"),
            "Engine the transform builds the models on: duckdb (embedded) or spark (raw read "
            "from the lake, README 'Past one machine')."),
    Setting("GROWTHOPS_SPARK_MASTER", "spark_master", "local[2]", _text,
            "Spark master of the spark target: local[N] (in the transform's process) or "
            "spark://host:7077 (a cluster)."),
    Setting("GROWTHOPS_SPARK_DRIVER_MEMORY", "spark_driver_memory", "4g", _text,
            "spark.driver.memory of the spark target."),
    Setting("GROWTHOPS_ALERT_NOTIFIER", "alert_notifier", "", _callable_path,
            "package.module:function called with (message, anomalies) when a publish flags "
            "anomalies not seen before (email, chat); unset: the log, ops.anomaly_alerts and "
            "the `anomalies` asset only."),
    Setting("GROWTHOPS_FAILPOINT", "failpoint", "", _text,
            "Fault suite only: <name>[@<n>] stops the process at that failpoint "
            "(failpoints.py)."),
)  # fmt: skip
_BY_ATTR = {s.attr: s for s in SETTINGS}


def _default(attr: str) -> Any:
    setting = _BY_ATTR[attr]
    return setting.parse(setting.env, setting.default)


@dataclass(frozen=True)
class Settings:
    home: Path
    data_root: Path
    reporting_timezone: str = field(default=_default("reporting_timezone"))
    reporting_currency: str = field(default=_default("reporting_currency"))
    max_bad_row_share: float = field(default=_default("max_bad_row_share"))
    max_restatement_drop: float = field(default=_default("max_restatement_drop"))
    device_time_max_age_hours: float = field(default=_default("device_time_max_age_hours"))
    device_time_max_ahead_minutes: float = field(default=_default("device_time_max_ahead_minutes"))
    task_timeout_minutes: float = field(default=_default("task_timeout_minutes"))
    ingest_safety_net_cron: str = field(default=_default("ingest_safety_net_cron"))
    transform_safety_net_cron: str = field(default=_default("transform_safety_net_cron"))
    ingest_workers: int = field(default=_default("ingest_workers"))
    lock_retry_seconds: float = field(default=_default("lock_retry_seconds"))
    duckdb_memory_limit: str = field(default=_default("duckdb_memory_limit"))
    dbt_target: str = field(default=_default("dbt_target"))
    spark_master: str = field(default=_default("spark_master"))
    spark_driver_memory: str = field(default=_default("spark_driver_memory"))
    alert_notifier: str = field(default=_default("alert_notifier"))
    failpoint: str = field(default=_default("failpoint"))

    @property
    def task_timeout(self) -> timedelta:
        return timedelta(minutes=self.task_timeout_minutes)

    @property
    def landing_dir(self) -> Path:
        return self.data_root / "landing"

    @property
    def reports_dir(self) -> Path:
        """The ops reports: reports/<day|week>/<period start>.html and reports/index.html."""
        return self.data_root / "reports"

    @property
    def archive_dir(self) -> Path:
        """Files loaded (or identical re-deliveries), as received: archive/<family>/<load_id>/."""
        return self.data_root / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_root / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_root / "warehouse"

    @property
    def pipeline_db(self) -> Path:
        """The DuckDB file the pipeline writes (one writer at a time)."""
        return self.warehouse_dir / "pipeline.duckdb"

    @property
    def serving_db(self) -> Path:
        """The published, read-only copy analysts open."""
        return self.warehouse_dir / "marts.duckdb"

    @property
    def lake_dir(self) -> Path:
        """Raw as Parquet, one folder per raw table: what the spark target reads."""
        return self.data_root / "lake"

    @property
    def spark_dir(self) -> Path:
        """The spark target's warehouse (its tables as Parquet) and Derby metastore."""
        return self.data_root / "spark"

    @property
    def demo_truth_dir(self) -> Path:
        """What the demo simulator says it generated (never read by the pipeline)."""
        return self.data_root / "demo_truth"

    @property
    def bench_dir(self) -> Path:
        """`make bench`: cached demo worlds and the runs measured on them."""
        return self.data_root / "bench"

    @property
    def dbt_project_dir(self) -> Path:
        return self.home / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.home / "expectations"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_env("GROWTHOPS_HOME", str(_REPO_ROOT))).resolve()
        data_root = Path(_env("GROWTHOPS_DATA_ROOT", str(home / "data"))).resolve()
        values = {s.attr: s.parse(s.env, _env(s.env, s.default)) for s in SETTINGS[2:]}
        return cls(home=home, data_root=data_root, **values)

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, s.attr) for s in SETTINGS)

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, effective value, meaning) for every setting."""
        return [
            (s.env, str(v) if v != "" else "(unset)", s.doc)
            for s, v in zip(SETTINGS, self._values(), strict=True)
        ]

    def environment(self) -> dict[str, str]:
        """These settings as the environment variables that reproduce them in another
        process (or in Airflow tasks, which read their settings from the environment)."""
        return {s.env: str(v) for s, v in zip(SETTINGS, self._values(), strict=True)}


def settings() -> Settings:
    """The effective settings, read from the environment on each call (cheap)."""
    return Settings.from_env()
