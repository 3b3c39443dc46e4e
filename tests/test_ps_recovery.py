"""Parameter-server crash recovery: checkpoint + update-log replay rebuilds the exact state."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine import checkpoint, updatelog
from tests.helpers import steps_by_rank, wait_all_dead, worker_pids
from tests.test_faults import Run


def _ps_run(options: dict[str, object], **extra: object) -> Run:
    config = {"strategy": "parameter_server", "options": options, "workers": 2, "steps": 30,
              "batch_size": 8, "pace": 20.0, "checkpoint_every": 5, "seed": 3, **extra}
    return Run(**config)


def _last_before(run: Run, seq: int, server: int) -> dict:
    return [u for u in run.of("ps_update") if u["seq"] < seq and u["rank"] == server][-1]


def test_a_killed_server_is_rebuilt_exactly_and_training_ends_where_it_would_have() -> None:
    run = _ps_run({"ps_mode": "sync"}, recovery="restart",
                  faults=[{"after_step": 12, "action": "kill", "rank": 0}])
    final = run.finish(timeout=90)
    assert final["status"] == "finished", final
    [failed] = run.of("worker_failed")
    assert failed["rank"] == 0 and failed["cause"] == {"code": "signal", "signal": "SIGKILL"}
    [recovery] = run.of("recovery")
    [restored] = run.of("server_restored")
    before = _last_before(run, recovery["seq"], server=0)
    # The same run without the crash; sync is deterministic, so its server's state at
    # every version is the reference for the rebuilt one.
    unbroken = _ps_run({"ps_mode": "sync"})
    assert unbroken.finish(timeout=90)["status"] == "finished"
    reference = {u["version"]: u["param_checksum"] for u in unbroken.of("ps_update")}
    # Checkpoint + log = the state before the crash, to the bit. The rebuilt server may be
    # ahead of the last version its events showed: an update logged and applied just before
    # the kill may not have been reported (events leave a process in 10 ms batches, later on
    # a loaded machine, and a SIGKILL loses the batch). It is never behind, and whatever
    # version it rebuilds is exactly that version of the uncrashed run.
    assert restored["version"] >= before["version"], (restored, before)
    torch.testing.assert_close(restored["param_checksum"], reference[restored["version"]],
                               rtol=0, atol=1e-9)
    assert restored["checkpoint_version"] == restored["version"] // 5 * 5
    assert restored["replayed"] == restored["version"] - restored["checkpoint_version"]
    assert restored["torn_tail"] is False

    # Workers resumed at the iteration the server had on record: every iteration is done,
    # the one whose round was cut short by the crash is done again.
    for steps in steps_by_rank(run.log).values():
        assert sorted(set(e["step"] for e in steps)) == list(range(1, 31))
    last = run.of("ps_update")[-1]
    twin = unbroken.of("ps_update")[-1]
    assert last["version"] == twin["version"] == 30
    # Sync is deterministic: the rebuilt run ends on the same parameters.
    torch.testing.assert_close(last["param_checksum"], twin["param_checksum"], rtol=0,
                               atol=1e-9)


def test_two_async_servers_both_rebuild_after_one_dies() -> None:
    run = _ps_run({"ps_mode": "async", "servers": 2}, recovery="restart",
                  faults=[{"after_step": 12, "action": "kill", "rank": 1}])
    final = run.finish(timeout=90)
    assert final["status"] == "finished", final
    [recovery] = run.of("recovery")
    restored = {e["rank"]: e for e in run.of("server_restored")}
    assert sorted(restored) == [0, 1]
    for server, event in restored.items():
        before = _last_before(run, recovery["seq"], server)
        # A server killed (or torn down for the restart) just after applying updates may
        # not have reported the last ones (events leave a worker in batches every 10 ms):
        # the log has them, the event stream does not. It never rebuilds to less.
        assert event["version"] >= before["version"]
        if event["version"] == before["version"]:
            assert event["param_checksum"] == before["param_checksum"]
    # checkpoints were taken by each server, with their measured cost
    saved = run.of("checkpoint_saved")
    assert {e["rank"] for e in saved} == {0, 1} and all(e["duration_ms"] >= 0 for e in saved)


def test_without_recovery_a_dead_server_fails_the_run_and_is_named() -> None:
    run = _ps_run({"ps_mode": "async"}, steps=400,
                  faults=[{"after_step": 5, "action": "kill", "rank": 0}])
    final = run.finish(timeout=60)
    assert final["status"] == "failed" and final["error"].startswith("rank 0")
    assert wait_all_dead(worker_pids(run.log)) == []
    live = Run(strategy="parameter_server", workers=2, steps=400, pace=20.0)
    live.wait_steps()
    with pytest.raises(ValueError, match="rank 0 is a server: it can be killed or frozen"):
        live.sup.inject("slow", 0, 2.0)
    live.sup.stop()
    assert live.finish(timeout=60)["status"] == "stopped"


# ------------------------------------------------------------------- the log itself
def _history(tmp_path: Path, updates: int = 12) -> tuple[torch.Tensor, torch.Tensor, Path]:
    """A shard updated ``updates`` times, checkpointed every 5, logged throughout."""
    torch.manual_seed(0)
    initial = torch.randn(50)
    params = initial.clone()
    log = updatelog.UpdateLog(tmp_path / "updates.log")
    for version in range(1, updates + 1):
        delta = 0.1 * torch.randn(50)
        log.append(version, [{"worker": 1 + version % 2, "step": version}], delta)
        params -= delta
        if version % 5 == 0:
            checkpoint.save(tmp_path, version, params)
    log.close()
    return initial, params, tmp_path


def test_replay_from_any_checkpoint_rebuilds_the_same_bits(tmp_path: Path) -> None:
    initial, final, directory = _history(tmp_path)
    updates, torn = updatelog.read(directory / "updates.log")
    assert len(updates) == 12 and not torn
    ckpt, _ = checkpoint.load_latest(directory)
    assert ckpt is not None and ckpt.step == 10
    rebuilt, version, replayed = updatelog.replay(ckpt.params.clone(), 10, updates)
    assert (version, replayed) == (12, 2) and torch.equal(rebuilt, final)
    # from nothing but the initial parameters and the whole log: the same
    rebuilt, version, replayed = updatelog.replay(initial.clone(), 0, updates)
    assert (version, replayed) == (12, 12) and torch.equal(rebuilt, final)
    # a damaged newest checkpoint: the previous one plus a longer replay
    (directory / "step-000010.pt").write_bytes(b"garbage")
    ckpt, refused = checkpoint.load_latest(directory)
    assert ckpt is not None and ckpt.step == 5 and refused
    rebuilt, _, replayed = updatelog.replay(ckpt.params.clone(), 5, updates)
    assert replayed == 7 and torch.equal(rebuilt, final)


def test_a_torn_or_tampered_record_ends_the_log(tmp_path: Path) -> None:
    _, _, directory = _history(tmp_path)
    path = directory / "updates.log"
    raw = path.read_bytes()
    path.write_bytes(raw[:-10])  # killed in the middle of the last append
    updates, torn = updatelog.read(path)
    assert len(updates) == 11 and torn
    tampered = bytearray(raw)
    tampered[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(tampered))
    updates, torn = updatelog.read(path)
    assert torn and len(updates) < 12
    assert [u.version for u in updates] == list(range(1, len(updates) + 1))
    with pytest.raises(ValueError, match="jumps from version"):
        updatelog.replay(torch.zeros(50), 0, updates[:3] + updates[4:5])
