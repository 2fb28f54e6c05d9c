"""Where a suspended execution resumes: a top-level Wait, or a Retry delay, handed to someone else's timer.

An Airflow engine task must not sleep on its worker through a Wait: it asks the engine to stop
there (``run_execution(suspend=True)``), defers to a timer, and runs again from this point
(``run_execution(resume=...)``). Everything here is JSON, because it travels in a trigger event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Suspension:
    """Resume at ``state`` with ``input`` once ``until`` (ISO 8601 UTC) has passed.

    ``retry_count`` is None for a Wait (resuming finishes the Wait, entered at ``entered``);
    for a Retry delay it is the number of the try to run next, with ``attempts`` the
    per-retrier counts so far. ``deadline`` is the execution's TimeoutSeconds deadline, if any.
    ``variables`` are the execution's top-level variables when it stopped.
    """

    state: str
    input: Any
    until: str
    entered: str
    variables: dict[str, Any] = field(default_factory=dict)
    retry_count: int | None = None
    attempts: tuple[int, ...] | None = None
    deadline: str | None = None

    def until_time(self) -> datetime:
        return datetime.fromisoformat(self.until)

    def wake_time(self) -> datetime:
        """When to resume: ``until``, or the execution's deadline if that comes first (it then times out)."""
        until = self.until_time()
        return until if self.deadline is None else min(until, datetime.fromisoformat(self.deadline))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"state": self.state, "input": self.input, "until": self.until, "entered": self.entered}
        if self.variables:
            data["variables"] = self.variables
        if self.retry_count is not None:
            data["retry_count"] = self.retry_count
            data["attempts"] = list(self.attempts or ())
        if self.deadline is not None:
            data["deadline"] = self.deadline
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Suspension:
        attempts = data.get("attempts")
        return cls(
            state=data["state"],
            input=data["input"],
            until=data["until"],
            entered=data["entered"],
            variables=dict(data.get("variables", {})),
            retry_count=data.get("retry_count"),
            attempts=None if attempts is None else tuple(attempts),
            deadline=data.get("deadline"),
        )
