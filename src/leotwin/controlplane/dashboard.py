"""The web dashboard at ``/`` and the files it loads, all served by this server (no network)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException


def mount_dashboard(app: FastAPI) -> None:
    """The web dashboard at ``/`` (files in ``controlplane/dashboard``), MapLibre GL JS from the
    project's ``node_modules`` (npm, pinned in package-lock.json) at ``/vendor/``, and the
    Natural Earth countries (built from npm world-atlas) at ``/vendor/countries.geojson``.
    Every URL the page loads is on this server: it works with no network."""
    from fastapi.responses import FileResponse, HTMLResponse, Response

    from leotwin.data import countries_geojson_bytes

    here = Path(__file__).parent / "dashboard"
    assets = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse((here / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in assets:
            raise HTTPException(404, "no such file")
        return FileResponse(here / name, media_type=assets[name])

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> Response:
        if name == "countries.geojson":
            return Response(countries_geojson_bytes(), media_type="application/geo+json")
        kinds = {"maplibre-gl.js": "text/javascript", "maplibre-gl.css": "text/css"}
        if name not in kinds:
            raise HTTPException(404, "no such file")
        root = maplibre_dir()
        if root is None:
            raise HTTPException(503, "MapLibre GL JS is not installed: run `npm ci` in the "
                                     "leotwin checkout (or set LEOTWIN_NODE_MODULES)")
        return FileResponse(root / name, media_type=kinds[name])


def maplibre_dir() -> Path | None:
    """``node_modules/maplibre-gl/dist``: from $LEOTWIN_NODE_MODULES, else the checkout's."""
    import os

    candidates = [Path(os.environ["LEOTWIN_NODE_MODULES"])] if os.environ.get(
        "LEOTWIN_NODE_MODULES") else []
    candidates += [p / "node_modules" for p in Path(__file__).resolve().parents]
    for base in candidates:
        dist = base / "maplibre-gl" / "dist"
        if (dist / "maplibre-gl.js").is_file():
            return dist
    return None
