"""Worker processes of the check and merge pools."""

from __future__ import annotations

import os
import sys


def die_with_parent(parent: int) -> None:
    """In a worker (Linux): end when the parent ends. A parent that is killed (SIGKILL) cannot
    stop its pool, and the workers would wait for work for ever, each holding its memory."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the line above
        os._exit(1)
