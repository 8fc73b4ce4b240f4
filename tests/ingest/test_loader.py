"""The loader on hand-made app files (no DAG): what a file rejected whole does to the
messageIds it carried."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from support import query, settings_for

from growthops.ingest import loader
from growthops.ingest.loader import MIN_ROWS_FOR_SHARE, RULE_DUPLICATE, ingest


def _event(message_id: str) -> str:
    return json.dumps(
        {
            "type": "track",
            "event": "Signed Up",
            "messageId": message_id,
            "anonymousId": "a1",
            "userId": "u1",
            "properties": {"method": "phone"},
            "timestamp": "2026-06-01T10:00:00.000Z",
            "sentAt": "2026-06-01T10:00:05.000Z",
            "receivedAt": "2026-06-01T10:00:06.000Z",
        }
    )


def test_a_rejected_files_message_ids_do_not_block_a_good_copy(tmp_path: Path) -> None:
    cfg = settings_for(tmp_path)
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    # sorted first: mostly cut-off lines, so the whole file is rejected -- but it carries
    # one valid event that a good file (sorted second, same ingest) delivers again
    cut = _event("x")[:40]
    lines = [_event("m-shared"), *[cut] * (MIN_ROWS_FOR_SHARE - 1)]
    (inbox / "a_cut_off.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inbox / "b_good.ndjson").write_text(
        _event("m-shared") + "\n" + _event("m-other") + "\n", encoding="utf-8"
    )

    report = ingest("app", cfg)

    outcomes = {f.source_file: (f.outcome, f.rows_loaded) for f in report.files}
    assert outcomes == {"app/a_cut_off.ndjson": ("rejected", 0), "app/b_good.ndjson": ("loaded", 2)}
    loaded = query(cfg.pipeline_db, "select message_id, source_file from raw.app_events order by 1")
    assert loaded == [("m-other", "app/b_good.ndjson"), ("m-shared", "app/b_good.ndjson")]
    duplicates = query(
        cfg.pipeline_db, "select count(*) from raw.quarantine_rows where rule = ?", RULE_DUPLICATE
    )
    assert duplicates == [(0,)]


def test_load_ids_never_go_back_when_the_hosts_clock_does(tmp_path: Path, monkeypatch) -> None:
    cfg = settings_for(tmp_path)
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    (inbox / "a.ndjson").write_text(_event("m1") + "\n", encoding="utf-8")
    first = ingest("app", cfg).load_id

    class ClockBehind(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2020, 1, 1, tzinfo=UTC)

    monkeypatch.setattr(loader, "datetime", ClockBehind)
    (inbox / "b.ndjson").write_text(_event("m2") + "\n", encoding="utf-8")
    second = ingest("app", cfg).load_id
    assert first < second, (first, second)
    assert query(cfg.pipeline_db, "select count(distinct load_id) from raw.app_events") == [(2,)]
