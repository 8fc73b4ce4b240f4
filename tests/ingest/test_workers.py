"""Ingest on several workers at once: claims, dead workers, exactly-once under concurrency, and
the small world ingested by two workers equal to one (README "Past one machine")."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import (
    ALL_DAGS,
    DEMO,
    assert_ingest_invariants,
    assert_landing_empty,
    copy_data_root,
    published_marts,
    query,
    settings_for,
)

from growthops import lake, landing
from growthops.demo.generate import generate
from growthops.ingest import loader
from growthops.runner import run_dags

CLAIM_ALL = """
import sys
from pathlib import Path
from growthops.landing import Claims
inbox = Path(sys.argv[1])
with Claims(inbox) as claims:
    taken = [p for p in sorted(inbox.glob("*.csv")) if claims.take(p)]
    print("\\n".join(p.name for p in taken), flush=True)
    if sys.argv[2] == "hold":
        print("ready", flush=True)
        sys.stdin.read()  # until the test kills it
    for path in list(claims.root.iterdir()):
        path.unlink()  # handled
"""


def _claimers(inbox: Path, n: int) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen([sys.executable, "-c", CLAIM_ALL, str(inbox), "go"],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(n)
    ]  # fmt: skip


def test_two_workers_offered_the_same_files_each_file_goes_to_one(tmp_path: Path) -> None:
    inbox = tmp_path / "landing" / "channel"
    inbox.mkdir(parents=True)
    names = {f"f{i:04d}.csv" for i in range(400)}
    for name in names:
        (inbox / name).write_text("x\n")
    procs = _claimers(inbox, 2)
    taken = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert set(taken[0]) & set(taken[1]) == set()  # never both
    assert set(taken[0]) | set(taken[1]) == names  # none lost
    assert list(inbox.glob("*.csv")) == []


def test_a_dead_workers_claims_go_back_to_the_inbox_a_live_ones_stay(tmp_path: Path) -> None:
    inbox = tmp_path / "landing" / "channel"
    inbox.mkdir(parents=True)
    (inbox / "a.csv").write_text("a\n")
    holder = subprocess.Popen([sys.executable, "-c", CLAIM_ALL, str(inbox), "hold"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "a.csv"
        assert holder.stdout.readline().strip() == "ready"
        assert landing.recover_dead_claims(inbox) == 0  # alive: its claim holds
        assert not (inbox / "a.csv").exists()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
        assert landing.recover_dead_claims(inbox) == 1
        assert (inbox / "a.csv").read_text() == "a\n"
        assert landing.pending_files(inbox.parent, "channel") == [inbox / "a.csv"]
    finally:
        if holder.poll() is None:
            holder.kill()


@pytest.mark.slow
@pytest.mark.scale_out  # make test-scale-out (with Spark), not make test: time
def test_the_small_world_ingested_by_two_workers_equals_one(
    clean_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Done-when of the scale-out issue: 2 concurrent ingest workers, every file balanced,
    nothing doubled, the lake equal to raw, the marts equal to the single-worker clean run.
    The same bytes under a second name ride along: of two workers it loads once."""
    root = tmp_path / "root"
    root.mkdir()
    cfg = settings_for(root, ingest_workers=2)
    generate(DEMO, cfg.landing_dir, cfg.demo_truth_dir)  # the clean run's world, as it came
    app = sorted((cfg.landing_dir / "app").rglob("*.ndjson.gz"))
    copy = app[len(app) // 2].with_name("zz_copy_" + app[len(app) // 2].name)
    copy.write_bytes(app[len(app) // 2].read_bytes())
    monkeypatch.setattr(loader, "MIN_BYTES_PER_WORKER", 1)  # the small world is small

    report = loader.ingest("app", cfg)
    workers = {f.worker for f in report.files if f.outcome == "loaded"}
    assert len(workers) == 2, workers  # both did work, at the same time
    outcomes = {f.source_file: f.outcome for f in report.files}
    assert sorted(o for s, o in outcomes.items() if s.endswith(copy.name.removeprefix("zz_copy_"))
                  ) == ["duplicate", "loaded"]  # fmt: skip
    assert_ingest_invariants(cfg)

    results = run_dags(ALL_DAGS, cfg)
    assert {r.dag_id: r.state for r in results} == dict.fromkeys(ALL_DAGS, "success")
    assert_landing_empty(cfg)
    assert_ingest_invariants(cfg)
    assert published_marts(cfg) == clean_run.marts
    one = query(clean_run.root / "warehouse" / "pipeline.duckdb",
                "select count(*), count(distinct message_id) from raw.app_events")  # fmt: skip
    assert query(cfg.pipeline_db, "select count(*), count(distinct message_id) "
                 "from raw.app_events") == one  # fmt: skip


@pytest.mark.slow
@pytest.mark.scale_out
def test_a_crash_between_part_and_commit_leaves_an_invisible_orphan_then_cleaned(
    clean_run, tmp_path: Path
) -> None:
    """Parts are written outside the lock and before the commit: a worker killed in between
    leaves a part no commit refers to. Nothing reads it; the file loads once on the next run;
    the orphan is deleted once older than the task timeout."""
    from growthops.failpoints import INGEST_BEFORE_COMMIT, marker

    root = copy_data_root(clean_run.root, tmp_path / "root")
    cfg = settings_for(root)
    source = next((root / "archive" / "app").rglob("*.ndjson.gz"))
    lines = gzip.decompress(source.read_bytes()).decode().splitlines()
    new_file = cfg.landing_dir / "app" / "late" / "crash_me.ndjson.gz"
    new_file.parent.mkdir(parents=True)
    # new messageIds: the same events again would be held as duplicates, not loaded
    new_file.write_bytes(gzip.compress("\n".join(
        re.sub(r'("messageId":\s*")', r"\1late-", line) for line in lines).encode()))  # fmt: skip
    env = {**os.environ, **cfg.environment(), "GROWTHOPS_FAILPOINT": INGEST_BEFORE_COMMIT}
    proc = subprocess.Popen([sys.executable, "-c",
                             "from growthops.ingest.loader import ingest; ingest('app')"],
                            env=env, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker(cfg, INGEST_BEFORE_COMMIT).exists():
            assert proc.poll() is None and time.monotonic() < deadline, (
                "never reached the failpoint"
            )
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    orphans = [p for p in (cfg.lake_dir / "app_events").glob("day=*/part_id=*")
               if p.name.removeprefix("part_id=") not in {*_visible(cfg), lake.SCHEMA_PART}]  # fmt: skip
    assert orphans, "the part was written before the commit"
    assert_ingest_invariants(cfg)  # the orphan is not in raw, not in the lake's visible rows

    report = loader.ingest("app", cfg)  # the claim returns, the file loads once
    assert [(f.source_file, f.outcome) for f in report.files] == [
        ("app/late/crash_me.ndjson.gz", "loaded")]  # fmt: skip
    assert_ingest_invariants(cfg)
    assert all(p.exists() for p in orphans)  # younger than the task timeout: kept for now
    past = time.time() - cfg.task_timeout.total_seconds() - 60
    for orphan in orphans:
        os.utime(orphan, (past, past))
    (cfg.landing_dir / "app" / "again.ndjson.gz").write_bytes(gzip.compress(b""))
    loader.ingest("app", cfg)
    assert not any(p.exists() for p in orphans)
    assert_ingest_invariants(cfg)


def _visible(cfg) -> set[str]:
    return {p for (p,) in query(cfg.pipeline_db,
            "select part_id from raw.lake_parts where status = 'visible'")}  # fmt: skip
