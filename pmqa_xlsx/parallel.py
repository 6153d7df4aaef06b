"""Worker processes and how they end, shared by generate (--jobs) and merge (--jobs).

How many to use: the cores this process may run on, never more workers than the work can keep
busy. How they end: with their parent, always. A worker ignores SIGINT (Ctrl+C reaches the
whole process group; the parent decides), removes its temporary files and exits on SIGTERM,
and gets SIGTERM if its parent dies, however it dies (Linux's PR_SET_PDEATHSIG). When the
parent's work stops early (an error, SIGINT, SIGTERM), ``worker_pool`` terminates the workers
instead of waiting for their batches, and waits until they are gone. ``sigterm_raises`` turns
SIGTERM into an exception in the parent, so that its ``finally`` blocks remove what it was
writing, as they do on Ctrl+C. Also: pausing the garbage collector over batches that make
many small objects, and giving the C allocator's free memory back between a merge's phases.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from .outputs import forget_all_temporaries, remove_temporaries

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_GRACE = 5.0  # seconds a terminated worker has to remove its temporary files and exit


class Terminated(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGTERM, raised in the parent by ``sigterm_raises`` (a BaseException, like
    KeyboardInterrupt, so that no ``except Exception`` swallows it)."""


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


def give_back_memory() -> None:
    """Give the memory that C's allocator holds free (what large arrays and lists left when
    they went) back to the system, where the allocator can (glibc's ``malloc_trim``; nothing
    elsewhere). Called after a phase of a merge that lets much go: the next phase would
    otherwise find it still held, and hold more beside it."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has none)
        return None


_MALLOC_TRIM = _malloc_trim()


def new_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of ``jobs`` worker processes, each started as described above."""
    return ProcessPoolExecutor(max_workers=jobs, initializer=_worker_started,
                               initargs=(os.getpid(),))


@contextmanager
def worker_pool(jobs: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``jobs`` worker processes that end with the block: normally once their work
    is done; if the block raises (an error, KeyboardInterrupt, Terminated), at once."""
    pool = new_pool(jobs)
    try:
        yield pool
    except BaseException:
        stop_workers(pool)
        raise
    pool.shutdown()


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate a pool's workers now (each removes its temporary files on SIGTERM), and wait
    until they are gone."""
    # The executor has no public way to do this before Python 3.14 (terminate_workers).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # Work items whose futures were cancelled (Executor.map cancels what is left when its
    # caller is interrupted) must go first: the pool's thread, finding the pool broken, sets
    # an exception on every pending future, and on a cancelled one that raises
    # InvalidStateError in that thread (Python 3.11), printed as a traceback.
    pending = getattr(pool, "_pending_work_items", None) or {}
    for key in [k for k, item in list(pending.items()) if item.future.cancelled()]:
        pending.pop(key, None)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(_GRACE)
        if process.is_alive():  # stuck in native code: it had its chance to clean up
            process.kill()
            process.join()
    # A worker killed while it was sending a result leaves part of it in the results pipe,
    # and the pool's thread waits for the rest for ever: this process holds the pipe's other
    # end too. With every worker gone, that end is closed, so the thread reads the end of the
    # pipe instead, finds the pool broken and stops (else shutting down, and exiting, hung).
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()
    # Only now, with every worker gone, the pool's own thread is let end (it sees the pool
    # broken and stops) and waited for: shutting down while it was still at work raced with
    # it, and it could print a traceback as the process exited.
    pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM raises Terminated in the main thread for the block (as SIGINT raises
    KeyboardInterrupt), so that the block's ``finally`` blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def _worker_started(parent: int) -> None:
    """In each new worker: Ctrl+C is the parent's to handle, SIGTERM ends it cleanly, and the
    parent's death sends it SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_terminated)
    forget_all_temporaries()  # what it inherited is the parent's to remove
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # no libc to ask: the parent still terminates it
            pass
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _worker_terminated(signum: int, frame: Any) -> None:
    remove_temporaries()
    os._exit(128 + signum)
