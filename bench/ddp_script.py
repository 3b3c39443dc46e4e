"""表5: the same data-parallel job on DistLab's engine and as the exported PyTorch DDP script.

For each config: the engine run (run_headless, full speed) and its exported script
(engine/ddp_script.py, run with ``torchrun --standalone``), alternated ``--repeats`` times
so that both see the same load on a shared machine. Reported per side: the median steps/s
(steps after the first, per second of training, both measured the same way: from the end
of step 1 to the end of the last step) and the final loss (mean of the ranks' last
losses), plus whether the final parameters hash the same.

What the ratio compares: the engine's loop (per-step events, pacing and control checks,
one flat all-reduce after backward; with fp16, a hand-written ring all-gather of the
encoded gradients) against DDP's (its reducer's autograd hooks and bucketed all-reduce
overlapped with backward; fp16 all-reduced as a comm hook). On a model this small both
are mostly per-step overhead, so the ratio says little about large models.

Usage: .venv/bin/python bench/ddp_script.py [--steps 300] [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from engine.config import RunConfig
from engine.ddp_script import render
from engine.runner import run_headless

TORCHRUN = Path(sys.executable).with_name("torchrun")


def engine_side(config: RunConfig) -> tuple[float, float, str]:
    events = run_headless(config, timeout=600)
    end = events[-1]
    assert end["status"] == "finished", end["error"]
    lead = [e for e in events if e["type"] == "step" and e["rank"] == 0]
    rate = (len(lead) - 1) / (lead[-1]["t"] - lead[0]["t"])
    return rate, end["summary"]["final_loss"], lead[-1]["param_hash"]


def script_side(config: RunConfig, folder: Path) -> tuple[float, float, str]:
    (folder / "train.py").write_text(render(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(TORCHRUN), "--standalone", "--nproc-per-node",
                           str(config.workers), "train.py"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"torchrun failed ({done.returncode}):\n{done.stdout[-2000:]}"
                           f"\n{done.stderr[-4000:]}")
    found = re.search(r"final loss ([\d.]+)\s+param hash (\w+)\s+([\d.]+) steps/s",
                      done.stdout)
    assert found, done.stdout + done.stderr
    return float(found[3]), float(found[1]), found[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    configs = {
        "sgd": RunConfig(strategy="data_parallel", workers=args.workers, steps=args.steps,
                         batch_size=32, lr=0.6, pace=None),
        "fp16": RunConfig(strategy="data_parallel", workers=args.workers, steps=args.steps,
                          batch_size=32, lr=0.6, pace=None, options={"compression": "fp16"}),
    }
    print(f"# {platform.node()} · {os.cpu_count()} CPUs · {args.workers} workers · "
          f"{args.steps} steps · median of {args.repeats}")
    print(f"{'config':6} {'engine steps/s':>15} {'DDP steps/s':>12} {'DDP/engine':>11} "
          f"{'engine loss':>12} {'DDP loss':>10} {'same hash':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, config in configs.items():
            engine, script = [], []
            for _ in range(args.repeats):
                engine.append(engine_side(config))
                script.append(script_side(config, Path(tmp)))
            e_rate = statistics.median(r for r, _, _ in engine)
            s_rate = statistics.median(r for r, _, _ in script)
            print(f"{name:6} {e_rate:15.1f} {s_rate:12.1f} {s_rate / e_rate:11.2f} "
                  f"{engine[-1][1]:12.6f} {script[-1][1]:10.6f} "
                  f"{engine[-1][2] == script[-1][2]!s:>10}")


if __name__ == "__main__":
    main()
