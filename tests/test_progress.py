"""`without_collection` pauses the cyclic garbage collector for a task and restores it however
the task ends — a window closed while it read 200,000 records once left the collector off for
the rest of the process (every later window's objects kept: memory and open time grew)."""

from __future__ import annotations

import gc

import pytest

from desktop.progress import Progress, run, without_collection


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def steps(n: int, fail: bool = False):
    for i in range(n):
        assert not gc.isenabled()  # paused while the task runs
        yield Progress(i, n)
    if fail:
        raise ValueError("read failed")
    return "read"


def test_done_failed_and_closed_unfinished_all_restore_it() -> None:
    assert run(without_collection(steps(3))) == "read" and gc.isenabled()
    with pytest.raises(ValueError):
        run(without_collection(steps(2, fail=True)))
    assert gc.isenabled()
    task = without_collection(steps(5))
    next(task)
    assert not gc.isenabled()
    task.close()  # cancelled: the worker drops the generator at a yield
    assert gc.isenabled()
    task = without_collection(steps(5))
    next(task)
    del task  # dropped without close: finalised the same way
    assert gc.isenabled()


def test_a_task_started_while_another_runs_leaves_it_to_the_first() -> None:
    first = without_collection(steps(3))
    next(first)
    second = without_collection(steps(1))
    assert run(second) == "read"
    assert not gc.isenabled()  # the first still reads
    run(first)
    assert gc.isenabled()


def test_a_task_never_started_changes_nothing() -> None:
    task = without_collection(steps(3))
    del task
    assert gc.isenabled()
