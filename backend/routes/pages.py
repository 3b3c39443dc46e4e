from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from backend import __version__
from frontend import TEMPLATES_DIR

router = APIRouter(tags=["pages"])
templates = Jinja2Templates(directory=TEMPLATES_DIR)


def _plotly_js() -> Path | None:
    """Plotly.js as shipped inside the plotly Python package: no CDN, works offline."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"version": __version__})


@router.get("/calculator", response_class=HTMLResponse, include_in_schema=False)
def calculator(request: Request) -> HTMLResponse:
    """Memory per GPU, bubble and traffic for real models (engine/calculator.py)."""
    return templates.TemplateResponse(request, "calculator.html", {"version": __version__})


@router.get("/vendor/plotly.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    path = _plotly_js()
    if path is None:
        raise HTTPException(status_code=500, detail="the plotly package is not installed")
    return FileResponse(path, media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})
