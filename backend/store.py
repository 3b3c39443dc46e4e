"""SQLite store of runs and their events: runs survive a server restart and can be replayed.

All writes go through one writer thread (SQLite allows one writer at a time), fed by a
queue, so the event loop never waits on a commit. Reads open their own connection; WAL
mode lets them run beside the writer. ``flush()`` waits until everything queued so far
is committed.

An ended run's events are packed into compressed segments (``pack_run``,
backend/eventpack.py); ``events_after`` reads packed and unpacked runs alike. A write the
disk refuses (full) does not stop the writer: what fits is kept, the rest is reported
(``write_failure``, ``on_write_failed``) so that the server can end the run it belonged
to and refuse new ones (backend/diskspace.py); a run's status update is retried with the
next write, once space is back.
"""

from __future__ import annotations

import json
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend import eventpack
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
    error TEXT,
    student TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_segments (
    run_id TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (run_id, first_seq)
);
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
# Columns added since the first version, for data directories made before them.
_ADDED_COLUMNS = {"rooms": {"compare_id": "TEXT"},
                  "runs": {"student": "TEXT", "pinned": "INTEGER NOT NULL DEFAULT 0",
                           "stored_bytes": "INTEGER"}}
_DISK_ERRORS = (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


@dataclass(frozen=True)
class _Job:
    write: Write
    run_id: str | None = None
    retry: bool = False  # a run's status: tried again with the next write if it fails


@dataclass(frozen=True)
class WriteFailure:
    """The last write the store could not make."""

    message: str
    at: float
    disk: bool  # the disk refused it (full, or an I/O error), not a bug
    free_bytes: int  # free on the store's disk just after


class Store:
    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.path = data_dir / "distlab.sqlite3"
        self.write_failure: WriteFailure | None = None
        self.on_write_failed: Callable[[str | None, WriteFailure], None] | None = None
        self._retries: dict[str, _Job] = {}  # writer thread only
        self._closed = False
        with self._connect() as db:
            # A new file gives deleted runs' pages back to the disk (retention); it must be
            # said before the first table exists (an older file keeps reusing them).
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            for table, added in _ADDED_COLUMNS.items():
                columns = {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}
                for name, kind in added.items():
                    if name not in columns:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self._writes: queue.Queue[_Job | None] = queue.Queue()
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
            # status updates that failed before go first: a newer one in this batch wins
            retries = list(self._retries.values())
            self._commit(db, retries + [j for j in jobs if j is not None])
            for _ in jobs:
                self._writes.task_done()
            if None in jobs:
                db.close()
                return

    def _commit(self, db: sqlite3.Connection, jobs: list[_Job]) -> None:
        """All of ``jobs`` in one transaction; if that fails, one by one, so that what
        fits is kept and each one that does not is reported for its run."""
        try:
            for job in jobs:
                job.write(db)
            db.commit()
            for job in jobs:
                if job.retry and job.run_id is not None:
                    self._retries.pop(job.run_id, None)
            return
        except Exception:  # any failed write: the writer must go on
            db.rollback()
        for job in jobs:
            try:
                job.write(db)
                db.commit()
                if job.run_id is not None and job.retry:
                    self._retries.pop(job.run_id, None)
            except Exception as exc:
                db.rollback()
                self._failed(job, exc)

    def _failed(self, job: _Job, exc: Exception) -> None:
        disk = getattr(exc, "sqlite_errorcode", None) in _DISK_ERRORS or isinstance(
            exc, OSError)
        self.write_failure = failure = WriteFailure(
            message=f"{type(exc).__name__}: {exc}", at=time.time(), disk=disk,
            free_bytes=shutil.disk_usage(self.data_dir).free)
        if job.retry and job.run_id is not None:
            self._retries[job.run_id] = job
        if self.on_write_failed is not None:
            self.on_write_failed(job.run_id, failure)

    def _submit(self, write: Write, run_id: str | None = None, retry: bool = False) -> None:
        if self._closed:  # e.g. a run ending as the server goes down: nobody would write it
            return
        self._writes.put(_Job(write, run_id, retry))

    def create_run(self, run_id: str, config: dict[str, Any], status: str,
                   student: str | None = None) -> float:
        created = time.time()
        self._submit(lambda db: db.execute(
            "INSERT INTO runs (id, created_at, status, config, student) VALUES (?, ?, ?, ?, ?)",
            (run_id, created, status, json.dumps(config), student)), run_id)
        return created

    def update_run(self, run_id: str, **fields: Any) -> None:
        allowed = {"status", "step", "workers", "summary", "error", "finished_at"}
        assert set(fields) <= allowed, fields
        encoded = {k: json.dumps(v) if k in ("workers", "summary") else v
                   for k, v in fields.items()}
        sql = f"UPDATE runs SET {', '.join(f'{k} = ?' for k in encoded)} WHERE id = ?"
        self._submit(lambda db: db.execute(sql, (*encoded.values(), run_id)), run_id,
                     retry=True)

    def append_events(self, run_id: str, events: list[dict[str, Any]]) -> None:
        rows = [(run_id, e["seq"], e["type"], json.dumps(e)) for e in events]
        self._submit(lambda db: db.executemany(
            "INSERT OR IGNORE INTO events (run_id, seq, type, body) VALUES (?, ?, ?, ?)",
            rows), run_id)

    def pack_run(self, run_id: str) -> tuple[int, int]:
        """Pack an ended run's events into compressed segments (backend/eventpack.py), in
        one transaction: a reader sees the run whole, before or after. Call it once
        nothing more is written for the run (after ``flush``). Returns the bytes its
        events took before and take now."""
        with self._connect() as db:
            rows = db.execute("SELECT seq, body FROM events WHERE run_id = ? ORDER BY seq",
                              (run_id,)).fetchall()
            before = _stored_bytes(db, run_id)
        if not rows:
            return before, before
        # compressed here, in the caller's thread: the writer only swaps rows for segments
        segments = [(run_id, *s) for s in eventpack.pack((r["seq"], r["body"]) for r in rows)]
        last = rows[-1]["seq"]

        def swap(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO event_segments (run_id, first_seq, "
                           "last_seq, data) VALUES (?, ?, ?, ?)", segments)
            db.execute("DELETE FROM events WHERE run_id = ? AND seq <= ?", (run_id, last))
            db.execute("UPDATE runs SET stored_bytes = ? WHERE id = ?",
                       (_stored_bytes(db, run_id), run_id))
        self._submit(swap, run_id)
        self.flush()
        with self._connect() as db:
            return before, _stored_bytes(db, run_id)

    def unpacked_ended_runs(self) -> list[str]:
        """Ended runs whose events are not (all) packed yet: e.g. the server stopped first."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT id FROM runs WHERE status NOT IN ({', '.join('?' * len(LIVE_STATUSES))})"
                " AND EXISTS (SELECT 1 FROM events WHERE run_id = runs.id) ORDER BY created_at",
                LIVE_STATUSES).fetchall()
        return [r["id"] for r in rows]

    def unsaved(self, run_id: str) -> bool:
        """Whether the run's latest status is still waiting for space to be written."""
        return run_id in self._retries

    def set_pinned(self, run_id: str, pinned: bool) -> None:
        self._submit(lambda db: db.execute("UPDATE runs SET pinned = ? WHERE id = ?",
                                           (int(pinned), run_id)), run_id)
        self.flush()

    def delete_runs(self, run_ids: list[str]) -> None:
        """Remove runs with their events (retention), and give their pages to the disk."""
        if not run_ids:
            return
        ids = [(i,) for i in run_ids]

        def delete(db: sqlite3.Connection) -> None:
            for table, key in (("events", "run_id"), ("event_segments", "run_id"),
                               ("runs", "id")):
                db.executemany(f"DELETE FROM {table} WHERE {key} = ?", ids)
        self._submit(delete)
        self._submit(lambda db: db.execute("PRAGMA incremental_vacuum").fetchall())
        self.flush()
        for run_id in run_ids:  # checkpoints a run wrote (RunManager's workdir)
            shutil.rmtree(self.data_dir / "runs" / run_id, ignore_errors=True)

    def retention_rows(self) -> list[dict[str, Any]]:
        """What retention weighs, newest first: every run, its student, pin and size, and
        whether an open classroom room shows it."""
        live = ", ".join("?" * len(LIVE_STATUSES))
        with self._connect() as db:
            # Packed runs know their size; an ended one not yet packed is measured; a live
            # one is not (the run list asks every 10 s: no scan of a growing log).
            rows = db.execute(
                "SELECT id, status, student, pinned, created_at, finished_at, "
                f"CASE WHEN status IN ({live}) THEN 0 ELSE COALESCE(stored_bytes, "
                "(SELECT COALESCE(SUM(LENGTH(body)), 0) FROM events WHERE run_id = runs.id)) "
                "END AS bytes FROM runs ORDER BY created_at DESC", LIVE_STATUSES).fetchall()
            rooms = db.execute("SELECT run_id, compare_id FROM rooms").fetchall()
        shown = {r for room in rooms for r in room if r}
        return [{**dict(r), "pinned": bool(r["pinned"]), "in_room": r["id"] in shown,
                 "live": r["status"] in LIVE_STATUSES} for r in rows]

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
        self._closed = True
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
            return read_events(db, run_id, after, limit)


def read_events(db: sqlite3.Connection, run_id: str, after: int = 0,
                limit: int | None = None) -> list[dict[str, Any]]:
    """A run's events with ``seq > after``, in order, packed or not: only the segments
    that hold some of them are decompressed. ``db``: any connection to the store, read-only
    too (``distlab export``)."""
    want = -1 if limit is None else limit
    events: list[dict[str, Any]] = []
    db.execute("BEGIN")  # one snapshot: a run being packed is seen whole
    try:
        segments = db.execute(
            "SELECT data FROM event_segments WHERE run_id = ? AND last_seq > ? "
            "ORDER BY first_seq", (run_id, after))
        for (data,) in segments:
            if 0 <= want <= len(events):
                break
            events.extend(e for e in map(json.loads, eventpack.unpack(data))
                          if e["seq"] > after)
        rows = db.execute(
            "SELECT body FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (run_id, after, want)).fetchall()
    finally:
        db.rollback()
    events.extend(json.loads(body) for (body,) in rows)
    events.sort(key=lambda e: e["seq"])
    return [_migrated_event(e) for e in (events if want < 0 else events[:want])]


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
        "pinned": bool(row["pinned"]),
    }


def _stored_bytes(db: sqlite3.Connection, run_id: str) -> int:
    """What a run's events take in the store (JSON rows and packed segments)."""
    row = db.execute(
        "SELECT (SELECT COALESCE(SUM(LENGTH(body)), 0) FROM events WHERE run_id = ?) + "
        "(SELECT COALESCE(SUM(LENGTH(data)), 0) FROM event_segments WHERE run_id = ?)",
        (run_id, run_id)).fetchone()
    return int(row[0])
