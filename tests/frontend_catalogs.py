"""The frontend's catalogs as the Python tests read them, without node.

Every module under ``frontend/static/js`` may hold a catalog: JSON between
``/*CATALOG:<lang>*/`` and ``/*END CATALOG:<lang>*/`` markers (the common ones in
``js/i18n/``, a strategy's in ``js/strategies/<name>/catalog.js``). The page merges them
(``js/core/i18n.js``); so does ``catalogs()``, which also says where each key lives.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

JS = Path(__file__).resolve().parent.parent / "frontend" / "static" / "js"
BLOCK = re.compile(r"/\*CATALOG:(\w+)\*/\s*(\{.*?\})\s*/\*END CATALOG:\1\*/", re.S)


@cache
def catalog_modules() -> dict[str, dict[str, dict[str, str]]]:
    """{module path (relative to js/): {lang: {key: text}}} of every module with a catalog."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for path in sorted(JS.rglob("*.js")):
        found = BLOCK.findall(path.read_text(encoding="utf-8"))
        if found:
            out[path.relative_to(JS).as_posix()] = {lang: json.loads(body) for lang, body in found}
    return out


def catalogs() -> dict[str, dict[str, str]]:
    """{lang: {key: text}}: every module's catalog merged, as the page merges them."""
    merged: dict[str, dict[str, str]] = {}
    for langs in catalog_modules().values():
        for lang, entries in langs.items():
            merged.setdefault(lang, {}).update(entries)
    return merged
