"""Long work is a generator that yields `Progress` and returns its result (TagStudio/Picard
habit): the service knows nothing of threads; the window runs it on a pool, the command line
prints a bar, tests iterate it directly."""

from __future__ import annotations

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
