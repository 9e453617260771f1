"""A bounded memory: the one way the package keeps the most recent answers of something."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


def remember(memory: OrderedDict, key: Any, value: Any, capacity: int) -> None:
    """File ``value`` under ``key`` as the most recent entry of ``memory``, dropping the least
    recent ones beyond ``capacity`` entries (callers ``move_to_end`` what they use)."""
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > capacity:
        memory.popitem(last=False)
