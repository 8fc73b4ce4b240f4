"""Anomaly alerts: each flagged anomaly is alerted once, to the notifier the operator names.

A hand-made serving file holds mart_kpi_anomalies; the notifier is a module written here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from growthops import alerts
from growthops.config import ConfigError, Settings

NOTIFIER = """
import json, os
from pathlib import Path

def send(message, anomalies):
    out = Path(os.environ["ALERTS_OUT"])
    with out.open("a") as fh:
        fh.write(json.dumps({"message": message, "n": len(anomalies)}) + "\\n")
"""


def _serving(cfg: Settings, rows: list[tuple]) -> None:
    cfg.warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(cfg.serving_db))
    con.execute(
        "create or replace table mart_kpi_anomalies (report_date date, kpi varchar, "
        "dimension varchar, dimension_value varchar, value double, expected double, "
        "robust_z double, is_anomaly boolean)"
    )
    con.executemany("insert into mart_kpi_anomalies values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "chat_hook.py").write_text(NOTIFIER)
    monkeypatch.syspath_prepend(str(tmp_path / "hooks"))
    monkeypatch.setenv("ALERTS_OUT", str(tmp_path / "sent.ndjson"))
    return replace(Settings.from_env(), data_root=tmp_path / "data",
                   alert_notifier="chat_hook:send")  # fmt: skip


def _sent(cfg: Settings) -> list[dict]:
    out = cfg.data_root.parent / "sent.ndjson"
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def test_each_anomaly_is_alerted_once_to_the_named_notifier(cfg: Settings) -> None:
    spike = (date(2026, 6, 26), "spend", "platform", "meta_ads", 129.4, 40.59, 39.4, True)
    calm = (date(2026, 6, 26), "spend", "platform", "google_ads", 200.0, 198.0, 0.4, False)
    _serving(cfg, [spike, calm])
    first = alerts.alert(cfg, "run-1")
    assert [(a["kpi"], a["dimension_value"]) for a in first] == [("spend", "meta_ads")]
    [sent] = _sent(cfg)
    assert sent["n"] == 1
    assert (
        "2026-06-26 spend of platform meta_ads: 129.40, expected 40.59 (+219%)" in sent["message"]
    )
    # the same verdicts again (the next publish): nothing new, nobody is woken up
    assert alerts.alert(cfg, "run-2") == []
    assert len(_sent(cfg)) == 1
    # a new one the next day: only it
    later = (date(2026, 6, 27), "signups", "channel", "all", 10.0, 40.0, 9.1, True)
    _serving(cfg, [spike, calm, later])
    assert [a["report_date"] for a in alerts.alert(cfg, "run-3")] == [date(2026, 6, 27)]
    assert [s["n"] for s in _sent(cfg)] == [1, 1]
    con = duckdb.connect(str(cfg.pipeline_db), read_only=True)
    recorded = con.execute("select run_id from ops.anomaly_alerts order by report_date").fetchall()
    con.close()
    assert recorded == [("run-1",), ("run-3",)]


def test_a_notifier_that_cannot_be_imported_is_a_configuration_error(cfg: Settings) -> None:
    _serving(cfg, [(date(2026, 6, 26), "spend", "platform", "x", 9.0, 1.0, 9.0, True)])
    broken = replace(cfg, alert_notifier="no_such_module:send")
    with pytest.raises(ConfigError, match="GROWTHOPS_ALERT_NOTIFIER='no_such_module:send'"):
        alerts.alert(broken, "run-1")


def test_the_notifier_setting_must_name_a_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROWTHOPS_ALERT_NOTIFIER", "send me an email")
    with pytest.raises(ConfigError, match="GROWTHOPS_ALERT_NOTIFIER"):
        Settings.from_env()
