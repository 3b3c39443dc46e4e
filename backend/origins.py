"""An Origin allow-list (``DISTLAB_ALLOWED_ORIGINS``) for a hosted class: a page on another
site must not drive a student's browser to open WebSockets to this server or to change
anything on it (cross-site WebSocket hijacking, cross-site request forgery).

With the list set (comma-separated, e.g. ``https://lab.example.edu``), a WebSocket or a
state-changing request (POST, PUT, PATCH, DELETE) that carries an ``Origin`` header is let
through only if that origin is listed or is this server's own (the page it served itself,
same scheme-less host and port as the request's ``Host``). Requests without ``Origin``
(curl, the CLI, tests) are not a browser on another site and pass. Without the list,
everything passes, as on a laptop.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def parse_origins(text: str | None) -> frozenset[str]:
    """``"https://a.edu, http://b:8000/"`` → their origins (scheme://host[:port])."""
    out = set()
    for item in (text or "").split(","):
        item = item.strip().rstrip("/")
        if item:
            parts = urlsplit(item)
            if not parts.scheme or not parts.netloc:
                raise ValueError(f"DISTLAB_ALLOWED_ORIGINS: {item!r} is not an origin "
                                 "(write scheme://host[:port], e.g. https://lab.example.edu)")
            out.add(f"{parts.scheme}://{parts.netloc}".lower())
    return frozenset(out)


class OriginCheck:
    def __init__(self, app: Any, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    def _allowed(self, scope: dict[str, Any]) -> bool:
        headers = dict(scope.get("headers", ()))
        origin = headers.get(b"origin")
        if origin is None:
            return True
        origin_text = origin.decode("latin-1").rstrip("/").lower()
        if origin_text in self.allowed:
            return True
        host = headers.get(b"host", b"").decode("latin-1").lower()
        return bool(host) and urlsplit(origin_text).netloc == host  # our own page

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not self.allowed or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket" and not self._allowed(scope):
            await receive()  # the connect message; closing before accepting refuses it
            await send({"type": "websocket.close", "code": 4403,
                        "reason": "origin not allowed"})
            return
        if (scope["type"] == "http" and scope["method"] in STATE_CHANGING
                and not self._allowed(scope)):
            body = json.dumps({"detail": "this page's origin is not allowed to change "
                               "anything here (DISTLAB_ALLOWED_ORIGINS)", "errors": []})
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await self.app(scope, receive, send)
