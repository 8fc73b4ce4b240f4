"""Generate a demo world into a data root (landing files + ground truth), or drip it."""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from growthops.demo.simulate import DemoConfig, Simulator, Truth
from growthops.landing import iter_complete_files


def generate(
    config: DemoConfig,
    landing: Path,
    truth_dir: Path,
    progress: Callable[[str], None] | None = None,
) -> Truth:
    """Write the demo world's landing files and its ground truth (`progress`: a line every
    tenth of a long world's days)."""
    truth = Simulator(config, landing, progress).run()
    write_truth(truth, truth_dir)
    return truth


def write_truth(truth: Truth, truth_dir: Path) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "config": truth.config,
        "events_generated": truth.events_generated,
        "dirt": truth.dirt,
        "dirt_opportunities": truth.dirt_opportunities,
        "malformed_by_family": truth.malformed_by_family,
        "malformed_message_ids": truth.malformed_message_ids,
        "held_order_message_ids": truth.held_order_message_ids,
        "implausible_time_message_ids": truth.implausible_time_message_ids,
        "anomalies": truth.anomalies,
        "experiments": truth.experiments,
        "persons": len(truth.persons),
    }
    (truth_dir / "truth.json").write_text(json.dumps(summary, indent=1, default=str))
    for name, rows in (
        ("files.csv", truth.files),
        ("spend_rows.csv", truth.spend_rows),
        ("persons.csv", truth.persons),
        ("experiment_exposures.csv", truth.experiment_exposures),
        ("orders.csv", truth.orders),
    ):
        with (truth_dir / name).open("w", newline="", encoding="utf-8") as fh:
            if rows:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)


def drip(
    outbox: Path,
    landing: Path,
    interval_seconds: float,
    batch: int = 1,
    on_file: Callable[[Path], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Move generated files from `outbox` into `landing` a few at a time (write-then-rename).

    Files are released in delivery order: each day's reports and hourly batches in time
    order, so a watcher sees the world arrive as it would in production.
    """
    files = sorted(iter_complete_files(outbox), key=_delivery_key)
    moved = 0
    for n, src in enumerate(files, start=1):
        dst = landing / src.relative_to(outbox)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.part")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
        src.unlink()
        moved += 1
        if on_file:
            on_file(dst)
        if n % batch == 0 and n < len(files):
            sleep(interval_seconds)
    return moved


def _delivery_key(path: Path) -> tuple[str, str]:
    # File names carry their date (2026-06-01, 20260601 or 2026-06-01T03): order by it.
    digits = "".join(ch for ch in path.name if ch.isdigit())[:10]
    return digits.ljust(10, "0"), path.name
