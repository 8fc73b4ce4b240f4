"""The landing contract: which files are complete, and where handled files go.

A producer writes under a hidden or temporary name and renames when done, so a file is
complete exactly when its name is final. After ingestion a file leaves landing/: into
archive/<family>/<load_id>/ when its rows were loaded (or it was an identical
re-delivery), into quarantine/<family>/<load_id>/ with a `.reason.txt` beside it when it
was rejected whole. landing/ is an inbox; an empty inbox means nothing is pending.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

FAMILIES = ("channel", "app", "content")
INCOMPLETE_PREFIXES = (".", "_")
INCOMPLETE_SUFFIXES = (".tmp", ".part")


def is_complete(path: Path) -> bool:
    return not path.name.startswith(INCOMPLETE_PREFIXES) and not path.name.endswith(
        INCOMPLETE_SUFFIXES
    )


def iter_complete_files(folder: Path) -> Iterator[Path]:
    """Complete files below `folder`, in name order (hidden folders are skipped too)."""
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(INCOMPLETE_PREFIXES))
        for name in sorted(files):
            path = Path(root) / name
            if is_complete(path):
                yield path


def pending_files(landing_dir: Path, family: str) -> list[Path]:
    return list(iter_complete_files(landing_dir / family))


def make_inboxes(landing_dir: Path) -> None:
    """Create landing/<family>/ for every family (a new data root has none)."""
    for family in FAMILIES:
        (landing_dir / family).mkdir(parents=True, exist_ok=True)


def missing_inbox_message(folder: Path) -> str | None:
    """Why `folder` (landing/<family>/) cannot be an inbox, or None when it can.

    A missing inbox is a configuration error, never "nothing pending": it means
    GROWTHOPS_DATA_ROOT points somewhere else than where producers deliver, and files
    delivered to the right place would silently never be seen.
    """
    if folder.is_dir():
        return None
    return (
        f"landing folder {folder} does not exist: check GROWTHOPS_DATA_ROOT "
        f"(now {folder.parent.parent}), or create the folder if this data root is new "
        f"(`growthops up`, `growthops init-airflow` and `growthops demo generate` create landing/<family>/)"
    )


def move_out(path: Path, dest_dir: Path, relative: Path) -> Path:
    """Move a handled file out of landing/ (rename when on the same file system)."""
    dest = dest_dir / relative
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.replace(dest)
    except OSError:
        shutil.move(str(path), dest)
    return dest
