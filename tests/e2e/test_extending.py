"""README's "Extending growthops" checklists, followed once on throwaway examples.

In a copy of the project and of the clean run's data root, as a developer would: a new ad
platform (TikTok Ads: the var, an adapter, its utm pair in the seed, the demo's units), a
new mart (a model in the marketing folder with its YAML entry), a new funnel (one entry
under `vars.funnels`) and a new experiment with a new metric (entries under
`vars.experiments` / `vars.experiment_metrics`, its exposures in an app file written here). Then the pipeline's own steps - ingest, staging, marts, the gates,
publish - must carry all three through: the platform's spend reaches the marts to the
cent, the mart is published under its area's asset, the funnel has rows, the experiment
has results for exactly the persons the file exposed. The expected
numbers come from the file written here and from a rule of ordered funnels (a funnel made
of the first two steps of another counts the same persons at those steps), not from the
new code.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from support import copy_data_root, platform_disagreements, project_copy, query, settings_for

from growthops.config import Settings
from growthops.demo.formats import ndjson_gz_bytes
from growthops.demo.world import PLATFORM_UTM
from growthops.ingest import adapters
from growthops.ingest.loader import ingest
from growthops.transform import build_stage, gate_marts, gate_staging, publish

pytestmark = pytest.mark.slow

TIKTOK_COLUMNS = ["stat_time_day", "advertiser_id", "currency", "campaign_id", "campaign_name",
                  "adgroup_id", "adgroup_name", "ad_id", "ad_name", "impressions", "clicks",
                  "spend"]  # fmt: skip


def parse_tiktok_ads(data: bytes, source: str) -> adapters.Parsed:
    """The checklist's step 2: TikTok's Reporting API (BASIC, AUCTION_AD, stat_time_day)
    onto the canonical hierarchy - campaign > ad group > ad - with its number format."""
    text = adapters._decode_utf8(data, source, "TikTok Ads reports are UTF-8 CSV.")
    what = "TikTok Ads ad report"
    records, rejects, warnings = adapters._csv_records(text, source, TIKTOK_COLUMNS, what)
    rows = [
        {
            "row_number": n,
            "report_date": adapters._date(r["stat_time_day"][:10]),
            "platform": "tiktok_ads",
            "account_id": adapters._text(r["advertiser_id"]),
            "campaign_id": adapters._text(r["campaign_id"]),
            "campaign_name": adapters._text(r["campaign_name"]),
            "ad_group_id": adapters._text(r["adgroup_id"]),
            "ad_group_name": adapters._text(r["adgroup_name"]),
            "ad_id": adapters._text(r["ad_id"]),
            "ad_name": adapters._text(r["ad_name"]),
            "impressions": adapters._int(r["impressions"]),
            "clicks": adapters._int(r["clicks"]),
            "spend": adapters._decimal(r["spend"]),
            "currency": adapters._text(r["currency"]),
            "raw_spend": r["spend"],
            "raw_record": adapters._json(r),
        }
        for n, r in records
    ]
    return adapters._parsed("channel_spend", source, rows, len(records) + len(rejects), rejects,
                            warnings)  # fmt: skip


def _add_platform(dbt: Path) -> None:
    """Steps 1 and 3 of "An ad platform": the var and the seed."""
    spec_path = dbt / "dbt_project.yml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["vars"]["platforms"].append("tiktok_ads")
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
    with (dbt / "seeds" / "channel_mapping.csv").open("a", encoding="utf-8") as fh:
        fh.write("tiktok,paid_social,paid_social,tiktok_ads\n")


def _add_funnel(dbt: Path) -> None:
    """ "A funnel": one entry under vars.funnels, nothing else."""
    spec_path = dbt / "dbt_project.yml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    [activation] = [f for f in spec["vars"]["funnels"] if f["name"] == "activation"]
    spec["vars"]["funnels"].append(
        {**activation, "name": "install_to_signup", "steps": activation["steps"][:2],
         "description": "The first two steps of activation."}
    )  # fmt: skip
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))


def _add_mart(dbt: Path) -> None:
    """ "A mart": the model in its area's folder ending on `final`, its YAML entry."""
    folder = dbt / "models" / "marts" / "marketing"
    (folder / "mart_platform_spend_totals.sql").write_text(
        "-- One row per ad platform: its spend over all days, in the reporting currency.\n"
        "with\n\nfinal as (\n\n"
        "    select\n        platform,\n        sum(spend) as spend\n"
        "    from {{ ref('mart_spend_daily') }}\n    group by platform\n\n)\n\n"
        "select * from final\n"
    )
    models = folder / "_marketing__models.yml"
    text = models.read_text(encoding="utf-8")
    entry = (
        "  - name: mart_platform_spend_totals\n"
        "    description: One row per ad platform, with its spend over all days.\n"
        "    config:\n      contract: {enforced: true}\n"
        "    columns:\n"
        "      - name: platform\n        data_type: varchar\n        data_tests: [unique]\n"
        "      - name: spend\n        data_type: decimal(38, 6)\n\n"
    )
    models.write_text(text.replace("\nunit_tests:\n", f"\n{entry}unit_tests:\n", 1))


def _add_experiment(dbt: Path) -> None:
    """ "An experiment": an entry under vars.experiments, its new metric under
    vars.experiment_metrics (an existing experiment reads the metric too)."""
    spec_path = dbt / "dbt_project.yml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["vars"]["experiment_metrics"].append(
        {"name": "invited_7d", "description": "Sent an invite within 7 days.", "type": "binomial",
         "event": "Invite Sent", "window": {"value": 7, "unit": "day"}}
    )  # fmt: skip
    spec["vars"]["experiments"].append(
        {"name": "onboarding_copy", "description": "Short onboarding copy.",
         "variations": [{"id": "control", "weight": 1}, {"id": "short", "weight": 1}],
         "metrics": ["invited_7d", "retained_d7"]}
    )  # fmt: skip
    [hero] = [e for e in spec["vars"]["experiments"] if e["name"] == "landing_page_hero"]
    hero["metrics"].append("invited_7d")
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))


def _exposures_file(cfg: Settings, persons: int) -> dict[str, int]:
    """The app sends Experiment Viewed for `persons` known users (alternating variations), an
    hour before the newest event: variation -> persons exposed."""
    users = [u for (u,) in query(cfg.pipeline_db, "select distinct user_id from raw.app_events "
                                 "where user_id is not null order by 1 limit ?", persons)]  # fmt: skip
    (newest,) = query(cfg.pipeline_db, "select max(event_at) from raw.app_events")[0]
    at = (newest - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lines, exposed = [], {"control": 0, "short": 0}
    for i, user in enumerate(users):
        variation = ("control", "short")[i % 2]
        exposed[variation] += 1
        lines.append(json.dumps({
            "type": "track", "messageId": str(uuid.uuid4()), "anonymousId": f"x-{user}",
            "userId": user, "event": "Experiment Viewed", "timestamp": at, "sentAt": at,
            "receivedAt": at, "context": {"timezone": "UTC"},
            "properties": {"experiment_id": "onboarding_copy", "variation_id": variation},
        }))  # fmt: skip
    (cfg.landing_dir / "app" / "segment_extending.ndjson.gz").write_bytes(ndjson_gz_bytes(lines))
    return exposed


def test_a_platform_a_mart_a_funnel_and_an_experiment_added_by_the_checklists_reach_the_marts(
    clean_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    dbt = project_copy(Settings.from_env().home, home)
    _add_platform(dbt)
    folders = set(adapters.ADAPTERS["channel"])
    # the agreement test names each step of the platform checklist not yet done
    problems = platform_disagreements(dbt, folders, set(PLATFORM_UTM))
    assert [p.split(":")[0] for p in problems] == [
        "adapters (plugins/growthops/ingest/adapters.py)",
        "the demo (demo/world.py PLATFORM_UTM)",
    ]
    monkeypatch.setitem(adapters.ADAPTERS["channel"], "tiktok_ads", parse_tiktok_ads)
    monkeypatch.setitem(PLATFORM_UTM, "tiktok_ads", ("tiktok", "paid_social"))
    assert platform_disagreements(dbt, set(adapters.ADAPTERS["channel"]), set(PLATFORM_UTM)) == []
    _add_mart(dbt)
    _add_funnel(dbt)
    _add_experiment(dbt)

    cfg = settings_for(copy_data_root(clean_run.root, tmp_path / "data"), home=home)
    day = query(cfg.pipeline_db, "select max(report_date) from raw.channel_spend")[0][0]
    rows = [[f"{day} 00:00:00", "7001", "USD", "tc1", "TikTok Spring", f"tg{g}", f"Group {g}",
             f"ta{g}{a}", f"Ad {g}{a}", str(1000 * g + a), str(10 * g + a), f"{g * 3.17 + a:.2f}"]
            for g in (1, 2) for a in (1, 2, 3)]  # fmt: skip
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([TIKTOK_COLUMNS, *rows])
    inbox = cfg.landing_dir / "channel" / "tiktok_ads"
    inbox.mkdir()
    (inbox / f"tiktok_{day}.csv").write_text(buf.getvalue(), encoding="utf-8")
    report = ingest("channel", cfg)
    assert report.rows_loaded == len(rows), report.summary()
    exposed = _exposures_file(cfg, 6)
    assert ingest("app", cfg).rows_loaded == 6

    build_stage("staging", cfg)
    gate_staging(cfg)
    build_stage("marts", cfg)
    gate_marts(cfg)  # reconciliation: the marts' spend per platform equals raw's
    families = publish("extending", cfg)

    expected = sum(Decimal(r[-1]) for r in rows)
    assert query(
        cfg.serving_db,
        "select sum(spend), sum(impressions) from mart_spend_daily where platform = ?",
        "tiktok_ads",
    ) == [(expected, sum(int(r[-3]) for r in rows))]
    assert families["marts_spend"]["mart_platform_spend_totals"] == 5
    assert query(
        cfg.serving_db, "select spend from mart_platform_spend_totals where platform = ?",
        "tiktok_ads",
    ) == [(expected,)]  # fmt: skip
    by_funnel = {
        name: dict(
            query(
                cfg.serving_db,
                "select step_number, sum(persons) from mart_funnel_conversion "
                "where funnel_name = ? and step_number <= 2 group by 1 order by 1",
                name,
            )
        )
        for name in ("activation", "install_to_signup")
    }
    assert by_funnel["install_to_signup"] == by_funnel["activation"]
    assert by_funnel["install_to_signup"][1] > by_funnel["install_to_signup"][2] > 0
    results = dict(
        query(
            cfg.serving_db,
            "select variation_id, persons from mart_experiment_results "
            "where experiment_id = 'onboarding_copy' and metric_name = 'invited_7d' and is_latest",
        )
    )
    assert results == exposed
    hero = query(
        cfg.serving_db,
        "select metric_name, sum(persons) from mart_experiment_results "
        "where experiment_id = 'landing_page_hero' and is_latest group by 1",
    )
    assert dict(hero)["invited_7d"] == dict(hero)["signed_up_1d"] > 0
