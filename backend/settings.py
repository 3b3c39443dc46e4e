"""Server settings, from ``DISTLAB_*`` environment variables or the CLI."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISTLAB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    """Where the SQLite store of runs and events lives."""
    max_active_runs: int = 4
    """Runs live at once; more wait in a queue (a 2-core machine cannot do more justice)."""
    max_active_workers: int = 24
    """Worker processes live at once, over all runs."""
    max_runs_per_student: int = 0
    """Runs one student (the anonymous id the page sends, ``X-Student-Id``) may have live at
    once; their next ones wait in the queue while another student's start at once. 0: no
    limit per student (a laptop; the Docker image for a class sets 2)."""
    max_queued_runs: int = 50
    """Runs that may wait for a place (beyond the limits above); more get HTTP 429."""
    max_body_bytes: int = 64 * 1024
    """Larger request bodies are refused with 413 before they are parsed."""
    instructor_key: str | None = None
    """Opens classroom rooms and controls any run. Unset: one is generated at start-up and
    printed (so a lecture-hall laptop works with `make serve` alone)."""
    max_rooms: int = 200
    """Rooms kept at once (oldest are dropped first)."""
    allowed_origins: str | None = None
    """Comma-separated origins (``https://lab.example.edu``) whose pages may open
    WebSockets and change things here, besides this server's own (backend/origins.py).
    Unset: any (a laptop)."""
    feed_window_batches: int = 2048
    """Event batches a live run keeps for its viewers (shared by all of them); a viewer
    further behind than that is closed with 1013 and resumes with ``?after=``."""
    keep_days: float | None = Field(None, gt=0)
    """Ended runs older than this many days are removed (backend/retention.py). Unset:
    kept whatever their age. Pinned runs, and each student's newest, are always kept."""
    keep_runs_per_student: int | None = Field(None, ge=1)
    """Each student (``X-Student-Id``; runs without one count as one student) keeps this
    many ended runs, newest first, besides pinned ones; older ones are removed."""
    keep_mb_per_student: float | None = Field(None, gt=0)
    """Each student's ended runs may take this many MB of the store (packed), newest
    first; older ones beyond it are removed."""
    min_free_mb: float = Field(0.0, ge=0)
    """New runs are refused (HTTP 507) while the disk of ``data_dir`` has less free than
    this; 0: only once a write has failed for want of space (backend/diskspace.py)."""
    ray_address: str | None = None
    """A Ray cluster (``ray://…`` or ``host:port`` of its head, or ``auto``) to run every
    run on, one actor and placement group per run (backend/cluster.py); the server's own
    run limits then give way to the cluster's room. Unset: runs are processes of this
    server. Needs ``pip install 'distlab[cluster]'``."""
