"""Channel reports and orders shaped the way real exporters shape them, through every DAG.

Meta Insights at ad level with age x gender breakdowns, a Google keyword report segmented
by device and hour with sub-cent micros (and a restatement of one day under a new file
name), Ocean Engine hourly rows per creative, a Baidu console export by device with
grouped thousands, orders in CNY, HKD and USD. The expected numbers are computed here from
the files with csv/json and Decimal - not through the adapters or the models - and the
published marts must equal them to the micro.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from support import ALL_DAGS, settings_for

from growthops.landing import make_inboxes
from growthops.runner import run_dags

pytestmark = pytest.mark.slow

DAYS = ("2026-06-01", "2026-06-02")
# USD per unit; HKD's only rate is from 06-01, so 06-02 uses the latest earlier one
RATES = {
    ("USD", "2026-06-01"): Decimal(1),
    ("CNY", "2026-06-01"): Decimal("0.14"),
    ("CNY", "2026-06-02"): Decimal("0.145"),
    ("HKD", "2026-06-01"): Decimal("0.128"),
}
GOOGLE_HEADER = [
    "segments.date", "customer.id", "customer.currency_code", "campaign.id", "campaign.name",
    "ad_group.id", "ad_group.name", "ad_group_criterion.criterion_id",
    "ad_group_criterion.keyword.text", "ad_group_criterion.keyword.match_type",
    "metrics.impressions", "metrics.clicks", "metrics.cost_micros", "segments.device",
    "segments.hour",
]  # fmt: skip
BAIDU_HEADER = ["日期", "账户", "推广计划ID", "推广计划", "推广单元ID", "推广单元", "关键词ID",
                "关键词", "匹配模式", "展现", "点击", "消费", "设备"]  # fmt: skip


def _rate(currency: str, day: str) -> Decimal:
    return RATES[max(k for k in RATES if k[0] == currency and k[1] <= day)]


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([header, *rows])
    return buf.getvalue()


def _write(root: Path, relative: str, text: str, encoding: str = "utf-8") -> None:
    path = root / "landing" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def _deliver(root: Path) -> None:
    fx = [[day, cur, str(rate)] for (cur, day), rate in RATES.items()]
    _write(root, "channel/fx_rates/fx.csv", _csv(["date", "currency", "usd_per_unit"], fx))
    for d, day in enumerate(DAYS):
        meta = [
            {"date_start": day, "date_stop": day, "account_id": "77", "account_currency": "USD",
             "campaign_id": "mc1", "campaign_name": "Meta 1", "adset_id": "ms1",
             "adset_name": "Set 1", "ad_id": f"ad{a}", "ad_name": f"Ad {a}", "age": age,
             "gender": gender, "impressions": str(100 + a), "clicks": str(a + g),
             "spend": f"{(a * 7 + g * 3 + d + 1) * 0.37:.2f}"}
            for a in (1, 2, 3) for g, (age, gender) in enumerate(
                [("18-24", "female"), ("18-24", "male"), ("25-34", "female"), ("25-34", "male")])
        ]  # fmt: skip
        _write(root, f"channel/meta_ads/insights_{day}.json", json.dumps({"data": meta}))
        google = [
            [day, "111", "USD", "gc1", "Google 1", "gg1", "Group", f"kw{k}", f"word {k}", "EXACT",
             10 + h, 1 + k, 1_234_567 + 1_000 * k + 17 * h + d, device, h]
            for k in (1, 2) for device in ("MOBILE", "DESKTOP", "TABLET") for h in (9, 20)
        ]  # fmt: skip
        _write(root, f"channel/google_ads/keywords_{day}.csv", _csv(GOOGLE_HEADER, google))
        ocean = [
            {"stat_datetime": f"{day} {h:02d}:00:00", "advertiser_id": 9, "campaign_id": 501,
             "campaign_name": "Feed", "ad_id": 601, "ad_name": "Plan", "creative_id": 700 + c,
             "creative_name": f"Creative {c}", "cost": round(1.11 * (h + c + d), 2),
             "show": 50, "click": 2, "convert": 0}
            for h in (8, 9, 21) for c in (1, 2)
        ]  # fmt: skip
        doc = {"code": 0, "message": "OK", "data": {"list": ocean}}
        _write(root, f"channel/ocean_engine/hourly_{day}.json", json.dumps(doc))
        baidu = [
            [day, "bd", "bc1", "计划", "bu1", "单元", "bk1", "习惯", "精确匹配", "1,200", "1,001",
             f"{1000 + d:,}.{device_i}5", device]
            for device_i, device in enumerate(("计算机", "移动设备"))
        ]  # fmt: skip
        _write(root, f"channel/baidu_sem/report_{day}.csv", _csv(BAIDU_HEADER, baidu), "gb18030")
    # Google restated 06-02 under a new name, without the device/hour segments: it replaces
    # the first file's rows of those keywords for that day (the latest file wins per grain)
    restated = [["2026-06-02", "111", "USD", "gc1", "Google 1", "gg1", "Group", f"kw{k}",
                 f"word {k}", "EXACT", 99, 9, 5_000_001 * k, "", ""] for k in (1, 2)]  # fmt: skip
    _write(root, "channel/google_ads/keywords_2026-06-02_z_restated.csv",
           _csv(GOOGLE_HEADER, restated))  # fmt: skip
    _write(root, "app/2026/06/events.ndjson", "\n".join(json.dumps(e) for e in _events()) + "\n")


def _event(n: int, user: str, day: str, event: str, **extra: object) -> dict[str, object]:
    return {"type": "track", "event": event, "messageId": f"e{n}", "anonymousId": f"anon-{user}",
            "userId": user, "timestamp": f"{day}T0{n % 10}:00:00Z",
            "sentAt": f"{day}T0{n % 10}:00:01Z", "receivedAt": f"{day}T0{n % 10}:00:02Z",
            **extra}  # fmt: skip


def _events() -> list[dict[str, object]]:
    google = {"campaign": {"source": "google", "medium": "cpc", "name": "gc1", "term": "kw1"}}
    meta = {"campaign": {"source": "facebook", "medium": "paid_social", "name": "mc1"}}
    return [
        _event(1, "u1", DAYS[0], "Application Installed", context=google),
        _event(2, "u1", DAYS[0], "Signed Up", properties={"method": "phone"}),
        _event(3, "u1", DAYS[0], "Order Completed",
               properties={"revenue": 680, "currency": "CNY"}),
        _event(4, "u2", DAYS[0], "Application Installed", context=meta),
        _event(5, "u2", DAYS[1], "Order Completed",
               properties={"revenue": "100", "currency": "HKD"}),
        _event(6, "u2", DAYS[1], "Order Completed",
               properties={"revenue": 29.99, "currency": "usd"}),
    ]  # fmt: skip


def _expected_spend(root: Path) -> dict[tuple[str, str, str], tuple[str, Decimal]]:
    """(platform, campaign, day) -> (currency, spend) summed straight from the files."""
    landing = root / "landing" / "channel"
    by_grain: dict[tuple, dict[str, Decimal]] = {}  # grain -> file -> spend
    for path in sorted((landing / "google_ads").glob("*.csv")):
        for r in csv.DictReader(path.open(encoding="utf-8")):
            grain = ("google_ads", "gc1", r["segments.date"], r["ad_group_criterion.criterion_id"])
            files = by_grain.setdefault(grain, {})
            files[path.name] = files.get(path.name, 0) + Decimal(r["metrics.cost_micros"]) / 10**6
    expected: Counter[tuple[str, str, str]] = Counter()
    currency = {}
    for (platform, campaign, day, _), files in by_grain.items():
        expected[(platform, campaign, day)] += files[max(files)]  # the restated file sorts last
        currency[(platform, campaign, day)] = "USD"
    for path in (landing / "meta_ads").glob("*.json"):
        for r in json.loads(path.read_text())["data"]:
            expected[("meta_ads", r["campaign_id"], r["date_start"])] += Decimal(r["spend"])
            currency[("meta_ads", r["campaign_id"], r["date_start"])] = "USD"
    for path in (landing / "ocean_engine").glob("*.json"):
        for r in json.loads(path.read_text())["data"]["list"]:
            key = ("ocean_engine", str(r["campaign_id"]), r["stat_datetime"][:10])
            expected[key] += Decimal(str(r["cost"]))
            currency[key] = "CNY"
    for path in (landing / "baidu_sem").glob("*.csv"):
        for r in csv.DictReader(path.open(encoding="gb18030")):
            expected[("baidu_sem", r["推广计划ID"], r["日期"])] += Decimal(
                r["消费"].replace(",", "")
            )
            currency[("baidu_sem", r["推广计划ID"], r["日期"])] = "CNY"
    return {k: (currency[k], v) for k, v in expected.items()}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    # an apostrophe in the data root: every SQL carrying a path uses parameters
    cfg = settings_for(tmp_path_factory.mktemp("shapes") / "o'brien data")
    make_inboxes(cfg.landing_dir)
    _deliver(cfg.data_root)
    expected = _expected_spend(cfg.data_root)  # before the files leave landing/
    results = run_dags(ALL_DAGS, cfg)
    assert {r.dag_id: r.state for r in results} == dict.fromkeys(ALL_DAGS, "success"), [
        (r.dag_id, r.task_states) for r in results
    ]
    con = duckdb.connect(str(cfg.serving_db), read_only=True)
    yield expected, con
    con.close()


def test_every_breakdown_row_is_summed_and_reconciles_to_the_micro(published) -> None:
    expected, con = published
    rows = con.execute(
        "select platform, campaign_id, cast(report_date as varchar), account_currency, "
        "spend_account_currency, spend from mart_spend_daily where spend_account_currency > 0"
    ).fetchall()
    actual = {(p, c, d): (cur, account) for p, c, d, cur, account, _ in rows}
    assert actual == expected
    # sub-cent micros survive: Google's day totals are not whole cents
    assert any(v % Decimal("0.01") for (p, _, _), (_, v) in actual.items() if p == "google_ads")
    for p, c, d, cur, account, spend in rows:  # converted by hand at the day's rate
        assert spend == (account * _rate(cur, d)).quantize(Decimal("0.000001")), (p, c, d)


def test_keywords_get_every_device_and_hour_row_and_the_restatement(published) -> None:
    _, con = published
    spend = dict(
        con.execute(
            "select keyword_id || ' ' || cast(report_date as varchar), spend "
            "from mart_keyword_performance where platform = 'google_ads'"
        ).fetchall()
    )
    # 06-01 kw1: 6 rows of 1,235,567 micros + 17 x (9+20) x 3 devices, from the file's rows
    assert spend["kw1 2026-06-01"] == Decimal(6 * 1_235_567 + 17 * 29 * 3) / 10**6
    assert spend["kw2 2026-06-02"] == Decimal("10.000002")  # the restated file alone


def test_revenue_in_every_currency_is_converted_at_its_days_rate(published) -> None:
    _, con = published
    by_day = dict(
        con.execute(
            "select cast(report_date as varchar), sum(revenue) from mart_growth_daily group by 1"
        ).fetchall()
    )
    assert by_day["2026-06-01"] == Decimal(680) * Decimal("0.14")  # 95.20
    # 100 HKD at the 06-01 rate (no later one) + 29.99 USD
    assert by_day["2026-06-02"] == Decimal(100) * Decimal("0.128") + Decimal("29.99")
    by_campaign = dict(
        con.execute(
            "select campaign_id, sum(revenue_to_date) from mart_spend_daily group by 1"
        ).fetchall()
    )
    assert by_campaign["gc1"] == Decimal("95.2") and by_campaign["mc1"] == Decimal("42.79")
