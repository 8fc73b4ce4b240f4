"""docker-compose.yml's services as local processes: the multi-machine deployment tested on a
machine with no Docker engine.

The compose file is read through `docker-compose config` (the real parser: it validates the
file, merges the anchors and fills in .env). PostgreSQL and Redis come from Debian's packages
in place of their images. Every service built from our image runs its own entrypoint and
command with its own environment, with the container's host names, ports and paths mapped to
local ones, in the order its depends_on asks for.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from support import wait_until

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
VENV_BIN = Path(sys.executable).parent


class ComposeError(RuntimeError):
    """docker-compose rejected the file; the message is its own."""


def compose_config(env_file: Path = ENV_EXAMPLE) -> dict[str, Any]:
    """The file as docker-compose resolves it (anchors merged, variables filled in)."""
    result = subprocess.run(
        ["docker-compose", "--project-directory", str(REPO), "--env-file", str(env_file),
         "-f", str(COMPOSE_FILE), "config"],
        capture_output=True, text=True, check=False, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    if result.returncode != 0:
        raise ComposeError(result.stderr.strip())
    return yaml.safe_load(result.stdout)


def startup_order(services: dict[str, Any]) -> list[str]:
    """Services in an order that honours depends_on (compose's own order)."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ComposeError(f"depends_on cycle: {' -> '.join((*path, name))}")
        if name not in order:
            for dep in services[name].get("depends_on", {}):
                visit(dep, (*path, name))
            order.append(name)

    for name in services:
        visit(name, ())
    return order


# ---------------------------------------------------------------- PostgreSQL and Redis


def _postgres_bin(program: str) -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    return found[-1] if found else None


def missing_servers() -> list[str]:
    """What this machine lacks to run the deployment, as Debian package names."""
    missing = []
    if _postgres_bin("initdb") is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


@dataclass
class LocalProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def terminate(self) -> None:
        """SIGTERM its process group (Airflow's components fork children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self, timeout: float = 10) -> None:
        """terminate(), then SIGKILL what is left after `timeout` seconds."""
        self.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _spawn(name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
           user: str | None = None) -> LocalProcess:  # fmt: skip
    log.parent.mkdir(parents=True, exist_ok=True)
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    return LocalProcess(name, process, log)


def _wait(check: Callable[[], bool], timeout: float, what: str, proc: LocalProcess) -> None:
    """support.wait_until, with the process's log tail in the error."""
    try:
        wait_until(check, timeout, f"{proc.name}: {what}", proc.process)
    except (AssertionError, TimeoutError) as exc:
        raise RuntimeError(f"{exc}:\n{proc.tail()}") from exc


def start_postgres(root: Path, port: int, user: str, password: str, db: str) -> LocalProcess:
    """A PostgreSQL server on 127.0.0.1:port with password authentication and database `db`.

    PostgreSQL refuses to run as root: as root, it runs as the `postgres` system user from a
    directory of its own."""
    run_as = "postgres" if os.geteuid() == 0 else None
    data = Path(tempfile.mkdtemp(prefix="growthops-pg-", dir=root))
    pwfile = data.parent / f"{data.name}.pw"
    pwfile.write_text(password)
    if run_as:
        for path in (data, pwfile):
            shutil.chown(path, run_as)
        root.chmod(0o755)
    subprocess.run(
        [*(["runuser", "-u", run_as, "--"] if run_as else []), str(_postgres_bin("initdb")),
         "-D", str(data / "pgdata"), "-U", user, f"--pwfile={pwfile}",
         "--auth=scram-sha-256", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = _spawn(
        "postgres",
        [str(_postgres_bin("postgres")), "-D", str(data / "pgdata"), "-p", str(port),
         "-k", str(data), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        root / "logs" / "postgres.log", user=run_as,
    )  # fmt: skip
    env = {**os.environ, "PGPASSWORD": password}
    ready = [str(_postgres_bin("pg_isready")), "-h", "127.0.0.1", "-p", str(port), "-U", user]
    _wait(lambda: subprocess.run(ready, capture_output=True).returncode == 0, 60, "ready", server)
    subprocess.run(
        [str(_postgres_bin("createdb")), "-h", "127.0.0.1", "-p", str(port), "-U", user, db],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    return server


def start_redis(root: Path, port: int) -> LocalProcess:
    server = _spawn(
        "redis",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(root)],
        root / "logs" / "redis.log",
    )  # fmt: skip
    import redis

    def answers() -> bool:
        try:
            return bool(redis.Redis(port=port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    _wait(answers, 30, "PONG", server)
    return server


# ---------------------------------------------------------------- our image's services


@dataclass
class LocalDeployment:
    """Where the compose file's names point on this machine."""

    root: Path
    hosts: dict[str, str]  # "<service>:<container port>" -> "127.0.0.1:<local port>"
    paths: dict[str, Path]  # container path -> local path
    common_env: dict[str, str] = field(default_factory=dict)  # what differs on one host
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)  # e.g. its port
    processes: list[LocalProcess] = field(default_factory=list)

    def _local(self, value: str) -> str:
        for container_host, local in self.hosts.items():
            value = re.sub(rf"(?<=[@/]){re.escape(container_host)}\b", local, value)
        for container_path, local in self.paths.items():
            if value == container_path or value.startswith(f"{container_path}/"):
                return str(local) + value[len(container_path) :]
        return value

    def environment(self, name: str, service: dict[str, Any]) -> dict[str, str]:
        env = {k: self._local(str(v)) for k, v in (service.get("environment") or {}).items()}
        return {
            **os.environ,
            **env,
            **self.common_env,
            **self.service_env.get(name, {}),
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    def argv(self, service: dict[str, Any]) -> list[str]:
        entrypoint = [*service.get("entrypoint", []), *service.get("command", [])]
        program = VENV_BIN / entrypoint[0]  # the image's console script, from this venv
        return [str(program), *entrypoint[1:]]

    def run_to_completion(self, name: str, service: dict[str, Any], timeout: float) -> None:
        log = self.root / "logs" / f"{name}.log"
        proc = _spawn(name, self.argv(service), log, self.environment(name, service))
        try:
            code = proc.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.stop()
            raise
        if code != 0:
            raise RuntimeError(f"{name} exited {code}:\n{proc.tail()}")

    def start(self, name: str, service: dict[str, Any]) -> LocalProcess:
        log = self.root / "logs" / f"{name}.log"
        proc = _spawn(name, self.argv(service), log, self.environment(name, service))
        self.processes.append(proc)
        return proc

    def wait_healthy(self, name: str, service: dict[str, Any], timeout: float) -> None:
        """Run the service's own healthcheck command here until it passes."""
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", f"{name}: healthcheck {test} is not an exec form"
        own = {  # inside its container, the service is localhost:<container port>
            f"localhost:{key.split(':')[1]}": local
            for key, local in self.hosts.items()
            if key.startswith(f"{name}:")
        }
        argv = []
        for arg in test[1:]:
            for container_address, local in own.items():
                arg = arg.replace(container_address, local)
            argv.append(self._local(arg))
        proc = next(p for p in self.processes if p.name == name)
        env = self.environment(name, service)
        _wait(
            lambda: subprocess.run(argv, env=env, capture_output=True, timeout=20).returncode == 0,
            timeout, "passing healthcheck", proc,
        )  # fmt: skip

    def stop(self) -> None:
        for proc in self.processes:  # all at once: each may take seconds to shut down
            proc.terminate()
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()


def run_services(
    deployment: LocalDeployment, services: dict[str, Any], timeout: float = 300
) -> Iterator[str]:
    """Start every service built from our image, in depends_on order; yields each name as it
    is up (a one-shot service: completed successfully)."""
    # services behind a profile (spark) start only when asked for, as under docker compose
    ours = {name: s for name, s in services.items() if "build" in s and not s.get("profiles")}
    for name in startup_order(services):
        if name not in ours:
            continue  # postgres, redis: the caller started Debian's servers
        service = ours[name]
        for dep, condition in service.get("depends_on", {}).items():
            if dep in ours and condition.get("condition") == "service_healthy":
                deployment.wait_healthy(dep, ours[dep], timeout)
        if service.get("restart") == "no":
            deployment.run_to_completion(name, service, timeout)
        else:
            deployment.start(name, service)
        yield name
