"""One line per request, in the web server's usual form, for ``genz-catalog serve``.

``127.0.0.1 - - [02/Dec/2026:04:50:00 +0000] "GET /catalog/models HTTP/1.1" 200 51234 12.3ms``:
the Common Log Format (client, time, request line, status, bytes sent) plus the time taken to
answer, so a slow page shows up in the log. ``serve --quiet`` leaves it off.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TextIO


def access_log_line(
    scope: dict[str, Any], status: int | None, sent_bytes: int, seconds: float, when: datetime
) -> str:
    """The log line of one finished request (``status`` None: the app sent no response)."""
    client = scope.get("client")
    host = client[0] if client else "-"
    path = scope.get("raw_path") or scope.get("path", "").encode("utf-8")
    if isinstance(path, bytes):
        path = path.decode("latin-1")
    query = scope.get("query_string") or b""
    target = path + ("?" + query.decode("latin-1") if query else "")
    protocol = f"HTTP/{scope.get('http_version', '1.1')}"
    stamp = when.strftime("%d/%b/%Y:%H:%M:%S %z")
    return (
        f'{host} - - [{stamp}] "{scope.get("method", "-")} {target} {protocol}" '
        f"{status if status is not None else '-'} {sent_bytes} {seconds * 1000:.1f}ms"
    )


def with_access_log(app: Callable[..., Any], stream: TextIO | None = None) -> Callable[..., Any]:
    """Wrap an ASGI app so every HTTP request writes one line to ``stream`` (stderr) when done."""

    async def logged(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        when = datetime.now(timezone.utc)
        status: int | None = None
        sent = 0

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await app(scope, receive, counting_send)
        finally:
            line = access_log_line(scope, status, sent, time.perf_counter() - started, when)
            out = stream or sys.stderr
            out.write(line + "\n")
            out.flush()

    return logged
