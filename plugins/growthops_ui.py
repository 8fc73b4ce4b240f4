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


def _reports_app() -> Any:
    """The reports folder over HTTP, for signed-in users only: a route (a mounted StaticFiles
    app would skip the app's dependencies, so anyone could read them: a test caught it)."""
    from airflow.api_fastapi.core_api.security import requires_authenticated
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse

    reports = settings().reports_dir
    app = FastAPI(title="growthops reports")

    @app.get("/{path:path}", dependencies=[Depends(requires_authenticated())])
    def report_file(path: str) -> FileResponse:
        root = reports.resolve()
        target = (root / (path or "index.html")).resolve()
        # inside the reports folder, a regular file: no traversal, no link followed out
        if not target.is_relative_to(root) or not target.is_file() or target.is_symlink():
            raise HTTPException(status_code=404, detail="no such report")
        return FileResponse(target, media_type="text/html" if target.suffix == ".html" else None)

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
