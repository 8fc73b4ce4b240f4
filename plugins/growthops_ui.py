"""growthops in the Airflow UI: the ops reports under "Browse" (an Airflow 3 plugin).

The reports are files (data/reports/); this plugin serves them through Airflow's API server
to signed-in users only, and adds a navigation entry that shows them in the UI. Only this
file is loaded as a plugin: .airflowignore keeps the plugin loader out of growthops/.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

from growthops.config import settings

REPORTS_PREFIX = "/growthops-reports"


def _reports_app():
    from airflow.api_fastapi.core_api.security import requires_authenticated
    from fastapi import Depends, FastAPI
    from fastapi.staticfiles import StaticFiles

    reports = settings().reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    app = FastAPI(title="growthops reports", dependencies=[Depends(requires_authenticated())])
    app.mount("/", StaticFiles(directory=reports, html=True), name="reports")
    return app


class GrowthopsUI(AirflowPlugin):
    name = "growthops"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": _reports_app(), "url_prefix": REPORTS_PREFIX, "name": "Ops reports"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Ops reports",
            "href": f"{REPORTS_PREFIX.lstrip('/')}/index.html",
            "destination": "nav",
            "category": "browse",
            "url_route": "growthops-reports",
        }
    ]
