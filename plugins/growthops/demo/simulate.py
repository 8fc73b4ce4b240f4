"""Deterministic simulator of the demo company's days.

It writes what the company's exporters would deliver into landing/ (native formats,
write-then-rename) and, beside it, the ground truth of what it generated, so tests can
check the pipeline against independent numbers.

The world is coherent: paid users arrive from the clicks a platform billed for, their
install event carries the utm fields of that ad (campaign id / ad group id / keyword id),
retention depends on the quality of the unit that brought them, some keywords spend
without ever bringing a sign-up, and content brings users of its own.

Dirt is injected at `dirt_rate` and recorded in the truth. Dirt never destroys ground
truth silently: a malformed row replaces a real row (the truth lists which), a truncated
upload is followed by a complete retry, everything else adds rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from growthops import tracking_plan as tp
from growthops.demo import formats
from growthops.demo.world import (
    GOOGLE,
    META_HK,
    AdUnit,
    ContentItem,
    Scale,
    build_ad_units,
    build_content,
    fx_usd_per_unit,
)

DIRT_KINDS = (
    "duplicate_event",  # same messageId delivered again (at-least-once collectors)
    "late_event",  # delivered 1-5 days after it happened (offline device)
    "clock_skew",  # device clock wrong: timestamp and sentAt shifted together
    "malformed_row",  # unparseable JSON line / non-numeric metric in a report row
    "unknown_event",  # a track event name missing from the tracking plan
    "truncated_file",  # an aborted upload (cut gzip), followed by a complete retry
    "unknown_currency",  # report rows in a currency the FX table lacks (HKD)
    "redelivered_file",  # an identical copy of a file delivered again under another name
    "restated_file",  # a Google day restated under a new file name (the new numbers win)
    "naive_timestamp",  # timestamps without a zone (read as UTC: the same instant)
    "implausible_time",  # a device time in 1970 or 2030 and no sentAt (placed at receivedAt)
    "order_without_rate",  # an order in HKD, a currency the FX feed lacks (held at the door)
)
# Event-level dirt; unknown_event (last) applies to track events only.
_EVENT_DIRT = ("duplicate_event", "late_event", "clock_skew", "malformed_row", "naive_timestamp",
               "implausible_time", "unknown_event")  # fmt: skip
# Real exports come at a finer grain than the canonical one: Google keyword rows segmented by
# device, Meta insights at ad level (3 ads per ad set). Shares of a unit's day per row.
GOOGLE_DEVICES = (("MOBILE", 6), ("DESKTOP", 3), ("TABLET", 1))
SPIKE_PLATFORM = "meta_ads"  # the platform of the runaway bid (Truth.anomalies)
SPIKE_CPC_FACTOR = 4.0
META_ADS_PER_SET = (5, 3, 2)
# Order prices by the currency a person pays in (China's app stores charge CNY).
FIRST_ORDER_RATE = 0.025  # per session of a signed-up person who never ordered (x quality)
REPEAT_ORDER_RATE = 0.12  # per session once they have ordered
PRICES = {"USD": (0.99, 4.99, 9.99, 29.99), "CNY": (6, 30, 68, 198), "HKD": (8, 38, 78, 238)}
UNKNOWN_EVENT_NAMES = ("legacy_tap", "Btn Clicked v0", "debug_ping")
# Returning users who come back through a link: a retargeting ad (the feed platforms'
# retargeting ad groups) or a shared content item. Their App Opened carries its utm fields,
# so conversions after it have several touches (the attribution models then differ).
RETURN_TOUCH_RATE = 0.08
# The demo app's experiments (ids, variations, weights, start: vars.experiments) and what the
# world does with them, recorded in Truth.experiments. Assignment hashes the experiment and
# the device's anonymous id (as GrowthBook's SDK does), so a person on a second device may
# see the other variation (the pipeline excludes them). Exposure is logged once per device.
LIFT_EXPERIMENT = "landing_page_hero"  # paid installs; its 2nd variation raises sign-ups
LIFT_SIGNUP_FACTOR = 1.2  # sign-up probability x this: relative lift 0.2 on signed_up_1d
AA_EXPERIMENT = "home_feed_aa"  # signed-up users on app open: both variations the same
SRM_EXPERIMENT = "push_prompt"  # everyone on app open; a broken split:
SRM_LOGGED_SHARE = 0.75  # its 2nd variation logs the exposure for 3 in 4 of its devices

# Local-time hour-of-day weights for clicks and sessions.
_HOURS = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1,
        2,
        3,
        3.5,
        3.5,
        3.5,
        4,
        3.5,
        3.5,
        3.5,
        3.5,
        4,
        4.5,
        5,
        5.5,
        5,
        4,
        2.5,
    ]
)
_HOURS = _HOURS / _HOURS.sum()
_CUM_HOURS = list(np.cumsum(_HOURS))


@dataclass(frozen=True)
class DemoConfig:
    scale: Scale
    seed: int = 7
    dirt_rate: float = 0.01
    start: date = date(2026, 6, 1)

    def __post_init__(self) -> None:
        if not 0.0 <= self.dirt_rate <= 0.2:
            raise ValueError(f"dirt_rate={self.dirt_rate} must be between 0 and 0.2")

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.scale.days)]


@dataclass
class Truth:
    """What the simulator generated; written to data_root/demo_truth/."""

    config: dict[str, object]
    files: list[dict[str, object]] = field(default_factory=list)
    dirt: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DIRT_KINDS, 0))
    dirt_opportunities: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DIRT_KINDS, 0))
    events_generated: int = 0
    spend_rows: list[dict[str, object]] = field(default_factory=list)
    persons: list[dict[str, object]] = field(default_factory=list)
    malformed_message_ids: list[str] = field(default_factory=list)
    malformed_by_family: dict[str, int] = field(
        default_factory=lambda: {"channel": 0, "content": 0, "app": 0}
    )
    # orders held at the door for a currency without an FX rate (order_without_rate)
    held_order_message_ids: list[str] = field(default_factory=list)
    # events whose device time is implausible: the pipeline places them at receivedAt
    implausible_time_message_ids: list[str] = field(default_factory=list)
    # KPI days the world bent on purpose (a runaway bid): what the anomaly check must flag
    anomalies: list[dict[str, str]] = field(default_factory=list)
    # the experiments' designed effects, and every device's assignment (logged or not)
    experiments: dict[str, dict[str, object]] = field(default_factory=dict)
    experiment_exposures: list[dict[str, object]] = field(default_factory=list)
    # every order as generated (a held or malformed line is listed in the ids above)
    orders: list[dict[str, object]] = field(default_factory=list)


class _Person:
    __slots__ = (
        "activated",
        "anon",
        "channel",
        "invite_n",
        "junk",
        "orders",
        "pid",
        "q",
        "second_device_pending",
        "signed_up",
        "truth",
        "tz",
        "user_id",
        "utm",
    )

    def __init__(self, pid: int, anon: str, tz: str, q: float, utm: dict[str, str] | None) -> None:
        self.pid = pid
        self.anon = anon
        self.tz = tz
        self.q = q
        self.utm = utm
        self.user_id: str | None = None
        self.signed_up = False
        self.activated = False
        self.invite_n = 0
        self.orders = 0
        self.junk = False  # came through a junk keyword: never activates
        self.second_device_pending = False
        self.channel = ""
        self.truth: dict[str, object] = {}


@dataclass
class _Arrival:
    ts: datetime
    channel: str  # paid / organic / direct / content / referral
    utm: dict[str, str] | None
    install_rate_signup: float
    quality: float
    unit: AdUnit | None = None
    content_id: str | None = None
    referrer: _Person | None = None
    invite_code: str | None = None
    click_date: date | None = None


def _iso(ts: datetime) -> str:
    # the same text as strftime("%Y-%m-%dT%H:%M:%S.mmmZ"), without strftime's cost (the
    # simulator formats three timestamps per event)
    t = ts.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}."
        f"{t.microsecond // 1000:03d}Z"
    )


# one encoder for every event line (json.dumps with options builds a new one per call)
_JSON_LINE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Simulator:
    def __init__(
        self, config: DemoConfig, landing: Path, progress: Callable[[str], None] | None = None
    ) -> None:
        self.cfg = config
        self.landing = landing
        self.progress = progress  # hears a line every tenth of a long world's days
        self.np = np.random.default_rng([config.seed, 10])
        self.rng = random.Random(config.seed)
        self.dirt_rng = random.Random(config.seed + 1_000_003)
        self.units = build_ad_units(config.seed, config.scale.traffic)
        self.content = build_content(config.seed, config.scale.days, config.scale.traffic)
        self.truth = Truth(config={**asdict(config), "start": config.start.isoformat()})
        self._epoch = datetime.combine(config.start, time(0), UTC)
        self._utc_hour_weights: dict[tuple[str, date], list[float]] = {}
        self._today = 0
        self.persons: list[_Person] = []
        self.cohorts: dict[int, list[_Person]] = defaultdict(list)
        self.arrivals: dict[date, list[_Arrival]] = defaultdict(list)
        self.outbox: dict[datetime, list[tuple[datetime, str]]] = defaultdict(list)
        n_hours = 24 * (config.scale.days + 2)
        k = self._dirt_count(n_hours)
        self.truncate_hours = set(self.dirt_rng.sample(range(n_hours), k)) if k else set()
        self.hk_days = set(
            self.dirt_rng.sample(range(config.scale.days), self._dirt_count(config.scale.days))
        )
        # finer grains and restatements draw from their own stream: the rest of the world
        # (who arrives, what they do) stays what it was
        self.shape_rng = random.Random(config.seed + 2_000_003)
        self.restated_days = set(
            self.shape_rng.sample(range(config.scale.days), self._dirt_count(config.scale.days))
        )
        # A runaway Meta bid three days before the end (cost per click x SPIKE_CPC_FACTOR for a
        # day), once the world has two earlier weeks of the same weekday to compare it with.
        self.spike_day = config.scale.days - 3 if config.scale.days >= 17 else None
        self.experiments = {e["name"]: e for e in tp.EXPERIMENTS}
        self.exposed: set[tuple[str, str]] = set()  # (experiment, anonymous id) assigned
        self.exp_rng = random.Random(config.seed + 3_000_003)  # broken logging draws
        self.touch_rng = random.Random(config.seed + 4_000_003)  # returning users' links
        self.retargeting = [u for u in self.units if u.keyword_id is None
                            and ("Retargeting" in u.campaign_name or "再营销" in u.campaign_name)]  # fmt: skip
        self._record_experiment_designs()

    # ---------------------------------------------------------------- helpers
    def _dirt_count(self, n: int) -> int:
        """File-level dirt: exactly round(rate*n) cases, at least one when the rate is > 0."""
        if self.cfg.dirt_rate <= 0 or n == 0:
            return 0
        return min(n, max(1, round(self.cfg.dirt_rate * n)))

    def _malformed(self, family: str) -> bool:
        """Row-level dirt for report files: this row's metric becomes unparseable."""
        self.truth.dirt_opportunities["malformed_row"] += 1
        hit = self.dirt_rng.random() < self.cfg.dirt_rate
        if hit:
            self.truth.dirt["malformed_row"] += 1
            self.truth.malformed_by_family[family] += 1
        return hit

    @staticmethod
    def _split(total: int, weights: tuple[int, ...]) -> list[int]:
        """`total` in whole parts by `weights`, summing exactly (largest remainder first)."""
        exact = [total * w / sum(weights) for w in weights]
        parts = [int(x) for x in exact]
        by_remainder = sorted(range(len(weights)), key=lambda i: parts[i] - exact[i])
        for i in by_remainder[: total - sum(parts)]:
            parts[i] += 1
        return parts

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def _local_time(self, day: date, tz: str) -> datetime:
        """A moment on the local calendar `day` in `tz`, busier in the evening; returned in UTC."""
        hour = self.rng.choices(range(24), cum_weights=_CUM_HOURS)[0]
        local = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))
        return (local + timedelta(seconds=self.rng.random() * 3600)).astimezone(UTC)

    def _time_in_utc_day(self, day: date, tz: str) -> datetime:
        """A moment within the UTC `day`, weighted by the local hour in `tz`."""
        key = (tz, day)
        cum = self._utc_hour_weights.get(key)
        if cum is None:
            noon = datetime.combine(day, time(12), UTC).astimezone(ZoneInfo(tz))
            offset = int(noon.utcoffset().total_seconds() // 3600)  # type: ignore[union-attr]
            cum = list(np.cumsum(np.roll(_HOURS, -offset)))
            self._utc_hour_weights[key] = cum
        hour = self.rng.choices(range(24), cum_weights=cum)[0]
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) + timedelta(
            seconds=self.rng.random() * 3300
        )

    def _write(self, path: Path, data: bytes, kind: str, rows: int) -> None:
        formats.atomic_write(path, data)
        self.truth.files.append(
            {"path": str(path.relative_to(self.landing)), "kind": kind, "rows": rows, "dirt": ""}
        )

    # ---------------------------------------------------------------- channel
    def _channel_day(self, i: int, day: date) -> None:
        rows_by_platform: dict[str, list[tuple[AdUnit, int, int, float, float, float]]] = (
            defaultdict(list)
        )
        weekday = 1.0 if day.weekday() < 5 else 0.8
        if i == self.spike_day:
            self.truth.anomalies.append({"report_date": day.isoformat(), "kpi": "spend",
                                         "dimension": "platform",
                                         "dimension_value": SPIKE_PLATFORM})  # fmt: skip
        for unit in self.units:
            if unit.account is META_HK and i not in self.hk_days:
                continue
            impressions = int(self.np.poisson(unit.daily_impressions * weekday))
            clicks = int(self.np.binomial(impressions, unit.ctr))
            spend = round(clicks * unit.cpc * float(self.np.lognormal(0, 0.08)), 2)
            if i == self.spike_day and unit.platform == SPIKE_PLATFORM:
                spend = round(spend * SPIKE_CPC_FACTOR, 2)
            installs = int(self.np.binomial(clicks, unit.install_rate))
            conversions = max(0.0, round(installs * float(self.np.uniform(0.8, 1.1)), 1))
            value = round(conversions * unit.signup_rate * 2.1, 2)
            rows_by_platform[unit.platform].append(
                (unit, impressions, clicks, spend, conversions, value)
            )
            for _ in range(installs):
                ts = self._local_time(day, unit.account.timezone)
                self.arrivals[ts.date()].append(
                    _Arrival(
                        ts,
                        "paid",
                        unit.utm,
                        unit.signup_rate,
                        unit.quality,
                        unit=unit,
                        click_date=day,
                    )
                )
        self._write_google(day, rows_by_platform["google_ads"])
        self._write_meta(day, rows_by_platform["meta_ads"])
        self._write_baidu(day, rows_by_platform["baidu_sem"])
        self._write_ocean(day, rows_by_platform["ocean_engine"])

    def _spend_truth(
        self,
        day: date,
        unit: AdUnit,
        impr: int,
        clicks: int,
        spend: str,
        malformed: bool,
        ad_id: str = "",
        device: str = "",
    ) -> None:
        """One report row as written (`spend` exact, in the account's currency). A row whose
        grain a later file restates is marked superseded by _restate_google."""
        self.truth.spend_rows.append(
            {
                "date": day.isoformat(),
                "platform": unit.platform,
                "account_id": unit.account.account_id,
                "currency": unit.account.currency,
                "campaign_id": unit.campaign_id,
                "ad_group_id": unit.ad_group_id,
                "ad_id": ad_id,
                "keyword_id": unit.keyword_id or "",
                "device": device,
                "impressions": impr,
                "clicks": clicks,
                "spend": spend,
                "malformed": malformed,
                "superseded": False,
                "wasted_keyword": unit.wasted,
                "junk_keyword": unit.junk,
            }
        )
        if unit.account is META_HK:
            self.truth.dirt["unknown_currency"] += 1

    def _write_google(self, day: date, rows: list) -> None:
        """The keyword report segmented by device; cost_micros carry sub-cent micros."""
        out = []
        for unit, impr, clicks, spend, conv, value in rows:
            total = round(spend * 1_000_000) + self.shape_rng.randrange(1, 10_000)
            weights = tuple(w for _, w in GOOGLE_DEVICES)
            for (device, _), d_micros, d_impr, d_clicks in zip(
                GOOGLE_DEVICES,
                self._split(total, weights),
                self._split(impr, weights),
                self._split(clicks, weights),
                strict=True,
            ):
                micros: object = d_micros
                malformed = self._malformed("channel")
                if malformed:
                    micros = "--"
                self._spend_truth(
                    day, unit, d_impr, d_clicks, f"{d_micros / 1e6:.6f}", malformed, device=device
                )
                out.append(self._google_row(day, unit, d_impr, d_clicks, micros, device))
            out[-1] = (*out[-1][:15], f"{conv:.1f}", f"{value:.2f}", *out[-1][17:])
        name = f"google_ads_keyword_report_{day.isoformat()}.csv"
        path = self.landing / "channel" / "google_ads" / name
        self._write(
            path,
            formats.csv_bytes(formats.GOOGLE_ADS_COLUMNS, out, "utf-8"),
            "google_ads",
            len(out),
        )
        if self._today in self.restated_days:
            self._restate_google(day, rows, path)

    @staticmethod
    def _google_row(
        day: date, unit: AdUnit, impr: int, clicks: int, micros: object, device: str
    ) -> tuple:
        return (
            day.isoformat(),
            GOOGLE.account_id,
            GOOGLE.account_name,
            GOOGLE.currency,
            GOOGLE.timezone,
            unit.campaign_id,
            unit.campaign_name,
            unit.ad_group_id,
            unit.ad_group_name,
            unit.keyword_id,
            unit.keyword,
            (unit.match_type or "").upper(),
            impr,
            clicks,
            micros,
            "0.0",
            "0.00",
            device,
        )

    def _restate_google(self, day: date, rows: list, original: Path) -> None:
        """Google restates the day (invalid clicks refunded) under a new file name, one row per
        keyword: for every keyword it reports, its rows replace all of the first file's."""
        self.truth.dirt_opportunities["restated_file"] += 1
        self.truth.dirt["restated_file"] += 1
        for r in self.truth.spend_rows:
            if r["platform"] == "google_ads" and r["date"] == day.isoformat():
                r["superseded"] = True
        out = []
        for unit, impr, clicks, spend, _, _ in rows:
            micros = round(spend * self.shape_rng.uniform(0.9, 1.0) * 1_000_000)
            self._spend_truth(day, unit, impr, clicks, f"{micros / 1e6:.6f}", False)
            out.append(self._google_row(day, unit, impr, clicks, micros, ""))
        path = original.with_name(original.stem + "_restated.csv")
        self._write(
            path,
            formats.csv_bytes(formats.GOOGLE_ADS_COLUMNS, out, "utf-8"),
            "google_ads",
            len(out),
        )
        self.truth.files[-1]["dirt"] = "restated_file"

    def _write_meta(self, day: date, rows: list) -> None:
        """Insights at ad level (`level=ad`): each ad set's day split over its three ads."""
        data = []
        for unit, impr, clicks, spend, conv, value in rows:
            parts = zip(
                self._split(round(spend * 100), META_ADS_PER_SET),
                self._split(impr, META_ADS_PER_SET),
                self._split(clicks, META_ADS_PER_SET),
                strict=True,
            )
            for k, (cents, a_impr, a_clicks) in enumerate(parts, start=1):
                ad_id = f"{unit.ad_group_id}{k:02d}"
                malformed = self._malformed("channel")
                a_spend = f"{cents / 100:.2f}"
                self._spend_truth(day, unit, a_impr, a_clicks, a_spend, malformed, ad_id=ad_id)
                data.append(
                    {
                        "date_start": day.isoformat(),
                        "date_stop": day.isoformat(),
                        "account_id": unit.account.account_id.removeprefix("act_"),
                        "account_name": unit.account.account_name,
                        "account_currency": unit.account.currency,
                        "campaign_id": unit.campaign_id,
                        "campaign_name": unit.campaign_name,
                        "adset_id": unit.ad_group_id,
                        "adset_name": unit.ad_group_name,
                        "ad_id": ad_id,
                        "ad_name": f"{unit.ad_group_name} - creative {k}",
                        "impressions": str(a_impr),
                        "clicks": str(a_clicks),
                        "spend": "N/A" if malformed else a_spend,
                        "actions": [
                            {"action_type": "mobile_app_install", "value": f"{conv / 3:.1f}"}
                        ],
                        "action_values": [
                            {"action_type": "omni_purchase", "value": f"{value / 3:.2f}"}
                        ],
                    }
                )
        doc = {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}}
        path = self.landing / "channel" / "meta_ads" / f"meta_ads_insights_{day.isoformat()}.json"
        self._write(path, formats.json_bytes(doc), "meta_ads", len(data))

    def _write_baidu(self, day: date, rows: list) -> None:
        out = []
        for unit, impr, clicks, spend, conv, _ in rows:
            malformed = self._malformed("channel")
            self._spend_truth(day, unit, impr, clicks, f"{spend:.2f}", malformed)
            # a malformed row: clicks as '-', or spend re-saved with a decimal comma (12,34)
            decimal_comma = malformed and self.dirt_rng.random() < 0.5
            ctr = f"{(clicks / impr * 100 if impr else 0):.2f}%"
            cpc = f"{(spend / clicks if clicks else 0):.2f}"
            out.append(
                (
                    day.isoformat(),
                    unit.account.account_id,
                    unit.campaign_id,
                    unit.campaign_name,
                    unit.ad_group_id,
                    unit.ad_group_name,
                    unit.keyword_id,
                    unit.keyword,
                    formats.BAIDU_MATCH_TYPES[unit.match_type or "broad"],
                    impr,
                    "-" if malformed and not decimal_comma else clicks,
                    f"{spend:.2f}".replace(".", ",") if decimal_comma else f"{spend:.2f}",
                    ctr,
                    cpc,
                    int(conv),
                )
            )
        path = self.landing / "channel" / "baidu_sem" / f"baidu_keyword_report_{day:%Y%m%d}.csv"
        self._write(
            path, formats.csv_bytes(formats.BAIDU_COLUMNS, out, "gb18030"), "baidu_sem", len(out)
        )

    def _write_ocean(self, day: date, rows: list) -> None:
        records = []
        for unit, impr, clicks, spend, conv, _ in rows:
            malformed = self._malformed("channel")
            self._spend_truth(day, unit, impr, clicks, f"{spend:.2f}", malformed)
            records.append(
                {
                    "stat_datetime": f"{day.isoformat()} 00:00:00",
                    "advertiser_id": int(unit.account.account_id),
                    "campaign_id": int(unit.campaign_id),
                    "campaign_name": unit.campaign_name,
                    "ad_id": int(unit.ad_group_id),
                    "ad_name": unit.ad_group_name,
                    "cost": None if malformed else spend,
                    "show": impr,
                    "click": clicks,
                    "convert": int(conv),
                }
            )
        doc = {
            "code": 0,
            "message": "OK",
            "request_id": f"{self.rng.getrandbits(64):016X}",
            "data": {
                "list": records,
                "page_info": {
                    "page": 1,
                    "page_size": 1000,
                    "total_number": len(records),
                    "total_page": 1,
                },
            },
        }
        path = (
            self.landing
            / "channel"
            / "ocean_engine"
            / f"ocean_engine_report_{day.isoformat()}.json"
        )
        self._write(path, formats.json_bytes(doc), "ocean_engine", len(records))

    def _write_fx(self, days: list[date]) -> None:
        rates = fx_usd_per_unit(self.cfg.seed, days)
        for i, day in enumerate(days):
            rows = [(day.isoformat(), cur, f"{vals[i]:.6f}") for cur, vals in rates.items()]
            path = self.landing / "channel" / "fx_rates" / f"fx_rates_{day.isoformat()}.csv"
            self._write(
                path, formats.csv_bytes(formats.FX_COLUMNS, rows, "utf-8"), "fx_rates", len(rows)
            )

    # ---------------------------------------------------------------- content
    def _content_day(self, i: int, day: date) -> None:
        published_today = [
            c for c in self.content if c.published_day == i or (i == 0 and c.published_day < 0)
        ]
        if published_today:
            items = [self._content_record(c) for c in published_today]
            path = self.landing / "content" / "items" / f"cms_items_{day.isoformat()}.ndjson"
            self._write(path, formats.ndjson_bytes(items), "content_items", len(items))
        rows = []
        for item in self.content:
            age = i - item.published_day
            if age < 0 or age > 60:
                continue
            views = int(self.np.poisson(item.reach * 0.5 ** (age / item.half_life_days)))
            if views == 0:
                continue
            likes, comments, shares, favorites = (
                int(self.np.binomial(views, p)) for p in (0.04, 0.005, 0.006, 0.012)
            )
            viewers_who_install = int(self.np.binomial(views, item.signup_per_view * 2))
            for _ in range(viewers_who_install):
                ts = self._local_time(day, "Asia/Shanghai")
                utm = {
                    "source": item.platform,
                    "medium": "social",
                    "name": "content",
                    "content": item.content_id,
                }
                self.arrivals[ts.date()].append(
                    _Arrival(ts, "content", utm, 0.5, 1.0, content_id=item.content_id)
                )
            bad = self._malformed("content")
            rows.append(
                (
                    day.isoformat(),
                    item.content_id,
                    item.platform,
                    "" if bad else views,
                    likes,
                    comments,
                    shares,
                    favorites,
                )
            )
        path = self.landing / "content" / "stats" / f"content_stats_{day.isoformat()}.csv"
        self._write(
            path,
            formats.csv_bytes(formats.CONTENT_STATS_COLUMNS, rows, "utf-8"),
            "content_stats",
            len(rows),
        )

    def _content_record(self, c: ContentItem) -> dict[str, object]:
        published = datetime.combine(
            self.cfg.start + timedelta(days=c.published_day), datetime.min.time(), UTC
        )
        published += timedelta(hours=2 + (int(c.content_id[1:]) % 12))
        return {
            "content_id": c.content_id,
            "platform": c.platform,
            "content_type": c.content_type,
            "title": c.title,
            "author": c.author,
            "published_at": published.isoformat().replace("+00:00", "Z"),
            "tags": list(c.tags),
            "url": f"https://{c.platform}.example/{c.content_id}",
        }

    # ---------------------------------------------------------------- experiments
    def _record_experiment_designs(self) -> None:
        designs: dict[str, dict[str, object]] = {
            LIFT_EXPERIMENT: {"who": "paid installs", "metric": "signed_up_1d",
                              "relative_lift": round(LIFT_SIGNUP_FACTOR - 1, 6)},
            AA_EXPERIMENT: {"who": "signed-up users on app open", "relative_lift": 0.0},
            SRM_EXPERIMENT: {"who": "everyone on app open", "relative_lift": 0.0,
                             "logged_share_of_last_variation": SRM_LOGGED_SHARE},
        }  # fmt: skip
        for name, design in designs.items():
            if name in self.experiments:
                self.truth.experiments[name] = {
                    **design,
                    "variations": [v["id"] for v in self.experiments[name]["variations"]],
                }

    def _variation(self, experiment: dict, anon: str) -> str:
        """The device's variation: a hash of experiment and anonymous id into [0, 1), cut by
        the configured weights."""
        digest = hashlib.sha256(f"{experiment['name']}:{anon}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        variations = experiment["variations"]
        total = sum(float(v["weight"]) for v in variations)
        edge = 0.0
        for v in variations:
            edge += float(v["weight"]) / total
            if u < edge:
                return str(v["id"])
        return str(variations[-1]["id"])

    def _expose(self, name: str, p: _Person, ts: datetime, events: list[dict]) -> str | None:
        """Assign the person's current device to `name` (once) and log the exposure; the
        variation, or None when the experiment is not configured or has not started."""
        experiment = self.experiments.get(name)
        if experiment is None:
            return None
        start = experiment.get("start")
        if start and ts.date() < date.fromisoformat(str(start)):
            return None
        if (name, p.anon) in self.exposed:
            return None
        self.exposed.add((name, p.anon))
        variation = self._variation(experiment, p.anon)
        logged = not (
            name == SRM_EXPERIMENT
            and variation == experiment["variations"][-1]["id"]
            and self.exp_rng.random() >= SRM_LOGGED_SHARE
        )
        message_id = ""
        if logged:
            msg = self._event(p, ts, "track", tp.EXPERIMENT_VIEWED,
                              {"experiment_id": name, "variation_id": variation})  # fmt: skip
            events.append(msg)
            message_id = str(msg["messageId"])
        self.truth.experiment_exposures.append({
            "experiment_id": name, "person_id": p.pid, "anonymous_id": p.anon,
            "variation_id": variation, "exposed_at": _iso(ts), "logged": logged,
            "message_id": message_id,
        })  # fmt: skip
        return variation

    # ---------------------------------------------------------------- users
    def _organic_day(self, day: date) -> None:
        traffic = self.cfg.scale.traffic
        for channel, mean, utm in (
            ("organic", 60 * traffic, {"source": "google", "medium": "organic"}),
            ("organic", 25 * traffic, {"source": "baidu", "medium": "organic"}),
            ("direct", 45 * traffic, None),
        ):
            for _ in range(int(self.np.poisson(mean))):
                ts = self._local_time(day, "UTC")
                self.arrivals[ts.date()].append(_Arrival(ts, channel, utm, 0.55, 1.0))

    def _install(self, a: _Arrival, events: list[dict]) -> None:
        tz = (
            a.unit.account.timezone
            if a.unit
            else ("Asia/Shanghai" if self.rng.random() < 0.5 else "America/New_York")
        )
        p = _Person(
            len(self.persons),
            self._uuid(),
            tz,
            a.quality * float(self.np.lognormal(0, 0.25)),
            a.utm,
        )
        p.channel = a.channel
        p.junk = a.unit is not None and a.unit.junk
        self.persons.append(p)
        self.cohorts[(a.ts.date() - self.cfg.start).days].append(p)
        props: dict[str, object] = {"version": "4.2.0", "build": "4200"}
        if a.invite_code:
            props["invite_code"] = a.invite_code
        install = self._event(p, a.ts, "track", tp.APP_INSTALLED, props, campaign=a.utm)
        events.append(install)
        p.truth = {
            "person_id": p.pid,
            "anonymous_id": p.anon,
            "channel": a.channel,
            "platform": a.unit.platform if a.unit else "",
            "campaign_id": a.unit.campaign_id if a.unit else "",
            "ad_group_id": a.unit.ad_group_id if a.unit else "",
            "keyword_id": (a.unit.keyword_id or "") if a.unit else "",
            "content_id": a.content_id or "",
            "click_date": a.click_date.isoformat() if a.click_date else "",
            "install_at": _iso(a.ts),
            "install_message_id": install["messageId"],
            "user_id": "",
            "signed_up_at": "",
            "signup_message_id": "",
            "activated_at": "",
            "referrer_user_id": a.referrer.user_id if a.referrer else "",
        }
        self.truth.persons.append(p.truth)
        signup_rate = a.install_rate_signup
        if a.channel == "paid":  # the landing page the ad leads to
            lift = self.experiments.get(LIFT_EXPERIMENT, {}).get("variations", [])[1:2]
            seen = self._expose(LIFT_EXPERIMENT, p, a.ts + timedelta(seconds=1), events)
            if lift and seen == lift[0]["id"]:
                signup_rate *= LIFT_SIGNUP_FACTOR
        ts = a.ts + timedelta(seconds=3)
        if self.rng.random() < signup_rate:
            ts += timedelta(seconds=self.rng.expovariate(1 / 180))
            p.user_id = f"u{p.pid:08d}"
            p.signed_up = True
            events.append(self._identify(p, ts))
            sprops: dict[str, object] = {
                "method": self.rng.choice(("phone", "wechat", "apple", "email"))
            }
            if a.referrer is not None:
                sprops.update(
                    {"referrer_user_id": a.referrer.user_id, "invite_code": a.invite_code}
                )
            signup = self._event(p, ts + timedelta(milliseconds=200), "track", tp.SIGNED_UP, sprops)
            events.append(signup)
            p.truth.update(user_id=p.user_id, signed_up_at=_iso(ts + timedelta(milliseconds=200)),
                           signup_message_id=signup["messageId"])  # fmt: skip
            p.second_device_pending = self.rng.random() < 0.08
        self._session(p, ts + timedelta(seconds=5), day_index=0, events=events)

    def _return_touch(self, p: _Person) -> dict[str, str] | None:
        """The utm fields of the link a returning user came back through, if any."""
        if not p.signed_up or self.touch_rng.random() >= RETURN_TOUCH_RATE:
            return None
        if self.retargeting and self.touch_rng.random() < 0.6:
            return self.touch_rng.choice(self.retargeting).utm
        item = self.touch_rng.choice(self.content)
        return {"source": item.platform, "medium": "social", "name": "content",
                "content": item.content_id}  # fmt: skip

    def _identify(self, p: _Person, ts: datetime) -> dict:
        traits = {"plan": "free", "locale": "zh-CN" if p.tz == "Asia/Shanghai" else "en-US"}
        return self._event(p, ts, "identify", None, None, traits=traits)

    def _event(
        self,
        p: _Person,
        ts: datetime,
        type_: str,
        name: str | None,
        properties: dict[str, object] | None,
        campaign: dict[str, str] | None = None,
        traits: dict[str, object] | None = None,
        anonymous: bool = False,
    ) -> dict:
        context: dict[str, object] = {
            "app": {"name": "Habit Planet", "version": "4.2.0"},
            "library": {
                "name": "analytics-ios" if p.pid % 3 else "analytics-android",
                "version": "4.1.8",
            },
            "os": {"name": "iOS" if p.pid % 3 else "Android"},
            "timezone": p.tz,
        }
        if campaign:
            context["campaign"] = campaign
        msg: dict[str, object] = {
            "type": type_,
            "messageId": self._uuid(),
            "anonymousId": p.anon,
            "userId": None if anonymous else p.user_id,
            "_ts": ts,
            "context": context,
        }
        if type_ == "track":
            msg["event"] = name
            msg["properties"] = properties or {}
        elif type_ == "identify":
            msg["traits"] = traits or {}
        else:  # screen / page
            msg["name"] = name
            msg["properties"] = properties or {"name": name}
        return msg

    def _session(self, p: _Person, start: datetime, day_index: int, events: list[dict]) -> None:
        ts = start
        anonymous = False
        if p.signed_up and p.second_device_pending and day_index > 0 and self.rng.random() < 0.15:
            # the user installs on a second device: anonymous until they log in.
            p.second_device_pending = False
            p.anon = self._uuid()
            anonymous = True
        if day_index > 0:
            events.append(
                self._event(
                    p, ts, "track", tp.APP_OPENED, {"from_background": False},
                    campaign=self._return_touch(p), anonymous=anonymous,
                )
            )  # fmt: skip
        if day_index > 0:
            self._expose(SRM_EXPERIMENT, p, ts + timedelta(seconds=1), events)
            if p.signed_up:
                self._expose(AA_EXPERIMENT, p, ts + timedelta(seconds=2), events)
        if anonymous:
            ts += timedelta(seconds=20)
            events.append(self._identify(p, ts))
        recent = [
            c
            for c in self.content
            if c.published_day <= self._today and c.published_day > self._today - 30
        ]
        for _ in range(1 + int(self.np.poisson(2.5))):
            ts += timedelta(seconds=5 + self.rng.random() * 60)
            if self.rng.random() < 0.35:
                screen = self.rng.choice(tp.SCREENS)
                events.append(self._event(p, ts, "screen", screen, {"name": screen}))
                continue
            item = self.rng.choice(recent) if recent else self.content[0]
            events.append(
                self._event(p, ts, "track", tp.CONTENT_VIEWED, {"content_id": item.content_id})
            )
            for name, prob in (
                (tp.CONTENT_LIKED, 0.12),
                (tp.CONTENT_COMMENTED, 0.03),
                (tp.CONTENT_SHARED, 0.04),
            ):
                if self.rng.random() < prob:
                    ts += timedelta(seconds=2 + self.rng.random() * 10)
                    events.append(
                        self._event(p, ts, "track", name, {"content_id": item.content_id})
                    )
        if (
            p.signed_up
            and not p.activated
            and not p.junk
            and day_index <= 7
            and self.rng.random() < min(0.9, 0.5 * p.q)
        ):
            ts += timedelta(seconds=10 + self.rng.random() * 60)
            p.activated = True
            events.append(
                self._event(
                    p,
                    ts,
                    "track",
                    tp.ONBOARDING_COMPLETED,
                    {"habits_created": 1 + self.rng.randrange(3)},
                )
            )
            p.truth["activated_at"] = _iso(ts)
        if p.signed_up and self.rng.random() < 0.04 * p.q:
            ts += timedelta(seconds=5)
            p.invite_n += 1
            code = f"inv{p.pid:07d}x{p.invite_n}"
            events.append(
                self._event(p, ts, "track", tp.INVITE_SENT, {"invite_code": code, "via": "wechat"})
            )
            if self.rng.random() < 0.3:
                later = ts + timedelta(hours=self.rng.uniform(0.2, 72))
                utm = {"source": "invite", "medium": "referral", "name": "invite_program"}
                self.arrivals[later.date()].append(
                    _Arrival(later, "referral", utm, 0.7, 1.15, referrer=p, invite_code=code)
                )
        # a payer buys again far more readily than a non-payer buys at all (repeat purchase)
        order_rate = REPEAT_ORDER_RATE if p.orders else FIRST_ORDER_RATE
        if p.signed_up and self.rng.random() < order_rate * p.q:
            ts += timedelta(seconds=15)
            currency = "CNY" if p.tz == "Asia/Shanghai" else "USD"
            revenue = self.rng.choice(PRICES[currency])
            order = self._event(
                p,
                ts,
                "track",
                tp.ORDER_COMPLETED,
                {
                    "order_id": f"o{self.rng.getrandbits(40):010x}",
                    "revenue": revenue,
                    "currency": currency,
                },
            )
            events.append(order)
            p.orders += 1
            self.truth.orders.append(
                {
                    "person_id": p.pid,
                    "message_id": order["messageId"],
                    "order_number": p.orders,
                    "at": _iso(ts),
                    "revenue": revenue,
                    "currency": currency,
                }
            )
        ts += timedelta(seconds=5 + self.rng.random() * 30)
        events.append(self._event(p, ts, "track", tp.APP_BACKGROUNDED, {}))

    def _active_today(self, day_index: int, events: list[dict], day: date) -> None:
        for cohort_day, members in self.cohorts.items():
            k = day_index - cohort_day
            if k < 1 or not members:
                continue
            base = 0.45 * math.exp(-(k - 1) / 5) + 0.16 * math.exp(-(k - 1) / 80)
            draws = self.np.random(len(members))
            for p, u in zip(members, draws, strict=True):
                prob = min(0.95, base * p.q * (1.0 if p.signed_up else 0.35))
                if u < prob:
                    for _ in range(1 + int(self.np.poisson(0.4))):
                        self._session(p, self._time_in_utc_day(day, p.tz), k, events)

    # ---------------------------------------------------------------- delivery
    def _event_dirt(self, msg: dict) -> str | None:
        """At most one kind of dirt per event, each with probability dirt_rate, so every
        kind can be counted back exactly from the files."""
        kinds = _EVENT_DIRT if msg["type"] == "track" else _EVENT_DIRT[:-1]
        for kind in kinds:
            self.truth.dirt_opportunities[kind] += 1
        u = self.dirt_rng.random()
        slot = int(u / self.cfg.dirt_rate) if self.cfg.dirt_rate > 0 else len(kinds)
        if slot >= len(kinds):
            return None
        self.truth.dirt[kinds[slot]] += 1
        return kinds[slot]

    def _order_without_rate(self, msg: dict) -> str | None:
        """Row-level dirt for orders: paid in HKD, which the FX feed lacks (held at the door)."""
        self.truth.dirt_opportunities["order_without_rate"] += 1
        # at the dirt rate, and once early on so that a small world has one too
        first = self.truth.dirt_opportunities["order_without_rate"] == 3
        hit = self.dirt_rng.random() < self.cfg.dirt_rate
        if self.cfg.dirt_rate <= 0 or not (
            hit or (first and not self.truth.dirt["order_without_rate"])
        ):
            return None
        self.truth.dirt["order_without_rate"] += 1
        self.truth.held_order_message_ids.append(str(msg["messageId"]))
        msg["properties"] = {
            **msg["properties"],
            "revenue": self.dirt_rng.choice(PRICES["HKD"]),
            "currency": "HKD",
        }
        return "order_without_rate"

    def _deliver(self, events: list[dict]) -> None:
        for msg in events:
            self.truth.events_generated += 1
            ts: datetime = msg.pop("_ts")
            dirt = self._event_dirt(msg)
            received = ts + timedelta(seconds=1 + self.rng.random() * 20)
            if dirt == "late_event":
                received += timedelta(days=self.dirt_rng.uniform(1, 5))
            sent = received - timedelta(milliseconds=150)
            client_ts = ts
            if dirt == "clock_skew":
                skew = timedelta(
                    minutes=self.dirt_rng.choice((-1, 1)) * self.dirt_rng.uniform(10, 4320)
                )
                client_ts, sent = ts + skew, sent + skew
            if dirt is None and msg.get("event") == tp.ORDER_COMPLETED:
                dirt = self._order_without_rate(msg)
            msg["timestamp"], msg["sentAt"], msg["receivedAt"] = (
                _iso(client_ts),
                _iso(sent),
                _iso(received),
            )
            if dirt == "naive_timestamp":  # the same instants, written without a zone
                for key in ("timestamp", "sentAt", "receivedAt"):
                    msg[key] = str(msg[key]).removesuffix("Z")
            elif dirt == "implausible_time":  # a device clock reset, and no sentAt to fix it
                # sent at once (received 150 ms after the event, like every event's transit):
                # placed at receivedAt, it keeps its place among the person's events
                received = ts + timedelta(milliseconds=150)
                msg["receivedAt"] = _iso(received)
                year = self.dirt_rng.choice((1970, 2030))
                msg["timestamp"] = _iso(datetime(year, 1, 2, tzinfo=UTC) + (ts - self._epoch))
                del msg["sentAt"]
                self.truth.implausible_time_message_ids.append(str(msg["messageId"]))
            line = _JSON_LINE(msg)
            hour = received.replace(minute=0, second=0, microsecond=0)
            if dirt == "malformed_row":
                self.truth.malformed_message_ids.append(str(msg["messageId"]))
                self.truth.malformed_by_family["app"] += 1
                if self.dirt_rng.random() < 0.5:
                    line = line[: len(line) // 2]  # cut mid-record
                else:
                    line = line.replace(str(msg["timestamp"]), "not-a-timestamp")
            self.outbox[hour].append((received, line))
            if dirt == "duplicate_event":
                again = received + timedelta(minutes=self.dirt_rng.uniform(1, 120))
                self.outbox[again.replace(minute=0, second=0, microsecond=0)].append((again, line))
            elif dirt == "unknown_event":
                odd = dict(
                    msg, event=self.dirt_rng.choice(UNKNOWN_EVENT_NAMES), messageId=self._uuid()
                )
                self.outbox[hour].append((received, _JSON_LINE(odd)))

    def _flush_hours(self, before: datetime | None) -> None:
        window_start = datetime.combine(
            self.cfg.start - timedelta(days=1), datetime.min.time(), UTC
        )
        for hour in sorted(h for h in self.outbox if before is None or h < before):
            batch = sorted(self.outbox.pop(hour))
            lines = [line for _, line in batch]
            name = f"segment_{hour:%Y-%m-%dT%H}.ndjson.gz"
            path = self.landing / "app" / name
            data = formats.ndjson_gz_bytes(lines)
            hour_index = int((hour - window_start).total_seconds() // 3600)
            if hour_index in self.truncate_hours:
                # the upload was cut off; the collector retried and delivered the whole batch.
                self._write(path, data[: max(20, len(data) // 2)], "app", len(lines))
                self.truth.files[-1]["dirt"] = "truncated_file"
                self.truth.dirt["truncated_file"] += 1
                path = path.with_name(name.replace(".ndjson.gz", ".retry1.ndjson.gz"))
            self._write(path, data, "app", len(lines))

    # ---------------------------------------------------------------- main loop
    def run(self) -> Truth:
        days = self.cfg.days
        self._write_fx(days)
        self._today = 0
        for i, day in enumerate(days):
            self._today = i
            self._channel_day(i, day)
            self._content_day(i, day)
            self._organic_day(day)
        # Clicks in Asia/Shanghai fall on the previous UTC day: the event stream starts a day early.
        for i in range(-1, len(days) + 1):
            self._today = i
            utc_day = self.cfg.start + timedelta(days=i)
            events: list[dict] = []
            self._install_arrivals(utc_day, events)
            if i < len(days):
                self._active_today(i, events, utc_day)
            self._install_arrivals(utc_day, events)  # referrals invited today may arrive today
            self._deliver(events)
            self._flush_hours(
                datetime.combine(utc_day + timedelta(days=1), datetime.min.time(), UTC)
            )
            if self.progress and len(days) >= 60 and i >= 0 and (i + 1) % (len(days) // 10) == 0:
                self.progress(f"  day {i + 1}/{len(days)}: {self.truth.events_generated:,} events")
        self._flush_hours(None)
        self._redeliver_files()
        self.truth.dirt_opportunities["truncated_file"] = 24 * (len(days) + 2)
        self.truth.dirt_opportunities["unknown_currency"] = len(days)
        return self.truth

    def _install_arrivals(self, utc_day: date, events: list[dict]) -> None:
        while self.arrivals.get(utc_day):
            for arrival in sorted(self.arrivals.pop(utc_day), key=lambda a: a.ts):
                self._install(arrival, events)

    def _redeliver_files(self) -> None:
        originals = [f for f in self.truth.files if not f["dirt"]]
        k = self._dirt_count(len(originals))
        self.truth.dirt_opportunities["redelivered_file"] = len(originals)
        for f in sorted(self.dirt_rng.sample(originals, k), key=lambda f: str(f["path"])):
            src = self.landing / str(f["path"])
            dst = src.with_name(
                src.name.split(".", 1)[0] + ".redelivery." + src.name.split(".", 1)[1]
            )
            formats.atomic_write(dst, src.read_bytes())
            self.truth.files.append(
                {**f, "path": str(dst.relative_to(self.landing)), "dirt": "redelivered_file"}
            )
            self.truth.dirt["redelivered_file"] += 1
