"""Time as the engine sees it: injectable, so tests and Wait-heavy workflows need not really wait."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

CANCEL_GRACE_SECONDS = 1.0
"""How long a timed-out call gets, once ``cancel`` is set, to notice it and return."""


class Clock(Protocol):
    """``now`` is timezone-aware UTC; ``run`` calls ``function`` and raises ``TimeoutError`` past ``timeout``,
    having set ``cancel`` (if given) so the call can stop what it started."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...

    def run(self, function: Callable[[], T], timeout: float | None, cancel: threading.Event | None = None) -> T: ...


class RealClock:
    """Wall-clock time; a timed call runs in a daemon thread so a hung Task cannot hold the execution.

    Python cannot stop a thread: past the timeout ``cancel`` is set and the call gets
    :data:`CANCEL_GRACE_SECONDS` to return. One that ignores it keeps running in the background
    (a Retry then runs beside it); that is logged as a warning, never silent.
    """

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def run(self, function: Callable[[], T], timeout: float | None, cancel: threading.Event | None = None) -> T:
        if timeout is None:
            return function()
        outcome: list = []

        def target() -> None:
            try:
                outcome.append((True, function()))
            except BaseException as exc:  # re-raised in the caller's thread
                outcome.append((False, exc))

        worker = threading.Thread(target=target, daemon=True)
        worker.start()
        worker.join(timeout)
        if not outcome:
            if cancel is not None:
                cancel.set()
                worker.join(CANCEL_GRACE_SECONDS)
            if worker.is_alive():
                log.warning(
                    "A call timed out after %s s and is still running in the background: what it does "
                    "(and a Retry started meanwhile) may overlap; the handler should honour its cancel signal",
                    timeout,
                )
            raise TimeoutError(f"did not finish within {timeout} s")
        ok, value = outcome[0]
        if not ok:
            raise value
        return value


class VirtualClock:
    """Time that moves only when slept on: a one-minute Wait costs nothing; a timed call that
    advanced the clock past its timeout counts as timed out."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime.now(timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._now += timedelta(seconds=seconds)

    def run(self, function: Callable[[], T], timeout: float | None, cancel: threading.Event | None = None) -> T:
        started = self.now()
        result = function()
        if timeout is not None and (self.now() - started).total_seconds() > timeout:
            if cancel is not None:
                cancel.set()
            raise TimeoutError(f"did not finish within {timeout} s")
        return result
