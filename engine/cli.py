"""``distlab``: run scenarios headless, list them, export a stored run, or serve the web lab."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

from engine.cliconfig import build_config
from engine.export import FORMATS, export
from engine.scenarios import SCENARIOS, get_scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="distlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario headless and write its event log",
                         description="Run a scenario headless. Any setting of the run — "
                         "common or the strategy's own option — can be changed with "
                         "--set key=value (repeated) or a --config file; the same checks "
                         "as the web lab's API apply.")
    run.add_argument("scenario", help="scenario name (see `distlab scenarios`)")
    run.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                     help="change a setting, e.g. --set compression=qsgd --set "
                          "qsgd_levels=3 (values are read as JSON where they parse)")
    run.add_argument("--config", type=Path, metavar="FILE",
                     help="settings from a TOML or JSON file (applied before --set)")
    run.add_argument("--workers", type=int, help="number of worker processes")
    run.add_argument("--steps", type=int, help="training steps")
    run.add_argument("--lr", type=float, help="learning rate")
    run.add_argument("--batch-size", type=int, help="samples per worker per step")
    run.add_argument("--seed", type=int, help="random seed")
    run.add_argument("--pace", type=float, help="steps per second (default: full speed)")
    run.add_argument("--detail", action="store_true", help="emit per-message comm events")
    run.add_argument("--out", type=Path, help="write the event log here (JSON lines)")

    sub.add_parser("scenarios", help="list the preset scenarios")

    serve = sub.add_parser("serve", help="serve the web lab")
    serve.add_argument("--host", default=os.environ.get("DISTLAB_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("DISTLAB_PORT", "8000")))
    serve.add_argument("--data-dir", default=os.environ.get("DISTLAB_DATA_DIR"))
    serve.add_argument("--instructor-key", default=os.environ.get("DISTLAB_INSTRUCTOR_KEY"),
                       help="key that opens classroom rooms (default: generated, printed)")

    exp = sub.add_parser("export", help="export a stored run: JSON lines, CSV or a "
                         "Perfetto/Chrome trace")
    exp.add_argument("run_id", help="the run's id (see the page's past runs, or /api/runs)")
    exp.add_argument("--format", choices=FORMATS, default="jsonl")
    exp.add_argument("--data-dir", default=os.environ.get("DISTLAB_DATA_DIR", "data"),
                     help="the server's data directory (default: ./data)")
    exp.add_argument("--out", type=Path, help="write here (default: standard output)")

    args = parser.parse_args(argv)
    try:
        if args.command == "scenarios":
            return _list_scenarios()
        if args.command == "export":
            return _export(args)
        if args.command == "run":
            return _run(args)
        return _serve(args)
    except ValueError as exc:
        print(f"distlab: error: {exc}", file=sys.stderr)
        return 2


def _list_scenarios() -> int:
    from rich.console import Console
    from rich.table import Table

    table = Table("scenario", "strategy", "workers", "steps", "what it shows", box=None)
    for make in SCENARIOS.values():
        s = make()
        c = s.config
        table.add_row(s.name, c.strategy, str(c.workers), str(c.steps), s.title["en"])
    Console(width=160).print(table)
    return 0


def _run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from engine.runner import run_headless  # imports torch: only when running

    base = get_scenario(args.scenario).config
    if args.workers is not None and args.workers > 1 and base.strategy == "single":
        raise ValueError("scenario uses strategy 'single', which runs on one worker")
    flags = {"workers": args.workers, "steps": args.steps, "lr": args.lr,
             "batch_size": args.batch_size, "seed": args.seed,
             "detail": True if args.detail else None}
    # full speed unless asked (--pace, or pace in the file or a --set)
    base = dataclasses.replace(base, pace=args.pace)
    config = build_config(base, file=args.config, sets=args.sets, flags=flags)

    out = open(args.out, "w", encoding="utf-8") if args.out else None  # noqa: SIM115
    # rich draws the bar (and degrades to plain lines when stderr is not a terminal)
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[loss]}"), transient=False,
                        console=_stderr_console())
    task = progress.add_task(config.strategy, total=config.steps, loss="")
    try:
        progress.start()

        def on_event(event: dict[str, Any]) -> None:
            if out is not None:
                out.write(json.dumps(event) + "\n")
            if event["type"] == "step":
                loss = event.get("loss")
                progress.update(task, completed=max(event["step"], progress.tasks[0].completed),
                                loss="" if loss is None else f"loss {loss:.4f}")

        log = run_headless(config, on_event=on_event, on_start=_print_hosts_command)
    finally:
        progress.stop()
        if out is not None:
            out.close()
    final = log[-1]
    summary = final["summary"]
    print(f"{final['status']}: {summary['steps_completed']} steps, "
          f"final loss {summary['final_loss']}, {summary['steps_per_s']} steps/s, "
          f"first step after {summary['startup_s']} s"
          + (f", log in {args.out}" if args.out else ""))
    if final["error"]:
        print(f"error: {final['error']}", file=sys.stderr)
    return 0 if final["status"] == "finished" else 1


def _print_hosts_command(sup: Any) -> None:
    """A torchrun run waits for its hosts: say what to run on each (engine/hosts.py)."""
    if sup.lobby is None:
        return
    command = sup.lobby.command
    print(f"Waiting for {command.nnodes} host(s). On each host, where DistLab is "
          f"installed, run ({command.nproc_per_node} process(es) each):", file=sys.stderr)
    print(command.line(), flush=True)  # stdout: the one line to copy


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _export(args: argparse.Namespace) -> int:
    """Read the server's store (a live server may be writing it: SQLite's WAL allows that)."""
    import sqlite3

    db_path = Path(args.data_dir) / "distlab.sqlite3"
    if not db_path.is_file():
        raise ValueError(f"no DistLab store at {db_path} (use --data-dir, the directory "
                         "`distlab serve` was given)")
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        if db.execute("SELECT 1 FROM runs WHERE id = ?", (args.run_id,)).fetchone() is None:
            raise ValueError(f"no run with id {args.run_id!r} in {db_path}")
        from backend.store import read_events  # packed runs too (backend/eventpack.py)

        rows = read_events(db, args.run_id)
    finally:
        db.close()
    text = export(rows, args.format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out} ({len(rows)} events, {args.format})", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from backend.main import create_app
    from backend.settings import Settings

    overrides = {"host": args.host, "port": args.port}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if args.instructor_key:
        overrides["instructor_key"] = args.instructor_key
    settings = Settings(**overrides)
    # No permessage-deflate: it compresses every message once per viewer, which for a
    # lecture hall costs the server more than sending (measured: bench/fanout.py, 100
    # viewers, p99 delivery lag 2 s with it, 47 ms without). The events are kept small
    # at the source instead.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                ws_max_size=64 * 1024, log_level="info", ws_per_message_deflate=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
