"""The Airflow assets of the pipeline, defined once: the DAG files and publish import them.

landing_<family> (a file landed, watched by LandingWatcher) -> raw_<family> (an ingest run
loaded something) -> marts_<area> (a publish, one per business area of the marts), and
`anomalies` (a publish flagged anomalies not seen before). The
names and the mart areas are plain data; `Asset` objects are built on demand, so importing
this module needs no Airflow (the DAG files call the builders at parse time).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from growthops.landing import FAMILIES

# business area (the folder under dbt_project/models/marts/) -> the asset its publish updates
MART_AREAS: dict[str, str] = {
    "marketing": "marts_spend",
    "product": "marts_product",
    "content": "marts_content",
    "operations": "marts_operations",
    "experiments": "marts_experiments",
}


def landing_asset(family: str, landing_dir: Path, watcher: Any) -> Any:
    from airflow.sdk import Asset, AssetWatcher

    return Asset(
        name=f"landing_{family}",
        uri=f"file://{landing_dir}",
        group="landing",
        watchers=[AssetWatcher(name=f"landing_{family}_watcher", trigger=watcher)],
    )


def raw_asset(family: str) -> Any:
    from airflow.sdk import Asset

    return Asset(name=f"raw_{family}", uri=f"growthops://raw/{family}", group="raw")


def raw_assets() -> list[Any]:
    return [raw_asset(family) for family in FAMILIES]


def mart_assets() -> dict[str, Any]:
    from airflow.sdk import Asset

    return {
        name: Asset(name=name, uri=f"growthops://serving/{name}", group="marts")
        for name in MART_AREAS.values()
    }


def mart_area_asset(area: str) -> str:
    """The asset a mart of `area` (its folder under models/marts/) is published under; a
    folder without an asset is a configuration error, not a silent 'other'."""
    try:
        return MART_AREAS[area]
    except KeyError:
        raise KeyError(
            f"marts folder {area!r} has no asset: add it to MART_AREAS in "
            f"plugins/growthops/assets.py"
        ) from None


def anomalies_asset() -> Any:
    """Updated when a publish flags anomalies for the first time (extra: the list)."""
    from airflow.sdk import Asset

    return Asset(name="anomalies", uri="growthops://alerts/anomalies", group="alerts")
