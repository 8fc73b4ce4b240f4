"""All growthops settings, in one place.

Every setting is an environment variable with a documented default; `growthops config`
prints the effective values. Paths derive from one data root so a deployment moves the
whole pipeline by changing one variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# plugins/growthops/config.py -> repository root (holds dbt_project/, expectations/, dags/).
_REPO_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """A setting has a value the pipeline cannot use; the message names the variable."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


# (variable, default, meaning): the documented settings; README's table mirrors this.
SETTINGS_DOC: tuple[tuple[str, str, str], ...] = (
    ("GROWTHOPS_HOME", "the repository root", "Holds dbt_project/, expectations/, dags/."),
    (
        "GROWTHOPS_DATA_ROOT",
        "$GROWTHOPS_HOME/data",
        "One folder for all data: landing/, quarantine/, warehouse/ beneath it.",
    ),
    ("GROWTHOPS_REPORTING_TZ", "UTC", "IANA zone in which every mart 'day' is counted."),
    ("GROWTHOPS_REPORTING_CURRENCY", "USD", "Currency all spend and revenue is converted to."),
    (
        "GROWTHOPS_MAX_BAD_ROW_SHARE",
        "0.25",
        "A file whose share of rule-breaking rows is above this is quarantined whole.",
    ),
    (
        "GROWTHOPS_MAX_RESTATEMENT_DROP",
        "0.5",
        "A file delivered again under its name with this much smaller a share of the rows its "
        "loaded version has (or with none) is held until `growthops accept-restatement`.",
    ),
    (
        "GROWTHOPS_DEVICE_TIME_MAX_AGE_HOURS",
        "168",
        "An event whose (clock-corrected) device time is more than this before its receivedAt "
        "is placed at receivedAt instead, and flagged (event_at_source).",
    ),
    (
        "GROWTHOPS_DEVICE_TIME_MAX_AHEAD_MINUTES",
        "60",
        "The same for a device time this far after its receivedAt (no event lands in the future).",
    ),
    (
        "GROWTHOPS_TASK_TIMEOUT_MINUTES",
        "180",
        "Execution timeout of every ingest and transform task: a task stuck on anything fails "
        "(and frees the DuckDB writer slot) instead of holding it forever.",
    ),
    (
        "GROWTHOPS_LOCK_RETRY_SECONDS",
        "60",
        "How long a writer waits for the DuckDB file lock before failing.",
    ),
    (
        "GROWTHOPS_DUCKDB_MEMORY_LIMIT",
        "50%",
        "DuckDB memory_limit of every pipeline connection and of dbt: a share of RAM ('50%') "
        "or a size ('8GB'). With DuckDB's own 80%, an ingest of the large world was killed "
        "out of memory at 23.2 GiB of the machine's 23.5.",
    ),
    (
        "GROWTHOPS_FAILPOINT",
        "(unset)",
        "Fault suite only: <name>[@<n>] stops the process at that failpoint (failpoints.py).",
    ),
)


@dataclass(frozen=True)
class Settings:
    home: Path
    data_root: Path
    reporting_timezone: str = "UTC"
    reporting_currency: str = "USD"
    max_bad_row_share: float = 0.25
    max_restatement_drop: float = 0.5
    device_time_max_age_hours: float = 168.0
    device_time_max_ahead_minutes: float = 60.0
    task_timeout_minutes: float = 180.0
    lock_retry_seconds: float = 60.0
    duckdb_memory_limit: str = "50%"
    failpoint: str = ""

    @property
    def task_timeout(self) -> timedelta:
        return timedelta(minutes=self.task_timeout_minutes)

    @property
    def landing_dir(self) -> Path:
        return self.data_root / "landing"

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
        tz = _env("GROWTHOPS_REPORTING_TZ", "UTC")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"GROWTHOPS_REPORTING_TZ={tz!r} is not an IANA time zone (e.g. UTC, Asia/Shanghai)"
            ) from exc
        currency = _env("GROWTHOPS_REPORTING_CURRENCY", "USD").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ConfigError(
                f"GROWTHOPS_REPORTING_CURRENCY={currency!r} is not an ISO 4217 code (e.g. USD)"
            )
        return cls(
            home=home,
            data_root=data_root,
            reporting_timezone=tz,
            reporting_currency=currency,
            max_bad_row_share=_float("GROWTHOPS_MAX_BAD_ROW_SHARE", "0.25", 0.0, 1.0),
            max_restatement_drop=_float("GROWTHOPS_MAX_RESTATEMENT_DROP", "0.5", 0.0, 1.0),
            device_time_max_age_hours=_float(
                "GROWTHOPS_DEVICE_TIME_MAX_AGE_HOURS", "168", 0.0, 24.0 * 3650
            ),
            device_time_max_ahead_minutes=_float(
                "GROWTHOPS_DEVICE_TIME_MAX_AHEAD_MINUTES", "60", 0.0, 60.0 * 24 * 365
            ),
            task_timeout_minutes=_float("GROWTHOPS_TASK_TIMEOUT_MINUTES", "180", 1.0, 7 * 1440.0),
            lock_retry_seconds=_float("GROWTHOPS_LOCK_RETRY_SECONDS", "60", 0.0, 86400.0),
            duckdb_memory_limit=_memory_limit("GROWTHOPS_DUCKDB_MEMORY_LIMIT", "50%"),
            failpoint=_env("GROWTHOPS_FAILPOINT", ""),
        )

    def _values(self) -> tuple[object, ...]:
        return (
            self.home,
            self.data_root,
            self.reporting_timezone,
            self.reporting_currency,
            self.max_bad_row_share,
            self.max_restatement_drop,
            self.device_time_max_age_hours,
            self.device_time_max_ahead_minutes,
            self.task_timeout_minutes,
            self.lock_retry_seconds,
            self.duckdb_memory_limit,
            self.failpoint,
        )

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, effective value, meaning) for every setting."""
        return [
            (env, str(v) if v != "" else "(unset)", doc)
            for (env, _, doc), v in zip(SETTINGS_DOC, self._values(), strict=True)
        ]

    def environment(self) -> dict[str, str]:
        """These settings as the environment variables that reproduce them in another
        process (or in Airflow tasks, which read their settings from the environment)."""
        return {env: str(v) for (env, _, _), v in zip(SETTINGS_DOC, self._values(), strict=True)}


def _float(name: str, default: str, low: float, high: float) -> float:
    raw = _env(name, default)
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be between {low:g} and {high:g}")
    return value


_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(%|[kmgt]i?b|b)", re.IGNORECASE)


def _memory_limit(name: str, default: str) -> str:
    raw = _env(name, default).strip()
    if not _MEMORY_LIMIT.fullmatch(raw) or (raw.endswith("%") and not 0 < float(raw[:-1]) <= 100):
        raise ConfigError(
            f"{name}={raw!r} is not a DuckDB memory limit: a share of RAM up to 100% "
            f"(e.g. 50%) or a size (e.g. 8GB, 512MiB)"
        )
    return raw


def settings() -> Settings:
    """The effective settings, read from the environment on each call (cheap)."""
    return Settings.from_env()
