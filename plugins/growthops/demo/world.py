"""The demo business: an app company's ad accounts, campaigns, keywords and content.

Everything here is derived from a seed, so the same seed always describes the same
company. The simulator (simulate.py) then lives through its days.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

# utm_source / utm_medium each ad platform's tracking template writes.
PLATFORM_UTM: dict[str, tuple[str, str]] = {
    "google_ads": ("google", "cpc"),
    "meta_ads": ("facebook", "paid_social"),
    "baidu_sem": ("baidu", "cpc"),
    "ocean_engine": ("douyin", "paid_social"),
}

CONTENT_PLATFORMS: dict[str, str] = {
    # platform -> its usual content type
    "douyin": "short_video",
    "xiaohongshu": "post",
    "weibo": "post",
    "bilibili": "video",
    "youtube": "video",
    "blog": "article",
}

AUTHORS = (
    "Lin Wei",
    "Chen Jing",
    "Zhang Min",
    "Wang Fang",
    "Liu Yang",
    "Ana Souza",
    "Sam Carter",
    "Priya Nair",
    "Zhou Lei",
    "Huang Li",
)

TAGS = ("habits", "productivity", "journaling", "fitness", "mindfulness", "study", "tips")


@dataclass(frozen=True)
class Scale:
    name: str
    days: int
    traffic: float  # multiplies impressions, organic arrivals and content reach


SCALES: dict[str, Scale] = {
    # events: small ~37k (2 s); 180 days at traffic 0.2 measured 3.34M events, so medium
    # (1.2) ~20M and large (6.0) ~100M: events scale linearly with traffic (and days). small
    # has four weeks: the anomaly check compares a day with the same weekday of earlier weeks.
    "small": Scale("small", days=28, traffic=0.05),
    "medium": Scale("medium", days=180, traffic=1.2),
    "large": Scale("large", days=180, traffic=6.0),
}


@dataclass(frozen=True)
class Account:
    platform: str
    account_id: str
    account_name: str
    currency: str
    timezone: str


@dataclass(frozen=True)
class AdUnit:
    """The finest grain an ad platform reports: a keyword (search) or an ad group / ad."""

    account: Account
    campaign_id: str
    campaign_name: str
    ad_group_id: str
    ad_group_name: str
    keyword_id: str | None
    keyword: str | None
    match_type: str | None  # canonical: exact / phrase / broad
    daily_impressions: float
    ctr: float
    cpc: float  # account currency
    install_rate: float  # installs per click
    signup_rate: float  # sign-ups per install
    quality: float  # retention multiplier (1 = average)
    wasted: bool  # spends without ever bringing a sign-up
    junk: bool = False  # brings many sign-ups, none of whom ever activates

    @property
    def platform(self) -> str:
        return self.account.platform

    @property
    def utm(self) -> dict[str, str]:
        source, medium = PLATFORM_UTM[self.platform]
        utm = {
            "source": source,
            "medium": medium,
            "name": self.campaign_id,
            "content": self.ad_group_id,
        }
        if self.keyword_id is not None:
            utm["term"] = self.keyword_id
        return utm


@dataclass(frozen=True)
class ContentItem:
    content_id: str
    platform: str
    content_type: str
    title: str
    author: str
    tags: tuple[str, ...]
    published_day: int  # day index in the simulation (negative: before it starts)
    reach: float  # expected views on its first day
    half_life_days: float
    signup_per_view: float


GOOGLE = Account(
    "google_ads", "4821937705", "Growthops App - Search US", "USD", "America/Los_Angeles"
)
META = Account("meta_ads", "act_1029384756", "Growthops App - Social US", "USD", "America/New_York")
# A small regional account nobody told finance about: its currency is missing from the FX table.
META_HK = Account("meta_ads", "act_5566778899", "Growthops App - HK Pilot", "HKD", "Asia/Hong_Kong")
BAIDU = Account("baidu_sem", "growthops_bj", "习惯星球-百度搜索", "CNY", "Asia/Shanghai")
OCEAN = Account("ocean_engine", "1765432109876543", "习惯星球-巨量引擎", "CNY", "Asia/Shanghai")

_SEARCH_CAMPAIGNS = {
    GOOGLE: {
        "Brand | Search": {
            "Brand Exact": ["growthops", "growthops app", "growthops habit app"],
            "Brand Misspell": ["growth ops app", "growthop app"],
        },
        "Generic | Habit Tracker": {
            "Habit Tracker": ["habit tracker app", "best habit tracker", "daily habit app"],
            "Routine": ["morning routine app", "routine planner", "streak app"],
        },
        "Generic | Journaling": {
            "Journal": ["journaling app", "daily journal", "gratitude journal app"],
            "Diary": ["diary app free", "mood diary"],
        },
        "Competitor | Search": {
            "Competitors": ["habitica alternative", "streaks app alternative", "loop habit"],
        },
    },
    BAIDU: {
        "品牌词": {"品牌-精确": ["习惯星球", "习惯星球app", "习惯星球下载"]},
        "通用词-习惯养成": {
            "习惯打卡": ["习惯打卡app", "每日打卡软件", "自律打卡"],
            "早起": ["早起打卡", "早睡早起app"],
        },
        "通用词-日记": {"日记": ["日记app", "心情日记", "手账软件"]},
        "竞品词": {"竞品": ["小打卡替代", "番茄钟app"]},
    },
}

_FEED_CAMPAIGNS = {
    META: {
        "Prospecting | Lookalike 1%": ["LAL 1% Installers", "LAL 1% Payers"],
        "Prospecting | Interests": ["Productivity Interests", "Fitness Interests"],
        "Retargeting | Web Visitors": ["Visitors 30d"],
    },
    META_HK: {"HK Pilot | Installs": ["HK Broad"]},
    OCEAN: {
        "抖音信息流-拉新": ["抖音-18-30岁", "抖音-学生"],
        "头条信息流-拉新": ["头条-职场"],
        "抖音-再营销": ["抖音-流失召回"],
    },
}

_MATCH_TYPES = ("exact", "phrase", "broad")


def _id(rng: np.random.Generator, digits: int) -> str:
    return str(int(rng.integers(10 ** (digits - 1), 10**digits)))


# A junk keyword (one per search account): a broad, cheap term that brings many clicks and
# sign-ups (bots, freebie hunters) of whom none ever activates and few come back.
JUNK_VOLUME = 4.0  # times the impressions of an ordinary keyword
JUNK_QUALITY = 0.2  # retention multiplier of its users


def _with_junk_keywords(units: list[AdUnit]) -> list[AdUnit]:
    """Turn the busiest generic, converting keyword of each search account into junk (the
    other units keep their ids and parameters)."""
    out = list(units)
    for account in _SEARCH_CAMPAIGNS:
        i = max(
            (
                i
                for i, u in enumerate(out)
                if u.account is account
                and not u.wasted
                and not u.campaign_name.startswith(("Brand", "品牌"))
            ),
            key=lambda i: out[i].daily_impressions * out[i].ctr,
        )
        unit = out[i]
        out[i] = replace(
            unit,
            junk=True,
            match_type="broad",
            daily_impressions=unit.daily_impressions * JUNK_VOLUME,
            cpc=unit.cpc * 0.5,
            quality=JUNK_QUALITY,
        )
    return out


def build_ad_units(seed: int, traffic: float) -> list[AdUnit]:
    """Every ad unit of the demo company, with its (hidden) performance."""
    rng = np.random.default_rng([seed, 1])
    units: list[AdUnit] = []
    for account, campaigns in _SEARCH_CAMPAIGNS.items():
        usd = account.currency == "USD"
        for campaign_name, ad_groups in campaigns.items():
            campaign_id = _id(rng, 11 if usd else 9)
            brand = campaign_name.startswith(("Brand", "品牌"))
            for ad_group_name, keywords in ad_groups.items():
                ad_group_id = _id(rng, 12 if usd else 10)
                for keyword in keywords:
                    wasted = (not brand) and rng.random() < 0.2
                    units.append(
                        AdUnit(
                            account=account,
                            campaign_id=campaign_id,
                            campaign_name=campaign_name,
                            ad_group_id=ad_group_id,
                            ad_group_name=ad_group_name,
                            keyword_id=_id(rng, 12 if usd else 11),
                            keyword=keyword,
                            match_type=str(rng.choice(_MATCH_TYPES)),
                            daily_impressions=float(rng.lognormal(7.3, 0.5)) * traffic,
                            ctr=float(
                                rng.uniform(0.08, 0.15) if brand else rng.uniform(0.02, 0.06)
                            ),
                            cpc=float(
                                (rng.uniform(0.3, 0.8) if brand else rng.uniform(0.9, 3.2))
                                * (1.0 if usd else 4.5)
                            ),
                            install_rate=0.015 if wasted else float(rng.uniform(0.12, 0.3)),
                            signup_rate=0.0 if wasted else float(rng.uniform(0.45, 0.75)),
                            quality=float(
                                rng.uniform(1.0, 1.4) if brand else rng.uniform(0.6, 1.2)
                            ),
                            wasted=wasted,
                        )
                    )
    for account, campaigns in _FEED_CAMPAIGNS.items():
        for campaign_name, ad_groups in campaigns.items():
            campaign_id = _id(rng, 14 if account.platform == "ocean_engine" else 17)
            retargeting = "Retargeting" in campaign_name or "再营销" in campaign_name
            for ad_group_name in ad_groups:
                units.append(
                    AdUnit(
                        account=account,
                        campaign_id=campaign_id,
                        campaign_name=campaign_name,
                        ad_group_id=_id(rng, 14 if account.platform == "ocean_engine" else 17),
                        ad_group_name=ad_group_name,
                        keyword_id=None,
                        keyword=None,
                        match_type=None,
                        daily_impressions=float(rng.lognormal(9.6, 0.4))
                        * traffic
                        * (0.05 if account is META_HK else 1.0),
                        ctr=float(rng.uniform(0.006, 0.018)),
                        cpc=float(
                            rng.uniform(0.4, 1.4)
                            * {"USD": 1.0, "CNY": 3.5, "HKD": 7.8}[account.currency]
                        ),
                        install_rate=float(rng.uniform(0.08, 0.2)),
                        signup_rate=float(rng.uniform(0.3, 0.6)),
                        quality=float(
                            rng.uniform(0.9, 1.2) if retargeting else rng.uniform(0.45, 0.9)
                        ),
                        wasted=False,
                    )
                )
    return _with_junk_keywords(units)


def build_content(seed: int, days: int, traffic: float) -> list[ContentItem]:
    """The content calendar: a back catalogue plus ~2 new items a day."""
    rng = np.random.default_rng([seed, 2])
    items: list[ContentItem] = []
    platforms = list(CONTENT_PLATFORMS)
    publish_days = list(range(-20, 0)) + [
        d for d in range(days) for _ in range(int(rng.poisson(2.0)))
    ]
    for n, day in enumerate(publish_days, start=1):
        platform = platforms[int(rng.integers(len(platforms)))]
        tags = tuple(sorted(rng.choice(TAGS, size=int(rng.integers(1, 4)), replace=False)))
        items.append(
            ContentItem(
                content_id=f"c{n:06d}",
                platform=platform,
                content_type=CONTENT_PLATFORMS[platform],
                title=f"{tags[0].title()} tip #{n}",
                author=AUTHORS[int(rng.integers(len(AUTHORS)))],
                tags=tags,
                published_day=day,
                reach=float(rng.lognormal(8.5, 1.0)) * traffic,
                half_life_days=float(rng.uniform(1.0, 6.0)),
                signup_per_view=float(rng.uniform(0.0002, 0.0015)),
            )
        )
    return items


def fx_usd_per_unit(seed: int, days: list[date]) -> dict[str, list[float]]:
    """Daily FX fixings (USD per unit) for the currencies the FX feed covers; HKD is absent."""
    rng = np.random.default_rng([seed, 3])
    cny = 0.1385 * np.exp(np.cumsum(rng.normal(0, 0.002, len(days))))
    eur = 1.085 * np.exp(np.cumsum(rng.normal(0, 0.003, len(days))))
    return {
        "USD": [1.0] * len(days),
        "CNY": [round(float(x), 6) for x in cny],
        "EUR": [round(float(x), 6) for x in eur],
    }
