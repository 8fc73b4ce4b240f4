"""The demo simulator: deterministic, coherent, and dirty at the configured rate.

Every check reads the landing files back with its own small parser (csv/json/gzip from
the standard library), independent of the pipeline's adapters.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import zlib
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from growthops import tracking_plan
from growthops.demo.generate import drip, generate
from growthops.demo.simulate import DemoConfig
from growthops.demo.world import SCALES
from growthops.landing import iter_complete_files

DIRT_RATE = 0.05
# Reporting time zone of each demo ad account (README, "Demo accounts").
ACCOUNT_TZ = {
    "google_ads": "America/Los_Angeles",
    "meta_ads": "America/New_York",
    "baidu_sem": "Asia/Shanghai",
    "ocean_engine": "Asia/Shanghai",
}
PAID_MEDIUMS = {"cpc", "paid_social"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("world")
    generate(
        DemoConfig(SCALES["small"], seed=11, dirt_rate=DIRT_RATE), root / "landing", root / "truth"
    )
    return root


def _truth(world: Path) -> dict:
    return json.loads((world / "truth" / "truth.json").read_text())


def _truth_csv(world: Path, name: str) -> list[dict[str, str]]:
    with (world / "truth" / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _parse_ts(value: str) -> datetime:
    # a timestamp without a zone (naive_timestamp dirt) is UTC, as the pipeline reads it
    return datetime.strptime(value.removesuffix("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


def _is_redelivery(path: Path) -> bool:
    return ".redelivery." in path.name


def _app_lines(landing: Path) -> tuple[list[dict], int, int]:
    """(parsed events, unparseable lines, unreadable files) over original deliveries."""
    events, bad_lines, bad_files = [], 0, 0
    for path in sorted((landing / "app").glob("*.ndjson.gz")):
        if _is_redelivery(path):
            continue
        try:
            text = gzip.decompress(path.read_bytes()).decode("utf-8")
        except (EOFError, OSError, zlib.error):
            bad_files += 1
            continue
        for line in text.splitlines():
            try:
                msg = json.loads(line)
                _parse_ts(msg["timestamp"])
            except (json.JSONDecodeError, ValueError):
                bad_lines += 1
                continue
            events.append(msg)
    return events, bad_lines, bad_files


def _event_time(msg: dict) -> datetime:
    """Segment's correction of the client clock: receivedAt - (sentAt - timestamp)."""
    return _parse_ts(msg["receivedAt"]) - (_parse_ts(msg["sentAt"]) - _parse_ts(msg["timestamp"]))


def _spend_rows(landing: Path) -> list[dict]:
    """Every report row in canonical form; spend None where the row is malformed."""
    rows: list[dict] = []

    def num(value: object, scale: float = 1.0) -> float | None:
        try:
            return float(value) / scale  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    for path in sorted((landing / "channel" / "google_ads").glob("*.csv")):
        if not _is_redelivery(path):
            for r in csv.DictReader(io.StringIO(path.read_text("utf-8"))):
                rows.append(
                    dict(
                        platform="google_ads",
                        date=r["segments.date"],
                        campaign=r["campaign.id"],
                        unit=r["ad_group_criterion.criterion_id"],
                        currency=r["customer.currency_code"],
                        clicks=num(r["metrics.clicks"]),
                        spend=num(r["metrics.cost_micros"], 1e6),
                    )
                )
    for path in sorted((landing / "channel" / "meta_ads").glob("*.json")):
        if not _is_redelivery(path):
            for r in json.loads(path.read_text("utf-8"))["data"]:
                rows.append(
                    dict(
                        platform="meta_ads",
                        date=r["date_start"],
                        campaign=r["campaign_id"],
                        unit=r["adset_id"],
                        currency=r["account_currency"],
                        clicks=num(r["clicks"]),
                        spend=num(r["spend"]),
                    )
                )
    for path in sorted((landing / "channel" / "baidu_sem").glob("*.csv")):
        if not _is_redelivery(path):
            for r in csv.DictReader(io.StringIO(path.read_bytes().decode("gb18030"))):
                rows.append(
                    dict(
                        platform="baidu_sem",
                        date=r["日期"],
                        campaign=r["推广计划ID"],
                        unit=r["关键词ID"],
                        currency="CNY",
                        clicks=num(r["点击"]),
                        spend=num(r["消费"]),
                        avg_cpc=num(r["平均点击价格"]),
                    )
                )
    for path in sorted((landing / "channel" / "ocean_engine").glob("*.json")):
        if not _is_redelivery(path):
            for r in json.loads(path.read_text("utf-8"))["data"]["list"]:
                rows.append(
                    dict(
                        platform="ocean_engine",
                        date=r["stat_datetime"][:10],
                        campaign=str(r["campaign_id"]),
                        unit=str(r["ad_id"]),
                        currency="CNY",
                        clicks=num(r["click"]),
                        spend=num(r["cost"]),
                    )
                )
    return rows


# ----------------------------------------------------------------------------- determinism


def _digest(landing: Path) -> dict[str, str]:
    return {
        str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in iter_complete_files(landing)
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    cfg = DemoConfig(SCALES["small"], seed=5, dirt_rate=0.02)
    generate(cfg, tmp_path / "a" / "landing", tmp_path / "a" / "truth")
    generate(cfg, tmp_path / "b" / "landing", tmp_path / "b" / "truth")
    a, b = _digest(tmp_path / "a" / "landing"), _digest(tmp_path / "b" / "landing")
    assert a == b
    assert len(a) > 400
    other = DemoConfig(SCALES["small"], seed=6, dirt_rate=0.02)
    generate(other, tmp_path / "c" / "landing", tmp_path / "c" / "truth")
    assert _digest(tmp_path / "c" / "landing") != a


def test_only_complete_files_are_left_in_landing(world: Path) -> None:
    every = [p for p in (world / "landing").rglob("*") if p.is_file()]
    assert every, "no files written"
    assert not [p for p in every if p.name.startswith(".") or p.name.endswith((".tmp", ".part"))]


# ----------------------------------------------------------------------------- coherence


def test_spend_per_campaign_equals_the_sum_of_its_rows(world: Path) -> None:
    from_files: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in _spend_rows(world / "landing"):
        if r["spend"] is not None and r["clicks"] is not None:  # a malformed row counts for nothing
            from_files[(r["platform"], r["campaign"], r["date"])] += r["spend"]
    expected: dict[tuple[str, str, str], float] = defaultdict(float)
    for r in _truth_csv(world, "spend_rows.csv"):
        if r["malformed"] == "False":
            expected[(r["platform"], r["campaign_id"], r["date"])] += float(r["spend"])
    assert from_files.keys() == expected.keys()
    for key, value in expected.items():
        assert from_files[key] == pytest.approx(value, abs=0.005), key
    assert len({k[0] for k in expected}) == 4


def test_clicks_times_cpc_is_spend(world: Path) -> None:
    baidu = [
        r for r in _spend_rows(world / "landing") if r["platform"] == "baidu_sem" and r["clicks"]
    ]
    assert baidu
    for r in baidu:
        if r["spend"] is not None and r["clicks"] is not None:
            assert r["clicks"] * r["avg_cpc"] == pytest.approx(
                r["spend"], abs=0.005 * r["clicks"] + 0.01
            )


def test_every_paid_user_points_at_a_unit_that_spent_that_day(world: Path) -> None:
    spent = {
        (r["platform"], r["campaign"], r["unit"], r["date"])
        for r in _spend_rows(world / "landing")
        if (r["clicks"] or 0) > 0 or r["clicks"] is None
    }
    platform_of = {
        "google": "google_ads",
        "facebook": "meta_ads",
        "baidu": "baidu_sem",
        "douyin": "ocean_engine",
    }
    events, _, _ = _app_lines(world / "landing")
    paid = [
        e
        for e in events
        if e.get("event") == tracking_plan.APP_INSTALLED
        and e["context"].get("campaign", {}).get("medium") in PAID_MEDIUMS
    ]
    assert len(paid) > 100
    for e in paid:
        if "sentAt" not in e:
            continue  # an implausible device time (1970 / 2030): its true day is not in the file
        utm = e["context"]["campaign"]
        platform = platform_of[utm["source"]]
        local_day = _event_time(e).astimezone(ZoneInfo(ACCOUNT_TZ[platform])).date().isoformat()
        unit = utm.get("term") or utm["content"]  # keyword for search, ad group for feeds
        assert (platform, utm["name"], unit, local_day) in spent, e["messageId"]


def test_retention_decays_and_depends_on_channel_quality(world: Path) -> None:
    events, _, _ = _app_lines(world / "landing")
    persons = {p["anonymous_id"]: p for p in _truth_csv(world, "persons.csv")}
    install_day = {a: _parse_ts(p["install_at"]).date() for a, p in persons.items()}
    active: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if (
            e.get("event") == tracking_plan.APP_OPENED
            and e["anonymousId"] in install_day
            and "sentAt" in e  # not an implausible device time
        ):
            active[e["anonymousId"]].add(
                (_event_time(e).date() - install_day[e["anonymousId"]]).days
            )
    start = min(install_day.values())

    def retained(day_n: int, keep) -> float:
        cohort = [
            a for a, p in persons.items() if keep(p) and (install_day[a] - start).days <= 13 - day_n
        ]
        return sum(day_n in active[a] for a in cohort) / len(cohort)

    brand = _brand_keywords(world)

    def everyone(p: dict) -> bool:
        return True

    def brand_and_referral(p: dict) -> bool:
        return p["channel"] == "referral" or p["keyword_id"] in brand

    def prospecting(p: dict) -> bool:
        return p["platform"] in ("meta_ads", "ocean_engine")

    assert retained(1, everyone) > retained(3, everyone) > retained(7, everyone) > 0
    assert retained(1, brand_and_referral) > retained(1, prospecting)


def _brand_keywords(world: Path) -> set[str]:
    from growthops.demo.world import build_ad_units

    return {
        u.keyword_id
        for u in build_ad_units(11, 0.1)
        if u.campaign_name.startswith(("Brand", "品牌"))
    }


def test_some_keywords_waste_money(world: Path) -> None:
    rows = _truth_csv(world, "spend_rows.csv")
    signups_by_kw = Counter(
        p["keyword_id"] for p in _truth_csv(world, "persons.csv") if p["user_id"]
    )
    spend_by_kw: dict[str, float] = defaultdict(float)
    for r in rows:
        if r["keyword_id"]:
            spend_by_kw[r["keyword_id"]] += float(r["spend"])
    wasted = {k for k, v in spend_by_kw.items() if v > 0 and signups_by_kw[k] == 0}
    assert wasted, "no keyword spends without sign-ups"
    assert len(wasted) < len(spend_by_kw) / 2, "most keywords must convert"


def test_junk_keywords_bring_signups_that_never_activate(world: Path) -> None:
    """Read from the files: the persons whose install carries a junk keyword (the truth's
    spend rows name them) sign up, and none of them ever completes onboarding."""
    junk = {
        r["keyword_id"] for r in _truth_csv(world, "spend_rows.csv") if r["junk_keyword"] == "True"
    }
    assert len(junk) == 2  # one per search account
    events, _, _ = _app_lines(world / "landing")
    anonymous = {
        e["anonymousId"]
        for e in events
        if e.get("event") == tracking_plan.APP_INSTALLED
        and e["context"].get("campaign", {}).get("term") in junk
    }
    users = {e["userId"] for e in events if e.get("anonymousId") in anonymous and e.get("userId")}
    activated = {e["userId"] for e in events if e.get("event") == "Onboarding Completed"}
    assert len(users) >= 40, "a junk keyword brings many sign-ups"
    assert not users & activated
    assert len(activated) > 100  # other persons do activate


def test_payers_buy_again(world: Path) -> None:
    """Repeat purchase, read from the files: a payer's next order is far likelier than a
    first one; the truth lists every order the files carry."""
    events, _, _ = _app_lines(world / "landing")
    order_ids = {
        e["messageId"]: e["userId"]
        for e in events
        if e.get("event") == tracking_plan.ORDER_COMPLETED
    }
    orders = Counter(order_ids.values())
    signed_up = {e["userId"] for e in events if e.get("userId")}
    repeat_share = sum(1 for n in orders.values() if n > 1) / len(orders)
    first_share = len(orders) / len(signed_up)
    assert repeat_share > 2 * first_share, (repeat_share, first_share)
    truth = _truth_csv(world, "orders.csv")
    assert set(order_ids) <= {o["message_id"] for o in truth}
    dirt = _truth(world)["dirt"]
    assert len(truth) - len(order_ids) <= dirt["malformed_row"] + dirt["unknown_event"]
    by_person = defaultdict(list)
    for o in truth:
        by_person[o["person_id"]].append(int(o["order_number"]))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in by_person.values())


def test_content_referral_organic_and_direct_users_exist(world: Path) -> None:
    persons = _truth_csv(world, "persons.csv")
    by_channel = Counter(p["channel"] for p in persons)
    for channel in ("paid", "organic", "direct", "content", "referral"):
        assert by_channel[channel] > 0, channel
    content_ids = set()
    for path in (world / "landing" / "content" / "items").glob("*.ndjson"):
        content_ids |= {json.loads(line)["content_id"] for line in path.read_text().splitlines()}
    content_signups = [p for p in persons if p["channel"] == "content" and p["user_id"]]
    assert content_signups and all(p["content_id"] in content_ids for p in content_signups)
    user_ids = {p["user_id"] for p in persons if p["user_id"]}
    referred = [p for p in persons if p["channel"] == "referral"]
    assert all(p["referrer_user_id"] in user_ids for p in referred)


# ----------------------------------------------------------------------------- dirt


def _within_rate(count: int, opportunities: int, rate: float) -> bool:
    expected = opportunities * rate
    return abs(count - expected) <= 4 * math.sqrt(expected * (1 - rate)) + 1


def test_event_dirt_appears_at_the_configured_rate_and_matches_the_files(world: Path) -> None:
    truth = _truth(world)
    dirt, chances = truth["dirt"], truth["dirt_opportunities"]
    for kind in ("duplicate_event", "late_event", "clock_skew", "unknown_event"):
        assert _within_rate(dirt[kind], chances[kind], DIRT_RATE), (kind, dirt[kind], chances[kind])

    events, bad_lines, bad_files = _app_lines(world / "landing")
    retries = [p for p in (world / "landing" / "app").glob("*.retry1.*") if not _is_redelivery(p)]
    assert bad_files == dirt["truncated_file"] == len(retries)
    assert bad_lines == truth["malformed_by_family"]["app"]

    ids = Counter(e["messageId"] for e in events)
    # a truncated upload's events are all in its retry; count each batch once
    originals = [e for e in events]
    duplicates = sum(n - 1 for n in ids.values())
    unknown = sum(
        1
        for e in originals
        if e["type"] == "track" and e["event"] not in tracking_plan.TRACK_EVENTS
    )
    every = {e["messageId"]: e for e in events}.values()
    implausible = [e for e in every if "sentAt" not in e]  # device clock reset, no sentAt
    unique = [e for e in every if "sentAt" in e]
    late = sum(
        1 for e in unique if _parse_ts(e["receivedAt"]) - _event_time(e) > timedelta(hours=12)
    )
    skewed = sum(
        1
        for e in unique
        if abs(_parse_ts(e["sentAt"]) - _parse_ts(e["receivedAt"])) > timedelta(minutes=5)
    )
    naive = sum(1 for e in every if not e["receivedAt"].endswith("Z"))
    assert duplicates == dirt["duplicate_event"]
    assert unknown == dirt["unknown_event"]
    assert late == dirt["late_event"]
    assert skewed == dirt["clock_skew"]
    assert naive == dirt["naive_timestamp"]
    assert len(implausible) == dirt["implausible_time"]
    assert {e["timestamp"][:4] for e in implausible} <= {"1970", "2030"}
    for kind in ("naive_timestamp", "implausible_time"):
        assert _within_rate(dirt[kind], chances[kind], DIRT_RATE), kind


def test_file_and_row_dirt_matches_the_truth(world: Path) -> None:
    truth = _truth(world)
    rows = _spend_rows(world / "landing")
    malformed_channel = sum(1 for r in rows if r["spend"] is None or r["clicks"] is None)
    assert malformed_channel == truth["malformed_by_family"]["channel"]
    assert _within_rate(
        truth["dirt"]["malformed_row"], truth["dirt_opportunities"]["malformed_row"], DIRT_RATE
    )

    fx = set()
    for path in (world / "landing" / "channel" / "fx_rates").glob("*.csv"):
        fx |= {r["currency"] for r in csv.DictReader(io.StringIO(path.read_text()))}
    unknown_currency = [r for r in rows if r["currency"] not in fx]
    assert len(unknown_currency) == truth["dirt"]["unknown_currency"] > 0

    hashes = Counter(
        hashlib.sha256(p.read_bytes()).hexdigest() for p in iter_complete_files(world / "landing")
    )
    redelivered = sum(n - 1 for n in hashes.values())
    assert redelivered == truth["dirt"]["redelivered_file"] > 0
    n_files = truth["dirt_opportunities"]["redelivered_file"]
    assert redelivered == max(1, round(DIRT_RATE * n_files))


def test_no_dirt_when_the_rate_is_zero(tmp_path: Path) -> None:
    truth = generate(
        DemoConfig(SCALES["small"], seed=3, dirt_rate=0.0), tmp_path / "l", tmp_path / "t"
    )
    assert set(truth.dirt.values()) == {0}
    events, bad_lines, bad_files = _app_lines(tmp_path / "l")
    assert bad_lines == bad_files == 0
    assert len({e["messageId"] for e in events}) == len(events) == truth.events_generated


def test_dirt_rate_is_validated() -> None:
    with pytest.raises(ValueError, match="dirt_rate"):
        DemoConfig(SCALES["small"], dirt_rate=0.5)


# ----------------------------------------------------------------------------- drip


def test_drip_delivers_every_file_in_time_order(tmp_path: Path) -> None:
    outbox, landing = tmp_path / "outbox", tmp_path / "landing"
    generate(DemoConfig(SCALES["small"], seed=2, dirt_rate=0.0), outbox, tmp_path / "truth")
    before = _digest(outbox)
    delivered: list[Path] = []
    sleeps: list[float] = []
    moved = drip(outbox, landing, 0.5, batch=50, on_file=delivered.append, sleep=sleeps.append)
    assert moved == len(before) == len(delivered)
    assert _digest(landing) == before
    assert not list(iter_complete_files(outbox))
    assert len(sleeps) == math.ceil(moved / 50) - 1
    app_hours = [p.name for p in delivered if p.parent.name == "app"]
    assert app_hours == sorted(app_hours)


def test_the_world_carries_real_exporters_shapes(world: Path) -> None:
    landing = world / "landing"
    # one file per day (a re-delivered copy, the redelivered_file dirt, repeats its day)
    meta = [r for p in sorted((landing / "channel" / "meta_ads").glob("*.json"))
            if ".redelivery." not in p.name
            for r in json.loads(p.read_text("utf-8"))["data"]]  # fmt: skip
    ads_per_set = Counter((r["date_start"], r["adset_id"]) for r in meta)
    assert set(ads_per_set.values()) == {3} and all(r["ad_id"] for r in meta)
    google = [r for p in sorted((landing / "channel" / "google_ads").glob("*.csv"))
              for r in csv.DictReader(io.StringIO(p.read_text("utf-8")))]  # fmt: skip
    assert {r["segments.device"] for r in google} >= {"MOBILE", "DESKTOP", "TABLET"}
    micros = [int(r["metrics.cost_micros"]) for r in google if r["metrics.cost_micros"].isdigit()]
    assert any(m % 10_000 for m in micros), "sub-cent micros"
    truth = _truth(world)
    restated = list((landing / "channel" / "google_ads").glob("*_restated.csv"))
    assert len(restated) == truth["dirt"]["restated_file"] >= 1
    superseded = [r for r in _truth_csv(world, "spend_rows.csv") if r["superseded"] == "True"]
    assert superseded and {r["platform"] for r in superseded} == {"google_ads"}
    baidu = [r for p in sorted((landing / "channel" / "baidu_sem").glob("*.csv"))
             for r in csv.DictReader(io.StringIO(p.read_bytes().decode("gb18030")))]  # fmt: skip
    assert any("," in r["消费"] for r in baidu), "a decimal-comma spend"
    events, _, _ = _app_lines(landing)
    currencies = Counter(
        e["properties"]["currency"] for e in events if e.get("event") == "Order Completed"
    )
    assert currencies["USD"] and currencies["CNY"]
    assert currencies["HKD"] == truth["dirt"]["order_without_rate"] >= 1
