"""Waiting for a blocking call without freezing the window.

Opening a register derives its key (scrypt, most of a second) and, the first time a new version
opens an older register, backs it up and migrates it (a pg_dump of a large server register takes
tens of seconds). `wait_for` runs such a call on a plain thread while a local event loop keeps
the dialog painted and its clock ticking, and returns or raises what the call did: the caller
stays as simple as a direct call (and so do the tests that drive it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QEventLoop, QMetaObject, Qt, QTimer

T = TypeVar("T")

TICK_MS = 200


def wait_for(call: Callable[[], T], tick: Callable[[float], None] | None = None) -> T:
    """`call()`'s result (or its exception), the event loop running meanwhile; `tick(seconds
    waited)` every TICK_MS. The call must not touch widgets (it runs off the GUI thread)."""
    outcome: dict[str, object] = {}
    loop = QEventLoop()
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as err:  # noqa: BLE001 (re-raised on the GUI thread)
            outcome["error"] = err
        finally:
            done.set()
            # the loop lives on the GUI thread: ask it to quit there (a queued call is taken
            # by whichever loop runs next, so one posted before exec() starts is not lost)
            QMetaObject.invokeMethod(loop, "quit", Qt.ConnectionType.QueuedConnection)

    started = time.monotonic()
    timer = QTimer()
    timer.setInterval(TICK_MS)

    def check() -> None:
        if done.is_set():
            loop.quit()  # (the queued quit does it first; this is the safety net)
        elif tick is not None:
            tick(time.monotonic() - started)

    timer.timeout.connect(check)
    thread = threading.Thread(target=work, name="dengji-wait", daemon=True)
    thread.start()
    timer.start()
    if not done.wait(0.05):  # a quick call returns without a nested event loop
        loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    timer.stop()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
