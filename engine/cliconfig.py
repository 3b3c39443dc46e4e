"""What ``distlab run`` runs: a scenario's config, changed by a config file (``--config
run.toml`` or ``run.json``) and by ``--set key=value`` (repeated), then validated by
``RunConfig`` — the same checks, with the same messages naming the field, as the API's.

A key is a common setting (``workers``, ``network``, …), a strategy option (``compression``
— looked up in the strategy's own options, as the form does), or ``options.<name>``. A
value is read as JSON where it parses (``3``, ``0.5``, ``true``, ``null``, ``[…]``), else
as a string (``qsgd``).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path
from typing import Any

from engine.config import RunConfig
from engine.options import options_of
from engine.strategies import registry


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def read_config_file(path: Path) -> dict[str, Any]:
    """A run's settings from a TOML or JSON file (the strategy's options under
    ``options``, or at the top level where they are not common settings)."""
    if not path.is_file():
        raise ValueError(f"--config: no file {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--config {path}: not valid {path.suffix[1:] or 'JSON'}: "
                         f"{exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: must hold a table of settings")
    return data


def apply_settings(base: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """``base`` (a config dict) with ``settings`` put where each belongs; a key that is
    neither a common setting nor an option of the (possibly new) strategy is refused."""
    config = {**base, "options": dict(base.get("options") or {})}
    if "strategy" in settings and settings["strategy"] != config["strategy"]:
        config["strategy"] = settings["strategy"]
        config["options"] = {}  # another strategy: its options start from its defaults
    common = {f.name for f in dataclasses.fields(RunConfig)}
    spec = registry.get(config["strategy"])  # an unknown strategy: refused, with the list
    own = options_of(spec.options)
    for key, value in settings.items():
        if key == "strategy":
            continue
        if key == "options":
            if not isinstance(value, dict):
                raise ValueError("options must be a table of the strategy's options")
            config["options"].update(value)
        elif key.startswith("options."):
            config["options"][key.removeprefix("options.")] = value
        elif key in common:
            config[key] = value
        elif key in own:
            config["options"][key] = value
        else:
            raise ValueError(
                f"{key}: unknown setting — not a run setting nor an option of strategy "
                f"{config['strategy']!r} (its options: {', '.join(own) or 'none'})")
    return config


def build_config(base: RunConfig, *, file: Path | None, sets: list[str],
                 flags: dict[str, Any]) -> RunConfig:
    """The scenario's config with the file's settings, then the flags', then ``--set``'s
    (the last word wins), validated."""
    config = base.to_dict()
    if file is not None:
        config = apply_settings(config, read_config_file(file))
    config = apply_settings(config, {k: v for k, v in flags.items() if v is not None})
    pairs = {}
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set {item!r}: write it as key=value (e.g. "
                             "--set compression=qsgd)")
        pairs[key.strip()] = parse_value(value.strip())
    config = apply_settings(config, pairs)
    return RunConfig.from_dict(config)
