"""LandingWatcher: the event trigger that wakes an ingest DAG when files land.

Airflow 3.3 has no event trigger for "any file in this folder" (FileTrigger is not an
event trigger; FileDeleteTrigger watches one exact path), so this is one. It never moves
files: landing/<family>/ stays the single inbox, and the ingest run takes everything
pending there. An event is only a wake-up signal, so a lost or merged event (bursts,
apache/airflow#56050) costs nothing but latency: the time schedule catches up.

Imported by dotted path in the triggerer: keep this module free of heavy imports.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from growthops.landing import iter_complete_files, missing_inbox_message


def snapshot(folder: Path) -> frozenset[tuple[str, int, int]]:
    """(relative path, size, mtime_ns) of every complete file below `folder`."""
    found = set()
    for path in iter_complete_files(folder):
        try:
            st = path.lstat()  # a link is never followed, not even to look at it
        except FileNotFoundError:  # taken by an ingest run between listing and stat
            continue
        found.add((path.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns))
    return frozenset(found)


class LandingWatcher(BaseEventTrigger):
    """Yield one event whenever complete files appear (or change) under `folder`."""

    def __init__(self, folder: str, poll_interval: float = 2.0) -> None:
        super().__init__()
        self.folder = folder
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # (classpath, kwargs) is hashed to identify the trigger: keep kwargs deterministic.
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"folder": self.folder, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        folder = Path(self.folder)
        seen: frozenset[tuple[str, int, int]] = frozenset()
        if missing := missing_inbox_message(folder):
            # keep watching (the folder may be created); the ingest run fails with this too
            self.log.error("%s", missing)
        while True:
            # scandir of a local inbox takes microseconds; not worth a thread.
            now = snapshot(folder)
            new = now - seen
            if new:
                names = sorted(name for name, _, _ in new)
                self.log.info("%d new file(s) in %s: %s", len(names), folder, names[:5])
                payload = {"folder": self.folder, "new_files": names[:50], "pending": len(now)}
                yield TriggerEvent(payload)
            seen = now
            await asyncio.sleep(self.poll_interval)
