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


#: Cyclic-GC thresholds of a bulk import's processes. A model allocates a few hundred
#: containers (rows, dicts, tuples), so the default first threshold (700) starts a collection
#: every few models, and its full collections walk every object of the process: ~6% of the
#: writer's time at 100,000 models. Collections still run, ~70 times less often.
BULK_GC_THRESHOLD = (50_000, 20, 100)


#: Linux prctl option: the signal the kernel sends this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def start_convert_worker(parent_pid: int) -> None:
    """Initializer of a bulk-import convert worker: die with the parent, then import lean."""
    import gc

    _die_with_parent(parent_pid)
    gc.set_threshold(*BULK_GC_THRESHOLD)
    import_sqlite_utils_without_dataframes()


def run_search_ranker(
    parent_pid: int, path: str, messages: object, claimed: object, settings: dict[str, int]
) -> None:
    """A bulk import's search-ranking helper
    (:class:`genz_catalog.catalog.remembered_searches.RankingAhead`): die with the parent, then
    rank (that module imports neither sqlite-utils nor GenZ: ~14 MB before it ranks)."""
    _die_with_parent(parent_pid)
    from .catalog.remembered_searches import rank_as_helper

    rank_as_helper(path, messages, claimed, settings)


def _die_with_parent(parent_pid: int) -> None:
    """Make this helper process die with the one that started it.

    A helper must never outlive the import that started it (``kill -9`` or SIGTERM of the
    parent would otherwise leave it, and through its inherited pipe the resource tracker,
    running at ~30-50 MB each). On Linux the kernel delivers SIGKILL to the helper when its
    parent dies (``prctl(PR_SET_PDEATHSIG)``); a parent that died before that call is caught by
    comparing ``getppid``. Elsewhere the helper still exits when the parent's pipe closes.
    """
    import os
    import signal

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: rely on the pipe
            pass
    if os.getppid() != parent_pid:
        os._exit(1)
