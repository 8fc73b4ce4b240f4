"""Ingest one family: every pending landing file to raw tables, exactly once, gated.

For each complete file in landing/<family>/ (in name order):

1. sha256 of its bytes. The same hash read the same way (reader: the adapter's folder,
   gzip or not) already in raw.ingest_manifest is an identical re-delivery: nothing
   changes, the delivery is logged, the file is archived. Links and special files are
   refused unread.
2. The adapter reads it (adapters.py). An unreadable file is rejected whole.
3. The raw gate (expectations/raw_<table>.json) checks every row; app events are also
   de-duplicated by messageId (within the run and against raw.app_events).
4. If more than GROWTHOPS_MAX_BAD_ROW_SHARE of its rows break a rule, the file is
   rejected whole; a new version of a loaded file with none or far fewer rows
   (GROWTHOPS_MAX_RESTATEMENT_DROP) is held until `growthops accept-restatement`.
   Otherwise, in ONE DuckDB transaction: the rows of an earlier version of the same file
   name are removed (and messageIds only it had load from their held duplicates), good
   rows go to raw.<table>, bad rows to raw.quarantine_rows (rule, reason, raw record), and
   the manifest row records rows_in = rows_loaded + rows_quarantined. A file the database
   still refuses is rejected alone, with its error.
5. The file leaves landing/: to archive/ (loaded) or quarantine/ with a .reason.txt.

A crash before the commit leaves the file in landing/ for the next run; a crash between
commit and move makes the next run see an identical re-delivery. Either way, once.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import logging
import multiprocessing
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import pandas as pd

from growthops import lake, landing, project, quality, tracking_plan, warehouse
from growthops.config import ConfigError, Settings, settings
from growthops.failpoints import INGEST_AFTER_COMMIT, INGEST_BEFORE_COMMIT, failpoint
from growthops.ingest.adapters import (
    FileRejectedError,
    Parsed,
    adapter_for,
    parse_segment_ndjson,
    reader_of,
)
from growthops.ingest.schema import RAW_SCHEMA, ensure_raw_schema

log = logging.getLogger(__name__)

# Below this many rows a file's bad-row share is too coarse to judge it by (1 bad row of
# 10 is 10%): small files load their good rows and quarantine the rest.
MIN_ROWS_FOR_SHARE = 20
# Files parsed and gated together; bounds memory on large backlogs.
CHUNK_ROWS = 400_000
RULE_DUPLICATE = "unique_message_id"
# Pending bytes each ingest worker beyond the first needs (GROWTHOPS_INGEST_WORKERS is a cap).
MIN_BYTES_PER_WORKER = 16 * 2**20
INGEST_CHECKPOINT_THRESHOLD = "512MB"  # WAL size at which DuckDB checkpoints during ingest


@dataclass
class FileOutcome:
    source_file: str  # path under landing/, e.g. channel/google_ads/x.csv
    sha256: str
    outcome: str  # loaded | replaced_previous | rejected | duplicate
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    detail: str = ""
    moved_to: str = ""
    worker: str = ""  # the ingest worker that handled it (<pid>-<random>)


@dataclass
class IngestReport:
    family: str
    load_id: str
    files: list[FileOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    gate_seconds: float = 0.0  # time in the raw gate (GX suites), for the run's timings

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return self._sum("rows_loaded")

    @property
    def rows_quarantined(self) -> int:
        return self._sum("rows_quarantined")

    def count(self, *outcomes: str) -> int:
        return sum(1 for f in self.files if f.outcome in outcomes)

    @property
    def changed_raw(self) -> bool:
        """Rows were loaded or replaced: there is something new for the transform. A run of
        duplicates, rejected or held files (or 0-row files) changed nothing."""
        return self.rows_loaded > 0 or self.count("replaced_previous") > 0

    def extra(self) -> dict[str, Any]:
        """What the raw_<family> asset event carries."""
        return {
            "load_id": self.load_id,
            "files": len(self.files),
            "files_loaded": self.count("loaded", "replaced_previous"),
            "files_rejected": self.count("rejected"),
            "files_duplicate": self.count("duplicate"),
            "rows": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "gate_seconds": round(self.gate_seconds, 3),
        }

    def summary(self) -> str:
        lines = [
            f"ingest {self.family} {self.load_id}: {len(self.files)} files, "
            f"{self.rows_loaded} rows loaded, {self.rows_quarantined} quarantined, "
            f"{self.count('rejected')} files rejected, {self.count('duplicate')} duplicates"
        ]
        # files that loaded are in raw.ingest_manifest; the log names the ones to look at
        lines += [
            f"  {f.outcome:<17} {f.source_file}: in={f.rows_in} loaded={f.rows_loaded} "
            f"quarantined={f.rows_quarantined}{' - ' + f.detail if f.detail else ''}"
            for f in self.files
            if f.outcome != "loaded"
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class _Work:
    path: Path
    source_file: str
    relative: PurePosixPath  # under landing/<family>/
    data: bytes
    sha256: str
    parsed: Parsed | None = None
    reader: str = ""  # how its bytes are read (adapters.reader_of): part of the exactly-once key
    reject_reason: str | None = None
    bad: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    duplicates: dict[int, str] = field(default_factory=dict)
    refused: bool = False  # not read at all (a link, a FIFO, unreadable): no content to match
    part: lake.Part | None = None  # its good rows in the lake, not yet committed
    handled: bool = False  # left the chunk (an identical copy was committed meanwhile)
    good: tuple[tuple[int, int], pd.DataFrame] | None = None  # _good_rows, and what it counted


def ingest(family: str, cfg: Settings | None = None, workers: int | None = None) -> IngestReport:
    """Ingest every pending file of `family` with `workers` processes (default
    GROWTHOPS_INGEST_WORKERS); safe to call at any time, any number of times, and from several
    machines sharing the data root at once."""
    if family not in landing.FAMILIES:
        raise ValueError(f"unknown family {family!r}; expected one of {landing.FAMILIES}")
    cfg = cfg or settings()
    workers = workers or cfg.ingest_workers
    now = datetime.now(UTC)
    # the id a run gets once it holds the writer (_next_load_id); none while nothing is pending
    report = IngestReport(family, "")
    inbox = cfg.landing_dir / family
    missing = landing.missing_inbox_message(inbox)
    if missing:
        raise ConfigError(missing)
    recovered = landing.recover_dead_claims(inbox)
    if recovered:
        log.warning("ingest %s: %d files claimed by a worker that died are back in the inbox",
                    family, recovered)  # fmt: skip
    pending = landing.pending_files(cfg.landing_dir, family)
    if not pending:
        log.info("ingest %s: no pending files in %s", family, inbox)
        return report
    try:
        with _section(cfg) as con:
            lake.ensure_lake(con, cfg)
            # a crashed worker's parts, and versions retired longer ago than any task runs
            lake.remove_unreferenced(con, cfg, cfg.task_timeout.total_seconds())
            report.load_id = _next_load_id(con, family, now)
        # FX rates first, in this process: the spend gate checks currencies against them
        fx = [p for p in pending if _is_fx(p)]
        if fx:
            _merge(report, _run_worker(family, cfg, report.load_id, now, fx_only=True))
        rest = [p for p in pending if not _is_fx(p)]
        if rest:
            # a worker beyond the first costs a process start (~5 s of imports): only with the
            # bytes to pay for it
            workers = max(1, min(workers, sum(_size(p) for p in rest) // MIN_BYTES_PER_WORKER))
            _merge(report, *_run_workers(family, cfg, report.load_id, now, workers))
        if family == "channel":  # where FX rates arrive: rows held for one may load now
            with _section(cfg) as con:
                _load_rows_whose_rate_arrived(con, report, cfg, now)
    except (duckdb.Error, OSError) as exc:
        if warehouse.DISK_FULL not in str(exc):
            raise
        raise warehouse.DiskFullError(
            f"ingest {family}: {exc}. {warehouse.disk_full_hint(cfg.data_root)}"
        ) from exc
    log.info("%s", report.summary())
    return report


def _size(path: Path) -> int:
    try:
        return path.lstat().st_size
    except OSError:
        return 0


def _is_fx(path: Path) -> bool:
    return "fx_rates" in path.parts


def _merge(report: IngestReport, *parts: IngestReport) -> None:
    for part in parts:
        report.files.extend(part.files)
        report.warnings.extend(part.warnings)
        report.gate_seconds += part.gate_seconds


def _run_workers(
    family: str, cfg: Settings, load_id: str, now: datetime, workers: int
) -> list[IngestReport]:
    """The non-FX files by `workers` processes claiming from the inbox (one: this process)."""
    if workers == 1:
        return [_run_worker(family, cfg, load_id, now, fx_only=False)]
    # spawn, not fork: a forked child would inherit whatever locks the task's other threads
    # (Airflow's, logging's) held at that instant. A worker that dies breaks the pool and the
    # run fails; what its workers claimed and did not commit goes back to the inbox on the
    # next run (landing.recover_dead_claims), each commit being whole or absent.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [
            pool.submit(_run_worker, family, cfg, load_id, now, False) for _ in range(workers)
        ]
        wait(futures)
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        raise failed[0]
    return [f.result() for f in futures]


def _run_worker(
    family: str, cfg: Settings, load_id: str, now: datetime, fx_only: bool
) -> IngestReport:
    """One worker: claim pending files one by one (name order) and ingest them in chunks."""
    report = IngestReport(family, load_id)
    with landing.Claims(cfg.landing_dir / family) as claims:
        chunk: list[_Work] = []
        chunk_rows = 0
        seen: dict[tuple[str, str], str] = {}
        # in name order (a folder's files after those of an earlier-sorting folder): of two
        # copies, the first by name loads, however many workers there are
        for path in sorted(landing.pending_files(cfg.landing_dir, family), key=str):
            if _is_fx(path) != fx_only:
                continue
            relative = PurePosixPath(path.relative_to(claims.inbox).as_posix())
            claimed = claims.take(path)
            if claimed is None:  # another worker has it
                continue
            work = _read(claimed, relative, cfg, family)
            _parse(work, family)
            chunk.append(work)
            chunk_rows += work.parsed.rows_in if work.parsed else 0
            if chunk_rows >= CHUNK_ROWS:
                _finish_chunk(chunk, seen, family, report, cfg, now)
                chunk, chunk_rows = [], 0
        _finish_chunk(chunk, seen, family, report, cfg, now)
    for outcome in report.files:
        outcome.worker = claims.token
    return report


@contextmanager
def _section(cfg: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The pipeline file for a short read-and-commit section: the workers of this data root take
    turns on an flock (no polling among themselves), then on DuckDB's own lock (bounded wait,
    for anyone else: a transform, a person's shell)."""
    cfg.pipeline_db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(cfg.pipeline_db.with_name(cfg.pipeline_db.name + ".ingest.lock"),
                 os.O_CREAT | os.O_RDWR, 0o600)  # fmt: skip
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with warehouse.pipeline_writer(cfg) as con:
            # commits stay durable in the WAL; closing the section checkpoints it (DuckDB's
            # default, a checkpoint every 16 MB, measured half the medium world's ingest time)
            con.execute(f"set checkpoint_threshold = '{INGEST_CHECKPOINT_THRESHOLD}'")
            yield con
    finally:
        os.close(fd)


def _next_load_id(con: duckdb.DuckDBPyConnection, family: str, now: datetime) -> str:
    """`<family>_<UTC time>_<random>`, sortable, and never behind the family's last load in this
    warehouse whatever the host's clock says (a host whose clock is behind still gets a later
    id), so "the later load" means the later ingest. The transform does not rely on it: it
    takes every file version it has not processed (int_events_enriched)."""
    (last,) = con.execute(
        f"select max(load_id) from {RAW_SCHEMA}.ingest_deliveries where family = ?", [family]
    ).fetchone()
    stamp = now
    if last:
        try:
            previous = datetime.strptime(last.split("_")[-2], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        except (ValueError, IndexError):
            previous = None
        if previous is not None and previous >= stamp:
            stamp = previous + timedelta(microseconds=1)
    return f"{family}_{stamp:%Y%m%dT%H%M%S%f}_{uuid.uuid4().hex[:6]}"


def _read(path: Path, relative: PurePosixPath, cfg: Settings, family: str) -> _Work:
    """The bytes and hash of `path` (a claimed file, `relative` under landing/<family>/); an
    entry that is not a regular file, or that cannot be read, becomes a rejection naming what
    it is, and nothing of it is read."""
    source_file = f"{family}/{relative}"
    try:
        kind = landing.not_a_regular_file(path)
        problem = (
            f"is {kind}: only regular files inside the data root are read, links are never "
            f"followed. Deliver the file itself (write, then rename)"
            if kind
            else None
        )
        data = b"" if kind else landing.read_regular_file(path)
    except PermissionError:
        data = b""
        problem = (
            "cannot be read by the pipeline's user (permission denied): make it readable "
            "(e.g. chmod 644) and deliver it again"
        )
    except OSError as exc:
        data, problem = b"", f"could not be read ({exc.strerror or exc}): deliver it again"
    reader = reader_of(family, relative)
    if problem:
        # no content to hash: a key of its own, so the same name delivered properly later loads
        key = hashlib.sha256(f"{problem}\0{source_file}\0{uuid.uuid4()}".encode()).hexdigest()
        return _Work(path, source_file, relative, b"", key, reject_reason=f"{source_file} {problem}",
                     reader=reader, refused=True)  # fmt: skip
    return _Work(path, source_file, relative, data, hashlib.sha256(data).hexdigest(), reader=reader)


def _is_duplicate(
    con: duckdb.DuckDBPyConnection,
    work: _Work,
    seen_this_run: dict[tuple[str, str], str],
    report: IngestReport,
    cfg: Settings,
) -> bool:
    """The same bytes were read the same way before: log the delivery, move the file, change
    nothing. The same bytes in another folder (another adapter) are read anew: the fix a
    reason prints ("move GBK files to baidu_sem/") must work."""
    # A 'replaced' version is not current: delivering it again (A -> B -> A) restores it. A
    # held restatement delivered again after `growthops accept-restatement` is applied.
    row = con.execute(
        f"select status, source_file, load_id from {RAW_SCHEMA}.ingest_manifest "
        "where file_sha256 = ? and reader in (?, '') and status <> 'replaced' "
        "and not (status = 'held' and "
        f"file_sha256 in (select file_sha256 from {RAW_SCHEMA}.accepted_restatements))",
        [work.sha256, work.reader],
    ).fetchone()
    key = (work.sha256, work.reader)
    if row is None and key not in seen_this_run:
        return False
    status, original, load_id = row if row else ("processed", seen_this_run[key], report.load_id)
    detail = f"identical to {original} ({status} in {load_id}); nothing changed"
    if status == "rejected":
        detail += " - fix the file before delivering it again"
    _log_delivery(con, report, work, "duplicate", detail)
    dest = landing.move_out(
        work.path,
        cfg.archive_dir / report.family / report.load_id,
        Path(str(work.relative)),
    )
    report.files.append(
        FileOutcome(work.source_file, work.sha256, "duplicate", detail=detail, moved_to=str(dest))
    )
    return True


def _parse(work: _Work, family: str) -> None:
    if work.reject_reason is not None:  # refused unread (_read)
        return
    if not work.data:
        work.reject_reason = (
            f"{work.source_file} is empty (0 bytes): the export produced nothing or the copy "
            f"failed. Deliver the file again."
        )
        return
    try:
        work.parsed = adapter_for(family, work.relative)(work.data, work.source_file)
    except FileRejectedError as exc:
        work.reject_reason = str(exc)
    except UnicodeDecodeError as exc:
        work.reject_reason = f"{work.source_file} cannot be decoded ({exc}); check its encoding."


# ------------------------------------------------------------------------ gate


def _gate_parameters(cfg: Settings) -> dict[str, Any]:
    return {
        # the lists dbt reads too: GROWTHOPS_HOME's dbt_project.yml
        "platforms": sorted(project.platforms(cfg.dbt_project_dir)),
        "message_types": sorted(tracking_plan.MESSAGE_TYPES),
        "track_events": sorted(project.track_events(cfg.dbt_project_dir)),
    }


# Money a raw table carries: (currency column, date column, amount column). Its rows need an
# FX rate for that currency on or before their date, or the models could not convert them.
MONEY_COLUMNS: dict[str, tuple[str, str, str]] = {
    "channel_spend": ("currency", "report_date", "raw_spend"),
    "app_events": ("revenue_currency", "event_at", "revenue_text"),
}


def _first_rates(con: duckdb.DuckDBPyConnection) -> dict[str, date]:
    """Each currency's first FX rate date: what the gate checks money rows against."""
    return dict(
        con.execute(
            f"select currency, min(rate_date) from {RAW_SCHEMA}.fx_rates group by currency"
        ).fetchall()
    )


def _fx_rate_available(first_rate: dict[str, date], batch: pd.DataFrame, table: str) -> pd.Series:
    """Per row: True when its currency has a rate on or before its date, False when not,
    None when the row carries no money, no currency or no date (each a rule of its own: a
    row whose timestamp is unreadable is held for that, not for a missing rate)."""
    currency, day, amount = MONEY_COLUMNS[table]
    first_rate = dict(first_rate)
    first_rate["USD"] = date(1900, 1, 1)  # the feed is USD per unit: USD is 1 on every date
    first = pd.to_datetime(batch[currency].map(first_rate))
    available = first.notna() & (pd.to_datetime(batch[day]).dt.normalize() >= first)
    applies = batch[amount].notna() & batch[currency].notna() & batch[day].notna()
    return available.astype(object).where(applies, None)


def _gate(
    works: list[_Work], cfg: Settings, report: IngestReport, first_rates: dict[str, date]
) -> None:
    """Run each table's suite over the chunk's rows; record failing rows per file. Needs no
    lock: what it reads of the warehouse is `first_rates` (_first_rates)."""
    by_table: dict[str, list[_Work]] = defaultdict(list)
    for w in works:
        if w.parsed is not None:
            by_table[w.parsed.table].append(w)
    params = _gate_parameters(cfg)
    for table, members in by_table.items():
        frames, owners = [], []
        for i, w in enumerate(members):
            f = w.parsed.rows.assign(_file=i)  # type: ignore[union-attr]
            frames.append(f)
            owners.append(w)
        batch = pd.concat(frames, ignore_index=True)
        batch[quality.ROW_ID] = range(len(batch))
        if table in MONEY_COLUMNS:
            batch["fx_rate_available"] = _fx_rate_available(first_rates, batch, table)
        result = quality.validate(batch, cfg.expectations_dir / f"raw_{table}.json", params)
        for rule in result.rules:
            if rule.error:
                raise RuntimeError(
                    f"expectation {rule.rule} in expectations/raw_{table}.json "
                    f"could not run: {rule.error}"
                )
            if rule.success:
                continue
            if not rule.blocking:
                report.warnings.append(
                    f"{table}: {len(rule.failing_rows)} rows: {rule.reason} [{rule.rule}]"
                )
                continue
            # one positional take for all failing rows (iloc per row cost seconds per chunk)
            shown_cols = [c for c in rule.show if c in batch.columns]
            failing = batch.iloc[list(rule.failing_rows)][["_file", "row_number", *shown_cols]]
            for rec in failing.to_dict("records"):
                w = owners[int(rec["_file"])]
                shown = ", ".join(f"{c}={_short(rec[c])}" for c in shown_cols)
                reason = (
                    f"{w.source_file} row {int(rec['row_number'])}: {rule.reason} [{rule.rule}]"
                )
                w.bad[int(rec["row_number"])].append(
                    (rule.rule, reason + (f"; {shown}" if shown else ""))
                )


def _short(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _reject_if_mostly_bad(w: _Work, cfg: Settings) -> None:
    """Reject the whole file when its share of rule-breaking rows is above the setting."""
    parsed = w.parsed
    if parsed is None or w.reject_reason is not None:
        return
    bad_rows = {r.row_number for r in parsed.rejects} | set(w.bad)
    rows_in = parsed.rows_in
    if rows_in < MIN_ROWS_FOR_SHARE or len(bad_rows) / rows_in <= cfg.max_bad_row_share:
        return
    rules = Counter(r.rule for r in parsed.rejects)
    rules.update(rule for problems in w.bad.values() for rule, _ in problems)
    examples = [r.reason for r in parsed.rejects[:2]] + [
        p[0][1] for _, p in sorted(w.bad.items())[:3]
    ]
    w.reject_reason = (
        f"{w.source_file}: {len(bad_rows)} of {rows_in} rows "
        f"({len(bad_rows) / rows_in:.1%}) break a rule, above "
        f"GROWTHOPS_MAX_BAD_ROW_SHARE={cfg.max_bad_row_share:g}. "
        f"Rules broken: {dict(rules.most_common())}. Examples: " + " | ".join(examples)
    )


def _find_duplicate_events(con: duckdb.DuckDBPyConnection, works: list[_Work]) -> None:
    """messageId seen earlier in this chunk, or already in raw.app_events from another file."""
    _duplicates_loaded(con, works, _duplicates_within(works))


def _duplicates_within(works: list[_Work]) -> pd.DataFrame | None:
    """A messageId a file of the chunk repeats: the first copy (name order) loads. Returns the
    first copies, (message_id, row_number, _work, source_file), for _duplicates_loaded."""
    frames = []
    for i, w in enumerate(works):
        # a rejected file delivers nothing: its messageIds must not make a later copy a duplicate
        if w.parsed is None or w.reject_reason is not None or w.parsed.table != "app_events":
            continue
        rows = w.parsed.rows[["row_number", "message_id"]]
        keep = rows["message_id"].notna() & ~rows["row_number"].isin(list(w.bad))
        frames.append(rows[keep].assign(_work=i, source_file=w.source_file))
    if not frames:
        return None
    # set-based (a Python loop over every row measured ~9% of a large ingest)
    ids = pd.concat(frames, ignore_index=True)
    repeat = ids["message_id"].duplicated(keep="first")
    first = ids[~repeat]
    repeats = ids[repeat]
    seen = first[first["message_id"].isin(repeats["message_id"])]
    where_seen = seen["source_file"] + " row " + seen["row_number"].astype(str)
    origin = dict(zip(seen["message_id"], where_seen, strict=True))
    for mid, n, i in repeats[["message_id", "row_number", "_work"]].itertuples(index=False):
        works[i].duplicates[int(n)] = f"messageId {mid} already delivered in {origin[mid]}"
    return first


def _duplicates_loaded(
    con: duckdb.DuckDBPyConnection, works: list[_Work], first: pd.DataFrame | None
) -> None:
    """A messageId of `first` already loaded from another file, by this worker or any other:
    checked in the commit section, so of two workers with the same event the second to commit
    holds it as a duplicate."""
    if first is None:
        return
    con.register("_candidate_ids", first[["message_id", "source_file"]])
    try:
        loaded = con.execute(
            f"""select c.message_id, any_value(a.source_file || ' row ' || a.row_number)
                from _candidate_ids c join {RAW_SCHEMA}.app_events a using (message_id)
                where a.source_file <> c.source_file group by c.message_id"""
        ).fetchall()
    finally:
        con.unregister("_candidate_ids")
    where = dict(loaded)
    hits = first[first["message_id"].isin(list(where))]
    for mid, n, i in hits[["message_id", "row_number", "_work"]].itertuples(index=False):
        works[i].duplicates[int(n)] = f"messageId {mid} already loaded from {where[mid]}"


# ------------------------------------------------------------------------ load


def _finish_chunk(
    works: list[_Work],
    seen: dict[tuple[str, str], str],
    family: str,
    report: IngestReport,
    cfg: Settings,
    now: datetime,
) -> None:
    """Gate and commit a chunk of claimed files. The work (gate, rows to Parquet) runs without
    the writer's lock; two short sections hold it: one before (identical re-deliveries leave,
    the FX rates the gate needs) and one to commit (what another worker committed meanwhile
    is checked again there)."""
    if not works:
        return
    with _section(cfg) as con:
        works = [w for w in works if not _duplicate_delivery(con, w, seen, report, cfg)]
        first_rates = _first_rates(con)
    started = time.perf_counter()
    _gate(works, cfg, report, first_rates)
    report.gate_seconds += time.perf_counter() - started
    for w in works:
        _reject_if_mostly_bad(w, cfg)
    candidates = _duplicates_within(works)
    _write_parts(works, report.load_id, cfg)
    with _section(cfg) as con:
        for w in works:  # the same bytes committed by another worker since the first section
            if not w.refused and _is_duplicate(con, w, {}, report, cfg):
                lake.discard(w.part)
                w.handled = True
        _duplicates_loaded(con, works, candidates)
        for w in works:
            if not w.handled:
                _commit_file(con, w, family, report, cfg, now)


def _write_parts(works: list[_Work], load_id: str, cfg: Settings) -> None:
    """The good rows of each file that will load, as lake parts (one statement per table)."""
    by_table: dict[str, list[_Work]] = defaultdict(list)
    for w in works:
        if w.reject_reason is None and w.parsed is not None:
            by_table[w.parsed.table].append(w)
    for table, members in by_table.items():
        parts = lake.write_parts(
            cfg, table, [(_good_rows(w), load_id, w.source_file) for w in members]
        )
        for w, part in zip(members, parts, strict=True):
            w.part = part


def _duplicate_delivery(
    con: duckdb.DuckDBPyConnection,
    work: _Work,
    seen: dict[tuple[str, str], str],
    report: IngestReport,
    cfg: Settings,
) -> bool:
    if not work.refused and _is_duplicate(con, work, seen, report, cfg):
        return True
    seen[(work.sha256, work.reader)] = work.source_file
    return False


def _good_rows(w: _Work) -> pd.DataFrame:
    """The rows of `w` that load: no rule broken, not a duplicate (kept until that changes)."""
    assert w.parsed is not None
    key = (len(w.bad), len(w.duplicates))
    if w.good is None or w.good[0] != key:
        rows = w.parsed.rows
        w.good = (key, rows[~rows["row_number"].isin([*w.bad, *w.duplicates])])
    return w.good[1]


def _commit_file(
    con: duckdb.DuckDBPyConnection,
    w: _Work,
    family: str,
    report: IngestReport,
    cfg: Settings,
    now: datetime,
) -> None:
    parsed = w.parsed
    if w.reject_reason is not None:
        _reject_file(con, w, family, report, cfg, now)
        return
    assert parsed is not None
    good = _good_rows(w)
    if len(good) != (w.part.rows if w.part else 0):  # a copy of some rows committed meanwhile
        lake.discard(w.part)
        w.part = lake.write_part(cfg, parsed.table, good, report.load_id, w.source_file)
    quarantine = [(r.row_number, r.rule, r.reason, r.raw_record) for r in parsed.rejects]
    raw_by_row = dict(zip(parsed.rows["row_number"], parsed.rows["raw_record"], strict=True))
    for n, problems in sorted(w.bad.items()):
        for rule, reason in problems:
            quarantine.append((n, rule, reason, raw_by_row.get(n)))
    for n, why in sorted(w.duplicates.items()):
        quarantine.append(
            (
                n,
                RULE_DUPLICATE,
                f"{w.source_file} row {n}: {why}; not loaded again",
                raw_by_row.get(n),
            )
        )
    previous = con.execute(
        f"select file_sha256, rows_loaded from {RAW_SCHEMA}.ingest_manifest "
        "where family = ? and source_file = ? and status = 'loaded'",
        [family, w.source_file],
    ).fetchall()
    if previous:
        held = _restatement_hold_reason(con, w, previous[0][1], len(good), cfg)
        if held:
            w.reject_reason = held
            lake.discard(w.part)
            _reject_file(con, w, family, report, cfg, now, status="held")
            return
    rows_quarantined = len({q[0] for q in quarantine})
    try:
        outcome, detail = _load_version(con, w, family, report, cfg, now, good, quarantine,
                                        previous, rows_quarantined)  # fmt: skip
    except duckdb.Error as exc:
        if warehouse.DISK_FULL in str(exc):
            raise
        # the transaction rolled back: this file loaded nothing, the rest of the family goes on
        lake.discard(w.part)
        w.reject_reason = (
            f"{w.source_file} could not be loaded, nothing of it was: {str(exc).splitlines()[0]}"
        )
        _reject_file(con, w, family, report, cfg, now)
        return
    failpoint(INGEST_AFTER_COMMIT, cfg)
    assert parsed.rows_in == len(good) + rows_quarantined, (w.source_file, parsed.rows_in)
    dest = landing.move_out(
        w.path, cfg.archive_dir / family / report.load_id, Path(str(w.relative))
    )
    report.files.append(
        FileOutcome(
            w.source_file,
            w.sha256,
            outcome,
            parsed.rows_in,
            len(good),
            rows_quarantined,
            detail,
            str(dest),
        )
    )
    report.warnings.extend(parsed.warnings)


def _load_version(
    con: duckdb.DuckDBPyConnection,
    w: _Work,
    family: str,
    report: IngestReport,
    cfg: Settings,
    now: datetime,
    good: pd.DataFrame,
    quarantine: list[tuple[int, str, str, object]],
    previous: list[tuple[str, int]],
    rows_quarantined: int,
) -> tuple[str, str]:
    """The file's rows, quarantine and manifest row in one transaction; (outcome, detail)."""
    parsed = w.parsed
    assert parsed is not None
    with _transaction(con):
        if previous:
            _remove_previous_version(con, family, w.source_file, parsed.table, now)
        if w.part is not None:
            lake.commit_part(con, w.part, family, w.source_file, report.load_id, now)
        if previous and parsed.table == "app_events":
            _restore_orphaned_duplicates(con, cfg, now)
        if quarantine:
            _insert_quarantine(con, report.load_id, family, w.source_file, quarantine, now)
        outcome = "replaced_previous" if previous else "loaded"
        detail = (
            f"replaced the rows of the earlier version ({previous[0][0][:12]}…)" if previous else ""
        )
        _write_manifest(
            con,
            w,
            family,
            report.load_id,
            "loaded",
            parsed.rows_in,
            len(good),
            rows_quarantined,
            None,
            now,
        )
        _log_delivery(con, report, w, outcome, detail or None)
        failpoint(INGEST_BEFORE_COMMIT, cfg)
    return outcome, detail


def _restatement_hold_reason(
    con: duckdb.DuckDBPyConnection, w: _Work, loaded_rows: int, new_rows: int, cfg: Settings
) -> str | None:
    """Why a new version of a loaded file is held instead of applied, or None. A version with
    no rows, or that many fewer, is more often a broken export than a real restatement, and
    applying it would delete what was loaded without a word."""
    if loaded_rows == 0 or new_rows >= loaded_rows * (1 - cfg.max_restatement_drop):
        return None
    accepted = con.execute(
        f"select 1 from {RAW_SCHEMA}.accepted_restatements where file_sha256 = ?", [w.sha256]
    ).fetchone()
    if accepted:
        return None
    return (
        f"{w.source_file} restates its loaded version ({loaded_rows} rows) with {new_rows} rows, "
        f"a drop of {1 - new_rows / loaded_rows:.0%}, above GROWTHOPS_MAX_RESTATEMENT_DROP="
        f"{cfg.max_restatement_drop:g}: held, the loaded rows stay. If the source really "
        f"restated it, apply it with: growthops accept-restatement <this held file>"
    )


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction: all of it commits, or none of it."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def _remove_previous_version(
    con: duckdb.DuckDBPyConnection, family: str, source_file: str, table: str, now: datetime
) -> None:
    if table == "app_events":  # the messageIds whose loaded copy goes: _restore_... reads them
        con.execute(
            f"create or replace temp table _replaced_ids as select message_id "
            f"from {RAW_SCHEMA}.app_events where source_file = ?",
            [source_file],
        )
    con.execute(f"delete from {RAW_SCHEMA}.{table} where source_file = ?", [source_file])
    lake.retire_parts(con, table, source_file, now)
    con.execute(
        f"delete from {RAW_SCHEMA}.quarantine_rows where family = ? and source_file = ?",
        [family, source_file],
    )
    con.execute(
        f"update {RAW_SCHEMA}.ingest_manifest set status = 'replaced' "
        "where family = ? and source_file = ? and status = 'loaded'",
        [family, source_file],
    )


RULE_FX = "expect_column_values_to_be_in_set(fx_rate_available)"


def _held_records_as_file(family: str, source_file: str, records: list[str]) -> bytes:
    """The held rows' records (raw_record, as the adapter kept them) in their file's own
    format again, so the same adapter reads them the same way."""
    folder = PurePosixPath(source_file).parts[1] if family != "app" else ""
    if family == "app":
        return "\n".join(records).encode()
    rows = [json.loads(r) for r in records]
    if folder == "meta_ads":
        return json.dumps({"data": rows}).encode()
    if folder == "ocean_engine":
        return json.dumps({"code": 0, "data": {"list": rows}}).encode()
    buffer = io.StringIO()  # the CSV exports: the header is the records' own keys
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _load_rows_whose_rate_arrived(
    con: duckdb.DuckDBPyConnection, report: IngestReport, cfg: Settings, now: datetime
) -> None:
    """Rows held only for a missing FX rate are judged again by the whole raw gate once the
    FX feed changed; those that pass load into their file's version (its load_id and row
    numbers), their quarantine rows go and the file's manifest counts follow."""
    held = con.execute(
        f"""select q.family, q.source_file, q.row_number, any_value(q.raw_record), m.load_id,
                   m.file_sha256
            from {RAW_SCHEMA}.quarantine_rows q
            join {RAW_SCHEMA}.ingest_manifest m
              on m.family = q.family and m.source_file = q.source_file and m.status = 'loaded'
            group by all
            having count(*) = 1 and any_value(q.rule) = ?
            order by 1, 2, 3""",
        [RULE_FX],
    ).fetchall()
    by_file: dict[tuple[str, str, str, str], list[tuple[int, str]]] = defaultdict(list)
    for family, source_file, row_number, record, load_id, sha256 in held:
        by_file[(family, source_file, load_id, sha256)].append((row_number, record))
    for (family, source_file, load_id, sha256), rows in by_file.items():
        relative = PurePosixPath(source_file).relative_to(family)
        data = _held_records_as_file(family, source_file, [r for _, r in rows])
        work = _Work(Path(source_file), source_file, relative, data, sha256)
        # a held row broke no other rule, so its records parse as they did (one row each)
        work.parsed = adapter_for(family, relative)(data, source_file.removesuffix(".gz"))
        numbers = [n for n, _ in rows]
        work.parsed.rows["row_number"] = numbers
        _gate([work], cfg, report, _first_rates(con))
        _find_duplicate_events(con, [work])
        loaded = work.parsed.rows[
            ~work.parsed.rows["row_number"].isin([*work.bad, *work.duplicates])
        ]
        duplicates = [
            (n, RULE_DUPLICATE, f"{source_file} row {n}: {why}; not loaded again", record)
            for n, record in rows
            if (why := work.duplicates.get(n))
        ]
        if loaded.empty and not duplicates:
            continue
        with _transaction(con):
            if duplicates:  # its copy loaded meanwhile: held as the duplicate it now is
                con.execute(
                    f"delete from {RAW_SCHEMA}.quarantine_rows where family = ? "
                    "and source_file = ? and rule = ? and list_contains(?, row_number)",
                    [family, source_file, RULE_FX, [d[0] for d in duplicates]],
                )
                _insert_quarantine(con, load_id, family, source_file, duplicates, now)
            _load_rows(con, cfg, work.parsed.table, loaded, family, load_id, source_file, now)
            con.execute(
                f"delete from {RAW_SCHEMA}.quarantine_rows where family = ? and source_file = ? "
                "and rule = ? and list_contains(?, row_number)",
                [family, source_file, RULE_FX, [int(n) for n in loaded["row_number"]]],
            )
            con.execute(
                f"update {RAW_SCHEMA}.ingest_manifest set rows_loaded = rows_loaded + ?, "
                "rows_quarantined = rows_quarantined - ? "
                "where family = ? and source_file = ? and status = 'loaded'",
                [len(loaded), len(loaded), family, source_file],
            )
        if not loaded.empty:
            report.files.append(
                FileOutcome(source_file, sha256, "held_rows_loaded", 0, len(loaded), 0,
                            f"{len(loaded)} rows held for an FX rate loaded: the rate arrived")
            )  # fmt: skip


def _restore_orphaned_duplicates(
    con: duckdb.DuckDBPyConnection, cfg: Settings, now: datetime
) -> None:
    """De-duplication re-decided after a file version changed: a messageId whose loaded copy
    the new version no longer has loads from its first copy held as a duplicate elsewhere
    (the row goes from quarantine to raw, its file's manifest counts follow), so no event is
    lost because the copy that happened to load first was replaced."""
    orphans = con.execute(
        f"""
        with orphaned as (
            select message_id from _replaced_ids
            except
            select message_id from {RAW_SCHEMA}.app_events
        )
        select q.source_file, q.row_number, q.raw_record, m.load_id
        from {RAW_SCHEMA}.quarantine_rows as q
        join orphaned on json_extract_string(q.raw_record, '$.messageId') = orphaned.message_id
        join {RAW_SCHEMA}.ingest_manifest as m
          on m.family = 'app' and m.source_file = q.source_file and m.status = 'loaded'
        where q.family = 'app' and q.rule = ?
        qualify row_number() over (
            partition by orphaned.message_id order by q.source_file, q.row_number) = 1
        """,
        [RULE_DUPLICATE],
    ).fetchall()
    con.execute("drop table _replaced_ids")
    by_file: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for source_file, row_number, line, load_id in orphans:  # into the version they came with
        by_file[(source_file, load_id)].append((row_number, line))
    for (source_file, load_id), rows in by_file.items():
        lines = "\n".join(line for _, line in rows).encode()  # as received: no gzip around it
        parsed = parse_segment_ndjson(lines, source_file.removesuffix(".gz"))
        frame = parsed.rows.assign(row_number=[n for n, _ in rows])
        _load_rows(con, cfg, "app_events", frame, "app", load_id, source_file, now)
        numbers = [n for n, _ in rows]
        con.execute(
            f"delete from {RAW_SCHEMA}.quarantine_rows where family = 'app' and source_file = ? "
            "and rule = ? and list_contains(?, row_number)",
            [source_file, RULE_DUPLICATE, numbers],
        )
        con.execute(
            f"update {RAW_SCHEMA}.ingest_manifest set rows_loaded = rows_loaded + ?, "
            "rows_quarantined = rows_quarantined - ? "
            "where family = 'app' and source_file = ? and status = 'loaded'",
            [len(rows), len(rows), source_file],
        )
        log.info("%s: %d events loaded that were held as duplicates of replaced rows",
                 source_file, len(rows))  # fmt: skip


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    cfg: Settings,
    table: str,
    rows: pd.DataFrame,
    family: str,
    load_id: str,
    source_file: str,
    now: datetime,
) -> None:
    """Inside the caller's transaction: `rows` of a loaded file version as a new lake part."""
    part = lake.write_part(cfg, table, rows, load_id, source_file)
    if part is not None:  # a rollback leaves it an orphan: never visible, removed later
        lake.commit_part(con, part, family, source_file, load_id, now)


QUARANTINE_COLUMNS = ("load_id", "family", "source_file", "row_number", "rule", "reason",
                      "raw_record", "quarantined_at")  # fmt: skip


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    load_id: str,
    family: str,
    source_file: str,
    rows: list[tuple[int, str, str, object]],
    now: datetime,
) -> None:
    # one set-based insert: executemany runs a statement per row, which measured a third of
    # the medium world's ingest time (a few dozen quarantined rows in each of 5,815 files)
    at = now.replace(tzinfo=None)
    frame = pd.DataFrame(
        [(load_id, family, source_file, n, rule, reason, None if raw is None else str(raw), at)
         for n, rule, reason, raw in rows],
        columns=list(QUARANTINE_COLUMNS),
    )  # fmt: skip
    con.register("_quarantine", frame)
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.quarantine_rows ({', '.join(QUARANTINE_COLUMNS)}) "
            f"select {', '.join(QUARANTINE_COLUMNS)} from _quarantine"
        )
    finally:
        con.unregister("_quarantine")


def _write_manifest(
    con: duckdb.DuckDBPyConnection,
    w: _Work,
    family: str,
    load_id: str,
    status: str,
    rows_in: int,
    rows_loaded: int,
    rows_quarantined: int,
    reason: str | None,
    now: datetime,
) -> None:
    # one row per content hash: a replaced version delivered again, or a held one accepted,
    # takes its row over (its history stays in ingest_deliveries)
    con.execute(
        f"delete from {RAW_SCHEMA}.ingest_manifest "
        "where file_sha256 = ? and reader = ? and status in ('replaced', 'held')",
        [w.sha256, w.reader],
    )
    con.execute(
        f"insert into {RAW_SCHEMA}.ingest_manifest (file_sha256, reader, family, source_file, "
        "file_bytes, load_id, status, rows_in, rows_loaded, rows_quarantined, reason, loaded_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            w.sha256,
            w.reader,
            family,
            w.source_file,
            len(w.data),
            load_id,
            status,
            rows_in,
            rows_loaded,
            rows_quarantined,
            reason,
            now.replace(tzinfo=None),
        ],
    )


def _log_delivery(
    con: duckdb.DuckDBPyConnection, report: IngestReport, w: _Work, outcome: str, detail: str | None
) -> None:
    con.execute(
        f"insert into {RAW_SCHEMA}.ingest_deliveries values (?, ?, ?, ?, ?, ?, ?)",
        [
            report.load_id,
            report.family,
            w.source_file,
            w.sha256,
            outcome,
            detail,
            datetime.now(UTC).replace(tzinfo=None),
        ],
    )


def _reject_file(
    con: duckdb.DuckDBPyConnection,
    w: _Work,
    family: str,
    report: IngestReport,
    cfg: Settings,
    now: datetime,
    status: str = "rejected",
) -> None:
    """The file to quarantine/ with a reason file; `status` rejected (fix it) or held (a
    restatement waiting for `growthops accept-restatement`)."""
    rows_in = w.parsed.rows_in if w.parsed else 0
    reason = str(w.reject_reason)
    with _transaction(con):
        _write_manifest(con, w, family, report.load_id, status, rows_in, 0, rows_in, reason, now)
        _log_delivery(con, report, w, status, reason)
    dest = landing.move_out(
        w.path, cfg.quarantine_dir / family / report.load_id, Path(str(w.relative)), private=True
    )
    if status == "held":
        what_next = (
            f"if the source really restated {w.relative.name}, run\n"
            f"           growthops accept-restatement {dest}\n"
            f"           (it goes back to landing/ and replaces the loaded version on the next "
            f"ingest); otherwise delete it and deliver a complete export."
        )
    else:
        what_next = (
            f"fix the file and drop it into {cfg.landing_dir / family / str(w.relative.parent)}/ "
            f"again under the same name ({w.relative.name}). It loads like a new file; an "
            f"identical copy of this rejected one is ignored."
        )
    landing.write_private(
        dest.with_name(dest.name + ".reason.txt"),
        f"file:      {w.source_file}\n"
        f"sha256:    {w.sha256}\n"
        f"load:      {report.load_id} at {now:%Y-%m-%d %H:%M:%S} UTC\n"
        f"reason:    {reason}\n"
        f"what next: {what_next}\n",
    )
    report.files.append(
        FileOutcome(w.source_file, w.sha256, status, rows_in, 0, rows_in, reason, str(dest))
    )


def accept_restatement(held_file: Path, cfg: Settings) -> str:
    """Record that the held restatement `held_file` (under quarantine/) is real and move it
    back to its landing folder: the next ingest applies it. Returns what will happen."""
    path = held_file.resolve()
    if not path.is_file() or path.is_symlink():
        raise ValueError(f"{held_file} is not a file")
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    with warehouse.pipeline_writer(cfg) as con:
        ensure_raw_schema(con)
        row = con.execute(
            f"select family, source_file from {RAW_SCHEMA}.ingest_manifest "
            "where file_sha256 = ? and status = 'held'",
            [sha256],
        ).fetchone()
        if row is None:
            raise ValueError(
                f"{held_file} is not a held restatement (no held file with its content in "
                f"raw.ingest_manifest)"
            )
        family, source_file = row
        target = cfg.landing_dir / source_file
        if target.exists():
            raise ValueError(f"{target} already exists: deliver one version at a time")
        con.execute(
            f"insert or ignore into {RAW_SCHEMA}.accepted_restatements values (?, ?, ?)",
            [sha256, source_file, datetime.now(UTC).replace(tzinfo=None)],
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    path.replace(target)
    path.with_name(path.name + ".reason.txt").unlink(missing_ok=True)
    return (
        f"accepted: {source_file} goes back to {target} and replaces its loaded version on "
        f"the next ingest of {family}"
    )
