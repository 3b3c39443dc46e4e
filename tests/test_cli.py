from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.cli import main
from tests.helpers import assert_gapless


def test_scenarios_lists_presets(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    assert "data-parallel-4" in out and "single-reference" in out


def test_run_writes_the_event_log_as_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", "data-parallel-4", "--workers", "2",
         "--steps", "20", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "20/20" in proc.stderr  # the progress bar reached the end
    assert "finished" in proc.stdout
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert_gapless(events)
    assert events[0]["type"] == "run_started" and events[0]["world_size"] == 2
    assert events[-1]["type"] == "run_finished" and events[-1]["status"] == "finished"
    assert sum(e["type"] == "step" for e in events) == 40


def test_bad_cli_input_is_a_clear_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["run", "no-such-scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert main(["run", "data-parallel-4", "--workers", "99"]) == 2
    assert "workers must be between 1 and 8" in capsys.readouterr().err
    assert main(["run", "single-reference", "--workers", "3"]) == 2
