"""An ASGI wrapper that bounds how many visitor-written SQL queries run at once.

A request is "arbitrary SQL" when its query string carries ``sql=`` (the SQL console, on the
database page and its ``.json``/``.csv`` forms) or ``_where=`` (extra SQL in a table page).
Canned queries and every other page pass straight through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

#: Visitor-written queries running at once; Datasette's other query threads stay free for
#: pages and canned queries.
MAX_CONCURRENT_ARBITRARY_SQL = 1
#: How long a visitor query waits for its turn before the server answers 429 (seconds).
ARBITRARY_SQL_QUEUE_S = 10.0
#: Query-string keys that carry SQL written by the visitor.
_SQL_KEYS = frozenset({"sql", "_where"})

App = Callable[
    [dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]
]


def is_arbitrary_sql(scope: dict[str, Any]) -> bool:
    """True for an HTTP request whose query string holds visitor-written SQL."""
    if scope.get("type") != "http":
        return False
    query = scope.get("query_string", b"").decode("latin-1")
    # A quick look first, at the decoded text: ``s%71l=`` is the key ``sql`` too.
    decoded = unquote_plus(query)
    if "sql" not in decoded and "_where" not in decoded:
        return False
    return any(key in _SQL_KEYS for key, _ in parse_qsl(query, keep_blank_values=True))


def limit_arbitrary_sql(app: App) -> App:
    """Wrap ``app``: visitor SQL runs under a semaphore; a long wait answers HTTP 429."""
    semaphore: asyncio.Semaphore | None = None

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        nonlocal semaphore
        if not is_arbitrary_sql(scope):
            await app(scope, receive, send)
            return
        if semaphore is None:  # made on the server's own event loop
            semaphore = asyncio.Semaphore(MAX_CONCURRENT_ARBITRARY_SQL)
        try:
            await asyncio.wait_for(semaphore.acquire(), ARBITRARY_SQL_QUEUE_S)
        except asyncio.TimeoutError:
            await _too_busy(send)
            return
        try:
            await app(scope, receive, send)
        finally:
            semaphore.release()

    return wrapped


async def _too_busy(send: Callable[[dict], Awaitable[None]]) -> None:
    await send_text(
        send,
        429,
        "Too many SQL queries are running; try again in a few seconds "
        "(canned queries and pages are not affected).\n",
        [(b"retry-after", b"5")],
    )


async def send_text(
    send: Callable[[dict], Awaitable[None]],
    status: int,
    text: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer an ASGI request with ``status`` and ``text`` as plain UTF-8 (a wrapper's refusal,
    before Datasette sees the request)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})
