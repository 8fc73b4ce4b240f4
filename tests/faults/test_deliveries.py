"""Delivery faults: doubled, renamed, restated and broken files land among the good ones.

The demo world (the clean run's files) lands again in one burst, together with every kind
of bad delivery below. Each bad file either changes nothing (identical rows) or is
quarantined with its reason, so after ingest and transform the published marts must
equal the clean run's, every file must balance (rows_in = loaded + quarantined) and no
row may be held twice.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from support import (
    ALL_DAGS,
    DEMO,
    INGEST_DAGS,
    assert_ingest_invariants,
    assert_landing_empty,
    published_marts,
    query,
    settings_for,
)

from growthops.config import Settings
from growthops.demo.generate import generate
from growthops.runner import run_dags

pytestmark = [pytest.mark.faults, pytest.mark.slow]

GOOGLE = "channel/google_ads/google_ads_keyword_report_2026-06-05.csv"
SEGMENT = "app/segment_2026-06-03T09.ndjson.gz"
STATS = "content/stats/content_stats_2026-06-04.csv"
RESTATED = "channel/google_ads/google_ads_keyword_report_2026-06-06.csv"  # no copies of it


def _bad_files(landing: Path) -> dict[str, tuple[str, bytes]]:
    """{landing path: (expected outcome, bytes)} built from the world's own good files."""
    google = (landing / GOOGLE).read_bytes()
    segment = (landing / SEGMENT).read_bytes()
    header, *rows = google.decode("utf-8").splitlines()
    columns = header.split(",")
    cost = columns.index("metrics.cost_micros")
    without_cost = "\n".join(
        ",".join(f for i, f in enumerate(line.split(",")) if i != cost) for line in [header, *rows]
    )
    events = gzip.decompress(segment).decode("utf-8").splitlines()
    garbled = events[:]
    for i in (1, 4):
        garbled[i] = garbled[i][: len(garbled[i]) // 2]  # cut mid-record: malformed JSON
    return {
        # the same file again under another name: rows identical to what is loaded
        "app/resent/segment_2026-06-03T09.ndjson.gz": ("loaded", segment),
        "channel/google_ads/google_ads_keyword_report_2026-06-05 (1).csv": ("loaded", google),
        # malformed rows among good ones (good ones are already loaded: duplicates)
        "app/segment_2026-06-03T09.resent-garbled.ndjson": ("loaded", "\n".join(garbled).encode()),
        "app/segment_2026-06-03T10.truncated.ndjson.gz": ("rejected", segment[: len(segment) // 2]),
        "app/segment_2026-06-03T11.empty.ndjson.gz": ("rejected", b""),
        # GBK bytes in a folder whose exports are UTF-8
        "channel/google_ads/google_ads_keyword_report_2026-06-05.gbk.csv": (
            "rejected",
            (header + "\n" + rows[0].replace(rows[0].split(",")[2], "习惯星球") + "\n").encode(
                "gbk"
            ),
        ),
        "channel/google_ads/google_ads_keyword_report_2026-06-05.nocost.csv": (
            "rejected",
            without_cost.encode(),
        ),
        "channel/tiktok_ads/tiktok_report_2026-06-05.csv": (
            "rejected",
            b"stat_time_day,campaign_id,campaign_name,spend,currency\n2026-06-05,17,Spring,12.50,USD\n",
        ),
    }


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    cfg = settings_for(tmp_path_factory.mktemp("deliveries"))
    generate(DEMO, cfg.landing_dir, cfg.demo_truth_dir)
    bad = _bad_files(cfg.landing_dir)
    # a new unknown column: the same rows, one more column (loads, warns)
    stats = (cfg.landing_dir / STATS).read_text(encoding="utf-8").splitlines()
    widened = [stats[0] + ",saves"] + [line + ",0" for line in stats[1:]]
    bad[STATS] = ("loaded", ("\n".join(widened) + "\n").encode())
    for relative, (_, data) in bad.items():
        path = cfg.landing_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    results = run_dags(ALL_DAGS, cfg)
    assert {r.dag_id: r.state for r in results} == dict.fromkeys(ALL_DAGS, "success"), [
        (r.dag_id, r.task_states) for r in results
    ]
    return cfg, bad


def test_every_file_balances_and_no_row_is_doubled(burst) -> None:
    cfg, bad = burst
    assert_ingest_invariants(cfg)
    assert_landing_empty(cfg)
    manifest = dict(query(cfg.pipeline_db, "select source_file, status from raw.ingest_manifest"))
    assert {f: manifest.get(f) for f in bad} == {f: outcome for f, (outcome, _) in bad.items()}


def test_bad_files_are_quarantined_with_a_reason_naming_file_and_problem(burst) -> None:
    cfg, bad = burst
    expected = {  # file name ending -> what the reason must say
        "truncated.ndjson.gz": "not a complete gzip stream",
        "empty.ndjson.gz": "empty (0 bytes)",
        ".gbk.csv": "not valid UTF-8",
        ".nocost.csv": "['metrics.cost_micros'] are missing",
        "tiktok_report_2026-06-05.csv": "no adapter for folder 'tiktok_ads'",
    }
    rejected = [f for f, (outcome, _) in bad.items() if outcome == "rejected"]
    assert len(rejected) == len(expected)
    for relative in rejected:
        [reason_file] = list(cfg.quarantine_dir.rglob(Path(relative).name + ".reason.txt"))
        text = reason_file.read_text(encoding="utf-8")
        [words] = [w for ending, w in expected.items() if relative.endswith(ending)]
        assert relative in text and words in text, text


def _json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_malformed_rows_are_quarantined_by_rule_and_copies_as_duplicates(burst, clean_run) -> None:
    cfg, _ = burst
    garbled = "app/segment_2026-06-03T09.resent-garbled.ndjson"
    [path] = list((cfg.data_root / "archive").rglob(Path(garbled).name))
    lines = len(path.read_text(encoding="utf-8").splitlines())
    rules = dict(
        query(
            cfg.pipeline_db,
            "select rule, count(*) from raw.quarantine_rows where source_file = ? group by 1",
            garbled,
        )
    )
    # every line is either malformed (2 cut here, plus any the simulator cut or garbled) or
    # a copy of an event already loaded: nothing of this file loads
    not_json = sum(1 for line in path.read_text(encoding="utf-8").splitlines()
                   if not _json_object(line))  # fmt: skip
    assert not_json >= 2 and rules["valid_json"] == not_json, rules
    held = "select count(distinct row_number) from raw.quarantine_rows where source_file = ?"
    assert query(cfg.pipeline_db, held, garbled) == [(lines,)], rules
    assert query(
        cfg.pipeline_db,
        "select rows_loaded from raw.ingest_manifest where source_file = ?",
        garbled,
    ) == [(0,)]
    # a renamed copy and its original share the events: together they load them once
    pair = ["app/resent/segment_2026-06-03T09.ndjson.gz", SEGMENT]
    sql = "select sum(rows_loaded) from raw.ingest_manifest where source_file in (?, ?)"
    assert query(cfg.pipeline_db, sql, *pair) == query(
        clean_run.root / "warehouse" / "pipeline.duckdb", sql, *pair
    )


def test_published_marts_equal_the_clean_run(burst, clean_run) -> None:
    cfg, _ = burst
    assert published_marts(cfg) == clean_run.marts


@pytest.mark.faults_full  # 45 s: three more pipeline runs; make test-faults runs it
def test_redelivery_restatement_and_its_correction(burst, clean_run) -> None:
    """Everything delivered again (a no-op), then a restated file (replaces its rows), then
    the original again (restores them): the marts end where the clean run is."""
    cfg, _ = burst
    archive = cfg.data_root / "archive"
    before = query(cfg.pipeline_db, "select count(*), sum(spend) from raw.channel_spend")[0]
    originals = {}
    for path in sorted(p for p in archive.rglob("*") if p.is_file()):
        family, _load, *rest = path.relative_to(archive).parts
        relative = Path(family, *rest)
        if relative.as_posix() not in originals:
            originals[relative.as_posix()] = path
            shutil.copyfile(path, cfg.landing_dir / relative)
    assert len(originals) > 400
    results = run_dags(INGEST_DAGS, cfg)
    assert [r.state for r in results] == ["success"] * 3
    assert query(cfg.pipeline_db, "select count(*), sum(spend) from raw.channel_spend")[0] == before
    assert_ingest_invariants(cfg)

    original = originals[RESTATED].read_bytes()
    header, first, *rest = original.decode("utf-8").splitlines()
    cost = header.split(",").index("metrics.cost_micros")
    fields = first.split(",")
    fields[cost] = str(int(fields[cost]) + 1_230_000)  # the platform restated the day: +1.23
    restated = "\n".join([header, ",".join(fields), *rest]) + "\n"
    for version, delta in ((restated.encode(), "1.23"), (original, "0")):
        (cfg.landing_dir / RESTATED).write_bytes(version)
        [result] = run_dags(["ingest_channel"], cfg)
        assert result.state == "success"
        [(count, spend)] = query(
            cfg.pipeline_db, "select count(*), sum(spend) from raw.channel_spend"
        )
        assert (count, spend - before[1]) == (before[0], type(spend)(delta))
        assert_ingest_invariants(cfg)
    [result] = run_dags(["transform"], cfg)
    assert result.state == "success"
    assert published_marts(cfg) == clean_run.marts
