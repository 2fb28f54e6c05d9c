"""Emulated ASW executions of TCSL files in ``DIR/<stem>.json``, run by an injected workflow runner.

Resource names: a StartExecution ``StateMachineResourceName`` may be the bare stem or any qrn
containing ``:flowmachine:{stem}`` (e.g. ``qrn:qcs:asw:ap-guangzhou:1250000000:http:json:flowmachine:{stem}:{id}``).
Executions are named ``qrn:qcs:asw:{region}:{appid}:execution:{stem}:{Name}``. A ``Name`` already
used for that state machine is idempotent: StartExecution returns the existing execution, so a
retried start never runs a child twice. History events use the engine's vocabulary
(``ExecutionStart``, ``{Type}NodeEnter``..., ``ExecutionSucceed``/``ExecutionFailed``/``ExecutionTerminated``)
and the runner's history is the record: the emulator adds only what the runner cannot know (a
start event while it runs, the terminal event of a stop or of a runner that gave none). StopExecution sets the execution's :class:`StopSignal`,
so the runner really stops the child (no further states, no further function calls).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from asw_airflow.tencentcloud.emulator.base import ApiError


class StopSignal:
    """Set once by StopExecution (or the emulator stopping); a runner reacts through :meth:`on_set`
    (e.g. ``Execution.stop``) and :meth:`wait` (a Wait state that must end early)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def set(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True when stopped (possibly before ``timeout`` passed)."""
        return self._event.wait(timeout)

    def on_set(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the signal is set: at once if it already is."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()


WorkflowRunner = Callable[[str, Any, str, StopSignal], dict]
"""``(definition_text, input, execution_name, stop) -> {"status": "SUCCEED"|"FAILED"|"TERMINATED", "output", "error",
"cause", "history"}``; the runner must end soon after ``stop`` is set, starting nothing new."""

_FLOWMACHINE = re.compile(r":flowmachine:([^:]+)")
_TERMINAL = ("ExecutionSucceed", "ExecutionFailed", "ExecutionTerminated")


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Execution:
    qrn: str
    name: str
    state_machine: str
    definition: str
    input: str
    status: str = "RUNNING"
    output: str | None = None
    start_date: str = field(default_factory=_now)
    stop_date: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    stop: StopSignal = field(default_factory=StopSignal)
    thread: threading.Thread | None = None

    def event(self, category: str, **fields: Any) -> dict[str, Any]:
        """One history event in DescribeExecutionHistory's shape (``EventId`` set by :meth:`set_history`)."""
        return {
            "ExecutionResourceName": self.qrn,
            "EventId": 0,
            "EventCategory": category,
            "StepName": fields.get("StepName", ""),
            "ResourceName": fields.get("ResourceName", ""),
            "Timestamp": str(fields.get("Timestamp") or int(time.time() * 1000)),
            "Content": fields.get("Content", ""),
            "Exception": fields.get("Exception", ""),
        }

    def set_history(self, events: list[dict[str, Any]]) -> None:
        self.events = [{**event, "EventId": number} for number, event in enumerate(events, 1)]

    def add_event(self, category: str, **fields: Any) -> None:
        self.set_history([*self.events, self.event(category, **fields)])


class AswService:
    """StartExecution, DescribeExecution, StopExecution, DescribeExecutionHistory."""

    def __init__(self, workflows_dir: Path | None, runner: WorkflowRunner | None, appid: str):
        self.workflows_dir = workflows_dir
        self.runner = runner
        self.appid = appid
        self._executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    @property
    def execution_count(self) -> int:
        """How many distinct executions were started; tests use it to prove starts are idempotent."""
        with self._lock:
            return len(self._executions)

    def actions(self) -> dict[str, Callable[[dict, str], dict]]:
        return {
            "StartExecution": self.start_execution,
            "DescribeExecution": self.describe_execution,
            "StopExecution": self.stop_execution,
            "DescribeExecutionHistory": self.describe_execution_history,
        }

    def _definition(self, resource_name: str) -> tuple[str, str]:
        match = _FLOWMACHINE.search(resource_name)
        stem = match.group(1) if match else resource_name
        path = self.workflows_dir / f"{stem}.json" if self.workflows_dir and "/" not in stem else None
        if path is None or not path.is_file():
            raise ApiError("ResourceNotFound.StateMachine", f"state machine {resource_name!r} does not exist")
        return stem, path.read_text(encoding="utf-8")

    def start_execution(self, params: dict, region: str) -> dict:
        resource_name = params.get("StateMachineResourceName")
        if not resource_name:
            raise ApiError("MissingParameter", "StateMachineResourceName is required")
        stem, definition = self._definition(resource_name)
        raw_input = params.get("Input") or "{}"
        try:
            parsed_input = json.loads(raw_input)
        except (TypeError, ValueError):
            raise ApiError("InvalidParameterValue.Input", "Input must be a JSON string") from None
        if self.runner is None:
            raise ApiError("UnsupportedOperation", "this emulator was started without a workflow runner")
        name = params.get("Name") or uuid.uuid4().hex
        qrn = f"qrn:qcs:asw:{region}:{self.appid}:execution:{stem}:{name}"
        with self._lock:
            existing = self._executions.get(qrn)
            if existing is not None:
                return {"ExecutionResourceName": existing.qrn, "StartDate": existing.start_date}
            execution = Execution(qrn, name, stem, definition, raw_input)
            execution.add_event("ExecutionStart", Content=json.dumps({"input": parsed_input}, ensure_ascii=False))
            self._executions[qrn] = execution
        execution.thread = threading.Thread(
            target=self._run, args=(execution, parsed_input), name=f"emulated-asw-{name}", daemon=True
        )
        execution.thread.start()
        return {"ExecutionResourceName": qrn, "StartDate": execution.start_date}

    def _run(self, execution: Execution, parsed_input: Any) -> None:
        assert self.runner is not None
        try:
            result = self.runner(execution.definition, parsed_input, execution.name, execution.stop)
        except Exception as exc:  # a broken runner fails the execution, it must not kill the server
            result = {"status": "FAILED", "error": "States.Runtime", "cause": f"{type(exc).__name__}: {exc}"}
        with self._lock:
            history = [execution.event(e.get("EventCategory", "StepEvent"), **e) for e in result.get("history") or []]
            if not history or history[0]["EventCategory"] != "ExecutionStart":
                history.insert(0, execution.events[0])
            if execution.status != "RUNNING":  # stopped meanwhile: the stop's event wins
                history = [e for e in history if e["EventCategory"] not in _TERMINAL] + execution.events[-1:]
            else:
                self._finish(execution, result, history)
            execution.set_history(history)

    @staticmethod
    def _finish(execution: Execution, result: dict, history: list[dict[str, Any]]) -> None:
        """Take the runner's status; add the terminal event only when its history has none."""
        status = result.get("status")
        execution.status = status if status in ("SUCCEED", "TERMINATED") else "FAILED"
        execution.stop_date = _now()
        if execution.status == "SUCCEED":
            execution.output = json.dumps(result.get("output"), ensure_ascii=False)
        if history[-1]["EventCategory"] in _TERMINAL:
            return
        if execution.status == "SUCCEED":
            history.append(execution.event("ExecutionSucceed", Content=json.dumps({"output": result.get("output")}, ensure_ascii=False)))
        elif execution.status == "TERMINATED":
            history.append(execution.event("ExecutionTerminated"))
        else:
            error = {"Error": result.get("error") or "States.Runtime", "Cause": result.get("cause") or ""}
            history.append(execution.event("ExecutionFailed", Exception=json.dumps(error, ensure_ascii=False)))

    def _execution(self, qrn: str | None) -> Execution:
        execution = self._executions.get(qrn or "")
        if execution is None:
            raise ApiError("ResourceNotFound.Execution", f"execution {qrn!r} does not exist")
        return execution

    def describe_execution(self, params: dict, region: str) -> dict:
        execution = self._execution(params.get("ExecutionResourceName"))
        with self._lock:
            return {
                "ExecutionResourceName": execution.qrn,
                "Name": execution.name,
                "StartDate": execution.start_date,
                "StopDate": execution.stop_date,
                "StateMachineResourceName": execution.state_machine,
                "Status": execution.status,
                "Input": execution.input,
                "Output": execution.output,
                "ExecutionDefinition": execution.definition,
            }

    def stop_execution(self, params: dict, region: str) -> dict:
        execution = self._execution(params.get("ExecutionQrn"))
        with self._lock:
            if execution.status == "RUNNING":
                execution.status = "TERMINATED"
                execution.stop_date = _now()
                execution.add_event("ExecutionTerminated")
        execution.stop.set()
        return {}

    def join(self, qrn: str, timeout: float) -> bool:
        """Wait up to ``timeout`` for the runner of execution ``qrn`` to end; whether it did."""
        thread = self._execution(qrn).thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def shutdown(self, grace_seconds: float) -> None:
        """Stop every running execution and wait up to ``grace_seconds`` in all for their runners to end."""
        with self._lock:
            executions = list(self._executions.values())
        for execution in executions:
            execution.stop.set()
        deadline = time.monotonic() + grace_seconds
        for execution in executions:
            if execution.thread is not None:
                execution.thread.join(max(0.0, deadline - time.monotonic()))

    def describe_execution_history(self, params: dict, region: str) -> dict:
        execution = self._execution(params.get("ExecutionResourceName"))
        with self._lock:
            return {"Events": [dict(event) for event in execution.events]}
