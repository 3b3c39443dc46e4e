"""Decentralized SGD on ring, torus and complete graphs against an all-reduce, IID and
skewed data: the loss after a fixed number of steps and the bytes each worker sends.

Every run: the MLP on the moons (4096 samples), 8 workers, batch 16 per worker, lr 0.2,
plain SGD, the same seed, at full speed. "all-reduce" is synchronous data parallelism (its data is
always IID: each worker's share of one global batch). The loss is measured at the end on
the *whole* data set (every class), for each worker's own replica (the mean over the
workers) and for the replicas' average — a worker's local loss on skewed data says little:
with one class it only has to say that class. The consensus distance is
(1/n)·Σ‖x_i − x̄‖² at the last step.

Bytes: a ring's gossip sends two models per worker per step whatever the number of
workers; a ring all-reduce sends 2(n − 1)/n of one model, which does not grow either —
what grows with n is its 2(n − 1) rounds of messages one after the other (the α term),
where a gossip step is one round with each neighbour at once.

Usage: .venv/bin/python -m bench.decentralized [--steps 300] [--workers 8]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch

from engine import checkpoint
from engine.config import RunConfig
from engine.data import dataset_for
from engine.model import load_flat, model_for
from engine.strategies.base import loss_of
from engine.supervisor import RunSupervisor

COMMON = dict(dataset="moons", num_samples=4096, batch_size=16, lr=0.2, seed=7, optimizer="sgd")


def run(workers: int, steps: int, strategy: str, options: dict) -> dict[str, float]:
    config = RunConfig(strategy=strategy, workers=workers, steps=steps, options=options,
                       checkpoint_every=steps, **COMMON)  # type: ignore[arg-type]
    log: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / "run"
        sup = RunSupervisor(config, run_id="bench", on_events=log.extend, workdir=workdir)
        sup.start()
        assert sup.wait(600), "the run did not end"
        assert log[-1]["status"] == "finished", log[-1]["error"]
        replicas = _final_models(workdir / "checkpoints", config)
    data = dataset_for(config)
    model = model_for(config, data.num_classes)

    def loss_at(flat: torch.Tensor) -> float:
        load_flat([p.data for p in model.parameters()], flat)
        with torch.no_grad():
            return float(loss_of(model(data.x), data.y))

    steps_ev = [e for e in log if e["type"] == "step"]
    final = [e for e in steps_ev if e["step"] == steps]
    return {"loss": statistics.mean(loss_at(x) for x in replicas),
            "loss_avg": loss_at(torch.stack(replicas).mean(dim=0)),
            "sent": statistics.mean(e["bytes_sent"] for e in steps_ev),
            "consensus": final[0].get("consensus", 0.0)}


def _final_models(directory: Path, config: RunConfig) -> list[torch.Tensor]:
    """Every worker's model at the end (replicas: the one the leader saved)."""
    if config.spec.replicas:
        ckpt, refused = checkpoint.load_latest(directory)
        assert ckpt is not None and not refused
        return [ckpt.params]
    step, files, refused = checkpoint.load_latest_parts(directory, config.workers)
    assert step == config.steps and not refused
    return [checkpoint.load(directory / f["file"], f["sha256"], step).params
            for f in files.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    print(f"{'graph':>12} {'data':>10} {'loss':>8} {'avg model':>10} {'consensus':>10} "
          f"{'B sent/step':>12}   ({args.workers} workers, {args.steps} steps; loss on all "
          "the data)")
    cases = [("all-reduce", "iid", "data_parallel", {})]
    for graph in ("ring", "torus", "complete"):
        for split in ("iid", "dirichlet", "one_class"):
            cases.append((graph, split, "decentralized",
                          {"graph": graph, "data_split": split, "dirichlet_alpha": 0.3}))
    for name, split, strategy, options in cases:
        r = run(args.workers, args.steps, strategy, options)
        label = "Dir(0.3)" if split == "dirichlet" else split
        print(f"{name:>12} {label:>10} {r['loss']:>8.4f} {r['loss_avg']:>10.4f} "
              f"{r['consensus']:>10.2e} {r['sent']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
