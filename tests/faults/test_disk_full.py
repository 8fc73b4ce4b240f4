"""Disk full while writing: the run fails clearly, the previous state stays intact, and
the run after space is freed ends where a clean run ends.

The data root lives on a small tmpfs (mounted by the test; needs root, as on CI and the
development machines) holding a copy of the clean run, plus new files to ingest. The rest
of the file system is filled, so DuckDB's first write fails with ENOSPC.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import (
    assert_ingest_invariants,
    assert_landing_empty,
    copy_data_root,
    published_marts,
    published_run_id,
    query,
    settings_for,
)

from growthops.config import Settings
from growthops.runner import run_dags

pytestmark = [pytest.mark.faults, pytest.mark.faults_full]
TMPFS_MB = 160


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI and the dev machines run as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path) -> Path:
    """Write a filler file until the file system is full, to the last byte."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _ingest_in_own_process(cfg: Settings, family: str) -> subprocess.CompletedProcess[str]:
    # its own process: DuckDB invalidates a database instance after a failed write
    code = f"from growthops.ingest.loader import ingest; ingest({family!r})"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **cfg.environment()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_disk_full_fails_clearly_keeps_the_last_state_and_recovers(
    small_disk: Path, clean_run
) -> None:
    cfg = settings_for(copy_data_root(clean_run.root, small_disk / "data"))
    # new work: the same events again under new names (all duplicates when loaded)
    archived = sorted((cfg.data_root / "archive" / "app").rglob("segment_*.ndjson.gz"))[:3]
    for path in archived:
        shutil.copyfile(path, cfg.landing_dir / "app" / f"resent_{path.name}")
    raw_before = query(cfg.pipeline_db, "select count(*) from raw.app_events")
    published_before = (published_run_id(cfg), published_marts(cfg))
    filler = _fill(small_disk)

    failed = _ingest_in_own_process(cfg, "app")
    assert failed.returncode != 0
    assert "DiskFullError: ingest app:" in failed.stderr, failed.stderr[-3000:]
    assert "No space left on device" in failed.stderr
    assert f"The disk holding {cfg.data_root} (GROWTHOPS_DATA_ROOT) is full" in failed.stderr
    # intact: the pipeline file opens, nothing half-loaded, the new files still pending
    assert query(cfg.pipeline_db, "select count(*) from raw.app_events") == raw_before
    assert_ingest_invariants(cfg)
    assert len(list((cfg.landing_dir / "app").iterdir())) == len(archived)

    [transform] = run_dags(["transform"], cfg)
    assert transform.state == "failed"
    assert transform.task_states["publish"] == "upstream_failed"
    assert (published_run_id(cfg), published_marts(cfg)) == published_before

    filler.unlink()
    results = run_dags(["ingest_app", "transform"], cfg)
    assert [r.state for r in results] == ["success", "success"]
    assert_landing_empty(cfg)
    assert_ingest_invariants(cfg)
    assert published_run_id(cfg) == results[1].run_id
    assert published_marts(cfg) == clean_run.marts
