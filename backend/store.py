"""SQLite store of runs and their events: runs survive a server restart and can be replayed.

All writes go through one writer thread (SQLite allows one writer at a time), fed by a
queue, so the event loop never waits on a commit. Reads open their own connection; WAL
mode lets them run beside the writer. ``flush()`` waits until everything queued so far
is committed.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.config import migrate

LIVE_STATUSES = ("queued", "starting", "running", "paused")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    config TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    workers TEXT NOT NULL DEFAULT '[]',
    summary TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY,
    run_id TEXT,
    lesson TEXT,
    created_at REAL NOT NULL,
    updated REAL NOT NULL,
    compare_id TEXT
);
"""

Write = Callable[[sqlite3.Connection], None]


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "distlab.sqlite3"
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            # a data directory from before rooms had a comparison run
            columns = {r["name"] for r in db.execute("PRAGMA table_info(rooms)")}
            if "compare_id" not in columns:
                db.execute("ALTER TABLE rooms ADD COLUMN compare_id TEXT")
        self._writes: queue.Queue[Write | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, name="store-writer",
                                        daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.row_factory = sqlite3.Row
        return db

    # ------------------------------------------------------------------ writes
    def _write_loop(self) -> None:
        db = self._connect()
        while True:
            job = self._writes.get()
            jobs = [job]
            while not self._writes.empty() and len(jobs) < 1000:
                jobs.append(self._writes.get_nowait())
            for j in jobs:
                if j is not None:
                    j(db)
            db.commit()
            for _ in jobs:
                self._writes.task_done()
            if None in jobs:
                db.close()
                return

    def _submit(self, job: Write) -> None:
        self._writes.put(job)

    def create_run(self, run_id: str, config: dict[str, Any], status: str) -> float:
        created = time.time()
        self._submit(lambda db: db.execute(
            "INSERT INTO runs (id, created_at, status, config) VALUES (?, ?, ?, ?)",
            (run_id, created, status, json.dumps(config))))
        return created

    def update_run(self, run_id: str, **fields: Any) -> None:
        allowed = {"status", "step", "workers", "summary", "error", "finished_at"}
        assert set(fields) <= allowed, fields
        encoded = {k: json.dumps(v) if k in ("workers", "summary") else v
                   for k, v in fields.items()}
        sql = f"UPDATE runs SET {', '.join(f'{k} = ?' for k in encoded)} WHERE id = ?"
        self._submit(lambda db: db.execute(sql, (*encoded.values(), run_id)))

    def append_events(self, run_id: str, events: list[dict[str, Any]]) -> None:
        rows = [(run_id, e["seq"], e["type"], json.dumps(e)) for e in events]
        self._submit(lambda db: db.executemany(
            "INSERT OR IGNORE INTO events (run_id, seq, type, body) VALUES (?, ?, ?, ?)",
            rows))

    def save_room(self, room: dict[str, Any]) -> None:
        self._submit(lambda db: db.execute(
            "INSERT OR REPLACE INTO rooms (code, run_id, compare_id, lesson, created_at, updated) "
            "VALUES (:code, :run_id, :compare_id, :lesson, :created_at, :updated)", room))

    def delete_room(self, code: str) -> None:
        self._submit(lambda db: db.execute("DELETE FROM rooms WHERE code = ?", (code,)))

    def load_rooms(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM rooms ORDER BY created_at").fetchall()
        return [dict(r) for r in rows]

    def mark_interrupted(self) -> int:
        """Runs that were live when the server last stopped can never finish now."""
        with self._connect() as db:
            cur = db.execute(
                f"UPDATE runs SET status = 'interrupted', finished_at = ? "
                f"WHERE status IN ({', '.join('?' * len(LIVE_STATUSES))})",
                (time.time(), *LIVE_STATUSES))
            return cur.rowcount

    def flush(self) -> None:
        self._writes.join()

    def close(self) -> None:
        self._writes.put(None)
        self._writer.join(timeout=30)

    # ------------------------------------------------------------------- reads
    def get_run(self, run_id: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_row(row) if row else None

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY created_at DESC LIMIT ?",
                              (limit,)).fetchall()
        return [_run_row(r) for r in rows]

    def events_after(self, run_id: str, after: int, limit: int | None = None
                     ) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT body FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (run_id, after, -1 if limit is None else limit)).fetchall()
        return [_migrated_event(json.loads(r["body"])) for r in rows]


def _migrated_event(event: dict[str, Any]) -> dict[str, Any]:
    """Runs saved by an older version replay in today's shape (``engine.config.migrate``)."""
    if event.get("type") == "run_started" and "config" in event:
        event["config"] = migrate(event["config"])
    return event


def _run_row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "config": migrate(json.loads(row["config"])),
        "created_at": row["created_at"],
        "finished_at": row["finished_at"],
        "step": row["step"],
        "workers": json.loads(row["workers"]),
        "summary": json.loads(row["summary"]) if row["summary"] else None,
        "error": row["error"],
    }
