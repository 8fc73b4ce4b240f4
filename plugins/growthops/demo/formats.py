"""Writers for the native export formats the demo's 'exporters' produce.

Each writer follows the landing contract: write to a hidden temporary name in the
target folder, then rename, so a watcher never sees a half-written file.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

GOOGLE_ADS_COLUMNS = (
    "segments.date",
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "customer.time_zone",
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
    "metrics.conversions",
    "metrics.conversions_value",
    "segments.device",  # the report is segmented by device: one row per keyword x device
)

# Baidu SEM keyword report (关键词报告) as the web console exports it.
BAIDU_COLUMNS = (
    "日期",
    "账户",
    "推广计划ID",
    "推广计划",
    "推广单元ID",
    "推广单元",
    "关键词ID",
    "关键词",
    "匹配模式",
    "展现",
    "点击",
    "消费",
    "点击率",
    "平均点击价格",
    "转化",
)
BAIDU_MATCH_TYPES = {"exact": "精确匹配", "phrase": "短语匹配", "broad": "智能匹配"}

CONTENT_STATS_COLUMNS = (
    "date",
    "content_id",
    "platform",
    "views",
    "likes",
    "comments",
    "shares",
    "favorites",
)

FX_COLUMNS = ("date", "currency", "usd_per_unit")


def atomic_write(path: Path, data: bytes) -> Path:
    """Write `data` to `path` by write-then-rename (the landing contract)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return path


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if encoding == "gb18030" else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


def json_bytes(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def ndjson_gz_bytes(lines: Iterable[str]) -> bytes:
    raw = "".join(line + "\n" for line in lines).encode("utf-8")
    # mtime=0 keeps the bytes (and so the file hash) deterministic for a seed.
    return gzip.compress(raw, compresslevel=5, mtime=0)


def ndjson_bytes(records: Iterable[dict[str, object]]) -> bytes:
    return "".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records
    ).encode("utf-8")
