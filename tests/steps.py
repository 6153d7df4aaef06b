"""Work counted, not timed: the Python and C function calls a call makes (``sys.setprofile``).

A safety bound ("a hostile layout is refused at once, however long") is held as a count of
calls against the same count for an ordinary input, so it is the same on a quiet machine and
a loaded one; timings are for the benchmark scripts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def calls(fn: Callable[..., Any], *args: Any, expect: type[BaseException] | None = None,
          **kwargs: Any) -> int:
    """How many functions (Python and C) ``fn(*args, **kwargs)`` calls, directly or not. An
    exception of type ``expect`` ends the call as it would for a caller that catches it; any
    other is raised."""
    count = 0

    def counted(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call" or event == "c_call":
            count += 1

    previous = sys.getprofile()
    sys.setprofile(counted)
    try:
        fn(*args, **kwargs)
    except BaseException as exc:
        if expect is None or not isinstance(exc, expect):
            raise
    finally:
        sys.setprofile(previous)
    return count
