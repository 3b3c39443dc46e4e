"""Live ticks go on the wire packed in columns (backend/tickpack.py): the same events,
every one, in the same order — only fewer bytes for a lecture hall of viewers."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import torch

from backend import tickpack
from backend.hub import deflate, inflate
from engine.config import RunConfig
from engine.model import boundary_grid, build_model
from engine.runner import run_headless

FIXTURE = Path(__file__).parent / "js" / "fixtures" / "packed-tick.json"


def _over_the_wire(events: list[dict]) -> list[dict]:
    """Packed, JSON-encoded, deflated, then read back as a client does."""
    text = json.dumps(tickpack.pack(events), separators=(",", ":"))
    return tickpack.unpack(json.loads(inflate(deflate(text))))


def _ticks(log: list[dict], seconds: float = 0.05) -> list[list[dict]]:
    """The run's events cut into ticks as the hub gathers them (by their time)."""
    ticks: list[list[dict]] = [[]]
    start = log[0]["t"]
    for event in log:
        if event["t"] - start >= seconds and ticks[-1]:
            ticks.append([])
            start = event["t"]
        ticks[-1].append(event)
    return ticks


def test_a_real_runs_ticks_come_back_exactly_and_smaller() -> None:
    config = RunConfig(workers=4, steps=12, pace=20.0, detail=True, network="10gbe",
                       options={"allreduce": "ring"})
    log = [{**e, "run_id": "0123456789ab"} for e in run_headless(config, timeout=120)]
    plain = packed = 0
    for tick in _ticks(log):
        assert _over_the_wire(tick) == tick
        plain += len(deflate(json.dumps(tick, separators=(",", ":"))))
        packed += len(deflate(json.dumps(tickpack.pack(tick), separators=(",", ":"))))
    assert {e["type"] for e in log} >= {"comm", "step", "boundary", "run_finished"}
    assert packed < plain, (packed, plain)  # bench/wire.py measures by how much


def test_random_ticks_come_back_exactly() -> None:
    rng = random.Random(11)
    for _ in range(300):
        seq, t, events = rng.randint(1, 10_000), rng.uniform(0, 1e4), []
        for _ in range(rng.randint(1, 40)):
            seq += rng.randint(1, 3)
            t += rng.choice([0.0, rng.uniform(0, 0.02)])
            event = {"type": rng.choice(["comm", "step", "boundary", "control"]),
                     "t": rng.choice([round(t, 6), t, int(t), None]), "seq": seq,
                     "rank": rng.choice([0, 1, None]), "run_id": "abcdefabcdef"}
            if rng.random() < 0.3:  # events of a type do not all have the same keys
                event["extra"] = rng.choice([[1, 2], {"a": None}, "x", 1.5, True])
            if rng.random() < 0.2:
                event["t_start"] = round(rng.uniform(0, 1e4), 6)
            events.append(event)
        assert _over_the_wire(events) == events


def test_ticks_that_cannot_be_packed_go_as_they_are() -> None:
    a = {"type": "step", "t": 1.0, "seq": 5, "run_id": "aaaaaaaaaaaa"}
    b = {"type": "step", "t": 1.1, "seq": 6, "run_id": "aaaaaaaaaaaa"}
    for tick in ([], [a, {**b, "seq": 5}], [b, a], [a, {**b, "run_id": "bbbbbbbbbbbb"}],
                 [a, {k: v for k, v in b.items() if k != "seq"}], [{**a, "seq": True}],
                 [{k: v for k, v in a.items() if k != "run_id"}]):
        assert tickpack.pack(tick) == tick
        assert tickpack.unpack(tickpack.pack(tick)) == tick


def test_the_browsers_fixture_is_what_the_server_packs() -> None:
    """tests/js/wire.test.mjs unpacks this packed tick and must get these events: the
    fixture is checked here against the packer, so the two cannot drift apart."""
    fixture = json.loads(FIXTURE.read_text())
    assert tickpack.pack(fixture["events"]) == fixture["packed"]
    assert tickpack.unpack(fixture["packed"]) == fixture["events"]
    # The keys named by number are the page's (wire.test.mjs checks its KEYS against
    # this list), and a key outside them goes by its name (the control event's).
    assert fixture["keys"] == list(tickpack.KEYS)
    assert len(set(tickpack.KEYS)) == len(tickpack.KEYS)
    keys = [k for group in fixture["packed"]["groups"] for k in group["keys"]]
    assert {"action", "pace"} <= set(keys) and tickpack.KEYS.index("duration_ms") in keys


def test_a_boundary_frame_decodes_to_the_models_probabilities() -> None:
    model = build_model("mlp", hidden=16, seed=0)
    grid = boundary_grid(model, (-2.0, 2.0, -1.5, 1.5), n=12)
    coded = base64.b64decode(grid["d8"])
    assert len(coded) == grid["nx"] * grid["ny"] == 144
    cells = []
    for k, byte in enumerate(coded):  # as views/boundary.js decodes it
        cells.append(byte if k % grid["nx"] == 0 else (cells[-1] + byte) % 256)
    xs = torch.linspace(-2.0, 2.0, 12)
    ys = torch.linspace(-1.5, 1.5, 12)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    with torch.no_grad():
        probs = torch.softmax(model(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)), 1)[:, 1]
    assert cells == (probs * 255).round().to(torch.int64).tolist()
