"""Long work is a generator that yields `Progress` and returns its result (TagStudio/Picard
habit): the service knows nothing of threads; the window runs it on a pool, the command line
prints a bar, tests iterate it directly."""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    message: str = ""


Task = Generator[Progress, None, T]


def run(task: Task[T], on_progress: Callable[[Progress], None] | None = None) -> T:
    """Run a task to its end and return its result."""
    while True:
        try:
            step = next(task)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(step)


def without_collection(task: Task[T]) -> Task[T]:
    """`task` with the cyclic garbage collector paused while it runs (reading 200,000 records
    on a worker: each full collection would hold the interpreter for a few hundred
    milliseconds and stall the typing). The collector is restored however the task ends —
    done, failed, cancelled or dropped unfinished (the generator's close runs the `finally`) —
    and left alone when it was already paused (by another such task still running)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return (yield from task)
    finally:
        if paused:
            gc.enable()
