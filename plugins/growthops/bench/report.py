"""BENCHMARKS.md from the stored results of the latest run per scale."""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from growthops.bench.compare import mismatches

PACKAGES = ("apache-airflow", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations", "pandas")

# the targets (issue 6), checked on every run
TARGETS = (
    "full pipeline <= 2 x floor + 30 s",
    "incremental day <= 10% of a full run",
    "quality gates <= 15% of pipeline time",
    "pipeline >= 5 x faster than pandas on the same marts",
)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def save(results: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    kind = "pipeline-only" if "floor" not in results else "full"
    path = folder / f"{results['scale']}-{kind}.json"
    path.write_text(json.dumps(results, indent=1, default=str))
    return path


def failed_checks(results: dict[str, Any]) -> list[str]:
    failed = results.get("pipeline", {}).get("failed")
    did_not_finish = [f"the full pipeline did not finish: {failed}"] if failed else []
    return did_not_finish + mismatches(results.get("checks", {}))


def comparable(r: dict[str, Any]) -> tuple[float, float]:
    """(pipeline, floor) seconds without the channel and content loads: the floor runs the
    pipeline's own loader for those few thousand rows, so the same cost sits on both sides."""
    loads = sum(r["pipeline"]["dags"].get(d, 0.0) for d in ("ingest_channel", "ingest_content"))
    floor_loads = r["floor"]["seconds_parts"].get("channel_content_loader", 0.0)
    return r["pipeline"]["seconds"] - loads, r["floor"]["seconds"] - floor_loads


def ratios(r: dict[str, Any]) -> dict[str, tuple[float, bool]]:
    """Each target: (measured value, met?)."""
    pipeline = r["pipeline"]["seconds"]
    pipeline_app, floor = comparable(r)
    pandas_side = _two_marts_in_dbt(r)
    pandas = r["pandas"]["seconds"]
    incremental = r["incremental"]["seconds"]
    gates = r["pipeline"]["gates"]["all_gates"]
    return {
        TARGETS[0]: (pipeline_app / floor, pipeline_app <= 2 * floor + 30),
        TARGETS[1]: (incremental / pipeline, incremental <= 0.10 * pipeline),
        TARGETS[2]: (gates / pipeline, gates <= 0.15 * pipeline),
        TARGETS[3]: (
            pandas / pandas_side if pandas_side else float("inf"),
            pandas >= 5 * pandas_side,
        ),
    }


def _stage_rows(r: dict[str, Any]) -> list[str]:
    p = r["pipeline"]
    rows = [f"| {name} | {seconds:,.1f} |" for name, seconds in p["stages"].items()]
    rows.append(
        f"| (of which the raw gate, inside the ingest tasks) | {p['gates']['raw_gate']:,.1f} |"
    )
    return rows


def _two_marts_in_dbt(r: dict[str, Any]) -> float:
    models = r["pipeline"].get("mart_models", {})
    return sum(models.get(m, 0.0) for m in ("mart_funnel_conversion", "mart_retention"))


def _mb(value: float | None) -> str:
    return "not recorded" if value is None else f"{value:,.0f}"


def _figures(r: dict[str, Any]) -> list[tuple[str, float, str]]:
    p, f, pd_, inc = r["pipeline"], r["floor"], r["pandas"], r["incremental"]
    return [
        ("Full pipeline run (ingest -> gates -> dbt -> gates -> publish)", p["seconds"],
         _mb(p['peak_rss_mb'])),
        ("Floor: the same marts, one DuckDB process, no machinery", f["seconds"],
         _mb(f['peak_rss_mb'])),
        (f"pandas: funnel + retention marts (incl. reading and ordering {pd_['events']:,} events from "
         f"Parquet, {pd_['read_seconds']:.1f} s)", pd_["seconds"], _mb(pd_['peak_rss_mb'])),
        ("Pipeline: dbt time of the same two marts", _two_marts_in_dbt(r), ""),
        ("Incremental run: one more day of files", inc["seconds"], _mb(inc['peak_rss_mb'])),
    ]  # fmt: skip


def _full_section(r: dict[str, Any]) -> list[str]:
    w, f = r["world"], r["floor"]
    lines = [
        f"## `{r['scale']}` world: {w['events']:,} events, {w['files']:,} files, "
        f"{w['days']} days + 1 incremental day",
        "",
        f"Measured {r['machine']['date']}. World generated once in {w['generate_seconds']:,.0f} s "
        "(cached; not part of any figure).",
        "",
        "| What | Seconds | Peak RSS (MB) |",
        "|---|---:|---:|",
        *(f"| {label} | {seconds:,.1f} | {rss} |" for label, seconds, rss in _figures(r)),
        "",
        "Floor parts: "
        + ", ".join(f"{k} {v:,.1f} s" for k, v in f["seconds_parts"].items())
        + f". Without the channel and content loads (the same loader on both sides): pipeline "
        f"{comparable(r)[0]:,.1f} s, floor {comparable(r)[1]:,.1f} s; the first target compares these.",
        "",
        "### Pipeline stages (task durations)",
        "",
        "| Stage | Seconds |",
        "|---|---:|",
        *_stage_rows(r),
        "",
        "### Targets",
        "",
        "| Target | Measured | Met |",
        "|---|---:|:---:|",
    ]
    for target, (value, met) in ratios(r).items():
        shown = f"{value:.2f}" if "%" not in target else f"{value:.1%}"
        lines.append(f"| {target} | {shown} | {'yes' if met else '**no**'} |")
    lines += ["", "### Results check", ""]
    for check, tables in r["checks"].items():
        equal = all(not d["only_in_pipeline"] and not d["only_in_other"] for d in tables.values())
        detail = ", ".join(f"{t} ({d['rows']:,} rows)" for t, d in tables.items())
        lines.append(f"- {check.replace('_', ' ')}: {'equal' if equal else 'DIFFERENT'}: {detail}")
    bad = mismatches(r["checks"])
    lines += [f"  - {b}" for b in bad]
    return lines


def _large_target(r: dict[str, Any], *, met: bool) -> str:
    if r["scale"] != "large":
        return ""
    verdict = "**met**: it finished in one run" if met else "**not met** by this run"
    return f' The target "large world completes without running out of memory" is {verdict}.'


def _pipeline_only_section(r: dict[str, Any]) -> list[str]:
    w, p = r["world"], r["pipeline"]
    if p.get("failed"):
        # "note": what the log showed, written into the results file by whoever read it
        note = f" {p['note']}" if p.get("note") else ""
        return [
            f"## `{r['scale']}` world, full pipeline only: {w['events']:,} events, {w['files']:,} files",
            "",
            f"Measured {r['machine']['date']}: **did not finish**: {p['failed']}, after "
            f"{p['seconds']:,.1f} s, peak RSS {_mb(p['peak_rss_mb'])} MB.{note}"
            f"{_large_target(r, met=False)}",
            "",
        ]
    return [
        f"## `{r['scale']}` world, full pipeline only: {w['events']:,} events, {w['files']:,} files",
        "",
        f"Measured {r['machine']['date']}: {p['seconds']:,.1f} s, peak RSS {_mb(p['peak_rss_mb'])} MB "
        f"(world generated once in {w['generate_seconds']:,.0f} s).{_large_target(r, met=True)}",
        "",
        "| Stage | Seconds |",
        "|---|---:|",
        *_stage_rows(r),
        "",
    ]


def render(folder: Path) -> str:
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m growthops.bench.run`); each section is the latest run of its "
        'world. How to read it and what each figure means: README "Benchmarks". What '
        "dominates and what would fix a missed target: DECISIONS.md.",
        "",
    ]
    if runs:
        m = runs[-1]["machine"]
        lines += [
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
            f"Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
            "",
        ]
    for r in sorted(runs, key=lambda r: ("floor" not in r, r["world"]["events"])):
        lines += _full_section(r) if "floor" in r else _pipeline_only_section(r)
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------ kept sections
# Benchmarks run by their own make target (bench-spark, bench-ingest) write a marked section
# of BENCHMARKS.md; make bench rewrites the rest of the file and keeps them.
KEPT_SECTIONS = ("engines", "ingest-workers", "incremental")


def _marked(name: str) -> re.Pattern[str]:
    return re.compile(rf"<!-- {name}:begin -->.*?<!-- {name}:end -->\n?", re.S)


def write_section(path: Path, name: str, text: str) -> None:
    """Put section `name` into BENCHMARKS.md, replacing its last version."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(_marked(name).sub("", current).rstrip("\n") + "\n\n" + text, encoding="utf-8")


def save_section(results: dict[str, Any], name: str, render: Any, output: Path) -> None:
    """A side benchmark's results: its JSON under data/bench/results/<scale>-<name>.json and
    its marked section of BENCHMARKS.md, rendered by `render(results, machine)`."""
    from growthops.config import settings

    machine_now = machine()
    out = settings().bench_dir / "results" / f"{results['scale']}-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**results, "machine": machine_now}, indent=1, default=str))
    write_section(output, name, render(results, machine_now))
    print(f"results: {out}\nwrote {output}")


def section_of(path: Path, name: str) -> str:
    """Section `name` as BENCHMARKS.md holds it, or ''."""
    found = _marked(name).search(path.read_text(encoding="utf-8")) if path.exists() else None
    return found.group(0) if found else ""
