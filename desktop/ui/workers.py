"""One adaptor that runs a progress generator (services/progress.Task) on a thread pool and turns
its yields into signals (TagStudio, Picard). The service knows nothing of threads; only plain
data crosses: the generator's Progress steps and its result."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desktop.errors import KnownError, write_crash_report
from desktop.progress import Progress, Task

#: a pause between a task's steps, so the window's thread gets the interpreter in time
YIELD_SECONDS = 0.002


class TaskSignals(QObject):
    progress = Signal(int, int, str)  # done, total, message
    finished = Signal(object)  # the generator's return value
    failed = Signal(str)  # a Chinese message for the user
    cancelled = Signal()


class TaskRunnable(QRunnable):
    """Runs one task; `cancel()` stops it at its next yield."""

    def __init__(self, make_task: Callable[[], Task[Any]]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the Worker keeps it until it has reported
        self.signals = TaskSignals()
        self._make_task = make_task
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def run(self) -> None:
        try:
            self._run()
        except RuntimeError:  # the window went away while the task ran: nobody to tell
            self._cancel = True

    def _run(self) -> None:
        try:
            task = self._make_task()
            while True:
                if self._cancel:
                    task.close()
                    self.signals.cancelled.emit()
                    return
                try:
                    step = next(task)
                except StopIteration as stop:
                    self.signals.finished.emit(stop.value)
                    return
                if isinstance(step, Progress):
                    self.signals.progress.emit(step.done, step.total, step.message)
                time.sleep(YIELD_SECONDS)  # give way to the window between steps
        except KnownError as err:
            self.signals.failed.emit(str(err))
        except Exception as err:  # a bug: keep where it happened in a report, tell the user
            report = write_crash_report(err)  # never the message: it can hold personal data
            self.signals.failed.emit("程序内部错误，操作未完成。这是软件缺陷，请将报告文件发给维护人员："
                                     f"{report}")


class Workers(QObject):
    """The pools: `read` for reading work (several threads), `write` for writes (one thread,
    so database writes are serialised)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.read = QThreadPool(self)
        self.read.setMaxThreadCount(2)
        self.write = QThreadPool(self)
        self.write.setMaxThreadCount(1)
        self._running: set[TaskRunnable] = set()

    def start(self, make_task: Callable[[], Task[Any]], *,
              on_done: Callable[[Any], None] | None = None,
              on_progress: Callable[[int, int, str], None] | None = None,
              on_error: Callable[[str], None] | None = None,
              writes: bool = False) -> TaskRunnable:
        """Run the task made by `make_task` (called on the worker thread); callbacks run on the
        thread of this object (the main thread)."""
        job = TaskRunnable(make_task)
        if on_progress:
            job.signals.progress.connect(on_progress)
        if on_done:
            job.signals.finished.connect(on_done)
        if on_error:
            job.signals.failed.connect(on_error)
        for sig in (job.signals.finished, job.signals.failed, job.signals.cancelled):
            sig.connect(lambda *_a, j=job: self._running.discard(j))
        self._running.add(job)
        (self.write if writes else self.read).start(job)
        return job

    def wait(self, msecs: int = -1) -> bool:
        """Wait for every running task (tests, and closing the window)."""
        ok_read = self.read.waitForDone(msecs)
        ok_write = self.write.waitForDone(msecs)
        return ok_read and ok_write

    def cancel_all(self) -> None:
        for job in list(self._running):
            job.cancel()
