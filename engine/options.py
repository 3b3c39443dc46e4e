"""Typed settings with their limits, declared once and read by everyone.

A setting is a dataclass field made with one of the helpers below (``integer``,
``number``, ``choice``, ``flag``). Its metadata carries everything the rest of DistLab
needs to know about it: the type, the range or the choices, the default, a line of help
in English and Chinese. From that one declaration

- the engine validates a value (``check_fields``), with a message that names the field;
- ``describe`` publishes it (``GET /api/strategies``, ``GET /api/schema/config``), and
  the browser builds its form, its defaults and its URL fields from what it reads;
- the backend builds its request model (``backend/models.py``), so the API's 422s, its
  OpenAPI document and the engine's ValueErrors always agree.

This module imports nothing heavy (no torch): it is the leaf everything else builds on.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

Text = dict[str, str]  # {"en": ..., "zh": ...}


@dataclass(frozen=True, slots=True)
class Option:
    """What one setting is: its kind, limits and words (see the helpers below)."""

    kind: str  # "int" | "float" | "bool" | "choice"
    default: Any
    label: Text
    help: Text
    low: float | None = None  # inclusive, unless low_open
    high: float | None = None  # inclusive
    low_open: bool = False
    choices: tuple[str, ...] = ()
    choice_labels: dict[str, Text] | None = None
    nullable: bool = False  # ``None`` is allowed (meaning "off" / "not set")
    shown_when: dict[str, tuple[Any, ...]] | None = None
    """Only meaningful when other settings have one of these values (the form hides it
    otherwise); e.g. ``{"ps_mode": ("ssp",)}``."""
    advanced: bool = False  # the form may tuck it away

    def check(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` naming ``name`` if ``value`` is not allowed."""
        if value is None:
            if self.nullable:
                return
            raise ValueError(f"{name} must be set (got null)")
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false (got {value!r})")
        elif self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{name} must be one of {', '.join(self.choices)} "
                                 f"(got {value!r})")
        elif self.kind == "int":
            check_int(name, value, int(self.low), int(self.high))
        else:
            check_number(name, value, self.low, self.high, low_open=self.low_open)

    def describe(self, name: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "type": self.kind, "default": self.default,
                               "nullable": self.nullable, "label": self.label,
                               "help": self.help, "advanced": self.advanced}
        if self.kind in ("int", "float"):
            out.update(min=self.low, max=self.high, exclusive_min=self.low_open)
        if self.kind == "choice":
            labels = self.choice_labels or {}
            out["choices"] = [{"value": c, "label": labels.get(c, {"en": c, "zh": c})}
                              for c in self.choices]
        if self.shown_when:
            out["shown_when"] = {k: list(v) for k, v in self.shown_when.items()}
        return out


def _words(label: str | Text, help: str | Text) -> tuple[Text, Text]:
    as_text = lambda s: s if isinstance(s, dict) else {"en": s, "zh": s}
    return as_text(label), as_text(help)


def _field(option: Option) -> Any:
    return dataclasses.field(default=option.default, metadata={"option": option})


def integer(default: int | None, low: int, high: int, *, label: str | Text,
            help: str | Text, nullable: bool = False, **kw: Any) -> Any:
    """An integer setting in [low, high]."""
    label, help = _words(label, help)
    return _field(Option("int", default, label, help, low=low, high=high, nullable=nullable,
                         **kw))


def number(default: float | None, low: float, high: float, *, label: str | Text,
           help: str | Text, low_open: bool = False, nullable: bool = False,
           **kw: Any) -> Any:
    """A finite real setting in [low, high] (or (low, high] with ``low_open``)."""
    label, help = _words(label, help)
    return _field(Option("float", default, label, help, low=low, high=high,
                         low_open=low_open, nullable=nullable, **kw))


def choice(default: str | None, choices: tuple[str, ...], *, label: str | Text,
           help: str | Text, labels: dict[str, Text] | None = None, nullable: bool = False,
           **kw: Any) -> Any:
    """One of ``choices`` (``None`` too when ``nullable``)."""
    label, help = _words(label, help)
    return _field(Option("choice", default, label, help, choices=choices,
                         choice_labels=labels, nullable=nullable, **kw))


def flag(default: bool, *, label: str | Text, help: str | Text, **kw: Any) -> Any:
    """A yes/no setting."""
    label, help = _words(label, help)
    return _field(Option("bool", default, label, help, **kw))


def options_of(cls: type) -> dict[str, Option]:
    """The declared settings of a dataclass, by name, in declaration order."""
    return {f.name: f.metadata["option"] for f in dataclasses.fields(cls)
            if "option" in f.metadata}


def check_fields(obj: Any, prefix: str = "") -> None:
    """Validate every declared setting of a dataclass instance against its limits."""
    for name, option in options_of(type(obj)).items():
        option.check(prefix + name, getattr(obj, name))


def describe(cls: type) -> list[dict[str, Any]]:
    """The declared settings of ``cls`` as JSON-ready dicts, in declaration order."""
    return [option.describe(name) for name, option in options_of(cls).items()]


def parse(cls: type, values: Any, prefix: str) -> Any:
    """Build and validate an instance of the settings dataclass ``cls`` from a dict;
    missing settings take their defaults, unknown ones are an error naming them."""
    if not isinstance(values, dict):
        raise ValueError(f"{prefix.rstrip('.')} must be an object of settings")
    unknown = sorted(set(values) - set(options_of(cls)))
    if unknown:
        known = ", ".join(options_of(cls)) or "none"
        raise ValueError(f"{prefix}{unknown[0]}: unknown setting (this strategy takes: "
                         f"{known})")
    instance = cls(**values)
    check_fields(instance, prefix)
    return instance


def check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer (got {value!r})")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high} (got {value})")


def check_number(name: str, value: object, low: float, high: float, *,
                 low_open: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number (got {value!r})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number (got {value})")
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        bound = f"greater than {low}" if low_open else f"at least {low}"
        raise ValueError(f"{name} must be {bound} and at most {high} (got {value})")


def check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
