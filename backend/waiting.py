"""Why a queued run waits: a code and its numbers, which the page words in its own
language (``queue.why.<code>`` in frontend/static/js/i18n/page.js), and the same sentence
in English for API clients (``waiting_for``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Waiting:
    code: str  # server_runs | server_workers | student_runs | cluster_retry | cluster_full
    text: str  # in English
    args: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {"code": self.code, "args": self.args}
