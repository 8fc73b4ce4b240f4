# The one image every Airflow service in docker-compose.yml runs: growthops with the pinned
# stack from requirements.lock (the same lock `make install` uses), on Python 3.11.
FROM python:3.11-slim-bookworm

# the Makefile's UV_VERSION (tests/deploy checks they agree)
ARG UV_VERSION=0.13.8
# true: Java and requirements-spark.txt for the spark target and the compose spark profile
ARG WITH_SPARK=false

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow \
    GROWTHOPS_HOME=/opt/growthops \
    GROWTHOPS_DATA_ROOT=/data

WORKDIR /opt/growthops

# Dependencies first, in their own layer: code changes do not reinstall the stack. Bytecode
# compiled here: the airflow user cannot write it into site-packages at run time.
COPY requirements.lock requirements-spark.txt ./
RUN pip install uv==${UV_VERSION} \
    && uv pip install --system --no-cache --compile-bytecode -r requirements.lock
RUN if [ "$WITH_SPARK" = "true" ]; then \
        apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
        && rm -rf /var/lib/apt/lists/* \
        && uv pip install --system --no-cache --compile-bytecode -r requirements-spark.txt \
            -c requirements.lock; \
    fi

COPY pyproject.toml README.md ./
COPY plugins ./plugins
RUN uv pip install --system --no-cache --compile-bytecode --no-deps -e .
COPY dags ./dags
COPY dbt_project ./dbt_project
COPY expectations ./expectations
# init-airflow refuses the example secrets it lists
COPY .env.example ./

RUN useradd --create-home --uid 50000 airflow \
    && mkdir -p /data /opt/airflow/logs /opt/airflow/auth \
    && chown -R airflow /data /opt/airflow
USER airflow

ENTRYPOINT ["growthops"]
CMD ["--help"]
