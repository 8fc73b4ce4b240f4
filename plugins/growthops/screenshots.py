"""The README's screenshots, taken with headless Chromium (`make screenshots`): the latest
daily ops report (desktop and phone width) and the Airflow UI's first screen after
`make up` on a fresh data root. Each is checked for an error state before it is kept: the
UI's metadata database must hold no failed run, the report must have been built from the
marts (no section missing)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from growthops.config import Settings, settings

OUT = Path("docs") / "img"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def _chromium() -> str:
    for name in CHROMIUM:
        if path := shutil.which(name):
            return path
    raise SystemExit("screenshots need Chromium: apt-get install chromium")


def shoot(url: str, out: Path, width: int, height: int) -> Path:
    """One PNG of `url` at width x height, after its scripts had time to render."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={width},{height}", "--virtual-time-budget=20000",
         f"--screenshot={out}", url],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out


def report_screenshots(cfg: Settings, home: Path) -> list[Path]:
    from growthops.report import build_report

    page = build_report(cfg, "day")
    text = page.read_text(encoding="utf-8")
    for section in ("Headline", "Anomalies", "Spend and what it bought", "Data health"):
        assert f"<h2>{section}</h2>" in text, f"{page}: no {section!r} section"
    return [
        shoot(page.as_uri(), home / OUT / "report-daily.png", 1100, 3400),
        shoot(page.as_uri(), home / OUT / "report-daily-phone.png", 420, 1800),
    ]


def _runs(airflow_home: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(airflow_home / "airflow.db")
    try:
        return con.execute("select dag_id, state from dag_run").fetchall()
    finally:
        con.close()


def _dags(airflow_home: Path) -> int:
    con = sqlite3.connect(airflow_home / "airflow.db")
    try:
        return con.execute("select count(*) from dag where is_stale = 0").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def ui_screenshot(cfg: Settings, home: Path, settle_seconds: float = 45.0) -> Path:
    """`make up` on an empty data root, then the UI's first screen once the DAGs are parsed
    and the scheduler has had time to start whatever it starts on its own."""
    from dataclasses import replace

    from growthops import standalone
    from growthops.landing import make_inboxes

    with tempfile.TemporaryDirectory(prefix="growthops-ui-") as tmp:
        fresh = replace(cfg, data_root=Path(tmp) / "data")
        make_inboxes(fresh.landing_dir)
        port = 8089
        # signed in as admin without a login form: Chromium cannot type a password
        sa = standalone.start(fresh, port=port,
                              extra_env={"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"})  # fmt: skip
        try:
            standalone.wait_healthy(sa)
            deadline = time.monotonic() + 180
            while _dags(sa.home) < 6 and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(settle_seconds)
            failed = [r for r in _runs(sa.home) if r[1] == "failed"]
            assert not failed, f"failed runs right after `make up`: {failed}"
            return shoot(f"{sa.base_url}/dags", home / OUT / "airflow-first-screen.png", 1280, 800)
        finally:
            standalone.stop(sa)


def main() -> int:
    cfg = settings()
    if not cfg.serving_db.exists():
        print("no published marts: run `make run` first", file=sys.stderr)
        return 1
    for path in [*report_screenshots(cfg, cfg.home), ui_screenshot(cfg, cfg.home)]:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
