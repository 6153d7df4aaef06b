"""How many worker processes to use: the cores this process may run on, never more workers
than the work can keep busy; and pausing the garbage collector over batches that make many
small objects. Shared by generate (--jobs) and merge (--jobs)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager


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


@contextmanager
def gc_paused() -> Iterator[None]:
    """Automatic garbage collection off for the block, then back as it was.

    Reading returns makes hundreds of small tuples per file and no reference cycles; with the
    collector on, every few files it walks all the objects kept so far (the returns already
    read), which costs a seventh of a merge's time. Memory is freed by reference counting as
    usual; a cycle made in the block is collected after it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
