"""How many worker processes to use: the cores this process may run on, never more workers
than the work can keep busy. Shared by generate (--jobs) and merge (--jobs)."""

from __future__ import annotations

import os


def available_cores() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_count(jobs: int | None, items: int, per_worker: int) -> int:
    """``jobs`` (default: the cores available), but at least ``per_worker`` items each: a
    process costs more to start than a few items cost to do."""
    wanted = jobs if jobs is not None else available_cores()
    return max(1, min(wanted, items // per_worker or 1))
