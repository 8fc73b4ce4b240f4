"""Adapters: one native landing format in, canonical raw rows out.

An adapter either rejects the whole file (`FileRejectedError`: unreadable, wrong encoding,
wrong columns — the message says what to do) or returns every record of the file as a
canonical row, except records too broken to have columns at all (`RowReject`: a line that
is not JSON, a CSV row with the wrong number of fields) or holding a value their raw column
cannot (`<column>_in_range`). Values that do not parse in the platform's documented number
format become NULL next to the raw value kept as received; the raw gate (Great
Expectations) then quarantines those rows with the rule they break.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import PurePosixPath

import duckdb
import pandas as pd

from growthops.config import Settings, settings
from growthops.ingest.schema import TABLE_COLUMNS


class FileRejectedError(Exception):
    """The file as a whole cannot be read; the message names the problem and the fix."""


@dataclass(frozen=True)
class RowReject:
    row_number: int
    rule: str
    reason: str
    raw_record: str


@dataclass
class Parsed:
    table: str
    rows: pd.DataFrame  # row_number + the table's canonical columns
    rows_in: int
    rejects: list[RowReject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ value parsing

# How a platform writes a number. API responses and API-shaped exports write a plain decimal
# point and no grouping; web-console CSV exports may group thousands with commas. Anything
# else, a decimal comma above all ("1.234,56" or "1,5"), is not read at all: guessing would
# turn 1.234,56 into 1.23456. Such a value stays NULL and its row is quarantined.
PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
GROUPED = re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?")


def _decimal(value: object, scale: int = 0, grouped: bool = False) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    # a JSON number as its shortest exact text (0.1, not 0.1000000000000000055; 1e-05 as
    # 0.00001)
    text = format(Decimal(repr(value)), "f") if isinstance(value, float) else str(value).strip()
    if not (GROUPED if grouped else PLAIN).fullmatch(text):
        return None
    d = Decimal(text.replace(",", ""))
    return d.scaleb(-scale) if scale else d


def _int(value: object, grouped: bool = False) -> int | None:
    d = _decimal(value, grouped=grouped)
    return int(d) if d is not None and d == d.to_integral_value() else None


def _micros(value: object) -> Decimal | None:
    """Google's cost_micros: a whole number of millionths, kept exact (never rounded to cents)."""
    whole = _int(value)
    return None if whole is None else Decimal(whole).scaleb(-6)


def _float(value: object, grouped: bool = False) -> float | None:
    d = _decimal(value, grouped=grouped)
    return float(d) if d is not None else None


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


# What the raw columns can hold. A value beyond them is the row's problem, never the file's:
# the row is quarantined by its column's rule instead of failing the family's insert.
_BIGINT_MAX = 2**63 - 1


def _out_of_range(type_: str, value: object) -> str | None:
    """Why `value` does not fit a raw column of `type_`, or None when it does."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if type_ == "BIGINT" and isinstance(value, int) and abs(value) > _BIGINT_MAX:
        return "is too large for a whole-number column"
    if type_.startswith("DECIMAL") and isinstance(value, Decimal):
        precision, scale = (int(x) for x in type_[8:-1].split(","))
        if value != value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_DOWN):
            return f"has more than {scale} decimal places (finer than the source's micros)"
        if abs(value) >= Decimal(10) ** (precision - scale):
            return f"is {precision - scale} or more digits before the point: too large to be real"
    return None


def _frame(table: str, records: list[dict[str, object]]) -> pd.DataFrame:
    """The table's canonical columns in order; a column a source does not have is NULL."""
    columns = ["row_number", *(name for name, _ in TABLE_COLUMNS[table])]
    empty = dict.fromkeys(columns)
    return pd.DataFrame.from_records([{**empty, **r} for r in records], columns=columns)


def _parsed(
    table: str,
    source: str,
    records: list[dict[str, object]],
    rows_in: int,
    rejects: list[RowReject],
    warnings: list[str] | None = None,
) -> Parsed:
    """The adapter's result; a record with a value its column cannot hold is a row reject."""
    typed = [(name, type_) for name, type_ in TABLE_COLUMNS[table]
             if type_ == "BIGINT" or type_.startswith("DECIMAL")]  # fmt: skip
    kept = []
    for r in records:
        problems = [
            (name, why) for name, type_ in typed if (why := _out_of_range(type_, r.get(name)))
        ]
        if not problems:
            kept.append(r)
            continue
        name, why = problems[0]
        rejects.append(
            RowReject(
                int(r["row_number"]),  # type: ignore[call-overload]
                f"{name}_in_range",
                f"{source} row {r['row_number']}: {name} {_short(r.get(name))} {why}",
                str(r.get("raw_record")),
            )
        )
    return Parsed(table, _frame(table, kept), rows_in, rejects, warnings or [])


def _short(value: object, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _json(record: object) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


# ------------------------------------------------------------------------ decoding


def _decode_utf8(data: bytes, source: str, hint: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejectedError(
            f"{source} is not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 4]!r}). "
            f"{hint}"
        ) from exc


def _decode_chinese(data: bytes) -> str:
    """Baidu exports are GB18030/GBK; some tools re-save them as UTF-8. Detect per file."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="strict")  # superset of GBK and GB2312


def _csv_records(
    text: str, source: str, required: Iterable[str], what: str, optional: Iterable[str] = ()
) -> tuple[list[tuple[int, dict[str, str]]], list[RowReject], list[str]]:
    """(row_number, record) for each data row; rows with the wrong field count are rejects.
    A column neither required nor a documented optional one is kept in raw_record only,
    with a warning."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise FileRejectedError(f"{source} is empty: a {what} needs a header row and data rows.")
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise FileRejectedError(
            f"{source}: columns {missing} are missing from the header "
            f"{[_short(h, 24) for h in header[:8]]}… — "
            f"this is not a {what} as exported (wrong report, wrong encoding, or an edited "
            f"header). Re-export the standard report and deliver it again."
        )
    extra = [c for c in header if c not in required and c not in optional]
    warnings = [f"{source}: unknown columns kept in raw_record only: {extra}"] if extra else []
    records, rejects = [], []
    for n, fields in enumerate(reader, start=1):
        if not fields or fields == [""]:
            continue
        if len(fields) != len(header):
            rejects.append(
                RowReject(
                    n,
                    "csv_field_count",
                    f"{source} row {n}: has {len(fields)} fields, the header has {len(header)}",
                    ",".join(fields),
                )
            )
            continue
        records.append((n, dict(zip(header, fields, strict=True))))
    return records, rejects, warnings


def _json_document(data: bytes, source: str, what: str) -> object:
    text = _decode_utf8(data, source, f"{what} files are UTF-8 JSON.")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejectedError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            f"the export was probably cut off. Deliver the complete {what} file again."
        ) from exc


# ------------------------------------------------------------------------ channel


GOOGLE_REQUIRED = (
    "segments.date",
    "customer.id",
    "customer.currency_code",
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "ad_group_criterion.criterion_id",
    "ad_group_criterion.keyword.text",
    "ad_group_criterion.keyword.match_type",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
)
# Documented optional columns: names, conversions, the ad, and the segments (breakdowns) a
# keyword report can carry. Rows that differ only in a segment are summed to the canonical
# grain by the models (README "Channel reports").
GOOGLE_OPTIONAL = (
    "customer.descriptive_name",
    "customer.time_zone",
    "metrics.conversions",
    "metrics.conversions_value",
    "ad_group_ad.ad.id",
    "ad_group_ad.ad.name",
    "segments.device",
    "segments.hour",
    "segments.ad_network_type",
    "segments.slot",
    "segments.day_of_week",
    "segments.click_type",
)


def parse_google_ads(data: bytes, source: str) -> Parsed:
    text = _decode_utf8(
        data, source, "Google Ads reports are UTF-8: re-export it, or move GBK files to baidu_sem/."
    )
    records, rejects, warnings = _csv_records(
        text, source, GOOGLE_REQUIRED, "Google Ads keyword report", GOOGLE_OPTIONAL
    )
    rows = []
    for n, r in records:
        rows.append(
            {
                "row_number": n,
                "report_date": _date(r["segments.date"]),
                "platform": "google_ads",
                "account_id": _text(r["customer.id"]),
                "account_name": _text(r.get("customer.descriptive_name")),
                "account_timezone": _text(r.get("customer.time_zone")),
                "campaign_id": _text(r["campaign.id"]),
                "campaign_name": _text(r["campaign.name"]),
                "ad_group_id": _text(r["ad_group.id"]),
                "ad_group_name": _text(r["ad_group.name"]),
                "ad_id": _text(r.get("ad_group_ad.ad.id")),
                "ad_name": _text(r.get("ad_group_ad.ad.name")),
                "keyword_id": _text(r["ad_group_criterion.criterion_id"]),
                "keyword_text": _text(r["ad_group_criterion.keyword.text"]),
                "match_type": (_text(r["ad_group_criterion.keyword.match_type"]) or "").lower()
                or None,
                "impressions": _int(r["metrics.impressions"]),
                "clicks": _int(r["metrics.clicks"]),
                "spend": _micros(r["metrics.cost_micros"]),
                "currency": _text(r["customer.currency_code"]),
                "conversions": _float(r.get("metrics.conversions")),
                "conversion_value": _decimal(r.get("metrics.conversions_value")),
                "raw_spend": r["metrics.cost_micros"],
                "raw_record": _json(r),
            }
        )
    return _parsed("channel_spend", source, rows, len(records) + len(rejects), rejects, warnings)


def _meta_action(actions: object, kind: str) -> object:
    if isinstance(actions, list):
        for a in actions:
            if isinstance(a, dict) and a.get("action_type") == kind:
                return a.get("value")
    return None


def parse_meta_ads(data: bytes, source: str) -> Parsed:
    """Insights at any level (campaign, adset or ad: `level=ad` adds ad_id/ad_name) and with
    any breakdowns (age, gender, publisher_platform, hourly_stats_...): each row is kept and
    the models sum them to the canonical grain."""
    doc = _json_document(data, source, "Meta Ads Insights")
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise FileRejectedError(
            f'{source}: expected a Meta Insights API response {{"data": [...]}}; got '
            f"{type(doc).__name__} with keys "
            f"{[_short(k, 24) for k in list(doc)[:5]] if isinstance(doc, dict) else '-'}."
        )
    rows, rejects = [], []
    for n, r in enumerate(doc["data"], start=1):
        if not isinstance(r, dict):
            rejects.append(
                RowReject(n, "record_is_object", f"{source} record {n}: not an object", _json(r))
            )
            continue
        rows.append(
            {
                "row_number": n,
                "report_date": _date(r.get("date_start")),
                "platform": "meta_ads",
                "account_id": _text(r.get("account_id")),
                "account_name": _text(r.get("account_name")),
                "campaign_id": _text(r.get("campaign_id")),
                "campaign_name": _text(r.get("campaign_name")),
                "ad_group_id": _text(r.get("adset_id")),
                "ad_group_name": _text(r.get("adset_name")),
                "ad_id": _text(r.get("ad_id")),
                "ad_name": _text(r.get("ad_name")),
                "impressions": _int(r.get("impressions")),
                "clicks": _int(r.get("clicks")),
                "spend": _decimal(r.get("spend")),
                "currency": _text(r.get("account_currency")),
                "conversions": _float(_meta_action(r.get("actions"), "mobile_app_install")),
                "conversion_value": _decimal(_meta_action(r.get("action_values"), "omni_purchase")),
                "raw_spend": None if r.get("spend") is None else str(r.get("spend")),
                "raw_record": _json(r),
            }
        )
    return _parsed("channel_spend", source, rows, len(doc["data"]), rejects)


BAIDU_REQUIRED = ("日期", "账户", "推广计划ID", "推广计划", "推广单元ID", "推广单元", "关键词ID",
                  "关键词", "匹配模式", "展现", "点击", "消费")  # fmt: skip
# Derived metrics the console adds (CTR, average CPC), conversions, and its breakdowns
# (device, hour, creative): the breakdown rows are summed by the models.
BAIDU_OPTIONAL = ("点击率", "平均点击价格", "转化", "设备", "小时", "创意ID", "创意")
BAIDU_MATCH_TYPES = {
    "精确匹配": "exact",
    "短语匹配": "phrase",
    "智能匹配": "broad",
    "广泛匹配": "broad",
}


def parse_baidu_sem(data: bytes, source: str) -> Parsed:
    text = _decode_chinese(data)
    records, rejects, warnings = _csv_records(
        text, source, BAIDU_REQUIRED, "Baidu SEM keyword report (GB18030 or UTF-8)", BAIDU_OPTIONAL
    )
    rows = []
    for n, r in records:
        match = _text(r["匹配模式"])
        rows.append(
            {
                "row_number": n,
                "report_date": _date(r["日期"]),
                "platform": "baidu_sem",
                "account_id": _text(r["账户"]),
                "account_name": _text(r["账户"]),
                "campaign_id": _text(r["推广计划ID"]),
                "campaign_name": _text(r["推广计划"]),
                "ad_group_id": _text(r["推广单元ID"]),
                "ad_group_name": _text(r["推广单元"]),
                "ad_id": _text(r.get("创意ID")),
                "ad_name": _text(r.get("创意")),
                "keyword_id": _text(r["关键词ID"]),
                "keyword_text": _text(r["关键词"]),
                "match_type": BAIDU_MATCH_TYPES.get(match or "", match),
                # the web console groups thousands with commas: 1,234.56
                "impressions": _int(r["展现"], grouped=True),
                "clicks": _int(r["点击"], grouped=True),
                "spend": _decimal(r["消费"], grouped=True),  # yuan
                "currency": "CNY",
                "conversions": _float(r.get("转化"), grouped=True),
                "raw_spend": r["消费"],
                "raw_record": _json(r),
            }
        )
    return _parsed("channel_spend", source, rows, len(records) + len(rejects), rejects, warnings)


def parse_ocean_engine(data: bytes, source: str) -> Parsed:
    """Ocean Engine (巨量引擎) report API: advertiser > campaign (广告组) > ad (广告计划,
    the canonical ad group) > creative (the canonical ad, when the report has creative_id).
    Daily or hourly (stat_datetime "YYYY-MM-DD HH:00:00"): hours are summed to the day."""
    doc = _json_document(data, source, "Ocean Engine report")
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise FileRejectedError(
            f"{source}: expected an Ocean Engine API response with a data object."
        )
    if doc.get("code") not in (0, "0"):
        raise FileRejectedError(
            f"{source}: the API answered code {doc.get('code')!r} ({doc.get('message')!r}), "
            f"not a report. Re-run the export."
        )
    records = doc["data"].get("list")
    if not isinstance(records, list):
        raise FileRejectedError(f"{source}: data.list is missing; not an Ocean Engine report.")
    rows, rejects = [], []
    for n, r in enumerate(records, start=1):
        if not isinstance(r, dict):
            rejects.append(
                RowReject(n, "record_is_object", f"{source} record {n}: not an object", _json(r))
            )
            continue
        rows.append(
            {
                "row_number": n,
                "report_date": _date(r.get("stat_datetime")),
                "platform": "ocean_engine",
                "account_id": _text(r.get("advertiser_id")),
                "campaign_id": _text(r.get("campaign_id")),
                "campaign_name": _text(r.get("campaign_name")),
                "ad_group_id": _text(r.get("ad_id")),
                "ad_group_name": _text(r.get("ad_name")),
                "ad_id": _text(r.get("creative_id")),
                "ad_name": _text(r.get("creative_name")),
                "impressions": _int(r.get("show")),
                "clicks": _int(r.get("click")),
                "spend": _decimal(r.get("cost")),  # yuan
                "currency": "CNY",
                "conversions": _float(r.get("convert")),
                "raw_spend": None if r.get("cost") is None else str(r.get("cost")),
                "raw_record": _json(r),
            }
        )
    return _parsed("channel_spend", source, rows, len(records), rejects)


def parse_fx_rates(data: bytes, source: str) -> Parsed:
    text = _decode_utf8(data, source, "FX rate files are UTF-8 CSV: date,currency,usd_per_unit.")
    records, rejects, warnings = _csv_records(
        text, source, ("date", "currency", "usd_per_unit"), "FX rate file"
    )
    rows = [
        {
            "row_number": n,
            "rate_date": _date(r["date"]),
            "currency": (_text(r["currency"]) or "").upper() or None,
            "usd_per_unit": _decimal(r["usd_per_unit"]),
            "raw_record": _json(r),
        }
        for n, r in records
    ]
    return _parsed("fx_rates", source, rows, len(records) + len(rejects), rejects, warnings)


# ------------------------------------------------------------------------ content


def parse_content_items(data: bytes, source: str) -> Parsed:
    text = _decode_utf8(data, source, "CMS item exports are UTF-8 NDJSON.")
    rows, rejects, n = [], [], 0
    for n, line in enumerate(text.splitlines(), start=1):
        try:
            r = json.loads(line)
            if not isinstance(r, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            rejects.append(
                RowReject(n, "valid_json", f"{source} line {n}: not a JSON object ({exc})", line)
            )
            continue
        tags = r.get("tags")
        rows.append(
            {
                "row_number": n,
                "content_id": _text(r.get("content_id")),
                "platform": _text(r.get("platform")),
                "content_type": _text(r.get("content_type")),
                "title": _text(r.get("title")),
                "author": _text(r.get("author")),
                "published_at": _utc(r.get("published_at")),
                "tags": [str(t) for t in tags] if isinstance(tags, list) else None,
                "url": _text(r.get("url")),
                "raw_record": _json(r),
            }
        )
    return _parsed("content_items", source, rows, n, rejects)


def _utc(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if ts.tzinfo is None:
        return None  # a timestamp without a zone cannot be placed in UTC
    return ts.astimezone(UTC).replace(tzinfo=None)


STATS_COLUMNS = (
    "date",
    "content_id",
    "platform",
    "views",
    "likes",
    "comments",
    "shares",
    "favorites",
)


def parse_content_stats(data: bytes, source: str) -> Parsed:
    text = _decode_utf8(data, source, "Content stats exports are UTF-8 CSV.")
    records, rejects, warnings = _csv_records(
        text, source, STATS_COLUMNS, "content daily stats export"
    )
    rows = [
        {
            "row_number": n,
            "stat_date": _date(r["date"]),
            "content_id": _text(r["content_id"]),
            "platform": _text(r["platform"]),
            # platform dashboards' CSV exports group thousands: 12,345 views
            **{
                k: _int(r[k], grouped=True)
                for k in ("views", "likes", "comments", "shares", "favorites")
            },
            "raw_record": _json(r),
        }
        for n, r in records
    ]
    return _parsed(
        "content_daily_stats", source, rows, len(records) + len(rejects), rejects, warnings
    )


# ------------------------------------------------------------------------ app events

# The Segment fields the raw table keeps, in the order _APP_SQL reads them (v[1], v[2], ...).
_APP_FIELDS = (
    "$.messageId", "$.type", "$.event", "$.name", "$.anonymousId", "$.userId",
    "$.timestamp", "$.sentAt", "$.receivedAt",
    "$.context.campaign.source", "$.context.campaign.medium", "$.context.campaign.name",
    "$.context.campaign.term", "$.context.campaign.content", "$.context.timezone",
    "$.properties.revenue", "$.properties.currency",
)  # fmt: skip

# Each line is parsed ONCE: one json_extract_string with the list of paths (15 separate
# `->>` re-parse the text 15 times; measured 2.6x slower on 157k medium-world lines, same rows).
_APP_SQL = f"""
with src as (
    select row_number, line, json_valid(line) and starts_with(ltrim(line), '{{') as ok from lines
), j as (
    select
        row_number, line, ok,
        case when ok then json_extract_string(line, [{", ".join(f"'{p}'" for p in _APP_FIELDS)}]) end as v,
        case when ok then json_extract(line, ['$.properties', '$.traits']) end as o
    from src
), t as (
    -- the session zone is UTC (_json_engine): a timestamp without a zone is read as UTC,
    -- never in the host's zone
    select
        *,
        try_cast(v[7] as timestamptz) at time zone 'UTC' as client_timestamp,
        try_cast(v[8] as timestamptz) at time zone 'UTC' as sent_at,
        try_cast(v[9] as timestamptz) at time zone 'UTC' as received_at
    from j
), c as (
    select
        *,
        -- Segment's clock-skew correction: the device's clock error is sentAt - receivedAt.
        coalesce(received_at - (sent_at - client_timestamp), client_timestamp) as device_at
    from t
), p as (
    select
        *,
        -- a device time outside [receivedAt - max age, receivedAt + max ahead] is not believed
        device_at is not null and received_at is not null and (
            device_at < received_at - to_microseconds($max_age_us)
            or device_at > received_at + to_microseconds($max_ahead_us)
        ) as implausible
    from c
)
select
    row_number,
    ok,
    v[1] as message_id,
    v[2] as type,
    v[3] as event,
    v[4] as screen_name,
    v[5] as anonymous_id,
    v[6] as user_id,
    case when implausible then received_at else device_at end as event_at,
    case
        when implausible then 'received_at' when device_at is not null then 'device'
    end as event_at_source,
    client_timestamp,
    sent_at,
    received_at,
    epoch(sent_at) - epoch(received_at) as clock_skew_seconds,
    v[10] as utm_source,
    v[11] as utm_medium,
    v[12] as utm_campaign,
    v[13] as utm_term,
    v[14] as utm_content,
    v[15] as device_timezone,
    o[1]::varchar as properties,
    o[2]::varchar as traits,
    line as raw_record,
    -- for the raw gate only (not raw columns): the order's money as sent, and as a number
    -- in the Segment spec's format (NULL for 'N/A', a decimal comma, or beyond 10^12)
    v[16] as revenue_text,
    case when regexp_full_match(trim(v[16]), '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)')
        then try_cast(trim(v[16]) as decimal(18, 6)) end as revenue,
    upper(trim(v[17])) as revenue_currency
from p
order by row_number
"""


def app_sql_parameters(cfg: Settings) -> dict[str, int]:
    """_APP_SQL's parameters: the plausible window of device times around receivedAt."""
    return {
        "max_age_us": int(cfg.device_time_max_age_hours * 3600e6),
        "max_ahead_us": int(cfg.device_time_max_ahead_minutes * 60e6),
    }


@functools.cache
def _json_engine() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that parses JSON lines (no file, no lock); opening one costs ~20 ms,
    so it is kept for the life of the process. Its zone is UTC: a zone-less timestamp is read
    as UTC on every host (DuckDB's default is the host's zone)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    return con


def parse_segment_ndjson(data: bytes, source: str) -> Parsed:
    import pyarrow as pa

    if source.endswith(".gz"):
        if not data.startswith(b"\x1f\x8b"):
            raise FileRejectedError(
                f"{source} is named .gz but is not gzip data (it starts with "
                f"{data[:8]!r}): rename it to .ndjson if it is plain NDJSON, or gzip it, and "
                f"deliver it again."
            )
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise FileRejectedError(
                f"{source} is not a complete gzip stream ({exc}): the upload was probably cut "
                f"off. Deliver the whole file again (same name)."
            ) from exc
    text = _decode_utf8(data, source, "Segment NDJSON is UTF-8.")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    table = pa.table(
        {
            "row_number": pa.array(range(1, len(lines) + 1), pa.int64()),
            "line": pa.array(lines, pa.string()),
        }
    )
    con = _json_engine()
    con.register("lines", table)
    try:
        frame = con.execute(_APP_SQL, app_sql_parameters(settings())).df()
    finally:
        con.unregister("lines")
    bad = frame[~frame["ok"].astype(bool)]
    rejects = [
        RowReject(
            int(r.row_number),
            "valid_json",
            f"{source} line {int(r.row_number)}: not a JSON object (cut off or corrupted)",
            str(r.raw_record),
        )
        for r in bad.itertuples()
    ]
    rows = frame[frame["ok"].astype(bool)].drop(columns=["ok"]).reset_index(drop=True)
    return Parsed("app_events", rows, len(lines), rejects)


# ------------------------------------------------------------------------ routing

Adapter = Callable[[bytes, str], Parsed]

# family -> first folder under landing/<family>/ -> adapter. App files may sit anywhere.
ADAPTERS: dict[str, dict[str, Adapter]] = {
    "channel": {
        "google_ads": parse_google_ads,
        "meta_ads": parse_meta_ads,
        "baidu_sem": parse_baidu_sem,
        "ocean_engine": parse_ocean_engine,
        "fx_rates": parse_fx_rates,
    },
    "content": {"items": parse_content_items, "stats": parse_content_stats},
}


def reader_of(family: str, relative: PurePosixPath) -> str:
    """How a file at landing/<family>/<relative> is read: its adapter's folder, or for app
    files gzip or plain text. With the bytes, it decides a file's outcome: the exactly-once
    key (a file moved to its right folder, or renamed, is read again)."""
    if family == "app":
        return "app:gzip" if relative.name.endswith(".gz") else "app:text"
    return f"{family}:{relative.parts[0] if len(relative.parts) > 1 else ''}"


def adapter_for(family: str, relative: PurePosixPath) -> Adapter:
    """The adapter for a file at landing/<family>/<relative>, or a rejection saying why not."""
    if family == "app":
        if relative.name.endswith((".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")):
            return parse_segment_ndjson
        raise FileRejectedError(
            f"app/{relative}: app events must be NDJSON (.ndjson or .ndjson.gz)."
        )
    folder = relative.parts[0] if len(relative.parts) > 1 else ""
    known = ADAPTERS[family]
    if folder not in known:
        raise FileRejectedError(
            f"{family}/{relative}: no adapter for folder '{folder or '(none)'}'. Known sources: "
            f"{', '.join(sorted(known))}. Put the file in its source's folder, or add an adapter "
            f"for a new platform in plugins/growthops/ingest/adapters.py."
        )
    return known[folder]
