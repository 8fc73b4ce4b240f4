"""Great Expectations gates: committed JSON suites run against pandas batches.

GX's SQL datasource is broken on DuckDB (STACK_NOTES), so a gate hands GX a DataFrame.
A suite's expectations carry `meta.reason` (a sentence a person can act on) and
optionally `meta.show` (columns whose values the reason quotes, e.g. the raw spend string
behind a NULL spend). `meta.blocking: false` makes a rule warn instead of quarantine.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

ROW_ID = "_gate_row"


@dataclass(frozen=True)
class RuleResult:
    rule: str  # e.g. expect_column_values_to_not_be_null(spend)
    reason: str  # the suite's sentence for a person
    blocking: bool
    success: bool
    failing_rows: tuple[int, ...]  # values of ROW_ID
    show: tuple[str, ...]
    error: str | None = None  # the expectation itself could not run


@dataclass
class GateResult:
    suite: str
    rows: int
    rules: list[RuleResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success or not r.blocking for r in self.rules)

    def failures(self) -> list[RuleResult]:
        return [r for r in self.rules if not r.success]


def load_suite_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"expectation suite {path} is missing") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"expectation suite {path} is not valid JSON: {exc}") from exc


def _quiet_great_expectations() -> None:
    """A gate's log is its summary and its failures: GX's own registration chatter and the
    deprecation warnings of its dependencies are not."""
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="great_expectations")
    # GX imports pyspark when the spark target is installed; we never use its pandas paths
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                            category=FutureWarning)  # fmt: skip
    warnings.filterwarnings("ignore", message=".*deprecated as of GX Core.*")
    warnings.filterwarnings("ignore", message=".*module 'sre_(constants|parse)' is deprecated.*")


@functools.cache
def _context() -> Any:
    _quiet_great_expectations()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def _rule_name(config: Any) -> str:
    kwargs = config.kwargs
    cols = kwargs.get("column") or ", ".join(
        str(kwargs[k]) for k in ("column_A", "column_B", "column_list") if k in kwargs
    )
    return f"{config.type}({cols})" if cols else str(config.type)


def columns_used(suite_json: dict[str, Any], columns: list[str]) -> list[str]:
    """The columns of `columns` that the suite's expectations read: their column kwargs and
    any column named in a row_condition. Every committed suite is column-scoped; a
    table-level expectation (no column kwarg) would need them all, so it gets them all."""
    used: set[str] = set()
    for expectation in suite_json.get("expectations", []):
        kwargs = expectation.get("kwargs", {})
        named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        named += list(kwargs.get("column_list", []))
        if not named:
            return list(columns)
        used.update(named)
        used.update(re.findall(r"\w+", str(kwargs.get("row_condition") or "")))
    return [c for c in columns if c in used]


def validate(
    frame: pd.DataFrame, suite_path: Path, parameters: dict[str, Any] | None = None
) -> GateResult:
    """Validate `frame` (which must have a ROW_ID column) against the suite at `suite_path`."""
    _quiet_great_expectations()  # before GX's import: its registration chatter is at import
    import great_expectations as gx

    suite_json = load_suite_json(suite_path)
    result = GateResult(suite=suite_json.get("name", suite_path.stem), rows=len(frame))
    if frame.empty:
        return result
    ctx = _context()
    suite = gx.ExpectationSuite(**suite_json)
    # GX hashes and filters the whole frame once per expectation, and looks failing rows'
    # named index columns up one cell at a time: on a 400k-row raw chunk that was 5.9x
    # slower than handing it only the columns the suite reads, with a plain 0..n-1 index
    # whose positions map back to ROW_ID (DECISIONS.md, "GX validates pandas batches").
    checked = frame[columns_used(suite_json, list(frame.columns))].reset_index(drop=True)
    row_ids = frame[ROW_ID].to_numpy()
    name = f"{suite.name}-{id(frame)}"
    source = ctx.data_sources.add_or_update_pandas(name)
    batch = (
        source.add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": checked})
    )
    validation = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE"},
        expectation_parameters=parameters or {},
    )
    ctx.data_sources.delete(name)
    for r in validation.results:
        meta = r.expectation_config.meta or {}
        raised = bool(r.exception_info and r.exception_info.get("raised_exception"))
        positions = r.result.get("unexpected_index_list") or []
        rows = tuple(int(x) for x in row_ids[positions])
        result.rules.append(
            RuleResult(
                rule=_rule_name(r.expectation_config),
                reason=str(meta.get("reason", r.expectation_config.type)),
                blocking=bool(meta.get("blocking", True)),
                success=bool(r.success) and not raised,
                failing_rows=rows,
                show=tuple(meta.get("show", ())),
                error=str(r.exception_info.get("exception_message")) if raised else None,
            )
        )
    return result
