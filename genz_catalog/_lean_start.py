"""Keep the command line's start-up lean.

sqlite-utils imports pandas and numpy at import time whenever they are installed (GenZ pulls
them in), only to map their types on insert; the catalog never inserts either. That costs about
0.35 s on every command. The CLI imports sqlite-utils through here first, with both blocked for
the duration of that one import; afterwards they import normally (GenZ's ``simulate`` needs them).
Library users are unaffected: only the CLI entry point calls this.
"""

from __future__ import annotations

import sys


def import_sqlite_utils_without_dataframes() -> None:
    """Import ``sqlite_utils`` while ``pandas`` and ``numpy`` are hidden, if not yet imported."""
    if "sqlite_utils" in sys.modules:
        return
    hidden = [name for name in ("pandas", "numpy") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes "import name" fail fast
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
