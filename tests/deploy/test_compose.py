"""docker-compose.yml, the multi-machine deployment (CeleryExecutor, PostgreSQL, Redis).

No Docker engine runs here, so: docker-compose (v1, Debian's package) parses and validates
the file, and its services run as local processes — real PostgreSQL and Redis from Debian's
packages, every Airflow service with its own command and environment from the file. A file
dropped into landing/ must reach the published marts with every task run by the Celery
worker and Airflow's metadata in PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from local_compose import (
    ENV_EXAMPLE,
    REPO,
    ComposeError,
    LocalDeployment,
    compose_config,
    missing_servers,
    run_services,
    start_postgres,
    start_redis,
)
from support import AIRFLOW_PASSWORD, Api, deliver, free_port, query, wait_for

from growthops.airflow_env import DEPLOYMENT_SECRETS, read_env_file
from growthops.config import Settings
from growthops.demo.generate import generate
from growthops.demo.simulate import DemoConfig
from growthops.demo.world import SCALES
from growthops.standalone import HEALTH_COMPONENTS

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
# secrets every Airflow component must share, or task authentication breaks between them
SHARED_SECRETS = (
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
)

needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose not installed (apt-get install docker-compose: v1 validates the file "
    "without a Docker engine; .ci/run installs it)",
)


@needs_compose
def test_the_file_validates_and_every_airflow_service_runs_one_image_on_celery() -> None:
    services = compose_config()["services"]
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default == {"postgres", "redis", *AIRFLOW_SERVICES}
    airflow = {name: services[name] for name in AIRFLOW_SERVICES}
    assert {s["image"] for s in airflow.values()} == {"growthops:latest"}
    for name, service in airflow.items():
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/"), name
        # the pipeline's files are one volume: the triggerer watches it, workers write it
        assert "growthops-data:/data:rw" in service["volumes"], name
        assert env["GROWTHOPS_DATA_ROOT"] == "/data", name
        if name != "airflow-init":
            assert service["entrypoint"] == ["growthops", "airflow"], name
            assert service["depends_on"]["airflow-init"] == {
                "condition": "service_completed_successfully"
            }, name
    for secret in SHARED_SECRETS:
        assert len({s["environment"][secret] for s in airflow.values()}) == 1, secret
    assert airflow["airflow-worker"]["command"] == ["celery", "worker"]
    assert airflow["airflow-init"]["entrypoint"] + airflow["airflow-init"]["command"] == [
        "growthops",
        "init-airflow",
    ]


@needs_compose
def test_the_spark_profile_runs_a_master_and_a_worker_on_the_shared_volume() -> None:
    services = compose_config()["services"]
    spark = {name: s for name, s in services.items() if s.get("profiles")}
    assert set(spark) == {"spark-master", "spark-worker"}
    assert all(s["profiles"] == ["spark"] for s in spark.values())
    # the growthops image (built with Java and pyspark when GROWTHOPS_WITH_SPARK=true)
    assert {s["image"] for s in spark.values()} == {services["airflow-worker"]["image"]}
    assert spark["spark-master"]["command"][0] == "org.apache.spark.deploy.master.Master"
    assert spark["spark-worker"]["command"] == [
        "org.apache.spark.deploy.worker.Worker", "spark://spark-master:7077"
    ]  # fmt: skip
    # executors read the lake and write Spark's tables at the driver's paths
    assert "growthops-data:/data:rw" in spark["spark-worker"]["volumes"]
    worker_env = services["airflow-worker"]["environment"]
    assert worker_env["GROWTHOPS_DBT_TARGET"] == "duckdb"  # the embedded default
    assert services["airflow-worker"]["build"]["args"] == {"WITH_SPARK": "false"}


@needs_compose
def test_the_file_refuses_to_run_without_its_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("COMPOSE_PROJECT_NAME=growthops\n")
    with pytest.raises(ComposeError, match=r"POSTGRES_PASSWORD|AIRFLOW_\w+") as err:
        compose_config(env_file)
    assert "set in .env" in str(err.value)


def test_the_image_installs_what_make_install_does() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    makefile = (REPO / "Makefile").read_text()
    uv = re.search(r"^UV_VERSION\s*:=\s*(\S+)", makefile, re.M)
    assert uv and f"ARG UV_VERSION={uv.group(1)}" in dockerfile
    assert "-r requirements.lock" in dockerfile
    for source in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (REPO / path).exists(), f"Dockerfile copies {path}, which does not exist"
    env = dict(re.findall(r"(GROWTHOPS_HOME|GROWTHOPS_DATA_ROOT|AIRFLOW_HOME)=(\S+)", dockerfile))
    assert env == {"AIRFLOW_HOME": "/opt/airflow", "GROWTHOPS_HOME": "/opt/growthops",
                   "GROWTHOPS_DATA_ROOT": "/data"}  # fmt: skip
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "data", ".env"} <= set(ignored)


# ---------------------------------------------------------------- the deployment, running


@dataclass
class Running:
    api: Api
    cfg: Settings
    outbox: Path
    metadata_dsn: str


def _fresh_env_file(path: Path) -> dict[str, str]:
    """.env.example with every secret replaced, as the README tells a user to do."""
    values = read_env_file(ENV_EXAMPLE) | {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
    }
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return values


@pytest.fixture(scope="module")
def deployment() -> Iterator[Running]:
    if shutil.which("docker-compose") is None or missing_servers():
        pytest.skip(
            "needs docker-compose, PostgreSQL and Redis from Debian's packages: apt-get install "
            f"docker-compose {' '.join(missing_servers())} (.ci/run installs them)"
        )
    root = Path(tempfile.mkdtemp(prefix="growthops-deploy-"))
    values = _fresh_env_file(root / ".env")
    services = compose_config(root / ".env")["services"]
    pg_port, redis_port, api_port = free_port(), free_port(), free_port()
    local = LocalDeployment(
        root,
        hosts={
            "postgres:5432": f"127.0.0.1:{pg_port}",
            "redis:6379": f"127.0.0.1:{redis_port}",
            "airflow-apiserver:8080": f"127.0.0.1:{api_port}",
        },
        paths={"/opt/growthops": REPO, "/data": root / "data", "/opt/airflow": root / "airflow"},
        common_env={
            # each container has its own ports; here the components share one host
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",  # 2 cores here
        },
        service_env={
            "airflow-apiserver": {
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(api_port),
            }
        },
    )
    servers = [
        start_postgres(root, pg_port, "airflow", values["POSTGRES_PASSWORD"], "airflow"),
        start_redis(root, redis_port),
    ]
    try:
        passwords = Path(local.environment("airflow-apiserver", services["airflow-apiserver"])[
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])  # fmt: skip
        passwords.parent.mkdir(parents=True)
        passwords.write_text(json.dumps({"admin": AIRFLOW_PASSWORD}))
        started = list(run_services(local, services))
        assert started == [
            "airflow-init",
            *[s for s in started if s != "airflow-init"],
        ]
        assert set(started) == AIRFLOW_SERVICES
        base_url = f"http://127.0.0.1:{api_port}"
        api = wait_for(lambda: Api(base_url), 180, "the API server's token endpoint")

        def healthy() -> bool:
            health = api.get("/monitor/health")
            return all(health[c]["status"] == "healthy" for c in HEALTH_COMPONENTS)

        wait_for(healthy, 180, f"{HEALTH_COMPONENTS} healthy")
        cfg = Settings(home=REPO, data_root=root / "data")
        wait_for(lambda: api.get("/dags/transform")["is_paused"] is False, 180, "DAGs parsed")
        outbox = root / "outbox"
        generate(DemoConfig(SCALES["small"], seed=5, dirt_rate=0.0), outbox, root / "truth")
        dsn = f"host=127.0.0.1 port={pg_port} dbname=airflow user=airflow password={values['POSTGRES_PASSWORD']}"
        yield Running(api, cfg, outbox, dsn)
    except BaseException:
        for proc in [*local.processes, *servers]:
            print(f"---- {proc.name} ({proc.log})\n{proc.tail()}")
        raise
    finally:
        local.stop()
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.deploy
@pytest.mark.slow
@pytest.mark.extended  # ~2-3.5 min: make test-all runs it
def test_a_dropped_file_reaches_the_published_marts_through_celery_and_postgres(
    deployment: Running,
) -> None:
    api, cfg = deployment.api, deployment.cfg
    src = sorted((deployment.outbox / "app").glob("*.ndjson.gz"))[30]
    deliver(src, cfg.landing_dir / "app")  # the only data: published rows come from it

    def published_run_id() -> str | None:
        if not cfg.serving_db.exists():
            return None
        [(run_id, rows)] = query(
            cfg.serving_db,
            "select (select run_id from publication), (select count(*) from mart_growth_daily)",
        )
        return run_id if rows > 0 else None

    run_id = wait_for(published_run_id, 300, "the file's rows in the published marts")
    run = wait_for(
        lambda: (r := api.get(f"/dags/transform/dagRuns/{run_id}"))["state"] == "success" and r,
        60, f"transform run {run_id} finished",
    )  # fmt: skip

    # Airflow's metadata is in PostgreSQL, and every task of the run went through the broker
    # to the Celery worker: its Celery task id is in Celery's result table, succeeded (the
    # worker writes SUCCESS when its task process has exited, a moment after the task's own
    # state: wait for it).
    def celery_results() -> list[tuple]:
        with psycopg2.connect(deployment.metadata_dsn) as pg, pg.cursor() as cur:
            cur.execute(
                "select ti.task_id, ti.state, ti.external_executor_id, ct.status "
                "from task_instance ti left join celery_taskmeta ct "
                "on ct.task_id = ti.external_executor_id "
                "where ti.dag_id = 'transform' and ti.run_id = %s order by ti.start_date",
                (run["dag_run_id"],),
            )
            return cur.fetchall()

    def all_succeeded() -> list[tuple] | None:
        tasks = celery_results()
        return tasks if all(status == "SUCCESS" for *_, status in tasks) else None

    try:
        tasks = wait_for(all_succeeded, 120, "Celery results of the run's tasks")
    except TimeoutError:
        pytest.fail(f"not every task has a succeeded Celery result: {celery_results()}")
    assert {t[0] for t in tasks} >= {"dbt_build_staging", "gate_marts", "publish"}
    # alert_anomalies skips when the publish flagged nothing new; every other task succeeds
    states = {task: state for task, state, _, _ in tasks}
    assert all(celery_id for _, _, celery_id, _ in tasks), tasks
    assert all(s == "success" for task, s in states.items() if task != "alert_anomalies"), tasks
    assert states.get("alert_anomalies", "skipped") in ("success", "skipped"), tasks
    pool = api.get("/pools/growthops_duckdb")
    assert pool["slots"] == 1


# ---------------------------------------------------------------- secrets (no engine needed)


@pytest.mark.faults  # the fault suite's secrets cases
def test_env_example_holds_placeholders_not_working_secrets() -> None:
    from cryptography.fernet import Fernet

    example = read_env_file(ENV_EXAMPLE)
    assert set(DEPLOYMENT_SECRETS) <= set(example)
    for name in DEPLOYMENT_SECRETS:
        assert example[name].startswith("change-me"), name
    with pytest.raises(ValueError):  # not even a well-formed key: nothing can be decrypted
        Fernet(example["AIRFLOW_FERNET_KEY"])


@pytest.mark.faults  # the fault suite's secrets cases
@pytest.mark.parametrize("secret", sorted(DEPLOYMENT_SECRETS))
def test_init_airflow_refuses_each_example_secret(secret: str, tmp_path: Path) -> None:
    """What the airflow-init service runs: a deployment with any secret left at its
    .env.example value (or the Fernet key that was public before) does not start."""
    values = _fresh_env_file(tmp_path / ".env")
    example = read_env_file(ENV_EXAMPLE)
    values[secret] = example[secret]
    environment = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow:"
        f"{values['POSTGRES_PASSWORD']}@postgres:5432/airflow",
        "AIRFLOW__CORE__FERNET_KEY": values["AIRFLOW_FERNET_KEY"],
        "AIRFLOW__API_AUTH__JWT_SECRET": values["AIRFLOW_JWT_SECRET"],
        "AIRFLOW__API__SECRET_KEY": values["AIRFLOW_API_SECRET_KEY"],
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("growthops")), "init-airflow"],
        env={**clean, **environment, "GROWTHOPS_DATA_ROOT": str(tmp_path / "data"),
             "AIRFLOW_HOME": str(tmp_path / "airflow")},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert secret in result.stderr and "public example value" in result.stderr
    assert not (tmp_path / "airflow" / "airflow.db").exists()  # refused before anything ran


@pytest.mark.faults  # the fault suite's secrets cases
def test_the_former_public_fernet_key_is_refused_too() -> None:
    from growthops.airflow_env import example_secret_in_use

    cfg = Settings(home=REPO, data_root=Path("/nonexistent"))
    former = "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="
    assert "AIRFLOW_FERNET_KEY" in str(
        example_secret_in_use(cfg, {"AIRFLOW__CORE__FERNET_KEY": former})
    )
    assert example_secret_in_use(cfg, {}) is None  # make up: no deployment secrets at all


@pytest.mark.faults  # the fault suite's secrets cases
def test_the_ui_is_published_on_this_host_only_unless_opted_in() -> None:
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    ports = compose["services"]["airflow-apiserver"]["ports"]
    assert ports == ["${AIRFLOW_BIND:-127.0.0.1}:${AIRFLOW_PORT:-8080}:8080"]
    assert "AIRFLOW_BIND=127.0.0.1" in ENV_EXAMPLE.read_text()


@pytest.mark.faults  # the fault suite's secrets cases
def test_make_ups_admin_password_file_is_the_owners_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """standalone.start writes the password file before Airflow can (0600), and keeps it so."""
    import stat

    from growthops import standalone

    cfg = Settings(home=REPO, data_root=tmp_path / "data")
    home = tmp_path / "airflow"
    home.mkdir()
    loose = home / standalone.PASSWORD_FILE
    loose.write_text('{"admin": "x"}')
    loose.chmod(0o644)  # as an older run left it
    popen = subprocess.Popen

    def no_standalone(argv: list[str], *args: object, **kwargs: object) -> object:
        return None if argv[-1] == "standalone" else popen(argv, *args, **kwargs)

    monkeypatch.setattr(standalone.subprocess, "Popen", no_standalone)  # init-airflow runs
    standalone.start(cfg, port=free_port(), extra_env={"AIRFLOW_HOME": str(home)})
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    loose.unlink()  # a first start: the file it writes is 0600 from the first byte
    standalone.start(cfg, port=free_port(), extra_env={"AIRFLOW_HOME": str(home)})
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    assert json.loads(loose.read_text())["admin"]
