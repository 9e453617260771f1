"""Numbers for people, one way everywhere (CLI tables, Datasette pages, SQL functions).

Machine formats (JSON, CSV, the SQL columns themselves) always keep the exact integers.
"""

from __future__ import annotations

_COUNT_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_count(value: float) -> str:
    """A count to three significant digits: ``8030261248`` -> ``8.03B``, ``124439808`` ->
    ``124M``, ``999600000`` -> ``1B`` (rounded before the unit is chosen, never ``1e+03M``)."""
    rounded = float(f"{value:.3g}")
    for threshold, suffix in _COUNT_UNITS:
        if abs(rounded) >= threshold:
            scaled = rounded / threshold
            return (f"{scaled:.3g}" if scaled < 1000 else f"{scaled:.0f}") + suffix
    return f"{value:g}"


def human_bytes(value: float) -> str:
    """A byte count in binary units: ``16060522496`` -> ``14.96 GiB``, ``512`` -> ``512 B``."""
    size = float(value)
    for unit in _BYTE_UNITS:
        digits = 0 if unit == "B" else 2
        # Judged as it will be shown: 1,048,575 B is 1023.999 KiB, shown as 1.00 MiB, not
        # 1024.00 KiB.
        if abs(round(size, digits)) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{size:.{digits}f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
