"""Process safety (issue 12): killing a bulk import never leaves its convert workers or
multiprocessing's resource tracker running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import write_config_variants

ROOT = Path(__file__).resolve().parents[1]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; it ends at the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone: it holds no memory)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _descendants(root: int) -> set[int]:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    parents = {pid: _parent_of(pid) for pid in pids}
    found: set[int] = set()
    frontier = {root}
    while frontier:
        children = {pid for pid, parent in parents.items() if parent in frontier}
        children -= found
        found |= children
        frontier = children
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_a_bulk_import_leaves_no_worker_or_resource_tracker(tmp_path: Path, sig: int):
    paths = write_config_variants(tmp_path / "configs", "kill", 2000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genz_catalog",
            "--db",
            str(tmp_path / "catalog.db"),
            "import",
            *map(str, paths),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        children: set[int] = set()
        # Workers (spawned interpreters) and the resource tracker both appear within a second
        # or two of the start; wait for at least two descendants, then a little longer.
        while time.monotonic() < deadline and process.poll() is None:
            children = _descendants(process.pid)
            if len(children) >= 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the import finished before it could be killed"
        time.sleep(0.3)
        children = _descendants(process.pid)
        assert len(children) >= 2, children
        process.send_signal(sig)
        process.wait(timeout=10)
        gone_by = time.monotonic() + 5
        while time.monotonic() < gone_by and any(_alive(pid) for pid in children):
            time.sleep(0.1)
        survivors = {pid for pid in children if _alive(pid)}
        for pid in survivors:  # never leave them behind for the next test
            os.kill(pid, signal.SIGKILL)
        assert survivors == set(), f"children outlived the {sig.name} parent: {survivors}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
