"""The door reads nothing it should not: only regular files inside the data root are opened.

Links (to a file outside the root, dangling, to a folder), a FIFO, a device file and a file
the worker cannot read are each refused with a reason naming what they are, without being
read; the good file beside them loads; nothing of a link's target reaches the warehouse,
the reason files or the log.
"""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest
from support import query, settings_for

from growthops import landing
from growthops.ingest.loader import ingest

pytestmark = pytest.mark.faults

SECRET = "GROWTHOPS_TEST_SECRET=do-not-leak-4711"


def _event(message_id: str) -> str:
    return json.dumps(
        {"type": "track", "event": "Signed Up", "messageId": message_id, "anonymousId": "a1",
         "properties": {}, "timestamp": "2026-06-01T10:00:00Z",
         "receivedAt": "2026-06-01T10:00:01Z"}
    )  # fmt: skip


def test_links_and_special_files_are_refused_unread_and_the_rest_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secrets.ndjson"
    secret.write_text(SECRET + "\n")
    (outside / "folder").mkdir()
    (outside / "folder" / "x.ndjson").write_text(SECRET + "\n")
    cfg = settings_for(tmp_path / "data")
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    (inbox / "a_link.ndjson").symlink_to(secret)
    (inbox / "b_environ.ndjson").symlink_to("/proc/self/environ")
    (inbox / "c_dangling.ndjson").symlink_to(outside / "gone.ndjson")
    (inbox / "d_folder_link").symlink_to(outside / "folder")
    os.mkfifo(inbox / "e_pipe.ndjson")
    device = inbox / "f_device.ndjson"
    try:
        os.mknod(device, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # like /dev/null
    except OSError:
        device = None  # no CAP_MKNOD here: the other kinds still run
    (inbox / "g_unreadable.ndjson").write_text(_event("m-unreadable") + "\n")
    (inbox / "h_good.ndjson").write_text(_event("m-good") + "\n")
    read = landing.read_regular_file

    def refuse(path: Path) -> bytes:  # root reads any file: simulate a worker without access
        if path.name == "g_unreadable.ndjson":
            raise PermissionError(13, "Permission denied", str(path))
        return read(path)

    monkeypatch.setattr(landing, "read_regular_file", refuse)
    monkeypatch.setenv("GROWTHOPS_TEST_SECRET", "do-not-leak-4711")
    signal.alarm(120)  # a FIFO opened for reading would block forever: fail instead
    try:
        report = ingest("app", cfg)
    finally:
        signal.alarm(0)

    outcomes = {f.source_file: (f.outcome, f.detail) for f in report.files}
    assert outcomes.pop("app/h_good.ndjson")[0] == "loaded"
    expected = {
        "app/a_link.ndjson": "is a symbolic link",
        "app/b_environ.ndjson": "is a symbolic link",
        "app/c_dangling.ndjson": "is a symbolic link",
        "app/d_folder_link": "is a symbolic link",
        "app/e_pipe.ndjson": "is a FIFO (named pipe)",
        "app/g_unreadable.ndjson": "cannot be read by the pipeline's user (permission denied)",
    }
    if device is not None:
        expected["app/f_device.ndjson"] = "is a character device"
    assert {f: o for f, (o, _) in outcomes.items()} == dict.fromkeys(expected, "rejected")
    for source_file, words in expected.items():
        assert outcomes[source_file][1].startswith(f"{source_file} {words}")
    assert query(cfg.pipeline_db, "select message_id from raw.app_events") == [("m-good",)]

    # nothing of a target was read: not in the warehouse, the reason files or the log
    tables = ("ingest_manifest", "ingest_deliveries", "quarantine_rows")
    for table in tables:
        dump = json.dumps(query(cfg.pipeline_db, f"select * from raw.{table}"), default=str)
        assert "do-not-leak" not in dump, table
    assert "do-not-leak" not in caplog.text
    reasons = list(cfg.quarantine_dir.rglob("*.reason.txt"))
    assert len(reasons) == len(expected)
    for reason in reasons:
        assert "do-not-leak" not in reason.read_text()
        assert stat.S_IMODE(reason.stat().st_mode) == 0o640, reason
    # the links themselves left landing/ (moved, never followed); their targets are intact
    assert sorted(p.name for p in inbox.iterdir()) == []
    assert secret.read_text() == SECRET + "\n"
    assert (outside / "folder" / "x.ndjson").exists()
    # the unreadable file, once readable, loads under the same name: its reason said so
    monkeypatch.setattr(landing, "read_regular_file", read)
    (inbox / "g_unreadable.ndjson").write_text(_event("m-unreadable") + "\n")
    [again] = ingest("app", cfg).files
    assert (again.source_file, again.outcome) == ("app/g_unreadable.ndjson", "loaded")


def test_every_ingest_and_transform_task_has_the_timeout_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    from airflow.dag_processing.dagbag import DagBag

    from growthops.config import settings

    monkeypatch.setenv("GROWTHOPS_TASK_TIMEOUT_MINUTES", "7")
    bag = DagBag(dag_folder=str(settings().home / "dags"))
    assert not bag.import_errors
    tasks = [t for dag in bag.dags.values() for t in dag.tasks]
    assert len(tasks) >= 9
    assert {t.task_id: t.execution_timeout for t in tasks} == {
        t.task_id: timedelta(minutes=7) for t in tasks
    }


BAIDU = (
    "日期,账户,推广计划ID,推广计划,推广单元ID,推广单元,关键词ID,关键词,匹配模式,展现,点击,消费\n"
    "2026-06-01,bd,1,计划,2,单元,3,习惯,精确匹配,100,7,18.31\n"
)


def test_every_fix_a_rejection_prints_works_as_printed(tmp_path: Path) -> None:
    cfg = settings_for(tmp_path / "data")
    google = cfg.landing_dir / "channel" / "google_ads"
    google.mkdir(parents=True)
    (cfg.landing_dir / "app").mkdir()
    (cfg.landing_dir / "channel" / "fx_rates").mkdir()
    (cfg.landing_dir / "channel" / "fx_rates" / "fx.csv").write_text(
        "date,currency,usd_per_unit\n2026-06-01,CNY,0.14\n"
    )
    # a Baidu export (GB18030) dropped into the Google folder
    (google / "report.csv").write_bytes(BAIDU.encode("gb18030"))
    fx, wrong = ingest("channel", cfg).files
    assert (
        fx.outcome == "loaded"
        and wrong.outcome == "rejected"
        and "move GBK files to baidu_sem/" in wrong.detail
    )
    # the same bytes in the same folder again: nothing new, said so
    (google / "report.csv").write_bytes(BAIDU.encode("gb18030"))
    [same] = ingest("channel", cfg).files
    assert same.outcome == "duplicate" and "fix the file before delivering it again" in same.detail
    # the fix as printed: the same bytes moved to baidu_sem/ load
    baidu = cfg.landing_dir / "channel" / "baidu_sem"
    baidu.mkdir()
    (baidu / "report.csv").write_bytes(BAIDU.encode("gb18030"))
    [moved] = ingest("channel", cfg).files
    assert (moved.outcome, moved.rows_loaded) == ("loaded", 1)

    # plain NDJSON named .gz: told what it is, and the printed fix (rename) loads it
    line = _event("m-plain") + "\n"
    (cfg.landing_dir / "app" / "h.ndjson.gz").write_text(line)
    [plain] = ingest("app", cfg).files
    assert plain.outcome == "rejected"
    assert "is named .gz but is not gzip data" in plain.detail and "cut off" not in plain.detail
    (cfg.landing_dir / "app" / "h.ndjson").write_text(line)
    [renamed] = ingest("app", cfg).files
    assert (renamed.outcome, renamed.rows_loaded) == ("loaded", 1)


def test_a_manifest_keyed_by_content_alone_is_migrated(tmp_path: Path) -> None:
    import duckdb

    from growthops.ingest.schema import ensure_raw_schema

    db = tmp_path / "pipeline.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    con.execute(  # the manifest as warehouses before readers have it
        "create table raw.ingest_manifest (file_sha256 varchar primary key, family varchar not "
        "null, source_file varchar not null, file_bytes bigint not null, load_id varchar not "
        "null, status varchar not null, rows_in bigint not null, rows_loaded bigint not null, "
        "rows_quarantined bigint not null, reason varchar, loaded_at timestamp not null)"
    )
    con.execute(
        "insert into raw.ingest_manifest values "
        "('abc', 'app', 'app/a.ndjson', 10, 'app_1', 'loaded', 2, 2, 0, null, now())"
    )
    ensure_raw_schema(con)
    ensure_raw_schema(con)  # idempotent
    assert con.execute("select file_sha256, reader, rows_loaded from raw.ingest_manifest").fetchall() == [
        ("abc", "", 2)
    ]  # fmt: skip
    con.execute(  # the same bytes read another way now have a row of their own
        "insert into raw.ingest_manifest by name select 'abc' as file_sha256, 'app:gzip' as reader,"
        " 'app' as family, 'app/b.ndjson.gz' as source_file, 1 as file_bytes, 'app_2' as load_id,"
        " 'loaded' as status, 0 as rows_in, 0 as rows_loaded, 0 as rows_quarantined,"
        " now() as loaded_at"
    )
    con.close()
