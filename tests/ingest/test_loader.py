"""The loader on hand-made app files (no DAG): what a file rejected whole does to the
messageIds it carried."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from support import assert_ingest_invariants, query, settings_for

from growthops import cli, lake
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


def _order(message_id: str, revenue: object, currency: object, day: str = "2026-06-03") -> str:
    props = {"revenue": revenue, **({"currency": currency} if currency is not None else {})}
    return json.dumps(
        {
            "type": "track",
            "event": "Order Completed",
            "messageId": message_id,
            "anonymousId": "a1",
            "userId": "u1",
            "properties": props,
            "timestamp": f"{day}T10:00:00Z",
            "receivedAt": f"{day}T10:00:01Z",
        }
    )


@pytest.mark.faults
def test_money_that_cannot_be_converted_is_held_at_the_door_with_its_rule(tmp_path: Path) -> None:
    cfg = settings_for(tmp_path)
    fx = cfg.landing_dir / "channel" / "fx_rates"
    fx.mkdir(parents=True)
    # CNY from 06-01; EUR only from 06-05 (after the orders and the spend below)
    (fx / "fx.csv").write_text(
        "date,currency,usd_per_unit\n2026-06-01,USD,1\n2026-06-01,CNY,0.14\n2026-06-05,EUR,1.1\n"
    )
    meta = cfg.landing_dir / "channel" / "meta_ads"
    meta.mkdir()
    rows = [
        {"date_start": "2026-06-03", "account_id": "1", "account_currency": cur,
         "campaign_id": "c", "adset_id": "s", "impressions": "1", "clicks": "1", "spend": "2.5"}
        for cur in ("CNY", "EUR", "HKD")
    ]  # fmt: skip
    (meta / "m.json").write_text(json.dumps({"data": rows}))
    app = cfg.landing_dir / "app"
    app.mkdir()
    orders = [
        _order("ok-cny", 680, "CNY"),
        _order("ok-usd", 29.99, "usd"),
        _order("no-rate", 100, "HKD"),
        _order("too-early", 10, "EUR"),
        _order("not-a-number", "N/A", "USD"),
        _order("decimal-comma", "1.234,56", "CNY"),
        _order("no-currency", 5, None),
    ]
    (app / "orders.ndjson").write_text("\n".join(orders) + "\n")

    ingest("channel", cfg)
    ingest("app", cfg)

    assert query(cfg.pipeline_db, "select message_id from raw.app_events order by 1") == [
        ("ok-cny",),
        ("ok-usd",),
    ]
    held = query(
        cfg.pipeline_db,
        "select source_file, row_number, rule, reason from raw.quarantine_rows order by 1, 2",
    )
    assert [(f, n, r) for f, n, r, _ in held] == [
        ("app/orders.ndjson", 3, "expect_column_values_to_be_in_set(fx_rate_available)"),
        ("app/orders.ndjson", 4, "expect_column_values_to_be_in_set(fx_rate_available)"),
        ("app/orders.ndjson", 5, "expect_column_values_to_not_be_null(revenue)"),
        ("app/orders.ndjson", 6, "expect_column_values_to_not_be_null(revenue)"),
        ("app/orders.ndjson", 7, "expect_column_values_to_not_be_null(revenue_currency)"),
        ("channel/meta_ads/m.json", 2, "expect_column_values_to_be_in_set(fx_rate_available)"),
        ("channel/meta_ads/m.json", 3, "expect_column_values_to_be_in_set(fx_rate_available)"),
    ]
    reasons = {n: reason for f, n, _, reason in held if f == "app/orders.ndjson"}
    assert reasons[3].startswith("app/orders.ndjson row 3: no FX rate for the order's currency")
    assert "'HKD'" in reasons[3] and "landing/channel/fx_rates/" in reasons[3]
    assert "'N/A'" in reasons[5]
    assert query(cfg.pipeline_db, "select currency from raw.channel_spend") == [("CNY",)]

    # the rates arrive: the rows held only for them load by themselves, into their files
    (fx / "fx_more.csv").write_text(
        "date,currency,usd_per_unit\n2026-06-01,HKD,0.128\n2026-06-01,EUR,1.08\n"
    )
    report = ingest("channel", cfg)
    assert {f.source_file: (f.outcome, f.rows_loaded) for f in report.files} == {
        "channel/fx_rates/fx_more.csv": ("loaded", 2),
        "app/orders.ndjson": ("held_rows_loaded", 2),
        "channel/meta_ads/m.json": ("held_rows_loaded", 2),
    }
    assert query(cfg.pipeline_db, "select message_id, row_number from raw.app_events order by 2") == [
        ("ok-cny", 1), ("ok-usd", 2), ("no-rate", 3), ("too-early", 4)
    ]  # fmt: skip
    assert query(cfg.pipeline_db, "select currency from raw.channel_spend order by 1") == [
        ("CNY",), ("EUR",), ("HKD",)
    ]  # fmt: skip
    still = query(cfg.pipeline_db, "select source_file, row_number from raw.quarantine_rows")
    assert sorted(still) == [("app/orders.ndjson", n) for n in (5, 6, 7)]
    manifest = query(cfg.pipeline_db, "select source_file, rows_in, rows_loaded, "
                     "rows_quarantined from raw.ingest_manifest order by 1")  # fmt: skip
    assert manifest[0] == ("app/orders.ndjson", 7, 4, 3)
    assert ("channel/meta_ads/m.json", 3, 3, 0) in manifest
    assert ingest("channel", cfg).files == []  # nothing pending, nothing held for a rate


def _hour(path: Path, message_ids: list[str]) -> None:
    path.write_bytes(gzip.compress("".join(_event(m) + "\n" for m in message_ids).encode()))


@pytest.mark.faults
def test_an_empty_restatement_is_held_and_applies_once_accepted(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    cfg = settings_for(tmp_path)
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    ids = [f"m{i}" for i in range(10)]
    _hour(inbox / "h.ndjson.gz", ids)
    ingest("app", cfg)
    _hour(inbox / "h.ndjson.gz", ids[:8])  # a real restatement, 20% fewer: applied at once
    assert [f.outcome for f in ingest("app", cfg).files] == ["replaced_previous"]

    _hour(inbox / "h.ndjson.gz", [])  # a valid gzip with nothing in it, under the same name
    [held] = ingest("app", cfg).files
    assert held.outcome == "held" and "a drop of 100%" in held.detail
    assert query(cfg.pipeline_db, "select count(*) from raw.app_events") == [(8,)]
    reason = Path(held.moved_to + ".reason.txt").read_text()
    assert f"growthops accept-restatement {held.moved_to}" in reason

    monkeypatch.setenv("GROWTHOPS_DATA_ROOT", str(tmp_path))
    assert cli.main(["accept-restatement", held.moved_to]) == 0  # the command, as printed
    assert "replaces its loaded version" in capsys.readouterr().out
    [applied] = ingest("app", cfg).files
    assert applied.outcome == "replaced_previous"
    assert query(cfg.pipeline_db, "select count(*) from raw.app_events") == [(0,)]
    statuses = query(cfg.pipeline_db, "select status, count(*) from raw.ingest_manifest group by 1")
    assert dict(statuses) == {"loaded": 1, "replaced": 2}
    assert cli.main(["accept-restatement", held.moved_to]) == 1  # gone: one clear line


@pytest.mark.faults
def test_a_duplicate_loads_when_the_copy_that_loaded_first_is_restated_away(
    tmp_path: Path,
) -> None:
    cfg = settings_for(tmp_path)
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    _hour(inbox / "a.ndjson.gz", ["x", "y"])
    _hour(inbox / "b.ndjson.gz", ["x", "z"])  # x again: held as a duplicate of a's copy
    ingest("app", cfg)
    held = query(cfg.pipeline_db, "select source_file, row_number, rule from raw.quarantine_rows")
    assert held == [("app/b.ndjson.gz", 1, RULE_DUPLICATE)]

    _hour(inbox / "a.ndjson.gz", ["y"])  # a restated without x
    ingest("app", cfg)

    loaded = query(
        cfg.pipeline_db, "select message_id, source_file, row_number from raw.app_events order by 1"
    )
    assert loaded == [
        ("x", "app/b.ndjson.gz", 1),
        ("y", "app/a.ndjson.gz", 1),
        ("z", "app/b.ndjson.gz", 2),
    ]
    assert query(cfg.pipeline_db, "select count(*) from raw.quarantine_rows") == [(0,)]
    manifest = query(cfg.pipeline_db, "select source_file, rows_in, rows_loaded, rows_quarantined "
                     "from raw.ingest_manifest where status = 'loaded' order by 1")  # fmt: skip
    assert manifest == [("app/a.ndjson.gz", 1, 1, 0), ("app/b.ndjson.gz", 2, 2, 0)]


@pytest.mark.faults
def test_a_file_the_database_refuses_is_rejected_with_the_real_error_and_the_rest_loads(
    tmp_path: Path, monkeypatch
) -> None:
    cfg = settings_for(tmp_path)
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    (inbox / "a.ndjson").write_text(_event("m1") + "\n")
    (inbox / "b.ndjson").write_text(_event("m2") + "\n")
    commit = lake.commit_part  # the rows' insert, inside the file's transaction

    def refuse_a(con, part, family, source_file, load_id, now):
        if source_file == "app/a.ndjson":
            raise duckdb.ConversionException("Could not convert string 'x' to INT64")
        return commit(con, part, family, source_file, load_id, now)

    monkeypatch.setattr(lake, "commit_part", refuse_a)
    outcomes = {f.source_file: (f.outcome, f.detail) for f in ingest("app", cfg).files}
    assert outcomes["app/b.ndjson"] == ("loaded", "")
    assert outcomes["app/a.ndjson"][0] == "rejected"
    assert "Could not convert string 'x' to INT64" in outcomes["app/a.ndjson"][1]
    assert "transaction is aborted" not in outcomes["app/a.ndjson"][1].lower()
    assert query(cfg.pipeline_db, "select message_id from raw.app_events") == [("m2",)]
    assert_ingest_invariants(cfg)  # a's part was discarded: the lake holds b alone


@pytest.mark.faults
def test_the_gate_reads_the_tracking_plan_of_growthops_home(tmp_path: Path) -> None:
    import shutil
    from dataclasses import replace

    import yaml

    repo = settings_for(tmp_path).home
    home = tmp_path / "home"  # a user's own copy of the configuration, with one more event
    shutil.copytree(repo / "expectations", home / "expectations")
    (home / "dbt_project").mkdir(parents=True)
    project = yaml.safe_load((repo / "dbt_project" / "dbt_project.yml").read_text())
    project["vars"]["tracking_plan"].append("Coupon Redeemed")
    (home / "dbt_project" / "dbt_project.yml").write_text(yaml.safe_dump(project))
    cfg = replace(settings_for(tmp_path / "data"), home=home)
    inbox = cfg.landing_dir / "app"
    inbox.mkdir(parents=True)
    event = json.loads(_event("m-coupon"))
    (inbox / "a.ndjson").write_text(json.dumps({**event, "event": "Coupon Redeemed"}) + "\n")
    [loaded] = ingest("app", cfg).files
    assert (loaded.outcome, loaded.rows_loaded, loaded.rows_quarantined) == ("loaded", 1, 0)
    # and an event in neither list is held, the reason naming the file that holds the list
    (inbox / "b.ndjson").write_text(json.dumps({**event, "event": "Nope", "messageId": "x"}) + "\n")
    ingest("app", cfg)
    [(reason,)] = query(cfg.pipeline_db, "select reason from raw.quarantine_rows")
    assert "dbt_project/dbt_project.yml" in reason and "tracking_plan.py" not in reason
