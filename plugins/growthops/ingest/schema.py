"""The raw layer: one canonical table per kind of landed data, plus the ingest bookkeeping.

Every raw row carries `load_id`, `source_file` (path under landing/) and `row_number`
(1-based record number in that file), and keeps the source record as received
(`raw_record`) next to its normalized columns.
"""

from __future__ import annotations

from typing import Any, Final

RAW_SCHEMA: Final = "raw"

# Columns every raw data table starts with (filled by the loader, not the adapters).
LINEAGE_COLUMNS: Final = (
    ("load_id", "VARCHAR NOT NULL"),
    ("source_file", "VARCHAR NOT NULL"),
    ("row_number", "BIGINT NOT NULL"),
)

# Canonical columns per raw table (what adapters produce), in order.
TABLE_COLUMNS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    # One common spend column set across platforms (after fivetran/dbt_ad_reporting).
    "channel_spend": (
        ("report_date", "DATE"),
        ("platform", "VARCHAR"),
        ("account_id", "VARCHAR"),
        ("account_name", "VARCHAR"),
        ("account_timezone", "VARCHAR"),
        ("campaign_id", "VARCHAR"),
        ("campaign_name", "VARCHAR"),
        ("ad_group_id", "VARCHAR"),
        ("ad_group_name", "VARCHAR"),
        ("ad_id", "VARCHAR"),  # the ad / creative, where the report is at ad level
        ("ad_name", "VARCHAR"),
        ("keyword_id", "VARCHAR"),
        ("keyword_text", "VARCHAR"),
        ("match_type", "VARCHAR"),
        ("impressions", "BIGINT"),
        ("clicks", "BIGINT"),
        ("spend", "DECIMAL(18, 6)"),  # in `currency`, normalized from micros / fen / strings
        ("currency", "VARCHAR"),
        ("conversions", "DOUBLE"),
        ("conversion_value", "DECIMAL(18, 6)"),
        ("raw_spend", "VARCHAR"),  # the spend exactly as the source wrote it
        ("raw_record", "JSON"),
    ),
    "fx_rates": (
        ("rate_date", "DATE"),
        ("currency", "VARCHAR"),
        ("usd_per_unit", "DECIMAL(18, 8)"),
        ("raw_record", "JSON"),
    ),
    # Segment-shaped events: typed columns for what the models use, the whole message kept.
    "app_events": (
        ("message_id", "VARCHAR"),
        ("type", "VARCHAR"),
        ("event", "VARCHAR"),
        ("screen_name", "VARCHAR"),
        ("anonymous_id", "VARCHAR"),
        ("user_id", "VARCHAR"),
        ("event_at", "TIMESTAMP"),  # UTC: received_at - (sent_at - client_timestamp)
        # 'device' (the corrected device time) or 'received_at' (the device time was outside
        # the plausible window around receivedAt, so the event is placed at its arrival)
        ("event_at_source", "VARCHAR"),
        ("client_timestamp", "TIMESTAMP"),  # UTC, device clock
        ("sent_at", "TIMESTAMP"),  # UTC, device clock
        ("received_at", "TIMESTAMP"),  # UTC, collector clock
        ("clock_skew_seconds", "DOUBLE"),  # sent_at - received_at (device clock error)
        ("utm_source", "VARCHAR"),
        ("utm_medium", "VARCHAR"),
        ("utm_campaign", "VARCHAR"),
        ("utm_term", "VARCHAR"),
        ("utm_content", "VARCHAR"),
        ("device_timezone", "VARCHAR"),
        ("properties", "JSON"),
        ("traits", "JSON"),
        ("raw_record", "JSON"),
    ),
    "content_items": (
        ("content_id", "VARCHAR"),
        ("platform", "VARCHAR"),
        ("content_type", "VARCHAR"),
        ("title", "VARCHAR"),
        ("author", "VARCHAR"),
        ("published_at", "TIMESTAMP"),  # UTC
        ("tags", "VARCHAR[]"),
        ("url", "VARCHAR"),
        ("raw_record", "JSON"),
    ),
    "content_daily_stats": (
        ("stat_date", "DATE"),
        ("content_id", "VARCHAR"),
        ("platform", "VARCHAR"),
        ("views", "BIGINT"),
        ("likes", "BIGINT"),
        ("comments", "BIGINT"),
        ("shares", "BIGINT"),
        ("favorites", "BIGINT"),
        ("raw_record", "JSON"),
    ),
}

# The date a table's lake parts are partitioned by (lake/<table>/day=<date>/): a day is read
# alone.
PARTITION_DAY: Final[dict[str, str]] = {
    "channel_spend": "report_date",
    "fx_rates": "rate_date",
    "app_events": "event_at",
    "content_items": "published_at",
    "content_daily_stats": "stat_date",
}

# Which raw tables each family loads (and so which Asset a family's ingest DAG updates).
FAMILY_TABLES: Final[dict[str, tuple[str, ...]]] = {
    "channel": ("channel_spend", "fx_rates"),
    "app": ("app_events",),
    "content": ("content_items", "content_daily_stats"),
}

BOOKKEEPING_DDL: Final = f"""
create schema if not exists {RAW_SCHEMA};
-- One row per distinct file content (sha256) and reader the pipeline processed: the
-- exactly-once key is what decides the outcome, the bytes and how they are read (the
-- adapter's folder, gzip or not), so a file moved to its right folder is read again.
create table if not exists {RAW_SCHEMA}.ingest_manifest (
    file_sha256 varchar not null,
    reader varchar not null,          -- e.g. channel:google_ads, app:gzip ('' = before readers)
    family varchar not null,
    source_file varchar not null,
    file_bytes bigint not null,
    load_id varchar not null,
    status varchar not null,          -- loaded | rejected | replaced | held
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    reason varchar,
    loaded_at timestamp not null,
    primary key (file_sha256, reader)
);
-- Every delivery, including identical re-deliveries (which change nothing).
create table if not exists {RAW_SCHEMA}.ingest_deliveries (
    load_id varchar not null,
    family varchar not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    outcome varchar not null,         -- loaded | replaced_previous | rejected | duplicate | held
    detail varchar,
    delivered_at timestamp not null
);
-- Restated versions a person confirmed (growthops accept-restatement): applied when delivered.
create table if not exists {RAW_SCHEMA}.accepted_restatements (
    file_sha256 varchar primary key,
    source_file varchar not null,
    accepted_at timestamp not null
);
-- The commit record of the lake (growthops.lake): one row per Parquet part of a file version's
-- good rows, written in the same transaction as its manifest row. A part is read only while
-- it is visible; a restatement retires the old version's parts.
create table if not exists {RAW_SCHEMA}.lake_parts (
    part_id varchar not null,
    table_name varchar not null,
    family varchar not null,
    source_file varchar not null,
    load_id varchar not null,
    row_count bigint not null,
    file_count integer not null,      -- one file per day (lake/<table>/day=<date>/<part_id>.parquet)
    status varchar not null,          -- visible | retired
    committed_at timestamp not null,
    retired_at timestamp
);
-- Rows that broke a rule: the rule, a sentence a person can act on, the record as received.
create table if not exists {RAW_SCHEMA}.quarantine_rows (
    load_id varchar not null,
    family varchar not null,
    source_file varchar not null,
    row_number bigint not null,
    rule varchar not null,
    reason varchar not null,
    raw_record varchar,
    quarantined_at timestamp not null
);
"""


def table_ddl(table: str) -> str:
    columns = (*LINEAGE_COLUMNS, *TABLE_COLUMNS[table])
    body = ",\n    ".join(f"{name} {type_}" for name, type_ in columns)
    # a warehouse created before a column was added gains it (NULL in the rows already there)
    added = "".join(
        f"\nalter table {RAW_SCHEMA}.{table} add column if not exists {name} {type_};"
        for name, type_ in TABLE_COLUMNS[table]
    )
    return f"create table if not exists {RAW_SCHEMA}.{table} (\n    {body}\n);{added}"


def all_ddl() -> str:
    return BOOKKEEPING_DDL + "\n".join(table_ddl(t) for t in TABLE_COLUMNS)


def ensure_raw_schema(con: Any) -> None:
    """Create the raw layer, or bring an older one up to date (in one transaction)."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    keyed_by_content_alone = con.execute(
        "select 1 from duckdb_columns() where schema_name = ? and table_name = 'ingest_manifest' "
        "and column_name = 'file_sha256' and not exists (select 1 from duckdb_columns() "
        "where schema_name = ? and table_name = 'ingest_manifest' and column_name = 'reader')",
        [RAW_SCHEMA, RAW_SCHEMA],
    ).fetchone()
    if keyed_by_content_alone:
        # DuckDB cannot drop a primary key: the manifest is rebuilt with the (content, reader)
        # key; rows from before readers get '' (they still make any reader's copy a duplicate)
        con.execute("begin transaction")
        con.execute(f"alter table {RAW_SCHEMA}.ingest_manifest rename to ingest_manifest_v1")
        con.execute(BOOKKEEPING_DDL)
        con.execute(
            f"insert into {RAW_SCHEMA}.ingest_manifest by name "
            f"select *, '' as reader from {RAW_SCHEMA}.ingest_manifest_v1"
        )
        con.execute(f"drop table {RAW_SCHEMA}.ingest_manifest_v1")
        con.execute("commit")
    con.execute(all_ddl())
