"""The landing contract: which files are complete, and where handled files go.

A producer writes under a hidden or temporary name and renames when done, so a file is
complete exactly when its name is final. After ingestion a file leaves landing/: into
archive/<family>/<load_id>/ when its rows were loaded (or it was an identical
re-delivery), into quarantine/<family>/<load_id>/ with a `.reason.txt` beside it when it
was rejected whole. landing/ is an inbox; an empty inbox means nothing is pending.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import uuid
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
    """Complete entries below `folder`, in name order (hidden folders are skipped too): regular
    files, and also links and special files, so that the ingest can refuse them with a
    reason instead of leaving them unexplained. Links to folders are listed, never entered."""
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):  # followlinks=False: a linked folder is not walked
        linked = [d for d in dirs if (Path(root) / d).is_symlink()]
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(INCOMPLETE_PREFIXES) and d not in linked
        )
        for name in sorted([*files, *linked]):
            path = Path(root) / name
            if is_complete(path):
                yield path


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def not_a_regular_file(path: Path) -> str | None:
    """What `path` is when it is not a regular file (from lstat: a link is never followed),
    or None for a regular file."""
    mode = os.lstat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path: Path) -> bytes:
    """The bytes of `path`, refusing anything but a regular file even if it was swapped for a
    link or a FIFO since it was listed (O_NOFOLLOW, and O_NONBLOCK so a FIFO cannot hang)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """A reason or note about a delivery: readable by the pipeline's owner and group only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o640)  # also when it existed with wider permissions


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


def move_out(path: Path, dest_dir: Path, relative: Path, private: bool = False) -> Path:
    """Move a handled entry out of landing/ (rename when on the same file system). A link or
    special file is only ever renamed (copying one would read it): across file systems it is
    removed instead, which touches nothing it points to. `private`: quarantined data, made
    readable by the owner and group only."""
    dest = dest_dir / relative
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.replace(dest)
    except OSError:
        if not_a_regular_file(path):
            path.unlink()
            return dest
        shutil.move(str(path), dest)
    if private and not_a_regular_file(dest) is None:
        dest.chmod(0o640)
    return dest


# ------------------------------------------------------------------------ claims
# Several ingest workers share an inbox. A worker claims a file by renaming it into
# landing/<family>/.claimed/<worker>/ (a rename is atomic: of two workers offered the same
# file, one gets it and the other finds it gone) and holds an flock on
# .claimed/<worker>.lock while it lives. A dead worker's lock is free: the next ingest puts
# its claimed files back in the inbox, where they load as if never touched.
CLAIMED = ".claimed"


class Claims:
    """One worker's claims on `inbox` (landing/<family>/), for the life of the context."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.root = inbox / CLAIMED / self.token
        self._lock: int | None = None

    def __enter__(self) -> Claims:
        self.root.mkdir(parents=True)
        self._lock = os.open(self.root.with_suffix(".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        return self

    def take(self, path: Path) -> Path | None:
        """`path` (in the inbox) moved into this worker's claims, or None: another took it."""
        target = self.root / path.relative_to(self.inbox)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.rename(target)
        except FileNotFoundError:
            return None
        return target

    def __exit__(self, *exc: object) -> None:
        # files still here were not handled (the worker failed): back to the inbox
        _return_claimed(self.inbox, self.root)
        self.root.with_suffix(".lock").unlink(missing_ok=True)
        if self._lock is not None:
            os.close(self._lock)
        with contextlib.suppress(OSError):  # the last worker out leaves an empty inbox
            self.root.parent.rmdir()


def recover_dead_claims(inbox: Path) -> int:
    """Files claimed by workers that died (their lock is free) back into `inbox`; how many."""
    claimed = inbox / CLAIMED
    if not claimed.is_dir():
        return 0
    returned = 0
    for root in sorted(p for p in claimed.iterdir() if p.is_dir()):
        lock_path = root.with_suffix(".lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # its worker is alive
            os.close(fd)
            continue
        try:
            returned += _return_claimed(inbox, root)
            lock_path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    for lock_path in claimed.glob("*.lock"):  # a worker killed as it was leaving
        if not lock_path.with_suffix("").exists():
            lock_path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        claimed.rmdir()
    return returned


def _return_claimed(inbox: Path, root: Path) -> int:
    returned = 0
    for path in sorted(p for p in root.rglob("*") if not p.is_dir()):
        target = inbox / path.relative_to(root)
        if target.exists():  # a newer delivery of the name: the claimed one waits its turn
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
        returned += 1
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
    with contextlib.suppress(OSError):
        root.rmdir()
    return returned
