"""表7 measured (chapter 7): range vs hash mod n vs consistent hashing on the real GFS
store — 4 chunkservers + 1 spare, r = 2, 64 chunks of 16 samples; the spare joins at
epoch 2, chunkserver 1 is decommissioned at epoch 3 (scenario ``gfs-membership``).

What is reported is counted, not timed, so one run per policy is enough: the replicas
the master really copied between the chunkserver processes on the join and on the leave
(``gfs_rebalance``, each copy crc32-checked), the chunks whose servers changed, the
balance (replicas per server, max / mean) as written and after each change
(``gfs_balance``), and whether the scrub after each change found r verified replicas of
every chunk (``gfs_scrub``). The consistent-hashing row also runs with 8 and 128 virtual
nodes per server (Karger et al. 1997: more points, a more even ring).

Usage: .venv/bin/python -m bench.gfs_placement [--vnodes 32]
"""

from __future__ import annotations

import argparse

from engine.config import RunConfig
from engine.runner import run_headless


def measure(policy: str, vnodes: int) -> dict:
    events = run_headless(RunConfig(
        strategy="gfs", workers=5, steps=4, num_samples=1024,
        options={"replicas": 2, "chunk_samples": 16, "read_ms": 0, "placement": policy,
                 "vnodes": vnodes, "join_at": 2, "leave_at": 3}), timeout=300)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    of = {t: [e for e in events if e["type"] == t]
          for t in ("gfs_rebalance", "gfs_balance", "gfs_scrub", "gfs_epoch")}
    join, leave = of["gfs_rebalance"]
    ratio = {b["reason"]: b["ratio"] for b in of["gfs_balance"]}
    return {"join": join, "leave": leave, "ratio": ratio,
            "scrub": all(s["full"] for s in of["gfs_scrub"]),
            "once": all(e["exactly_once"] and e["equal"] for e in of["gfs_epoch"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vnodes", type=int, default=32)
    args = ap.parse_args()
    cases = [("range", args.vnodes), ("hash", args.vnodes), ("consistent", 8),
             ("consistent", args.vnodes), ("consistent", 128)]
    head = (f"{'policy':<20}{'join moved':>14}{'leave moved':>14}{'chunks j/l':>12}"
            f"{'bal written':>13}{'after join':>12}{'after leave':>13}  scrub  once")
    print(head)
    print("-" * len(head))
    for policy, vnodes in cases:
        m = measure(policy, vnodes)
        name = f"{policy} ({vnodes} vn)" if policy == "consistent" else policy
        j, lv = m["join"], m["leave"]
        print(f"{name:<20}{j['moved']:>7}/{j['total']} ={j['fraction']:>5.0%}"
              f"{lv['moved']:>7}/{lv['total']} ={lv['fraction']:>5.0%}"
              f"{j['chunks']:>6}/{lv['chunks']:<5}"
              f"{m['ratio']['written']:>13.3f}{m['ratio']['join']:>12.3f}"
              f"{m['ratio']['leave']:>13.3f}  {'ok' if m['scrub'] else 'BAD':>5}  "
              f"{'ok' if m['once'] else 'BAD':>4}")


if __name__ == "__main__":
    main()
