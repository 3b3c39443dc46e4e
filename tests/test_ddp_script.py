"""A data-parallel run exported as a PyTorch DDP script (engine/ddp_script.py) must end
where the run ended: run the engine, export the script, run it with ``torchrun`` on 2
processes, and compare every step's losses, the parameters after every step (their
checksum) and the final parameters (the run's last checkpoint) with ``assert_close``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from torch.testing import assert_close

from engine import checkpoint
from engine.config import RunConfig
from engine.ddp_script import ScriptRefused, render, why_not
from engine.runner import run_headless
from engine.supervisor import RunSupervisor
from tests.helpers import steps_by_rank

TORCHRUN = Path(sys.executable).with_name("torchrun")


def run_engine(config: RunConfig, workdir: Path) -> tuple[list[dict], torch.Tensor]:
    """The run's events and its final parameters (a checkpoint after the last step)."""
    events: list[dict] = []
    sup = RunSupervisor(config, run_id=uuid.uuid4().hex[:12], on_events=events.extend,
                        workdir=workdir)
    sup.start()
    try:
        assert sup.wait(180), "the engine run did not finish"
    finally:
        if not sup.finished:
            sup.kill()
            sup.wait(10)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    ckpt, refused = checkpoint.load_latest(workdir / "checkpoints")
    assert ckpt is not None and not refused and ckpt.step == config.steps
    return events, ckpt.params


def run_script(text: str, workers: int, tmp: Path) -> dict:
    """Run the exported script with torchrun; what it saved with --out."""
    (tmp / "train.py").write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only torch needed
    done = subprocess.run(
        [str(TORCHRUN), "--standalone", "--nproc-per-node", str(workers), "train.py",
         "--out", "out.pt"], cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "final loss" in done.stdout and "param hash" in done.stdout, done.stdout
    return torch.load(tmp / "out.pt")


def check_same(config: RunConfig, tmp_path: Path, rtol: float, atol: float) -> None:
    events, params = run_engine(config, tmp_path / "engine")
    script = tmp_path / "script"
    script.mkdir()
    out = run_script(render(config, "test"), config.workers, script)
    by_rank = steps_by_rank(events)
    engine_losses = torch.tensor([[e["loss"] for e in by_rank[r]] for r in sorted(by_rank)],
                                 dtype=torch.float64).T  # steps × ranks
    assert_close(out["losses"], engine_losses, rtol=rtol, atol=atol)
    checksums = torch.tensor([e["param_checksum"] for e in by_rank[0]], dtype=torch.float64)
    assert_close(out["checksums"], checksums, rtol=rtol, atol=atol)
    assert_close(out["params"], params, rtol=rtol, atol=atol)
    assert out["final_loss"] == pytest.approx(events[-1]["summary"]["final_loss"],
                                              rel=rtol * 10, abs=1e-5)


def test_the_script_of_a_data_parallel_run_ends_where_the_run_ended(tmp_path: Path) -> None:
    config = RunConfig(strategy="data_parallel", workers=2, steps=20, batch_size=16, lr=0.5,
                       seed=7, dataset="moons", optimizer="momentum", checkpoint_every=20)
    check_same(config, tmp_path, rtol=1e-5, atol=1e-6)


def test_the_fp16_hook_reproduces_fp16_compression(tmp_path: Path) -> None:
    # DistLab all-gathers fp16 gradients and sums them in fp32; DDP's fp16 hook sums in
    # fp16: the same up to half-precision rounding.
    config = RunConfig(strategy="data_parallel", workers=2, steps=10, batch_size=16, lr=0.3,
                       seed=3, dataset="spirals", options={"compression": "fp16"},
                       checkpoint_every=10)
    check_same(config, tmp_path, rtol=2e-3, atol=1e-3)


def test_the_powersgd_hook_trains_like_distlabs_powersgd(tmp_path: Path) -> None:
    """PyTorch's PowerSGD is the same algorithm with its own random start and a plain
    first step: not the same numbers, but the same training (a misconfigured hook — no
    error feedback, a wrong rank — ends far off)."""
    config = RunConfig(strategy="data_parallel", workers=2, steps=120, batch_size=32, lr=0.6,
                       options={"compression": "powersgd", "powersgd_rank": 2})
    events = run_headless(config, timeout=180)
    assert events[-1]["status"] == "finished", events[-1]["error"]
    out = run_script(render(config), config.workers, tmp_path)
    engine_loss = events[-1]["summary"]["final_loss"]
    first = float(out["losses"][0].mean())
    assert out["final_loss"] < 0.75 * first, (first, out["final_loss"])  # it trained
    assert out["final_loss"] == pytest.approx(engine_loss, rel=0.25)


def test_compression_without_a_ddp_hook_is_refused_naming_the_option() -> None:
    config = RunConfig(strategy="data_parallel", workers=2, steps=5,
                       options={"compression": "qsgd"})
    with pytest.raises(ScriptRefused, match=r"options\.compression.*'qsgd'"):
        render(config)
    ps = RunConfig(strategy="parameter_server", workers=2, steps=5)
    assert why_not(ps) is not None and why_not(ps).startswith("strategy:")


def test_every_exportable_setting_renders_a_script_that_parses() -> None:
    """Transformer on text, Adam, PowerSGD: the script is valid Python holding the run's
    settings (running each is the tests' and the bench's job; this is the cheap check)."""
    configs = [
        RunConfig(strategy="data_parallel", workers=2, steps=3, model="transformer",
                  dataset="text-zh", optimizer="adam", lr=0.01, d_model=16, layers=1,
                  heads=2, context=8),
        RunConfig(strategy="data_parallel", workers=4, steps=3,
                  options={"compression": "powersgd", "powersgd_rank": 2}),
    ]
    for config in configs:
        text = render(config)
        ast.parse(text)
        assert f"--nproc-per-node {config.workers}" in text
    assert "class TinyGPT" in render(configs[0])
    assert "powerSGD_hook.powerSGD_hook" in render(configs[1])


def test_the_api_and_the_cli_hand_out_the_script_or_say_why_not(
        client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from engine.cli import main as cli
    from tests.test_api import wait_for_status

    made = {}
    for name, options in (("plain", {}), ("qsgd", {"compression": "qsgd"})):
        r = client.post("/api/runs", json={"strategy": "data_parallel", "workers": 2,
                                           "steps": 2, "batch_size": 8, "options": options})
        assert r.status_code == 201, r.text
        made[name] = r.json()["id"]
        wait_for_status(client, made[name], {"finished"})
    r = client.get(f"/api/runs/{made['plain']}/script")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/x-python")
    assert f'filename="distlab-{made["plain"]}-train.py"' in r.headers["content-disposition"]
    assert r.text == render(RunConfig.from_dict(client.get(
        f"/api/runs/{made['plain']}").json()["config"]), made["plain"])
    refused = client.get(f"/api/runs/{made['qsgd']}/script")
    assert refused.status_code == 409
    assert "options.compression" in refused.json()["detail"]
    assert client.get("/api/runs/0123456789ab/script").status_code == 404
    # the spec says where the browser offers it
    specs = {s["name"]: s for s in client.get("/api/strategies").json()}
    assert specs["data_parallel"]["ddp_script"] is True
    assert specs["parameter_server"]["ddp_script"] is False

    data_dir = str(client.app.state.settings.data_dir)
    client.app.state.manager.store.flush()
    out = tmp_path / "train.py"
    assert cli(["export", made["plain"], "--format", "script", "--data-dir", data_dir,
                "--out", str(out)]) == 0
    assert out.read_text() == r.text
    assert cli(["export", made["qsgd"], "--format", "script", "--data-dir", data_dir]) == 2
    assert "options.compression" in capsys.readouterr().err
