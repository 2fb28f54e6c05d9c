"""Task handlers: how a Task state's resource is executed, looked up by the parsed resource.

The interpreter knows nothing about Tencent Cloud; integrations register a handler per
resource kind (``scf``, ``asw``, ``api``) and the engine calls it with the state's
effective input. A handler returns the raw result or raises ``StatesError``; any other
exception fails the Task with States.TaskFailed (``steps.invoke_task``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from asw_airflow.resource import ResourceRef
from asw_airflow.semantics.errors import StatesError


@dataclass(frozen=True, slots=True)
class TaskInvocation:
    """Everything a handler may use: the resource, the effective input and the run's context.

    ``cancelled`` is set when the caller gives up on the call (its TimeoutSeconds passed, the
    Airflow task was killed): a handler that waits or polls should stop, cancelling any job it
    started, because its thread cannot be stopped from outside.

    ``payload`` is read-only: it may be (or share parts with) the state's input, which the engine
    passes on unchanged and whose size it has already bounded. Copy it before changing it.
    """

    resource: ResourceRef
    payload: Any
    context: Mapping[str, Any]
    state_name: str
    attempt: int = 0
    timeout_seconds: float | None = None
    cancelled: threading.Event = field(default_factory=threading.Event, compare=False, repr=False)


TaskHandler = Callable[[TaskInvocation], Any]


@dataclass
class HandlerRegistry:
    """Maps a resource kind (``scf``, ``asw``, ``api``) to a handler."""

    _by_kind: dict[str, TaskHandler] = field(default_factory=dict)

    def register_kind(self, kind: str, handler: TaskHandler) -> None:
        self._by_kind[kind] = handler

    def resolve(self, resource: ResourceRef) -> TaskHandler:
        handler = self._by_kind.get(resource.kind)
        if handler is None:
            raise StatesError(
                "States.Runtime",
                f"no handler for resource {resource.text!r}: configure Tencent Cloud credentials "
                "or a mock file for this Task",
            )
        return handler
