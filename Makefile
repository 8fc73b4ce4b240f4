# growthops — two commands: `make run` (demo pipeline) and `make test`.
# Everything installs into .venv from pinned files; nothing is needed beyond python3, pip, make.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/bin/uv
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.8

export GROWTHOPS_HOME ?= $(CURDIR)

.PHONY: help install install-spark run up docs screenshots test test-faults test-spark test-scale-out test-extended test-all bench bench-spark bench-ingest bench-incremental bench-large lint format lock clean

help:
	@echo "make run    - install (first time) and run the main job on demo data"
	@echo "make test   - install (first time) and run the test suite"
	@echo "make test-faults - the whole fault suite (crashes, disk full, bad deliveries, ...)"
	@echo "make test-spark - the dbt project on Apache Spark (local mode) against DuckDB's marts"
	@echo "make test-scale-out - ingest on several workers + make test-spark (CI runs it after make test)"
	@echo "make test-extended - the end-to-end tests make test leaves out for time (CI runs it)"
	@echo "make test-all - every test, including the ones make test leaves out for time"
	@echo "make bench  - benchmark on the medium world (~20M events): pipeline, floor, pandas -> BENCHMARKS.md"
	@echo "make bench-large - full pipeline on the large world (~100M events) -> BENCHMARKS.md"
	@echo "make bench-spark - dbt on DuckDB vs Spark local on the same raw (SCALE=small|medium) -> BENCHMARKS.md"
	@echo "make bench-incremental - the transform for a new day and a new hour on the medium world (SCALE=) -> BENCHMARKS.md"
	@echo "make bench-ingest - ingest with 1 and 2 workers on the medium world (SCALE=, WORKERS=1,2) -> BENCHMARKS.md"
	@echo "make up     - Airflow standalone on http://localhost:8080 (DAGs unpaused, event-driven)"
	@echo "make docs   - dbt docs (marts, columns, lineage) on http://localhost:8081"
	@echo "make screenshots - the README's screenshots (report, Airflow UI) with headless Chromium"
	@echo "make lint   - ruff + sqlfluff"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml"
	@echo "make clean  - remove generated data (keeps .venv)"

install: $(STAMP)

# uv is installed into the venv by pip (pinned), so a fresh machine needs only python3 + pip.
# Bytecode is compiled at install: with PYTHONDONTWRITEBYTECODE set (as on our machines)
# every dbt / Airflow process would otherwise compile its imports anew (DECISIONS.md).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements.lock
	$(UV) pip install --quiet --compile-bytecode --python $(PY) --no-deps -e .
	touch $@

# the spark target's packages on top of the lock (Java 17+ from the system)
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(STAMP) requirements-spark.txt
	$(UV) pip install --quiet --compile-bytecode --python $(PY) -r requirements-spark.txt -c requirements.lock
	touch $@

install-spark: $(SPARK_STAMP)

run: $(STAMP)
	$(VENV)/bin/growthops run --demo

up: $(STAMP)
	$(VENV)/bin/growthops up

docs: $(STAMP)
	$(VENV)/bin/growthops docs --port 8081

# needs `make run` first (the report) and Chromium (apt-get install chromium)
screenshots: $(STAMP)
	$(PY) -m growthops.screenshots

# make test leaves out the slowest fault tests (make test-faults runs the whole fault suite)
test: $(STAMP)
	$(PY) -m pytest -m "not faults_full and not extended and not scale_out"

test-faults: $(STAMP)
	$(PY) -m pytest -m faults

test-spark: $(SPARK_STAMP)
	$(PY) -m pytest -m spark

# past one machine: ingest on several workers and the dbt project on Spark (CI runs it)
test-scale-out: $(SPARK_STAMP)
	$(PY) -m pytest -m scale_out

# end-to-end tests left out of make test for time: Airflow standalone, a zone rebuild, the
# compose services as processes, two demo runs (CI runs it)
test-extended: $(STAMP)
	$(PY) -m pytest -m "extended and not scale_out"

test-all: $(SPARK_STAMP)
	$(PY) -m pytest

# not part of make test: the first run generates and caches the world (data/bench/worlds)
bench: $(STAMP)
	$(PY) -m growthops.bench.run --scale medium

# dbt on DuckDB vs Spark (local mode) on the same raw; SCALE=medium for the bigger world
bench-spark: $(SPARK_STAMP)
	$(PY) -m growthops.bench.engines --scale $(or $(SCALE),small)

# `$(or …)` splits its arguments on commas: the default list needs a variable
ALL_WORKER_COUNTS := 1,2
bench-ingest: $(STAMP)
	$(PY) -m growthops.bench.ingest_workers --scale $(or $(SCALE),medium) --workers $(or $(WORKERS),$(ALL_WORKER_COUNTS))

# the transform for a new day and a new hour on top of the whole history (REUSE=1: keep the last raw)
bench-incremental: $(STAMP)
	$(PY) -m growthops.bench.incremental --scale $(or $(SCALE),medium) $(if $(REUSE),--reuse-pipeline)

bench-large: $(STAMP)
	$(PY) -m growthops.bench.run --scale large --pipeline-only

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/sqlfluff lint dbt_project/models

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: $(STAMP)
	$(UV) pip compile pyproject.toml --extra dev --extra deploy --python-version 3.11 --no-header -o requirements.lock
	sed -i '1i # Generated by `make lock` (uv pip compile pyproject.toml --extra dev --extra deploy). Do not edit by hand.' requirements.lock

clean:
	rm -rf data
