"""Execution history in the shape of ASW's DescribeExecutionHistory, recorded only when asked for."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any


class History:
    """Events ``{EventId, EventCategory, StepName, ResourceName, Timestamp, Content, Exception}``.

    ``EventCategory`` is ``ExecutionStart``/``ExecutionSucceed``/``ExecutionFailed``/``ExecutionTerminated``
    or ``{Type}NodeEnter``/``{Type}NodeExit``/``{Type}NodeFailed`` (``PassNodeEnter``...).
    ``Timestamp`` is epoch milliseconds; ``Content`` is JSON text holding input and/or output, as
    ASW returns it. Map iterations and Parallel branches record into the same list (thread-safe).
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(
        self,
        category: str,
        when: datetime,
        step_name: str = "",
        *,
        content: dict[str, Any] | None = None,
        exception: dict[str, Any] | None = None,
        resource_name: str = "",
    ) -> None:
        event = {
            "EventCategory": category,
            "StepName": step_name,
            "ResourceName": resource_name,
            "Timestamp": int(when.timestamp() * 1000),
            "Content": "" if content is None else json.dumps(content, ensure_ascii=False),
            "Exception": "" if exception is None else json.dumps(exception, ensure_ascii=False),
        }
        with self._lock:
            event["EventId"] = len(self.events) + 1
            self.events.append(event)
