"""Start and stop `airflow standalone` (SQLite, LocalExecutor, scheduler, triggerer, API/UI)
for `make up` and the event-driven tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from growthops import airflow_env
from growthops.config import Settings

HEALTH_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"


@dataclass
class Standalone:
    process: subprocess.Popen[bytes]
    base_url: str
    home: Path
    log_path: Path

    @property
    def password(self) -> str:
        return json.loads((self.home / PASSWORD_FILE).read_text())["admin"]


def start(
    cfg: Settings,
    *,
    port: int = 8080,
    password: str | None = None,
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> Standalone:
    """Launch standalone in its own process group; returns once the process is started."""
    env = {**os.environ, **airflow_env.environment(cfg, port=port), **(extra_env or {})}
    # standalone starts its components as `airflow ...` from PATH: use this venv's.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # standalone keeps an existing password file: write it first, readable by its owner only
    # (Airflow's own is created with the default umask: world-readable)
    passwords = home / PASSWORD_FILE
    if password is not None or not passwords.exists():
        chosen = password if password is not None else secrets.token_urlsafe(12)
        fd = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps({"admin": chosen}))
    passwords.chmod(0o600)
    # the one-slot DuckDB pool must exist before the scheduler queues ingest tasks
    subprocess.run(
        [str(Path(sys.executable).parent / "growthops"), "init-airflow"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    log_path = log_path or home / "standalone.log"
    log = log_path.open("ab")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "standalone"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() ends every component
    )
    return Standalone(process, f"http://127.0.0.1:{port}", home, log_path)


def wait_healthy(sa: Standalone, timeout: float = 180.0) -> float:
    """Seconds until every component reports healthy."""
    import httpx

    started = time.monotonic()
    while True:
        if sa.process.poll() is not None:
            raise RuntimeError(
                f"airflow standalone exited ({sa.process.returncode}); see {sa.log_path}"
            )
        try:
            health = httpx.get(f"{sa.base_url}/api/v2/monitor/health", timeout=2).json()
            if all(health.get(c, {}).get("status") == "healthy" for c in HEALTH_COMPONENTS):
                return time.monotonic() - started
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(
                f"airflow standalone not healthy after {timeout:.0f}s; see {sa.log_path}"
            )
        time.sleep(0.5)


def stop(sa: Standalone, timeout: float = 30.0) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left."""
    try:
        pgid = os.getpgid(sa.process.pid)
    except ProcessLookupError:
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
        sa.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        sa.process.wait()
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    os.killpg(pgid, signal.SIGKILL)
