"""DistLab browser frontend: a Jinja2 page plus static ES modules (no build step)."""

from pathlib import Path

FRONTEND_DIR = Path(__file__).parent
TEMPLATES_DIR = FRONTEND_DIR / "templates"
STATIC_DIR = FRONTEND_DIR / "static"
LESSONS_DIR = FRONTEND_DIR / "lessons"
