"""Adapters on small hand-written files: normalization computed by hand, clear rejections."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePosixPath

import pytest

from growthops.ingest.adapters import (
    FileRejectedError,
    adapter_for,
    parse_baidu_sem,
    parse_content_items,
    parse_content_stats,
    parse_google_ads,
    parse_meta_ads,
    parse_ocean_engine,
    parse_segment_ndjson,
)

GOOGLE_HEADER = (
    "segments.date,customer.id,customer.descriptive_name,customer.currency_code,customer.time_zone,"
    "campaign.id,campaign.name,ad_group.id,ad_group.name,ad_group_criterion.criterion_id,"
    "ad_group_criterion.keyword.text,ad_group_criterion.keyword.match_type,metrics.impressions,"
    "metrics.clicks,metrics.cost_micros,metrics.conversions,metrics.conversions_value"
)


def test_google_ads_micros_become_currency_units_exactly() -> None:
    data = (
        GOOGLE_HEADER + "\n"
        "2026-06-01,111,Acct,USD,America/Los_Angeles,10,Brand,20,Exact,30,growthops,EXACT,100,9,7410000,1.5,3.25\n"
        "2026-06-01,111,Acct,USD,America/Los_Angeles,10,Brand,20,Exact,31,growth ops,PHRASE,5,0,0,0,0\n"
    ).encode()
    parsed = parse_google_ads(data, "channel/google_ads/r.csv")
    assert parsed.table == "channel_spend" and parsed.rows_in == 2 and not parsed.rejects
    first = parsed.rows.iloc[0]
    assert first["spend"] == Decimal("7.41")
    assert first["raw_spend"] == "7410000"
    assert first["match_type"] == "exact"
    assert first["report_date"] == date(2026, 6, 1)
    assert (first["impressions"], first["clicks"], first["conversions"]) == (100, 9, 1.5)
    assert parsed.rows.iloc[1]["spend"] == Decimal("0")


def test_google_ads_bad_micros_keep_the_raw_value_and_leave_spend_null() -> None:
    data = (GOOGLE_HEADER + "\n2026-06-01,1,A,USD,UTC,10,C,20,G,30,k,BROAD,5,1,--,0,0\n").encode()
    row = parse_google_ads(data, "g.csv").rows.iloc[0]
    assert row["spend"] is None and row["raw_spend"] == "--"


def test_google_ads_missing_column_rejects_the_file_naming_it() -> None:
    header = GOOGLE_HEADER.replace(",metrics.cost_micros", "")
    with pytest.raises(FileRejectedError, match=r"metrics\.cost_micros"):
        parse_google_ads((header + "\n").encode(), "channel/google_ads/r.csv")


def test_gbk_file_in_a_utf8_folder_is_rejected_with_a_hint() -> None:
    data = (
        GOOGLE_HEADER + "\n2026-06-01,1,习惯星球,USD,UTC,10,品牌,20,G,30,k,BROAD,5,1,1,0,0\n"
    ).encode("gbk")
    with pytest.raises(FileRejectedError, match=r"not valid UTF-8.*GBK"):
        parse_google_ads(data, "channel/google_ads/r.csv")


def test_unknown_extra_column_is_kept_and_warned_about() -> None:
    header = GOOGLE_HEADER + ",metrics.video_views"
    data = (header + "\n2026-06-01,1,A,USD,UTC,10,C,20,G,30,k,BROAD,5,1,1000000,0,0,77\n").encode()
    parsed = parse_google_ads(data, "g.csv")
    assert len(parsed.rows) == 1
    assert "metrics.video_views" in parsed.warnings[0]
    assert json.loads(parsed.rows.iloc[0]["raw_record"])["metrics.video_views"] == "77"


def test_csv_row_with_wrong_field_count_is_a_row_reject() -> None:
    data = (GOOGLE_HEADER + "\n2026-06-01,1,A,USD\n").encode()
    parsed = parse_google_ads(data, "g.csv")
    assert parsed.rows_in == 1 and parsed.rows.empty
    assert parsed.rejects[0].rule == "csv_field_count"
    assert "g.csv row 1" in parsed.rejects[0].reason


def test_meta_insights_strings_and_actions() -> None:
    doc = {
        "data": [
            {
                "date_start": "2026-06-02",
                "account_id": "42",
                "account_currency": "USD",
                "campaign_id": "c1",
                "adset_id": "a1",
                "impressions": "1000",
                "clicks": "12",
                "spend": "15.37",
                "actions": [
                    {"action_type": "link_click", "value": "12"},
                    {"action_type": "mobile_app_install", "value": "3"},
                ],
                "action_values": [{"action_type": "omni_purchase", "value": "9.99"}],
            }
        ]
    }
    row = parse_meta_ads(json.dumps(doc).encode(), "m.json").rows.iloc[0]
    assert (row["spend"], row["clicks"], row["conversions"]) == (Decimal("15.37"), 12, 3.0)
    assert row["conversion_value"] == Decimal("9.99")
    assert row["keyword_id"] is None and row["ad_group_id"] == "a1"


def test_meta_file_without_data_is_rejected() -> None:
    with pytest.raises(FileRejectedError, match="Meta Insights"):
        parse_meta_ads(b'{"error": {"message": "token expired"}}', "m.json")


BAIDU_CSV = (
    "日期,账户,推广计划ID,推广计划,推广单元ID,推广单元,关键词ID,关键词,匹配模式,展现,点击,消费,点击率,平均点击价格,转化\r\n"
    "2026-06-01,bj,1,品牌词,2,品牌-精确,3,习惯星球,精确匹配,77,7,18.31,9.09%,2.62,1\r\n"
    "2026-06-01,bj,1,品牌词,2,品牌-精确,4,习惯星球app,智能匹配,84,-,43.04,16.67%,3.07,2\r\n"
)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8", "utf-8-sig"])
def test_baidu_chinese_headers_in_any_common_encoding(encoding: str) -> None:
    parsed = parse_baidu_sem(BAIDU_CSV.encode(encoding), "channel/baidu_sem/b.csv")
    first, second = parsed.rows.iloc[0], parsed.rows.iloc[1]
    assert (first["keyword_text"], first["match_type"], first["spend"]) == (
        "习惯星球",
        "exact",
        Decimal("18.31"),
    )
    assert first["currency"] == "CNY" and first["campaign_name"] == "品牌词"
    assert second["match_type"] == "broad" and pd_isna(second["clicks"])  # "-" is not a number


def test_ocean_engine_envelope_and_error_code() -> None:
    doc = {
        "code": 0,
        "data": {"list": [{"stat_datetime": "2026-06-01 00:00:00", "advertiser_id": 9, "campaign_id": 1,
                           "ad_id": 2, "cost": 9.38, "show": 790, "click": 6, "convert": 1}]},
    }  # fmt: skip
    row = parse_ocean_engine(json.dumps(doc).encode(), "o.json").rows.iloc[0]
    assert (row["spend"], row["impressions"], row["ad_group_id"]) == (Decimal("9.38"), 790, "2")
    with pytest.raises(FileRejectedError, match="code 40100"):
        parse_ocean_engine(
            json.dumps({"code": 40100, "message": "no auth", "data": {}}).encode(), "o.json"
        )


def _segment(**over: object) -> str:
    msg = {
        "type": "track",
        "event": "Signed Up",
        "messageId": "m1",
        "anonymousId": "a1",
        "userId": "u1",
        "context": {
            "campaign": {"source": "google", "medium": "cpc", "name": "123", "term": "456"}
        },
        "properties": {"method": "phone"},
        "timestamp": "2026-06-01T10:00:00.000Z",
        "sentAt": "2026-06-01T10:00:05.000Z",
        "receivedAt": "2026-06-01T10:00:06.000Z",
    }
    msg.update(over)
    return json.dumps(msg)


def test_segment_clock_skew_is_corrected_with_sent_and_received() -> None:
    # Device clock 2 h fast: timestamp and sentAt both +2 h; received 1 s after sending.
    skewed = _segment(
        messageId="m2", timestamp="2026-06-01T12:00:00.000Z", sentAt="2026-06-01T12:00:05.000Z"
    )
    data = gzip.compress((_segment() + "\n" + skewed + "\n").encode())
    rows = parse_segment_ndjson(data, "app/x.ndjson.gz").rows
    assert list(rows["event_at"]) == [datetime(2026, 6, 1, 10, 0, 1)] * 2
    assert list(rows["clock_skew_seconds"]) == [-1.0, 7199.0]
    first = rows.iloc[0]
    assert (first["utm_source"], first["utm_campaign"], first["utm_term"]) == (
        "google",
        "123",
        "456",
    )
    assert json.loads(first["properties"]) == {"method": "phone"}


def test_segment_cut_line_is_a_row_reject_and_the_rest_loads() -> None:
    good = _segment()
    data = (good + "\n" + good[: len(good) // 2] + "\n" + _segment(messageId="m3") + "\n").encode()
    parsed = parse_segment_ndjson(data, "app/x.ndjson")
    assert parsed.rows_in == 3 and len(parsed.rows) == 2
    assert [r.row_number for r in parsed.rejects] == [2]
    assert "app/x.ndjson line 2" in parsed.rejects[0].reason


def test_truncated_gzip_rejects_the_file() -> None:
    data = gzip.compress(((_segment() + "\n") * 200).encode())
    with pytest.raises(FileRejectedError, match="not a complete gzip stream"):
        parse_segment_ndjson(data[: len(data) // 2], "app/x.ndjson.gz")


def test_content_items_and_stats() -> None:
    items = (
        b'{"content_id":"c1","platform":"douyin","content_type":"short_video","title":"t","author":"a",'
        b'"published_at":"2026-06-01T10:00:00+08:00","tags":["habits"]}\nnot json\n'
    )
    parsed = parse_content_items(items, "content/items/i.ndjson")
    assert parsed.rows.iloc[0]["published_at"] == datetime(2026, 6, 1, 2, 0)  # stored in UTC
    assert parsed.rows.iloc[0]["tags"] == ["habits"]
    assert parsed.rejects[0].row_number == 2
    stats = b"date,content_id,platform,views,likes,comments,shares,favorites\n2026-06-01,c1,douyin,,1,0,0,2\n"
    row = parse_content_stats(stats, "s.csv").rows.iloc[0]
    assert pd_isna(row["views"]) and row["favorites"] == 2


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_routing_names_the_known_sources() -> None:
    assert adapter_for("channel", PurePosixPath("baidu_sem/x.csv")) is parse_baidu_sem
    with pytest.raises(FileRejectedError, match=r"no adapter for folder .tiktok_ads.*google_ads"):
        adapter_for("channel", PurePosixPath("tiktok_ads/x.csv"))
    with pytest.raises(FileRejectedError, match="NDJSON"):
        adapter_for("app", PurePosixPath("events.csv"))


# ------------------------------------------------------------------ real-world shapes


def test_a_zone_less_timestamp_is_utc_whatever_the_hosts_zone() -> None:
    naive = _segment(timestamp="2026-06-01T10:00:00", sentAt=None, receivedAt="2026-06-01T10:00:06")
    script = (
        "import sys; from growthops.ingest.adapters import parse_segment_ndjson as p; "
        "print(p(sys.stdin.buffer.read(), 'app/x.ndjson').rows['event_at'][0])"
    )
    seen = {
        tz: subprocess.run(
            [sys.executable, "-c", script],
            input=(naive + "\n").encode(),
            capture_output=True,
            check=True,
            env={**os.environ, "TZ": tz},
        ).stdout.strip()
        for tz in ("UTC", "Asia/Shanghai", "America/Los_Angeles")
    }
    assert set(seen.values()) == {b"2026-06-01 10:00:00"}, seen


@pytest.mark.parametrize(
    ("timestamp", "expected_at", "source"),
    [
        ("1970-01-01T00:00:00Z", datetime(2026, 6, 1, 10, 0, 6), "received_at"),
        ("2030-01-01T00:00:00Z", datetime(2026, 6, 1, 10, 0, 6), "received_at"),
        ("2026-05-29T10:00:00Z", datetime(2026, 5, 29, 10, 0, 0), "device"),  # 3 days late
        ("2026-06-01T10:50:00Z", datetime(2026, 6, 1, 10, 50, 0), "device"),  # 50 min ahead
        ("2026-06-01T11:10:00Z", datetime(2026, 6, 1, 10, 0, 6), "received_at"),  # 70 min
    ],
)
def test_implausible_device_times_fall_back_to_received_at(
    timestamp: str, expected_at: datetime, source: str
) -> None:
    # no sentAt: nothing corrects the device clock, so only the plausibility window can
    row = parse_segment_ndjson(
        (_segment(timestamp=timestamp, sentAt=None) + "\n").encode(), "app/x.ndjson"
    ).rows.iloc[0]
    assert (row["event_at"], row["event_at_source"]) == (expected_at, source)


def test_a_skewed_clock_corrected_by_sent_at_is_believed_even_in_1970() -> None:
    # the whole device clock is in 1970 (timestamp and sentAt alike): the correction places it
    row = parse_segment_ndjson(
        (_segment(timestamp="1970-01-01T00:00:00Z", sentAt="1970-01-01T00:00:05Z") + "\n").encode(),
        "app/x.ndjson",
    ).rows.iloc[0]
    assert (row["event_at"], row["event_at_source"]) == (datetime(2026, 6, 1, 10, 0, 1), "device")


META_ROW = {
    "date_start": "2026-06-01",
    "account_id": "1",
    "account_currency": "USD",
    "campaign_id": "c",
    "adset_id": "s",
    "impressions": "10",
    "clicks": "1",
}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.34", Decimal("12.34")),
        ("0.000001", Decimal("0.000001")),
        ("1.234,56", None),  # a decimal comma: never 1.23456
        ("1,5", None),
        ("1,234.56", None),  # the API writes no grouping: not guessed either
        ("12.3e2", None),
        ("N/A", None),
    ],
)
def test_meta_spend_is_read_in_the_apis_format_only(raw: str, expected: Decimal | None) -> None:
    doc = {"data": [{**META_ROW, "spend": raw}]}
    assert parse_meta_ads(json.dumps(doc).encode(), "m.json").rows.iloc[0]["spend"] == expected


def test_baidu_console_numbers_may_group_thousands() -> None:
    header = (
        "日期,账户,推广计划ID,推广计划,推广单元ID,推广单元,关键词ID,关键词,匹配模式,展现,点击,消费"
    )
    rows = [
        '2026-06-01,acc,1,P,2,U,3,k,精确匹配,"12,345",17,"1,234.56"',
        '2026-06-01,acc,1,P,2,U,4,k2,精确匹配,10,1,"1.234,56"',
    ]
    parsed = parse_baidu_sem("\n".join([header, *rows]).encode("gb18030"), "b.csv")
    first, second = parsed.rows.iloc[0], parsed.rows.iloc[1]
    assert (first["impressions"], first["spend"]) == (12345, Decimal("1234.56"))
    assert second["spend"] is None and second["raw_spend"] == "1.234,56"


def test_google_micros_keep_every_micro_and_must_be_whole() -> None:
    lines = [
        "2026-06-01,1,A,USD,UTC,10,C,20,G,30,k,BROAD,5,1,1234567,0,0",
        "2026-06-01,1,A,USD,UTC,10,C,20,G,31,k,BROAD,5,1,1234567.5,0,0",
    ]
    rows = parse_google_ads("\n".join([GOOGLE_HEADER, *lines]).encode(), "g.csv").rows
    assert rows.iloc[0]["spend"] == Decimal("1.234567")
    assert rows.iloc[1]["spend"] is None


def test_a_value_too_large_for_its_column_is_a_row_reject_naming_the_rule() -> None:
    doc = {
        "data": [
            {**META_ROW, "spend": "1" + "0" * 14},  # 10^14: beyond DECIMAL(18, 6)
            {**META_ROW, "spend": "1.5", "impressions": "9" * 20},  # beyond BIGINT
            {**META_ROW, "spend": "1.1234567"},  # finer than micros
            {**META_ROW, "spend": "2.5"},
        ]
    }
    parsed = parse_meta_ads(json.dumps(doc).encode(), "m.json")
    assert parsed.rows_in == 4 and list(parsed.rows["row_number"]) == [4]
    assert [(r.row_number, r.rule) for r in parsed.rejects] == [
        (1, "spend_in_range"),
        (2, "impressions_in_range"),
        (3, "spend_in_range"),
    ]
    assert "m.json row 1: spend" in parsed.rejects[0].reason


def test_ad_level_and_breakdown_reports_keep_every_row_with_the_ad() -> None:
    doc = {
        "data": [
            {**META_ROW, "ad_id": f"ad{i}", "ad_name": f"Ad {i}", "age": age, "spend": "1.00"}
            for i in (1, 2, 3)
            for age in ("18-24", "25-34")
        ]
    }
    rows = parse_meta_ads(json.dumps(doc).encode(), "m.json").rows
    assert len(rows) == 6 and sorted(set(rows["ad_id"])) == ["ad1", "ad2", "ad3"]
    header = GOOGLE_HEADER + ",segments.device,segments.hour"
    lines = [f"2026-06-01,1,A,USD,UTC,10,C,20,G,30,k,BROAD,5,1,1000001,0,0,{d},{h}"
             for d in ("MOBILE", "DESKTOP") for h in (9, 10)]  # fmt: skip
    parsed = parse_google_ads("\n".join([header, *lines]).encode(), "g.csv")
    assert len(parsed.rows) == 4 and not parsed.warnings  # documented columns: no warning
    ocean = {
        "code": 0,
        "data": {"list": [{"stat_datetime": "2026-06-01 13:00:00", "advertiser_id": 1,
                           "campaign_id": 2, "ad_id": 3, "creative_id": 4, "cost": 1.25,
                           "show": 10, "click": 1}]},
    }  # fmt: skip
    row = parse_ocean_engine(json.dumps(ocean).encode(), "o.json").rows.iloc[0]
    assert (row["ad_group_id"], row["ad_id"], row["report_date"]) == ("3", "4", date(2026, 6, 1))


def _readme_example(heading: str) -> str:
    """The first fenced block under a README heading: the example a user copies."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text[text.index(f"### {heading}") :]
    return section.split("```", 2)[1].split("\n", 1)[1]


@pytest.mark.parametrize(
    ("heading", "folder"),
    [("Google Ads", "google_ads"), ("Meta Ads", "meta_ads"), ("Baidu SEM", "baidu_sem"),
     ("Ocean Engine", "ocean_engine")],
)  # fmt: skip
def test_the_readmes_examples_load_without_a_warning(heading: str, folder: str) -> None:
    """A file shaped like the documented example is normal: no row reject, no 'unknown
    columns' warning (those fired on every normal Google Ads and Baidu file)."""
    from growthops.ingest.adapters import ADAPTERS

    parsed = ADAPTERS["channel"][folder](_readme_example(heading).encode(), f"channel/{folder}/x")
    assert parsed.warnings == [] and parsed.rejects == []
    assert len(parsed.rows) >= 1
