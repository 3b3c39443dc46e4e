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


def test_any_setting_by_set_or_a_config_file(tmp_path: Path) -> None:
    """`--set` reaches the strategy's own options (compression) as well as the common
    settings; a TOML file does the same; --set wins over the file."""
    out = tmp_path / "run.jsonl"
    toml = tmp_path / "run.toml"
    toml.write_text('workers = 2\nsteps = 3\n[options]\ncompression = "topk"\n',
                    encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", "data-parallel-4", "--config", str(toml),
         "--set", "compression=qsgd", "--set", "qsgd_levels=3", "--set", "seed=7",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    config = events[0]["config"]
    assert (config["workers"], config["steps"], config["seed"]) == (2, 3, 7)
    assert config["options"]["compression"] == "qsgd"
    assert config["options"]["qsgd_levels"] == 3
    assert config["pace"] is None  # the CLI runs at full speed unless asked
    assert all("compress_ratio" in e for e in events if e["type"] == "step")


def test_a_bad_field_or_value_exits_non_zero_naming_it(tmp_path: Path,
                                                       capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["run", "data-parallel-4", "--set", "nosuch=1"]) == 2
    err = capsys.readouterr().err
    assert "nosuch: unknown setting" in err and "compression" in err  # says what exists
    assert main(["run", "data-parallel-4", "--set", "qsgd_levels=0",
                 "--set", "compression=qsgd"]) == 2
    assert "options.qsgd_levels" in capsys.readouterr().err
    assert main(["run", "data-parallel-4", "--set", "workers=many"]) == 2
    assert "workers" in capsys.readouterr().err
    assert main(["run", "data-parallel-4", "--set", "compression"]) == 2
    assert "key=value" in capsys.readouterr().err
    bad = tmp_path / "run.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["run", "data-parallel-4", "--config", str(bad)]) == 2
    assert "not valid json" in capsys.readouterr().err
    assert main(["run", "data-parallel-4", "--set", "strategy=nosuch"]) == 2
    assert "strategy must be one of" in capsys.readouterr().err
