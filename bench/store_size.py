"""What one run adds to the store, before and after it is packed (backend/eventpack.py).

A real run (default: the engine's default config, 4 workers × 200 steps; ``--detail`` adds
one event per message, as the page's animation asks) is written to a fresh store the way
the server writes it, then packed. Measured side by side for the same run: the events'
bytes, the SQLite file on disk (after a checkpoint and VACUUM, so that free pages do not
count), and the time to read every event back (a replay).

    .venv/bin/python -m bench.store_size [--workers 4] [--steps 200] [--detail]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from backend.store import Store
from engine.config import RunConfig
from engine.runner import run_headless


def file_bytes(store: Store) -> int:
    store.flush()
    db = sqlite3.connect(store.path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return sum(p.stat().st_size for p in store.path.parent.glob("distlab.sqlite3*"))


def read_s(store: Store, run_id: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        store.events_after(run_id, 0)
    return (time.perf_counter() - start) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--detail", action="store_true")
    args = ap.parse_args()
    config = RunConfig(workers=args.workers, steps=args.steps, detail=args.detail)
    events = run_headless(config, timeout=600)
    run_id = events[0]["run_id"]
    with tempfile.TemporaryDirectory() as tmp:
        empty = Store(Path(tmp) / "empty")
        base = file_bytes(empty)  # the schema's pages: paid once per store, not per run
        empty.close()
        store = Store(Path(tmp))
        store.create_run(run_id, config.to_dict(), "running")
        store.append_events(run_id, events)
        store.update_run(run_id, status="finished")
        disk_before = file_bytes(store)
        read_before = read_s(store, run_id, 5)
        start = time.perf_counter()
        before, after = store.pack_run(run_id)
        pack_s = time.perf_counter() - start
        disk_after = file_bytes(store)
        read_after = read_s(store, run_id, 5)
        assert store.events_after(run_id, 0) == events  # nothing lost
        store.close()
    print(f"{args.workers} workers × {args.steps} steps{' (detail)' if args.detail else ''}: "
          f"{len(events)} events")
    print(f"{'':18}{'unpacked':>12}{'packed':>12}{'ratio':>8}")
    print(f"{'event bytes':18}{before:>12,}{after:>12,}{before / after:>8.1f}")
    print(f"{'sqlite file bytes':18}{disk_before:>12,}{disk_after:>12,}"
          f"{disk_before / disk_after:>8.1f}")
    grew_before, grew_after = disk_before - base, disk_after - base
    print(f"{'  minus empty store':18}{grew_before:>12,}{grew_after:>12,}"
          f"{grew_before / grew_after:>8.1f}")
    print(f"{'replay read (ms)':18}{read_before * 1e3:>12.1f}{read_after * 1e3:>12.1f}"
          f"{read_after / read_before:>8.2f}")
    print(f"packing took {pack_s * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
