"""Memory bounded by configuration, in bytes (`serve --memory`): how the budget is shared by what a
process keeps (the write model's index and aggregates, the read cache), and what a value kept is
estimated to cost. Estimates, not measurements: bench/memory.py checks them against the process's
resident size."""

import re
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass

DEFAULT = 512 << 20
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)i?b?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """'512M', '2g', '1048576' as bytes."""
    found = _SIZE.match(text)
    if found is None:
        raise ValueError(f"not a size: {text!r} (e.g. 512M, 2G)")
    return int(found[1]) * _UNITS[found[2].lower()]


def shares(total: int) -> tuple[int, int]:
    """(write model, read cache): half each."""
    return total // 2, total - total // 2


def estimate(value: object, depth: int = 4) -> int:
    """Bytes `value` holds: its own size and, a few levels down, what it refers to (shared
    small objects are counted each time: an estimate errs on the high side)."""
    size = sys.getsizeof(value)
    if depth == 0 or isinstance(value, str | bytes | int | float | bool) or value is None:
        return size
    if is_dataclass(value):
        return size + sum(estimate(getattr(value, f.name), depth - 1) for f in fields(value))
    if isinstance(value, Mapping):
        return size + sum(estimate(k, depth - 1) + estimate(v, depth - 1)
                          for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return size + sum(estimate(x, depth - 1) for x in value)
    return size
