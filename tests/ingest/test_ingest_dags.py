"""The real ingest DAGs (dag.test()) over the demo world: exactly once, gated, nothing lost.

Expected numbers come from the simulator's ground truth, never from the pipeline.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support import copy_data_root

from growthops.config import settings
from growthops.runner import run_dags

pytestmark = pytest.mark.slow
INGEST_DAGS = ["ingest_channel", "ingest_content", "ingest_app"]


@pytest.fixture(scope="module")
def data_root(clean_run, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the shared clean run: the demo world ingested by the real DAGs (dag.test());
    the tests below deliver more files into it."""
    root = copy_data_root(clean_run.root, tmp_path_factory.mktemp("ingest") / "data")
    old = os.environ.get("GROWTHOPS_DATA_ROOT")
    os.environ["GROWTHOPS_DATA_ROOT"] = str(root)
    yield root
    if old is None:
        os.environ.pop("GROWTHOPS_DATA_ROOT", None)
    else:
        os.environ["GROWTHOPS_DATA_ROOT"] = old


def _q(sql: str, *params: object) -> list[tuple]:
    con = duckdb.connect(str(settings().pipeline_db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _truth(root: Path) -> dict:
    return json.loads((root / "demo_truth" / "truth.json").read_text())


def _truth_csv(root: Path, name: str) -> list[dict[str, str]]:
    with (root / "demo_truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _snapshot() -> dict[str, object]:
    tables = [
        "channel_spend",
        "fx_rates",
        "app_events",
        "content_items",
        "content_daily_stats",
        "quarantine_rows",
    ]
    snap: dict[str, object] = {t: _q(f"select count(*) from raw.{t}")[0][0] for t in tables}
    snap["spend"] = _q("select sum(spend) from raw.channel_spend")[0][0]
    snap["manifest"] = _q(
        "select file_sha256, status, rows_in, rows_loaded, rows_quarantined from raw.ingest_manifest order by 1"
    )
    return snap


def test_every_file_reconciles_rows_in_loaded_and_quarantined(data_root: Path) -> None:
    bad = _q(
        "select source_file from raw.ingest_manifest where rows_in <> rows_loaded + rows_quarantined"
    )
    assert bad == []
    # what the manifest says was loaded is what the raw tables hold
    for family, tables in {"channel": ["channel_spend", "fx_rates"], "app": ["app_events"],
                           "content": ["content_items", "content_daily_stats"]}.items():  # fmt: skip
        loaded = _q(
            "select coalesce(sum(rows_loaded), 0) from raw.ingest_manifest where family = ? and status = 'loaded'",
            family,
        )[0][0]
        held = sum(_q(f"select count(*) from raw.{t}")[0][0] for t in tables)
        assert loaded == held, family
    # rows_in per file equals the records the simulator wrote into it
    written = {
        f"{f['path']}": int(f["rows"])
        for f in _truth_csv(data_root, "files.csv")
        if f["dirt"] == ""
    }
    manifest = dict(
        _q("select source_file, rows_in from raw.ingest_manifest where status = 'loaded'")
    )
    checked = 0
    for path, rows_in in manifest.items():
        if path in written and ".retry1." not in path:
            assert rows_in == written[path], path
            checked += 1
    assert checked > 400


def test_app_events_reconcile_with_the_truth(data_root: Path) -> None:
    truth = _truth(data_root)
    # every generated event loads once, except those the simulator made malformed
    expected = (
        truth["events_generated"]
        - truth["malformed_by_family"]["app"]
        - len(truth["held_order_message_ids"])  # paid in HKD: no FX rate, held
    )
    assert _q("select count(*) from raw.app_events")[0][0] == expected
    assert _q("select count(*) - count(distinct message_id) from raw.app_events")[0][0] == 0


def test_spend_reconciles_to_the_micro(data_root: Path) -> None:
    expected: dict[tuple[str, str], Decimal] = {}
    for r in _truth_csv(data_root, "spend_rows.csv"):
        if r["malformed"] == "False" and r["currency"] != "HKD":  # HKD has no FX rate: quarantined
            key = (r["platform"], r["currency"])
            expected[key] = expected.get(key, Decimal(0)) + Decimal(r["spend"])
    loaded = {
        (p, c): s
        for p, c, s in _q(
            "select platform, currency, sum(spend) from raw.channel_spend group by all"
        )
    }
    assert loaded == expected


def test_every_kind_of_dirt_is_quarantined_with_a_readable_reason(data_root: Path) -> None:
    truth = _truth(data_root)
    dirt = truth["dirt"]
    rules = dict(_q("select rule, count(*) from raw.quarantine_rows group by rule"))
    assert rules["unique_message_id"] == dirt["duplicate_event"]
    assert rules["expect_column_values_to_be_in_set(event)"] == dirt["unknown_event"]
    # spend rows in HKD and orders paid in HKD: no FX rate, held until one arrives
    assert rules["expect_column_values_to_be_in_set(fx_rate_available)"] == (
        dirt["unknown_currency"] + dirt["order_without_rate"]
    )
    app_malformed = rules.get("valid_json", 0) + rules.get(
        "expect_column_values_to_not_be_null(event_at)", 0
    )
    assert app_malformed == truth["malformed_by_family"]["app"]
    channel_malformed = sum(n for r, n in rules.items() if r in (
        "expect_column_values_to_not_be_null(spend)", "expect_column_values_to_not_be_null(clicks)"))  # fmt: skip
    assert channel_malformed == truth["malformed_by_family"]["channel"]
    assert (
        rules.get("expect_column_values_to_not_be_null(views)", 0)
        == truth["malformed_by_family"]["content"]
    )
    # a person can act on each reason: it names the file, the row and the rule
    for source_file, row_number, rule, reason in _q(
        "select source_file, row_number, rule, reason from raw.quarantine_rows"
    ):
        assert reason.startswith(f"{source_file} "), reason
        assert f" {row_number}" in reason and (
            rule in reason or rule in ("valid_json", "unique_message_id")
        ), reason
    # truncated uploads are quarantined whole, with a reason file; their retries loaded
    rejected = _q("select source_file, reason from raw.ingest_manifest where status = 'rejected'")
    assert len(rejected) == dirt["truncated_file"]
    for source_file, reason in rejected:
        assert "gzip" in reason
        reason_files = list(
            (data_root / "quarantine").rglob(Path(source_file).name + ".reason.txt")
        )
        assert len(reason_files) == 1 and "what next" in reason_files[0].read_text()
    # redelivered copies changed nothing and were logged
    dups = _q("select count(*) from raw.ingest_deliveries where outcome = 'duplicate'")[0][0]
    assert dups == dirt["redelivered_file"]


def test_skewed_and_late_events_load_at_their_true_time(data_root: Path) -> None:
    persons = {
        p["install_message_id"]: p["install_at"] for p in _truth_csv(data_root, "persons.csv")
    }
    loaded = dict(
        _q("select message_id, event_at from raw.app_events where event = 'Application Installed'")
    )
    truth = _truth(data_root)
    malformed = set(truth["malformed_message_ids"])
    implausible = set(truth["implausible_time_message_ids"])
    assert set(loaded) == {m for m in persons if m not in malformed}
    assert implausible & set(loaded), "some installs carry a device time in 1970 or 2030"
    for message_id, event_at in loaded.items():
        true_time = datetime.strptime(persons[message_id], "%Y-%m-%dT%H:%M:%S.%fZ")
        # Segment's correction is exact up to the network transit time (150 ms in the demo);
        # an implausible device time falls back to receivedAt (the demo sends those at once)
        assert timedelta(0) <= event_at - true_time <= timedelta(milliseconds=200), message_id
    late = _q(
        "select count(*) from raw.app_events where received_at - event_at > interval 12 hours"
    )[0][0]
    assert late > 0


def test_ingest_dags_emit_raw_assets_with_rows_and_files(data_root: Path, clean_run) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetModel.name, AssetEvent.extra)
            .join(AssetEvent, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name.in_(["raw_channel", "raw_app", "raw_content"]))
            .filter(AssetEvent.source_run_id.in_(clean_run.run_ids.values()))
            .all()
        )
    by_name = {name: extra for name, extra in events}
    assert set(by_name) == {"raw_channel", "raw_app", "raw_content"}
    assert by_name["raw_app"]["rows"] == _q("select count(*) from raw.app_events")[0][0]
    assert by_name["raw_app"]["files"] > 300


def test_redelivering_every_file_changes_nothing(data_root: Path) -> None:
    before = _snapshot()
    cfg = settings()
    archived = [p for p in (data_root / "archive").rglob("*") if p.is_file()]
    for p in archived:
        family, _load, *rest = p.relative_to(data_root / "archive").parts
        dest = cfg.landing_dir / family / Path(*rest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest)
    results = run_dags(INGEST_DAGS)
    assert [r.state for r in results] == ["success"] * 3
    assert _snapshot() == before
    # nothing changed raw: each ingest task is skipped, so no raw asset event starts a transform
    assert [r.task_states[f"{r.dag_id}_files"] for r in results] == ["skipped"] * 3
    outcomes = {r.dag_id: r.returns[f"{r.dag_id}_files"] for r in results}
    assert sum(o["files_duplicate"] for o in outcomes.values()) == len(archived)
    assert not any((cfg.landing_dir).rglob("*.*")), "landing/ must be empty after a run"


def test_a_changed_file_replaces_its_rows(data_root: Path) -> None:
    cfg = settings()
    source = "channel/google_ads/google_ads_keyword_report_2026-06-05.csv"
    original = next((data_root / "archive" / "channel").rglob(Path(source).name))
    rows_before = _q(
        "select count(*), sum(spend) from raw.channel_spend where source_file = ?", source
    )[0]
    total_before = _q("select count(*) from raw.channel_spend")[0][0]
    lines = original.read_text().splitlines()
    header = lines[0].split(",")
    cost = header.index("metrics.cost_micros")
    fields = lines[1].split(",")
    old_micros = int(fields[cost])
    fields[cost] = str(old_micros + 1_230_000)  # the platform restated the day: +1.23
    lines[1] = ",".join(fields)
    dest = cfg.landing_dir / source
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(lines) + "\n")
    [result] = run_dags(["ingest_channel"])
    assert result.state == "success"
    count, spend = _q(
        "select count(*), sum(spend) from raw.channel_spend where source_file = ?", source
    )[0]
    assert count == rows_before[0]
    assert spend == rows_before[1] + Decimal("1.23")
    assert _q("select count(*) from raw.channel_spend")[0][0] == total_before
    statuses = _q(
        "select status from raw.ingest_manifest where source_file = ? order by loaded_at", source
    )
    assert [s for (s,) in statuses] == ["replaced", "loaded"]


def test_unreadable_files_are_quarantined_whole_while_the_rest_of_the_run_loads(
    data_root: Path,
) -> None:
    cfg = settings()
    app_dir, google_dir = cfg.landing_dir / "app", cfg.landing_dir / "channel" / "google_ads"
    app_dir.mkdir(parents=True, exist_ok=True)
    google_dir.mkdir(parents=True, exist_ok=True)
    event = {"type": "track", "event": "Application Opened", "anonymousId": "a", "properties": {},
             "timestamp": "2026-07-20T01:00:00.000Z", "sentAt": "2026-07-20T01:00:00.100Z",
             "receivedAt": "2026-07-20T01:00:00.200Z"}  # fmt: skip
    lines = [json.dumps({**event, "messageId": f"late-{i}"}) for i in range(50)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    (app_dir / "segment_2026-07-20T01.ndjson.gz").write_bytes(whole)
    (app_dir / "segment_2026-07-20T02.ndjson.gz").write_bytes(whole[: len(whole) // 2])
    header = "segments.date,customer.id,customer.descriptive_name,customer.currency_code,customer.time_zone,campaign.id,campaign.name,ad_group.id,ad_group.name,ad_group_criterion.criterion_id,ad_group_criterion.keyword.text,ad_group_criterion.keyword.match_type,metrics.impressions,metrics.clicks,metrics.cost_micros,metrics.conversions,metrics.conversions_value"
    gbk = (
        header + "\n2026-07-20,1,习惯星球,USD,UTC,1,品牌,2,组,3,习惯,EXACT,10,1,1000000,0,0\n"
    ).encode("gbk")
    (google_dir / "google_ads_keyword_report_2026-07-20.csv").write_bytes(gbk)
    good = (header + "\n2026-07-21,1,A,USD,UTC,1,Brand,2,G,3,kw,EXACT,10,1,1000000,0,0\n").encode()
    (google_dir / "google_ads_keyword_report_2026-07-21.csv").write_bytes(good)

    results = run_dags(["ingest_channel", "ingest_app"])
    assert [r.state for r in results] == ["success", "success"]
    delivered = {
        "app/segment_2026-07-20T01.ndjson.gz",
        "app/segment_2026-07-20T02.ndjson.gz",
        "channel/google_ads/google_ads_keyword_report_2026-07-20.csv",
        "channel/google_ads/google_ads_keyword_report_2026-07-21.csv",
    }
    status = {
        f: s
        for f, s in _q("select source_file, status from raw.ingest_manifest")
        if f in delivered  # the demo world (to 06-28) has files of its own
    }
    assert status == {
        "app/segment_2026-07-20T01.ndjson.gz": "loaded",
        "app/segment_2026-07-20T02.ndjson.gz": "rejected",
        "channel/google_ads/google_ads_keyword_report_2026-07-20.csv": "rejected",
        "channel/google_ads/google_ads_keyword_report_2026-07-21.csv": "loaded",
    }
    reason = _q(
        "select reason from raw.ingest_manifest where source_file like '%report_2026-07-20.csv'"
    )[0][0]
    assert "not valid UTF-8" in reason and "GBK" in reason
    assert _q("select count(*) from raw.app_events where message_id like 'late-%'")[0][0] == 50
