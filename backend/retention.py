"""How long the store keeps runs — a semester's class in a bounded disk.

A class of 100 students × 20 runs would otherwise only grow. The policy, from settings
(``DISTLAB_KEEP_DAYS``, ``DISTLAB_KEEP_RUNS_PER_STUDENT``, ``DISTLAB_KEEP_MB_PER_STUDENT``;
unset: keep everything), removes *ended* runs, oldest first:

- older than ``days`` (since they ended),
- beyond a student's newest ``runs`` runs,
- beyond ``mb`` of a student's runs in the store, counted from their newest.

Never removed: runs an instructor pinned (``PUT /api/runs/{id}/pin``), runs an open
classroom room shows, a student's newest run (so that everyone can look at what they just
ran) and live runs. Pinned runs do not count towards a student's runs or MB. A "student"
is the anonymous id the page sends (``X-Student-Id``); runs started without one (the CLI,
scripts) share one allowance.

The ``Keeper`` packs a run's events when it ends (backend/eventpack.py) and then applies
the policy; at start it applies it once and packs what an earlier server left unpacked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from backend.settings import Settings
from backend.store import Store

DAY = 86_400.0
MB = 1024 * 1024
log = logging.getLogger("distlab.retention")


@dataclass(frozen=True)
class Policy:
    days: float | None = None
    runs: int | None = None
    mb: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(settings.keep_days, settings.keep_runs_per_student,
                   settings.keep_mb_per_student)

    @property
    def keeps_all(self) -> bool:
        return self.days is None and self.runs is None and self.mb is None

    def words(self) -> str:
        """The policy in one English sentence (the page says it from ``limits``)."""
        if self.keeps_all:
            return "runs are kept until someone deletes them"
        parts = ([f"for {self.days:g} days after they end"] if self.days else []) + (
            [f"each student's newest {self.runs} runs"] if self.runs else []) + (
            [f"{self.mb:g} MB per student"] if self.mb else [])
        return (f"runs are kept {', '.join(parts)}; pinned runs and each student's newest "
                "run are always kept")

    def limits(self) -> dict[str, Any]:
        return {"days": self.days, "runs": self.runs, "mb": self.mb}


def plan(policy: Policy, rows: list[dict[str, Any]], now: float) -> dict[str, dict[str, Any]]:
    """Each run's fate under the policy: its public ``retention`` object plus ``remove``.

    ``rows``: ``Store.retention_rows()`` (newest first). ``runs_left``: how many more runs
    of the same student until this one goes; ``mb_left``: how many MB more of theirs.
    """
    verdicts: dict[str, dict[str, Any]] = {}
    by_student: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_student[row["student"]].append(row)
    for runs in by_student.values():
        counted, total = 0, 0
        newest_ended = next((r["id"] for r in runs if not r["live"]), None)
        for row in runs:
            verdict: dict[str, Any] = {"policy": policy.words(), "limits": policy.limits(),
                                       "kept": None, "expires_at": None, "runs_left": None,
                                       "mb_left": None, "remove": False}
            verdicts[row["id"]] = verdict
            if row["pinned"] or row["in_room"] or row["live"] or policy.keeps_all:
                verdict["kept"] = ("pinned" if row["pinned"] else "room" if row["in_room"]
                                   else "live" if row["live"] else "all")
                continue
            total += row["bytes"] or 0
            ended = row["finished_at"] or row["created_at"]
            over = []
            if policy.days is not None:
                verdict["expires_at"] = ended + policy.days * DAY
                over += ["age"] if now >= verdict["expires_at"] else []
            if policy.runs is not None:
                verdict["runs_left"] = policy.runs - counted
                over += ["count"] if counted >= policy.runs else []
            if policy.mb is not None:
                verdict["mb_left"] = round(policy.mb - total / MB, 3)
                over += ["size"] if total > policy.mb * MB else []
            counted += 1
            if row["id"] == newest_ended:
                verdict["kept"] = "newest"  # until the student's next run ends
            elif over:
                verdict["remove"], verdict["reason"] = True, over[0]
    return verdicts


class Keeper:
    """Packs each ended run and applies the retention policy (one at a time: a run being
    packed is never removed beneath the packer)."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.policy = Policy.from_settings(settings)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._backlog: threading.Thread | None = None

    def start(self) -> list[str]:
        """At server start: apply the policy now; pack leftovers in the background (a store
        from before packing may hold many)."""
        removed = self.apply()
        self._backlog = threading.Thread(target=self._pack_backlog, name="store-packer",
                                         daemon=True)
        self._backlog.start()
        return removed

    def _pack_backlog(self) -> None:
        for run_id in self.store.unpacked_ended_runs():
            if self._stopping.is_set():
                return
            with self._lock:
                self.store.pack_run(run_id)

    def run_ended(self, run_id: str) -> list[str]:
        """A run has ended and everything it wrote is flushed: pack it, apply the policy."""
        if self._stopping.is_set():
            return []
        with self._lock:
            try:
                self.store.pack_run(run_id)
            except Exception:  # a run that cannot be packed stays readable as rows
                log.exception("could not pack run %s", run_id)
        return self.apply()

    def apply(self, now: float | None = None) -> list[str]:
        """Remove the runs the policy lets go; returns their ids."""
        if self.policy.keeps_all or self._stopping.is_set():
            return []
        with self._lock:
            verdicts = plan(self.policy, self.store.retention_rows(), now or time.time())
            gone = [run_id for run_id, v in verdicts.items() if v["remove"]]
            self.store.delete_runs(gone)
        if gone:
            log.info("retention removed %d runs: %s", len(gone), ", ".join(gone))
        return gone

    def annotate(self, runs: list[dict[str, Any]], now: float | None = None
                 ) -> list[dict[str, Any]]:
        """The run list's entries with their ``pinned`` and ``retention``."""
        verdicts = plan(self.policy, self.store.retention_rows(), now or time.time())
        out = []
        for run in runs:
            verdict = verdicts.get(run["id"])
            retention = None if verdict is None else {
                k: v for k, v in verdict.items() if k not in ("remove", "reason")}
            out.append({**run, "pinned": verdict is not None and retention["kept"] == "pinned",
                        "retention": retention})
        return out

    def close(self) -> None:
        self._stopping.set()
        if self._backlog is not None:
            self._backlog.join(timeout=30)
