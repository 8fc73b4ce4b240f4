"""Run dbt as a subprocess and read back what it did, model by model.

A subprocess, not the in-process dbtRunner: dbtRunner can keep DuckDB file locks until its
process ends (dbt-labs/dbt-core#11980), and the pipeline needs the lock back for the gates
and the publish step. dbt's target/ and logs/ live under the data root, so runs against
different data roots never share state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from growthops import warehouse
from growthops.config import Settings, settings

LOCK_ERROR = "Could not set lock on file"


@dataclass(frozen=True)
class NodeResult:
    name: str
    resource_type: str  # model | test | unit_test | seed
    status: str  # success | error | fail | warn | pass | skipped
    seconds: float
    rows: int | None
    message: str
    failures_relation: str | None = None  # a test's stored failing rows (store_failures)

    @property
    def failed(self) -> bool:
        return self.status in ("error", "fail")


@dataclass
class DbtResult:
    args: list[str]
    returncode: int
    results: list[NodeResult] = field(default_factory=list)
    output: str = ""

    @property
    def success(self) -> bool:
        return self.returncode == 0

    def failures(self) -> list[NodeResult]:
        return [r for r in self.results if r.failed]

    def table(self) -> str:
        """Per-node results as a fixed-width table (what the Airflow task log shows)."""
        lines = [f"{'status':<8} {'type':<9} {'seconds':>7} {'rows':>10}  node"]
        for r in self.results:
            rows = "" if r.rows is None else f"{r.rows:,}"
            lines.append(
                f"{r.status:<8} {r.resource_type:<9} {r.seconds:7.2f} {rows:>10}  {r.name}"
            )
            if r.failed:
                lines.append(f"{'':>38}  -> {r.message}")
        return "\n".join(lines)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [r.__dict__ for r in self.results]


def dbt_paths(cfg: Settings) -> tuple[Path, Path]:
    base = cfg.data_root / "dbt"
    return base / "target", base / "logs"


def dbt_environment(cfg: Settings, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment dbt runs in: the profile's settings and this data root's target/."""
    target, logs = dbt_paths(cfg)
    return {
        **os.environ,
        "GROWTHOPS_HOME": str(cfg.home),
        "GROWTHOPS_DATA_ROOT": str(cfg.data_root),
        "GROWTHOPS_PIPELINE_DB": str(cfg.pipeline_db),
        "GROWTHOPS_REPORTING_TZ": cfg.reporting_timezone,
        "GROWTHOPS_REPORTING_CURRENCY": cfg.reporting_currency,
        "GROWTHOPS_DUCKDB_MEMORY_LIMIT": cfg.duckdb_memory_limit,
        "GROWTHOPS_SPARK_MASTER": cfg.spark_master,
        "GROWTHOPS_SPARK_DRIVER_MEMORY": cfg.spark_driver_memory,
        # a local Spark binds to loopback; with a cluster master the driver takes the host's
        # own address, which the executors connect back to
        **_spark_local_ip(cfg),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(logs),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        **(extra_env or {}),
    }


def _spark_local_ip(cfg: Settings) -> dict[str, str]:
    if not cfg.spark_master.startswith("local"):
        return {}
    return {"SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")}


def dbt_command(cfg: Settings, args: list[str]) -> list[str]:
    """`dbt <args>` on the project under GROWTHOPS_HOME (this venv's dbt), on the target of
    GROWTHOPS_DBT_TARGET."""
    dbt = Path(sys.executable).with_name("dbt")
    project = str(cfg.dbt_project_dir)
    return [str(dbt), *args, "--project-dir", project, "--profiles-dir", project,
            "--target", cfg.dbt_target]  # fmt: skip


def run_dbt(
    args: list[str], cfg: Settings | None = None, extra_env: dict[str, str] | None = None
) -> DbtResult:
    """`dbt <args>` against the pipeline DuckDB (or Spark) of `cfg`; returns per-node results."""
    cfg = cfg or settings()
    target, _ = dbt_paths(cfg)
    env = dbt_environment(cfg, extra_env)
    command = dbt_command(cfg, args)
    deadline = time.monotonic() + cfg.lock_retry_seconds
    while True:
        # dbt gives up at once on a held DuckDB lock: wait for it here, within the same bound
        # as every other writer (raises WarehouseLockedError naming the file when it expires)
        wait = max(0.0, deadline - time.monotonic())
        if cfg.dbt_target == "duckdb":
            warehouse.connect(cfg.pipeline_db, wait_seconds=wait).close()
        (target / "run_results.json").unlink(missing_ok=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        output = done.stdout + done.stderr
        # taken again between our check and dbt's open: retry while the bound allows
        if not (done.returncode and LOCK_ERROR in output and time.monotonic() < deadline):
            break
    result = DbtResult(args=args, returncode=done.returncode, output=output)
    result.results = _read_run_results(target / "run_results.json")
    return result


def _read_run_results(path: Path) -> list[NodeResult]:
    if not path.exists():
        return []
    doc = json.loads(path.read_text())
    nodes = []
    for r in doc.get("results", []):
        # model.growthops.<name> | test.growthops.<name>.<hash> | unit_test.growthops.<model>.<name>
        parts = r.get("unique_id", "").split(".")
        kind = parts[0]
        name = parts[2] if kind == "test" else ".".join(parts[2:])
        rows = (r.get("adapter_response") or {}).get("rows_affected")
        nodes.append(
            NodeResult(
                name=name,
                resource_type=kind,
                status=str(r.get("status")),
                seconds=float(r.get("execution_time") or 0.0),
                rows=int(rows) if isinstance(rows, int) and rows >= 0 else None,
                message=str(r.get("message") or "").strip()[:500],
                failures_relation=r.get("relation_name") if kind == "test" else None,
            )
        )
    return nodes
