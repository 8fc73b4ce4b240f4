"""LandingWatcher (driven directly, no Airflow services) and the DuckDB writer lock."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from growthops import warehouse
from growthops.triggers import LandingWatcher


async def _events(trigger: LandingWatcher, n: int, timeout: float) -> list[dict]:
    out: list[dict] = []

    async def collect() -> None:
        async for event in trigger.run():
            out.append(event.payload)
            if len(out) >= n:
                return

    with contextlib.suppress(TimeoutError):  # fewer events than asked for: return what came
        await asyncio.wait_for(collect(), timeout)
    return out


def test_watcher_wakes_on_complete_files_only(tmp_path: Path) -> None:
    folder = tmp_path / "app"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden.ndjson").write_text("x")
    (folder / "b.ndjson.part").write_text("x")
    (folder / "_staging.ndjson").write_text("x")
    assert asyncio.run(_events(LandingWatcher(str(folder), 0.02), 1, 0.3)) == []

    (folder / "a.ndjson").write_text("x")
    (folder / "sub" / "c.ndjson").write_text("x")
    [event] = asyncio.run(_events(LandingWatcher(str(folder), 0.02), 1, 2))
    assert event["new_files"] == ["a.ndjson", "sub/c.ndjson"] and event["pending"] == 2


def test_watcher_signals_again_only_for_new_or_changed_files(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1")
    trigger = LandingWatcher(str(tmp_path), 0.02)

    async def scenario() -> list[dict]:
        events: list[dict] = []
        gen = trigger.run()
        events.append((await anext(gen)).payload)  # the file already there
        (tmp_path / "a.csv").write_text("12")  # replaced with new content
        os.utime(tmp_path / "a.csv", ns=(time.time_ns(), time.time_ns() + 1_000_000))
        events.append((await asyncio.wait_for(anext(gen), 2)).payload)
        with pytest.raises(TimeoutError):  # nothing new: no event
            await asyncio.wait_for(anext(gen), 0.2)
        return events

    first, second = asyncio.run(scenario())
    assert first["new_files"] == second["new_files"] == ["a.csv"]


def test_serialize_round_trips() -> None:
    classpath, kwargs = LandingWatcher("/data/landing/app", 2.0).serialize()
    assert classpath == "growthops.triggers.LandingWatcher"
    assert LandingWatcher(**kwargs).serialize() == (classpath, kwargs)


def test_a_held_lock_is_waited_for_then_named_in_the_error(tmp_path: Path) -> None:
    db = tmp_path / "pipeline.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = time.monotonic()
        with pytest.raises(
            warehouse.WarehouseLockedError,
            match=r"pipeline\.duckdb is locked.*GROWTHOPS_LOCK_RETRY_SECONDS",
        ):
            warehouse.connect(db, wait_seconds=1.5)
        assert time.monotonic() - started >= 1.5
    finally:
        holder.kill()
        holder.wait()
    con = warehouse.connect(db, wait_seconds=5)  # released: the next writer gets in
    con.close()
