"""Failpoints: named places where the fault suite parks the pipeline to kill it there.

With GROWTHOPS_FAILPOINT=<name> (or <name>@<n>: the n-th time that point is reached) the
process that reaches `failpoint(<name>)` writes <data_root>/.failpoints/<name> and sleeps
until it is killed, so a test can SIGKILL it at exactly that point instead of guessing with
timers. Unset (always, outside the fault suite) a failpoint costs one string comparison.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from pathlib import Path

from growthops.config import Settings

log = logging.getLogger(__name__)

# Where a crash is the most damaging: the tests kill the pipeline at each of these.
INGEST_BEFORE_COMMIT = "ingest.before_commit"  # a file's rows written, transaction open
INGEST_AFTER_COMMIT = "ingest.after_commit"  # committed, file not yet moved out of landing/
PUBLISH_BEFORE_SWAP = "publish.before_swap"  # new serving file written, not yet renamed
FAILPOINTS = (INGEST_BEFORE_COMMIT, INGEST_AFTER_COMMIT, PUBLISH_BEFORE_SWAP)

_hits: Counter[str] = Counter()


def marker(cfg: Settings, name: str) -> Path:
    """The file a parked process writes (its pid) when it reaches failpoint `name`."""
    return cfg.data_root / ".failpoints" / name


def failpoint(name: str, cfg: Settings) -> None:
    """Park here forever if GROWTHOPS_FAILPOINT names this point (and this is the n-th hit)."""
    if not cfg.failpoint:
        return
    target, _, nth = cfg.failpoint.partition("@")
    if target != name:
        return
    _hits[name] += 1
    if _hits[name] != int(nth or 1):
        return
    path = marker(cfg, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(os.getpid()))
    log.warning("parked at failpoint %s (pid %d) until killed", name, os.getpid())
    while True:
        time.sleep(3600)
