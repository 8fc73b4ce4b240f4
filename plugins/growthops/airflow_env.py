"""The Airflow environment growthops runs in: one place for AIRFLOW__* settings.

Airflow reads its configuration when it is first imported, so `apply()` must run before
any `import airflow` in a process that runs DAGs (the `growthops` CLI, tests).
`make up` and the tests' standalone fixture pass `environment()` to a subprocess.
"""

from __future__ import annotations

import os
from pathlib import Path

from growthops.config import Settings, settings

# Every task that writes the pipeline DuckDB file runs in this one-slot pool.
DUCKDB_POOL = "growthops_duckdb"
DUCKDB_POOL_DESCRIPTION = "One writer at a time on the pipeline DuckDB file (DuckDB's file lock)."


def airflow_home(cfg: Settings) -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or cfg.data_root / "airflow")


def environment(cfg: Settings | None = None, *, port: int | None = None) -> dict[str, str]:
    """AIRFLOW__* variables for the embedded default (SQLite, LocalExecutor, no examples)."""
    cfg = cfg or settings()
    env = {
        "AIRFLOW_HOME": str(airflow_home(cfg)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(cfg.home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(cfg.home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # asset-scheduled DAGs never run while paused: the pipeline must start unpaused.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",  # 2 cores; the default 32 costs memory for nothing
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        **cfg.environment(),  # every growthops setting, as the tasks must see it
    }
    if port is not None:
        base = f"http://127.0.0.1:{port}"
        env |= {
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            # with a non-default port, workers must be told where the execution API is.
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        }
    return env


def apply(cfg: Settings | None = None) -> None:
    """Set the Airflow environment in this process (values already set win)."""
    for key, value in environment(cfg).items():
        os.environ.setdefault(key, value)
    Path(os.environ["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)


def prepare_metadata_db() -> None:
    """Migrate Airflow's metadata DB (idempotent, ~5 s the first time) and create the pool."""
    from airflow.models.pool import Pool
    from airflow.utils.db import initdb

    initdb()
    Pool.create_or_update_pool(
        name=DUCKDB_POOL, slots=1, description=DUCKDB_POOL_DESCRIPTION, include_deferred=False
    )


# The secrets a deployment sets (docker-compose.yml reads them from .env), and where each
# lands in the Airflow environment. .env.example, the one public list of example values,
# holds placeholders for them.
DEPLOYMENT_SECRETS = {
    "POSTGRES_PASSWORD": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW_FERNET_KEY": "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW_JWT_SECRET": "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY": "AIRFLOW__API__SECRET_KEY",
}
# Examples that were public in the repository before .env.example held placeholders.
FORMER_EXAMPLES = ("ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",)


def example_secret_in_use(cfg: Settings, environ: dict[str, str] | None = None) -> str | None:
    """One line naming the setting when a deployment secret still has .env.example's value
    (or a former public example), or None. Anyone can read those: a Fernet key decrypts the
    connections, a JWT secret mints an admin token."""
    environ = dict(os.environ) if environ is None else environ
    examples = {
        value
        for name, value in read_env_file(cfg.home / ".env.example").items()
        if name in DEPLOYMENT_SECRETS and value
    } | set(FORMER_EXAMPLES)
    for name, airflow_name in DEPLOYMENT_SECRETS.items():
        value = environ.get(airflow_name, "")
        if any(example in value for example in examples):  # the password sits inside a URL
            return (
                f"{name} (→ {airflow_name}) still has the public example value of "
                f".env.example: set a secret of your own in .env (.env.example says how)"
            )
    return None


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines of a compose .env file (comments and blank lines skipped)."""
    if not path.exists():
        return {}
    pairs = (
        line.split("=", 1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    return {k.strip(): v.strip() for k, v in pairs}
