"""One runner for every user action that runs a service (Anki's aqt/operations habit).

    Operation(ctx, lambda: svc.merge_packages(...), title="导入未完成", writes=True,
              changes=Changes.ALL).success(show_results).run()

runs the service's generator on the right pool (`writes=True`: the single write thread), shows
its Progress in the status bar, lets the returned job be cancelled, turns a KnownError into a
Chinese message box titled `title` (or hands the message to `.failure(…)`), hides the progress
when it ends however it ends, and — on success — tells the window what changed through the
context's `changed` signal before the success callback runs. `exclusive="packages"` refuses a
second operation of the same kind while one runs (with `busy_text` in the status bar).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtWidgets import QMessageBox

from desktop.progress import Task
from desktop.ui.context import Changes, WindowContext
from desktop.ui.workers import TaskRunnable

T = TypeVar("T")


class Operation(Generic[T]):
    #: operations still running (a caller need not keep its Operation)
    running: set[Operation[Any]] = set()

    def __init__(self, ctx: WindowContext, make_task: Callable[[], Task[T]], *, title: str,
                 writes: bool = False, changes: Changes = Changes.NOTHING,
                 exclusive: str | None = None, busy_text: str = "正在处理，请稍候…",
                 progress: bool = True) -> None:
        self.ctx, self.make_task, self.title = ctx, make_task, title
        self.writes, self.changes = writes, changes
        self.exclusive, self.busy_text = exclusive, busy_text
        self.show_progress = progress
        self._success: Callable[[T], object] | None = None
        self._failure: Callable[[str], object] | None = None
        self._progress: Callable[[int, int, str], object] | None = None
        self._finally: Callable[[], object] | None = None
        self.job: TaskRunnable | None = None

    def success(self, fn: Callable[[T], object]) -> Operation[T]:
        self._success = fn
        return self

    def failure(self, fn: Callable[[str], object]) -> Operation[T]:
        """Instead of the message box: `fn(message)` (the message is in Chinese)."""
        self._failure = fn
        return self

    def on_progress(self, fn: Callable[[int, int, str], object]) -> Operation[T]:
        """Progress also goes to `fn` (a dialog's own bar), besides the status bar."""
        self._progress = fn
        return self

    def finally_(self, fn: Callable[[], object]) -> Operation[T]:
        """Runs when the operation ends: done, failed or cancelled."""
        self._finally = fn
        return self

    def run(self) -> TaskRunnable | None:
        """Start it; None when an exclusive operation of the same kind is still running."""
        ctx = self.ctx
        if self.exclusive is not None and not ctx.claim(self.exclusive):
            ctx.status(self.busy_text)
            return None
        Operation.running.add(self)
        self.job = ctx.workers.start(self.make_task, on_done=self._done,
                                     on_progress=self._step, on_error=self._failed,
                                     writes=self.writes)
        self.job.signals.cancelled.connect(self._end)
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    # -- on the window's thread --

    def _step(self, done: int, total: int, message: str) -> None:
        if self.show_progress:
            self.ctx.progress(done, total, message)
        if self._progress is not None:
            self._progress(done, total, message)

    def _end(self) -> None:
        Operation.running.discard(self)
        self.ctx.progress(0, 0)
        if self.exclusive is not None:
            self.ctx.release(self.exclusive)
        if self._finally is not None:
            self._finally()

    def _done(self, result: Any) -> None:
        self._end()
        self.ctx.notify(self.changes)
        if self._success is not None:
            self._success(result)

    def _failed(self, message: str) -> None:
        self._end()
        if self._failure is not None:
            self._failure(message)
        else:
            QMessageBox.warning(self.ctx.widget, self.title, message)
