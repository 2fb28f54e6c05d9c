"""The in-process interpreter: runs a compiled :class:`Machine` state by state.

The loop over states is iterative (only Map iterations and Parallel branches nest, as deep as
the definition itself), so 5,000-state chains and 100,000-item Maps run in constant stack.
Every state's semantics come from ``semantics.steps``; this module only sequences states,
sleeps on the clock, calls Task handlers, fans out Map/Parallel and records history.
With ``suspend``, a top-level Wait or Retry delay that has time left ends the run as SUSPENDED
with a :class:`Suspension` instead of sleeping; ``resume`` continues from one.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Literal, Mapping, MutableMapping

from asw_airflow.engine.clock import Clock, RealClock
from asw_airflow.engine.handlers import HandlerRegistry, TaskInvocation
from asw_airflow.engine.history import History
from asw_airflow.engine.suspension import Suspension
from asw_airflow.ir import (
    ChoiceState,
    FailState,
    Machine,
    MapState,
    ParallelState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import DEFAULT_PAYLOAD_LIMIT, Frame, check_size, enter_state, make_context, timestamp
from asw_airflow.semantics.errors import StatesError
from asw_airflow.semantics.fast import Cancelled, map_iterations, warm_machine, warm_steps
from asw_airflow.semantics.paths import json_size
from asw_airflow.semantics.scope import Scope

Status = Literal["SUCCEED", "FAILED", "TERMINATED", "SUSPENDED"]
Listener = Callable[[str, str], None]
"""Called with ``(event category, state name)`` as states are entered and left (CLI progress)."""


@dataclass(slots=True)
class ExecutionResult:
    """How an execution ended, in ASW's status words; ``history`` is empty unless it was recorded.

    SUSPENDED (only when asked to suspend) is not an end: ``suspension`` says where to resume.
    """

    status: Status
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    suspension: Suspension | None = None


class _Suspended(Exception):
    """Raised at a top-level Wait or Retry delay of a suspending run; carries the resume point."""

    def __init__(self, suspension: Suspension):
        super().__init__(suspension.state)
        self.suspension = suspension


class _Cancel:
    """A cancellation flag that is also set when any enclosing one is (nested Map/Parallel fan-outs).

    A plain attribute, not a ``threading.Event``: nobody waits on it, it is only polled between
    states, and assigning a bool is atomic; an Event per execution showed in short executions.
    Setting one sets its children, so the poll is one attribute read (``stopped``), not a walk up.
    """

    __slots__ = ("stopped", "_children")

    def __init__(self, parent: _Cancel | None = None):
        self._children: list[_Cancel] = []
        self.stopped = False
        if parent is not None:
            parent._children.append(self)  # before reading the flag: a set() in between reaches us
            self.stopped = parent.stopped

    def set(self) -> None:
        self.stopped = True
        for child in list(self._children):
            child.set()

    def is_set(self) -> bool:
        return self.stopped

    def detach(self, child: _Cancel) -> None:
        """Forget a finished fan-out's flag, so a loop of Maps does not pile them up."""
        self._children.remove(child)


def default_context(
    machine: Machine, input: Any, start_time: datetime, name: str | None = None, role_arn: str | None = None
) -> dict[str, Any]:
    """A ``$$`` object for a local run: generated execution name, ids naming the machine, the role if given."""
    execution_name = name or str(uuid.uuid4())
    machine_name = machine.name or "local"
    return make_context(
        execution_id=f"local:execution:{machine_name}:{execution_name}",
        name=execution_name,
        input=input,
        start_time=start_time,
        state_machine_id=f"local:stateMachine:{machine_name}",
        state_machine_name=machine_name,
        role_arn=role_arn,
    )


class Execution:
    """One run of a machine; ``stop()`` from another thread ends it as TERMINATED at the next state
    and sets ``cancelled`` on the Task calls in flight, so a handler that waits stops waiting.

    ``variables`` are the top-level variables the run starts with; the dict is updated in place
    with every top-level Assign, so a caller running part of a workflow (an Airflow engine task)
    gets the variables it leaves with. With ``suspend``, a Wait or Retry delay of a top-level
    state that has time left ends the run SUSPENDED instead of sleeping; ``resume`` (with
    ``input`` ignored and ``variables`` from the suspension) continues it after that time.
    ``deadline`` replaces the machine's own TimeoutSeconds deadline (an Airflow task running part
    of a workflow times out with the whole DAG run).
    """

    def __init__(
        self,
        machine: Machine,
        input: Any,
        *,
        context: Mapping[str, Any] | None = None,
        handlers: HandlerRegistry | None = None,
        clock: Clock | None = None,
        history: bool = False,
        payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT,
        listener: Listener | None = None,
        variables: MutableMapping[str, Any] | None = None,
        suspend: bool = False,
        resume: Suspension | None = None,
        deadline: steps.Deadline | None = None,
    ):
        self.machine = machine
        self.listener = listener
        if variables is None:
            variables = dict(resume.variables) if resume is not None else {}
        self.variables = variables
        self.input = input
        self.clock = clock or RealClock()
        self.handlers = handlers or HandlerRegistry()
        self.history = History() if history else None
        self.payload_limit = payload_limit
        self._context = dict(context) if context is not None else None
        self._started = self.clock.now()
        self._stopped = _Cancel()
        self._in_flight: dict[int, TaskInvocation] = {}  # by id(): a payload may be unhashable
        self._in_flight_lock = threading.Lock()
        self._deadline = deadline
        self._pure: dict[int, bool] = {}
        self._suspend = suspend
        self._resume = resume

    @property
    def context(self) -> dict[str, Any]:
        """``$$`` without the per-state parts; the default one is built on first use (a uuid and
        a timestamp cost more than a short execution of states that never read ``$$``)."""
        if self._context is None:
            self._context = default_context(self.machine, self.input, self._started)
        return self._context

    def stop(self) -> None:
        with self._in_flight_lock:
            self._stopped.set()
            for invocation in self._in_flight.values():
                invocation.cancelled.set()

    def run(self) -> ExecutionResult:
        resume = self._resume
        seconds = steps.execution_timeout(self.machine)
        if self._deadline is None and seconds is not None:  # else the caller's (an Airflow task's: the DAG run's)
            if resume is not None and resume.deadline is not None:
                self._deadline = steps.Deadline(datetime.fromisoformat(resume.deadline), seconds)
            else:
                self._deadline = steps.execution_deadline(self.clock.now(), seconds)
        recording = self.listener is not None or self.history is not None
        if recording and resume is None:
            self._record("ExecutionStart", content={"input": self.input})
        try:
            value = self.input if resume is None else resume.input
            size = check_size(value, self.payload_limit)
            context = self.context if self._context is not None or _reads_context(self.machine) else {}
            frame = Frame(context, self.variables, self.payload_limit)
            start = None
            if resume is not None:
                outcome = self._resume_state(resume, frame)
                if outcome.assigned:
                    self.variables.update(outcome.assigned)
                value, start, size = outcome.output, outcome.next, None
            output = value
            if resume is None or start is not None:
                output, _ = self._run_machine(self.machine, value, frame, self._stopped, size, start=start)
        except _Suspended as suspended:
            return ExecutionResult("SUSPENDED", history=self._events(), suspension=suspended.suspension)
        except StatesError as error:
            self._record("ExecutionFailed", exception=error.to_output())
            return ExecutionResult("FAILED", None, error.error, error.cause, self._events())
        except Cancelled:
            self._record("ExecutionTerminated")
            return ExecutionResult("TERMINATED", history=self._events())
        if recording:
            self._record("ExecutionSucceed", content={"output": output})
        return ExecutionResult("SUCCEED", output, history=self._events())

    # --- the state loop ---------------------------------------------------------------------

    def _run_machine(
        self,
        machine: Machine,
        input: Any,
        frame: Frame,
        cancel: _Cancel,
        size: int | None = None,
        scope: Scope | None = None,
        start: str | None = None,
    ) -> tuple[Any, int | None]:
        """Run ``machine`` from ``start`` (default StartAt) to an End: the last state's output and a bound of its JSON size.

        ``size`` bounds the input's JSON size (None: unknown), so does the returned one. Without
        history, listener or deadline, the loop is :meth:`_run_fast`; this one also records and
        checks the clock. ``scope``: ``frame``'s scratch scope, when a caller runs many times in one frame.
        """
        if self._fast:
            return self._run_fast(machine, input, frame, cancel, size, scope or frame.scope(None), start)
        free = machine.context_free
        variables: MutableMapping[str, Any] = frame.variables  # type: ignore[assignment]
        states = machine.states
        recording = self.listener is not None or self.history is not None
        timed = self._deadline is not None
        run_state = self._run_state
        name: str | None = machine.start_at if start is None else start
        value = input
        while name is not None:
            if cancel.is_set():
                raise Cancelled
            if timed:
                self._check_deadline()
            state = states[name]
            if recording:
                resource = state.resource.text if isinstance(state, TaskState) else ""
                self._record(f"{state.type}NodeEnter", state.name, content={"input": value}, resource_name=resource)
            outcome = run_state(state, value, frame, cancel, name not in free)
            if outcome.assigned:
                variables.update(outcome.assigned)
            if recording:
                self._record(f"{state.type}NodeExit", state.name, content={"output": outcome.output}, resource_name=resource)
            value = outcome.output
            name = outcome.next
        return value, None

    @property
    def _fast(self) -> bool:
        """Nothing to record and no deadline to check between states: blocks may run them."""
        return self.listener is None and self.history is None and self._deadline is None

    def _run_fast(
        self, machine: Machine, input: Any, frame: Frame, cancel: _Cancel, size: int | None, scope: Scope, start: str | None = None
    ) -> tuple[Any, int | None]:
        """The state loop without recording: one call per state that has a fast step, else :meth:`_run_state`."""
        variables: MutableMapping[str, Any] = frame.variables  # type: ignore[assignment]
        states = machine.states
        free = machine.context_free
        limit = frame.payload_limit
        fast = warm_steps(machine, limit is not None)
        name: str | None = machine.start_at if start is None else start
        value = input
        while name is not None:
            if cancel.stopped:
                raise Cancelled
            step = fast[name]
            if step is not None:
                name, value, size = step(value, size, scope, limit, cancel)
                continue
            outcome = self._run_state(states[name], value, frame, cancel, name not in free, size)
            if outcome.assigned:
                variables.update(outcome.assigned)
            value = outcome.output
            name = outcome.next
            size = None
        return value, size

    def _run_state(
        self,
        state: State,
        value: Any,
        frame: Frame,
        cancel: _Cancel,
        entered: bool = True,
        size: int | None = None,
        retried: tuple[int, tuple[int, ...] | None] = (0, None),
    ) -> steps.StepOutcome:
        """One state, with its Retry loop and Catchers; ``entered``: give it ``$$.State`` (it may read it).

        ``retried``: the try to start at and the per-retrier counts so far (a resumed Retry delay).
        """
        retry_count, attempts = retried
        while True:
            state_frame = frame
            if entered:
                context = enter_state(
                    frame.context, state.name, self.clock.now(), retry_count if isinstance(state, TaskState) else None
                )
                state_frame = frame.with_context(context)
            try:
                return self._step(state, value, state_frame, cancel, retry_count, size)
            except StatesError as error:
                decision = steps.on_error(state, error, value, attempts, state_frame)
                self._record(f"{state.type}NodeFailed", state.name, exception=error.to_output())
                if decision.action == "retry":
                    if self._suspend and decision.delay:
                        moment = self.clock.now() + timedelta(seconds=decision.delay)
                        self._suspend_at(state, value, moment, (retry_count + 1, decision.attempts))
                    self._sleep(decision.delay or 0)
                    attempts = decision.attempts
                    retry_count += 1
                    continue
                if decision.action == "catch":
                    return steps.StepOutcome(decision.next, decision.output, decision.assigned)
                raise

    def _step(self, state: State, value: Any, frame: Frame, cancel: _Cancel, attempt: int, size: int | None) -> steps.StepOutcome:
        kind = type(state)
        if kind is PassState:
            return steps.run_pass(state, value, frame)  # type: ignore[arg-type]
        if kind is ChoiceState:
            return steps.run_choice(state, value, frame)  # type: ignore[arg-type]
        if isinstance(state, TaskState):
            return self._task(state, value, frame, attempt, size)
        if isinstance(state, WaitState):
            moment = steps.wait_deadline(state, value, frame, self.clock.now())
            if self._suspend:
                self._suspend_at(state, value, moment, None, frame)
            self._wait_until(moment)
            return steps.wait_output(state, value, frame)
        if isinstance(state, SucceedState):
            return steps.run_succeed(state, value, frame)
        if isinstance(state, FailState):
            steps.run_fail(state, value, frame)
        if isinstance(state, MapState):
            return self._map(state, value, frame, cancel, size)
        if isinstance(state, ParallelState):
            return self._parallel(state, value, frame, cancel)
        raise TypeError(f"unknown state type {state.type}")

    # --- suspending and resuming --------------------------------------------------------------

    def _suspend_at(
        self,
        state: State,
        value: Any,
        moment: datetime,
        retried: tuple[int, tuple[int, ...] | None] | None,
        frame: Frame | None = None,
    ) -> None:
        """Stop the run here (raise :class:`_Suspended`) if ``state`` is top-level and ``moment`` is still ahead.

        ``retried`` is the next try of a Retry delay, None for a Wait (entered in ``frame``).
        """
        now = self.clock.now()
        if moment <= now or self.machine.states.get(state.name) is not state:
            return
        entered = frame.context.get("State", {}).get("EnteredTime") if frame is not None else None
        retry_count, attempts = retried if retried is not None else (None, None)
        raise _Suspended(
            Suspension(
                state=state.name,
                input=value,
                until=moment.isoformat(),
                entered=entered or timestamp(now),
                variables=dict(self.variables),
                retry_count=retry_count,
                attempts=attempts,
                deadline=None if self._deadline is None else self._deadline.at.isoformat(),
            )
        )

    def _resume_state(self, resume: Suspension, frame: Frame) -> steps.StepOutcome:
        """Finish the Wait, or run the next try of the Retry, that ``resume`` stopped at."""
        state = self.machine.states[resume.state]
        self._wait_until(resume.until_time())  # what is left, if the timer fired early; capped by the deadline
        if resume.retry_count is not None:
            entered = state.name not in self.machine.context_free
            return self._run_state(state, resume.input, frame, self._stopped, entered, None, (resume.retry_count, resume.attempts))
        state_frame = frame.with_context(enter_state(frame.context, state.name, resume.entered))
        return steps.wait_output(state, resume.input, state_frame)  # type: ignore[arg-type]

    # --- time -------------------------------------------------------------------------------

    def _check_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.check(self.clock.now())

    def _sleep(self, seconds: float) -> None:
        self._wait_until(self.clock.now() + timedelta(seconds=seconds))

    def _wait_until(self, moment: datetime) -> None:
        """Sleep until ``moment``, but no further than the execution's deadline (then States.Timeout)."""
        target = moment if self._deadline is None else self._deadline.cap(moment)
        self.clock.sleep((target - self.clock.now()).total_seconds())
        if target != moment:
            self._check_deadline()

    # --- Task -------------------------------------------------------------------------------

    def _task(self, state: TaskState, value: Any, frame: Frame, attempt: int, size: int | None) -> steps.StepOutcome:
        payload = steps.task_payload(state, value, frame)
        timeout = steps.task_timeout(state, value, frame)
        invocation = TaskInvocation(state.resource, payload, frame.context, state.name, attempt, timeout)
        resolve = lambda: self.handlers.resolve(state.resource)  # noqa: E731
        with self._in_flight_lock:  # a stop() from now on reaches this call
            self._in_flight[id(invocation)] = invocation
            if self._stopped.is_set():
                invocation.cancelled.set()
        try:
            result = steps.invoke_task(state, invocation, resolve, self.clock.run, self._deadline, self.clock.now)
        finally:
            with self._in_flight_lock:
                del self._in_flight[id(invocation)]
        return steps.task_output(state, value, result, frame, (size, None))

    # --- Map and Parallel -------------------------------------------------------------------

    def _map(self, state: MapState, value: Any, frame: Frame, cancel: _Cancel, size: int | None) -> steps.StepOutcome:
        items = steps.map_items(state, value, frame)
        concurrency = steps.map_concurrency(state, value, frame)
        tolerance = steps.map_tolerance(state, value, frame)
        context = _execution_part(frame.context)
        # Iterations that assign nothing cannot tell one variable scope from another: share one.
        shared = None if _assigns(state.iterator) else frame.inner(context)
        shared_scope = None if shared is None else shared.scope(None)

        if concurrency == 1 or len(items) <= 1 or self._is_pure(state.iterator):
            limit = frame.payload_limit
            compiled = None
            if self._fast and shared_scope is not None:
                compiled = warm_machine(state.iterator, limit is not None, runs=len(items))
            if compiled is not None:
                iterations = map_iterations(state.iterator, limit is not None, shared_scope, limit, cancel)
                return steps.map_in_order(state, value, frame, items, tolerance, size, *iterations)
            iterate = lambda item, item_size: (  # noqa: E731
                None,
                *self._run_machine(state.iterator, item, shared or frame.inner(context), cancel, item_size, shared_scope),
            )
            return steps.map_in_order(state, value, frame, items, tolerance, size, iterate)

        item_size = steps.map_item_size(state, size)
        results: list[Any] = [None] * len(items)
        failures: dict[int, StatesError] = {}

        def run_item(index: int, item: Any, stop: _Cancel) -> Any:
            return self._run_machine(state.iterator, item, shared or frame.inner(context), stop, item_size)[0]

        workers = len(items) if concurrency == 0 else min(concurrency, len(items))
        self._fan_out(items, run_item, workers, cancel, results, failures, tolerance != (None, None))
        return steps.map_collect(state, value, results, failures, frame, tolerance, sizes=(size, None))

    def _parallel(self, state: ParallelState, value: Any, frame: Frame, cancel: _Cancel) -> steps.StepOutcome:
        branch_input = steps.parallel_input(state, value, frame)
        context = _execution_part(frame.context)
        branches = list(enumerate(state.branches))
        results: list[Any] = [None] * len(branches)

        def run_branch(index: int, branch: Machine, stop: _Cancel) -> Any:
            return self._run_machine(branch, branch_input, frame.inner(context), stop)[0]

        if len(branches) <= 1 or all(self._is_pure(branch) for branch in state.branches):
            for index, branch in branches:
                results[index] = run_branch(index, branch, cancel)
        else:
            self._fan_out(branches, run_branch, len(branches), cancel, results, {}, False)
        return steps.parallel_collect(state, value, results, frame)

    def _fan_out(self, jobs, function, workers, cancel, results, failures, tolerant) -> None:  # type: ignore[no-untyped-def]
        """Run ``function(index, job, stop)`` on a pool; the first failure cancels the rest unless tolerated."""
        stop = _Cancel(cancel)
        first_error: BaseException | None = None
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(function, index, job, stop): index for index, job in jobs}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    error = future.exception()
                    if error is None:
                        results[futures[future]] = future.result()
                    elif isinstance(error, StatesError) and tolerant:
                        failures[futures[future]] = error
                    elif not isinstance(error, Cancelled) and first_error is None:
                        first_error = error
                        stop.set()
        cancel.detach(stop)
        if first_error is not None:
            raise first_error
        if cancel.is_set():
            raise Cancelled

    def _is_pure(self, machine: Machine) -> bool:
        """No Task or Wait anywhere inside: threads would only add overhead (the GIL serialises it all)."""
        key = id(machine)
        if key not in self._pure:
            self._pure[key] = not any(isinstance(s, (TaskState, WaitState)) for s in machine.walk())
        return self._pure[key]

    # --- history ----------------------------------------------------------------------------

    def _record(self, category: str, step_name: str = "", **details: Any) -> None:
        if self.listener is not None:
            self.listener(category, step_name)
        if self.history is not None:
            self.history.record(category, self.clock.now(), step_name, **details)

    def _events(self) -> list[dict[str, Any]]:
        return self.history.events if self.history is not None else []


def _assigns(machine: Machine) -> bool:
    """Whether any of the machine's own states may set variables (Assign on it, a Choice rule or a Catcher)."""
    assigns = machine.memo.get("assigns")
    if assigns is None:
        assigns = any(
            state.assign is not None
            or any(catcher.assign is not None for catcher in getattr(state, "catch", ()))
            or (isinstance(state, ChoiceState) and any(rule.assign is not None for rule in state.branching.rules))
            for state in machine.states.values()
        )
        machine.memo["assigns"] = assigns
    return assigns


def _reads_context(machine: Machine) -> bool:
    """Whether any state, nested ones included, may read ``$$`` (cached on the machine)."""
    reads = machine.memo.get("reads_context")
    if reads is None:
        reads = any(
            name not in machine.context_free
            or (isinstance(state, MapState) and _reads_context(state.iterator))
            or (isinstance(state, ParallelState) and any(_reads_context(branch) for branch in state.branches))
            for name, state in machine.states.items()
        )
        machine.memo["reads_context"] = reads
    return reads


def _execution_part(context: Mapping[str, Any]) -> dict[str, Any]:
    """``$$`` without the per-state parts, for the states inside a branch or iteration."""
    return {key: value for key, value in context.items() if key not in ("State", "Map")}


def run_execution(
    machine: Machine, input: Any, payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT, **options: Any
) -> ExecutionResult:
    """Run ``machine`` on ``input`` to completion; never raises for workflow errors (see ``status``).

    ``payload_limit`` and ``options`` are :class:`Execution`'s keywords, documented there. A
    machine of states that blocks can run (see ``semantics.fast``) with nothing to record, stop,
    resume or time runs, once it has run a few times, as one call of its compiled form; a
    failure runs again through :class:`Execution`, which gives it exactly (such machines have
    no side effects).
    """
    if not options:
        run = warm_machine(machine, payload_limit is not None)
        if run is not None and steps.execution_timeout(machine) is None:
            size = None if payload_limit is None else json_size(input)
            if size is None or size <= payload_limit:  # type: ignore[operator]
                scope = Scope(None, _NO_CONTEXT, _NO_CONTEXT) if run.uses_scope else None  # type: ignore[attr-defined]
                try:
                    _, output, _ = run(input, size, scope, payload_limit, _NEVER_STOPPED)
                except StatesError:
                    pass
                else:
                    return ExecutionResult("SUCCEED", output)
    return Execution(machine, input, payload_limit=payload_limit, **options).run()


_NEVER_STOPPED = _Cancel()
"""The cancel flag of a run nobody holds a handle to."""
_NO_CONTEXT: Mapping[str, Any] = {}
"""``$$`` and variables of a compiled run: its states read neither (never written to)."""

