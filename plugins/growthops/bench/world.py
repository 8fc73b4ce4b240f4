"""The benchmark's demo world: generated once per (scale, seed), cached, never modified.

Runs hard-link its files into their own landing folder (the pipeline moves landed files
to archive/, which unlinks the run's link, not the cached file). The world holds one day
more than the scale: the full run takes every file dated up to the scale's last day, the
incremental run the files of the extra day.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from growthops.demo.generate import write_truth
from growthops.demo.simulate import DemoConfig, Simulator
from growthops.demo.world import SCALES

COMPLETE = "world.json"


@dataclass(frozen=True)
class World:
    root: Path  # landing/ layout: <root>/<family>/...
    scale: str
    seed: int
    days: int  # of the full run (the world has one more)
    start: date
    events: int
    files: int
    generate_seconds: float

    def to_json(self) -> dict[str, object]:
        return {**self.__dict__, "root": str(self.root), "start": self.start.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> World:
        return cls(**{**data, "root": Path(str(data["root"])),
                      "start": date.fromisoformat(str(data["start"]))})  # fmt: skip

    @property
    def last_full_day(self) -> date:
        return self.start + timedelta(days=self.days - 1)

    def full_files(self) -> list[Path]:
        return [p for p in self._files() if file_day(p) <= self.last_full_day]

    def next_day_files(self) -> list[Path]:
        return [p for p in self._files() if file_day(p) > self.last_full_day]

    def _files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file() and p.name != COMPLETE)


def file_day(path: Path) -> date:
    """The day a landing file reports on: the first YYYY-MM-DD / YYYYMMDD in its name."""
    digits = "".join(ch for ch in path.name if ch.isdigit())[:8]
    if len(digits) < 8:
        raise ValueError(f"{path}: no date in the file name")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def ensure_world(bench_dir: Path, scale: str, seed: int, dirt_rate: float) -> World:
    """The cached world for (scale, seed), generated first if it is missing or incomplete."""
    base = SCALES[scale]
    folder = bench_dir / "worlds" / f"{scale}-seed{seed}-dirt{dirt_rate:g}"
    marker = folder / "landing" / COMPLETE
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        config = DemoConfig(scale=replace(base, days=base.days + 1), seed=seed, dirt_rate=dirt_rate)
        started = time.perf_counter()
        truth = Simulator(config, folder / "landing", lambda line: print(line, flush=True)).run()
        seconds = time.perf_counter() - started
        write_truth(truth, folder / "truth")
        meta = {
            "scale": scale,
            "seed": seed,
            "days": base.days,
            "start": config.start.isoformat(),
            "events": truth.events_generated,
            "files": len(truth.files),
            "generate_seconds": round(seconds, 1),
        }
        marker.write_text(json.dumps(meta, indent=1))  # written last: the world is complete
    meta = json.loads(marker.read_text())
    return World(
        root=folder / "landing",
        scale=meta["scale"],
        seed=meta["seed"],
        days=meta["days"],
        start=date.fromisoformat(meta["start"]),
        events=meta["events"],
        files=meta["files"],
        generate_seconds=meta["generate_seconds"],
    )


def link_files(root: Path, files: list[Path], landing: Path) -> None:
    """Deliver `files` (under `root`) into `landing` as hard links (instant, no copy; falls
    back to copying across file systems)."""
    for src in files:
        dst = landing / src.relative_to(root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)


def add_world_arguments(parser: argparse.ArgumentParser, default_scale: str) -> None:
    """The world a benchmark runs on and where it writes (one home for the defaults: every
    benchmark on the same scale, seed and dirt rate reuses one cached world)."""
    parser.add_argument("--scale", default=default_scale,
                        help="demo world scale (small, medium, large)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dirt-rate", type=float, default=0.01)
    parser.add_argument("--output", default="BENCHMARKS.md")
