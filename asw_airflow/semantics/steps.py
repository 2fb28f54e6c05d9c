"""One step of each state type, as pure functions the engine and the Airflow operators both call.

A step takes the compiled state, its raw input and a :class:`Frame` (``$$``, variables in
scope, payload limit) and returns where to go, the output and the variables it assigned;
it never stores anything, so each backend keeps state its own way (memory, XCom).
"""

from __future__ import annotations

import random as _random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Sequence

from asw_airflow.ir import (
    JSONATA,
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
    RecoverableState,
)
from asw_airflow.semantics.catch import Catcher, find_catcher
from asw_airflow.semantics.choice import parse_timestamp
from asw_airflow.semantics.dataflow import (
    Frame,
    apply_input_path,
    apply_output_path,
    assign_variables,
    bindings,
    check_size,
    effective_input,
    finish,
    jsonata_output,
    map_item_context,
    resolve_integer,
    resolve_setting,
    selects_a_part,
)
from asw_airflow.semantics.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
    StatesError,
)
from asw_airflow.semantics.paths import json_type
from asw_airflow.semantics.retry import decide_retry

if TYPE_CHECKING:
    from threading import Event

    from asw_airflow.engine.handlers import TaskHandler, TaskInvocation

TimedRun = Callable[[Callable[[], Any], "float | None", "Event | None"], Any]
"""``(function, timeout, cancel) -> result``, raising ``TimeoutError`` past ``timeout`` (a clock's ``run``)."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """``next`` is None when the state ends its machine; ``assigned`` are the variables to store."""

    next: str | None
    output: Any
    assigned: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ErrorOutcome:
    """What a failed attempt leads to: ``retry`` after ``delay`` seconds, ``catch`` to ``next``, or ``fail``."""

    action: Literal["retry", "catch", "fail"]
    attempts: tuple[int, ...]
    delay: float | None = None
    next: str | None = None
    output: Any = None
    assigned: Mapping[str, Any] = field(default_factory=dict)


# --- the execution's TimeoutSeconds ------------------------------------------------------------


class ExecutionTimedOut(StatesError):
    """The execution outlived its TimeoutSeconds: it fails; no Retry or Catch of the running state sees it (ASL)."""

    def __init__(self, seconds: int):
        super().__init__(TIMEOUT, f"The execution did not finish within the state machine's TimeoutSeconds ({seconds} s).")
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Deadline:
    """When the execution times out (``at``, UTC) and after how many ``seconds`` from its start."""

    at: datetime
    seconds: int

    def check(self, now: datetime) -> None:
        """Raise :class:`ExecutionTimedOut` once ``now`` has reached the deadline."""
        if now >= self.at:
            raise ExecutionTimedOut(self.seconds)

    def cap(self, moment: datetime) -> datetime:
        """``moment`` (a Wait's end, a Retry's next try, a job's deadline), but no later than the deadline."""
        return min(moment, self.at)


EXPRESS_TIMEOUT_SECONDS = 300
"""ASW runs an EXPRESS execution for five minutes at most."""


def execution_timeout(machine: Machine) -> int | None:
    """The execution's time limit in seconds: its TimeoutSeconds, at most five minutes for EXPRESS; None when unlimited."""
    seconds = machine.timeout_seconds
    if machine.workflow_type == "EXPRESS":
        return EXPRESS_TIMEOUT_SECONDS if seconds is None else min(seconds, EXPRESS_TIMEOUT_SECONDS)
    return seconds


def execution_deadline(started: datetime, seconds: int | None) -> Deadline | None:
    """The deadline of an execution started at ``started`` with ``seconds`` to run (None: none)."""
    return None if seconds is None else Deadline(started + timedelta(seconds=seconds), seconds)


def _next(state: State) -> str | None:
    return None if state.end else state.next


def _plain_output(state: State, input: Any, frame: Frame) -> StepOutcome:
    """Output of a state without a result (Wait, Succeed): InputPath+OutputPath, or JSONata Output."""
    if state.query_language == JSONATA:
        output = jsonata_output(state, input, None, frame, input)
        assigned = assign_variables(state.assign, state, input, input, frame)
    else:
        value = apply_input_path(state, input, frame)
        assigned = assign_variables(state.assign, state, input, value, frame)
        output = apply_output_path(state, value, frame)
    return StepOutcome(_next(state), output, assigned)


# --- Pass, Succeed, Wait, Fail, Choice ---------------------------------------------------------


def run_pass(state: PassState, input: Any, frame: Frame) -> StepOutcome:
    """Pass: its ``Result`` (literal, never evaluated) or the effective input, through the result pipeline."""
    if state.query_language == JSONATA:
        output = jsonata_output(state, input, None, frame, input)
        assigned = assign_variables(state.assign, state, input, None, frame)
        check_size(output, frame.payload_limit, state.name)
        return StepOutcome(_next(state), output, assigned)
    result = state.result if state.has_result else effective_input(state, input, frame)
    output, assigned = finish(state, input, result, frame)
    return StepOutcome(_next(state), output, assigned)


def run_succeed(state: SucceedState, input: Any, frame: Frame) -> StepOutcome:
    return _plain_output(state, input, frame)


def wait_output(state: WaitState, input: Any, frame: Frame) -> StepOutcome:
    """What a Wait state passes on once its deadline has come."""
    return _plain_output(state, input, frame)


def wait_deadline(state: WaitState, input: Any, frame: Frame, now: datetime) -> datetime:
    """When the Wait ends: ``now`` + Seconds, or Timestamp (UTC), read from the effective input."""
    value = input if state.query_language == JSONATA else apply_input_path(state, input, frame)
    if state.seconds is not None:
        seconds = resolve_integer(state.seconds, value, frame, state.name)
        return now + timedelta(seconds=seconds)
    assert state.timestamp is not None
    stamp = resolve_setting(state.timestamp, value, frame)
    if parse_timestamp(stamp) is None:
        error = QUERY_EVALUATION_ERROR if state.query_language == JSONATA else RUNTIME
        raise StatesError(
            error,
            f"The {state.timestamp.field} field of state '{state.name}' must be an ISO 8601 timestamp "
            f"such as 2016-03-14T01:59:00Z, got {stamp!r}",
        )
    return _parse_iso(stamp)


def _parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def run_fail(state: FailState, input: Any, frame: Frame) -> None:
    """Fail: raise its Error and Cause (constants, ``...Path`` or JSONata), read from the raw input."""
    error = None if state.error is None else resolve_setting(state.error, input, frame)
    cause = None if state.cause is None else resolve_setting(state.cause, input, frame)
    for setting, value in ((state.error, error), (state.cause, cause)):
        if setting is not None and value is not None and not isinstance(value, str):
            raise StatesError(
                QUERY_EVALUATION_ERROR if state.query_language == JSONATA else RUNTIME,
                f"The {setting.field} field of Fail state '{state.name}' must be a string, got {value!r}",
            )
    raise StatesError(error, cause)  # type: ignore[arg-type]  # a Fail without Error reports null, as AWS


def run_choice(state: ChoiceState, input: Any, frame: Frame) -> StepOutcome:
    """Choice: the first matching rule's Next (and its Assign/Output), else Default, else NoChoiceMatched."""
    branching = state.branching
    if state.query_language == JSONATA:
        names = bindings(frame, input)
        rule = branching.select_jsonata(names)
        next_state = branching.next_state(rule)
        if rule is None:
            assigned = assign_variables(state.assign, state, input, input, frame)
            return StepOutcome(next_state, jsonata_output(state, input, None, frame, input), assigned)
        output = jsonata_output(state, input, None, frame, input) if rule.output is None else rule.output.render(names, "Output")
        return StepOutcome(next_state, output, assign_variables(rule.assign, state, input, None, frame))
    value = apply_input_path(state, input, frame)
    rule = branching.select(frame.scope(value))
    next_state = branching.next_state(rule)
    assigned = assign_variables(state.assign if rule is None else rule.assign, state, input, value, frame)
    return StepOutcome(next_state, apply_output_path(state, value, frame), assigned)


# --- Task --------------------------------------------------------------------------------------


def task_payload(state: TaskState, input: Any, frame: Frame) -> Any:
    """The effective input a Task hands to its resource (InputPath + Parameters, or Arguments)."""
    return effective_input(state, input, frame)


def task_timeout(state: TaskState, input: Any, frame: Frame) -> int | None:
    """TimeoutSeconds (or TimeoutSecondsPath) of a Task, None when it has none."""
    if state.timeout is None:
        return None
    return resolve_integer(state.timeout, input, frame, state.name, minimum=1)


def task_timed_out(state: TaskState, timeout: int | None) -> StatesError:
    """The error of a Task that outlived its TimeoutSeconds (the engine's timed call, or a sync-run trigger's deadline)."""
    return StatesError(TIMEOUT, f"The task '{state.name}' did not finish within its TimeoutSeconds ({timeout} s).")


def task_failure(exc: Exception) -> StatesError:
    """What any exception out of a Task's integration is to the workflow: ``exc`` itself if it is a
    StatesError, else States.TaskFailed, so a handler bug or a missing connection reaches Retry and Catch."""
    if isinstance(exc, StatesError):
        return exc
    return StatesError(TASK_FAILED, f"{type(exc).__name__}: {exc}")


def invoke_task(
    state: TaskState,
    invocation: TaskInvocation,
    resolve: Callable[[], TaskHandler],
    run: TimedRun,
    deadline: Deadline | None = None,
    now: Callable[[], datetime] | None = None,
) -> Any:
    """Call the Task's handler (``resolve`` finds it) through ``run`` within ``invocation.timeout_seconds``.

    Both backends call this, so a request-response Task times out with States.Timeout and any
    exception fails it with States.TaskFailed on either. The call is also cut at the execution's
    ``deadline`` (``now`` reads the clock), which then fails the execution. On a timeout ``run``
    sets ``invocation.cancelled``: a handler that polls should stop when it is set.
    """
    timeout = invocation.timeout_seconds
    limit: float | None = timeout
    if deadline is not None and now is not None:
        left = max((deadline.at - now()).total_seconds(), 0.0)
        limit = left if limit is None else min(limit, left)
    try:
        handler = resolve()
        return run(lambda: handler(invocation), limit, invocation.cancelled)
    except TimeoutError:
        if deadline is not None and now is not None:
            deadline.check(now())
        raise task_timed_out(state, timeout) from None  # type: ignore[arg-type]
    except StatesError:
        raise
    except Exception as exc:
        raise task_failure(exc) from exc


def task_output(
    state: RecoverableState | PassState,
    input: Any,
    result: Any,
    frame: Frame,
    sizes: tuple[int | None, int | None] = (None, None),
) -> StepOutcome:
    """Output and assignments of a Task (or Map/Parallel) that returned ``result`` (``sizes``: see :func:`finish`)."""
    output, assigned = finish(state, input, result, frame, sizes)
    return StepOutcome(_next(state), output, assigned)


# --- errors: Retry and Catch -------------------------------------------------------------------


def on_error(
    state: State,
    error: StatesError,
    input: Any,
    attempts: tuple[int, ...] | None,
    frame: Frame,
    random: Callable[[], float] = _random.random,
) -> ErrorOutcome:
    """After a failed attempt: retry (with delay and new per-retrier counts), catch, or fail.

    ``attempts`` are the counts from the previous ErrorOutcome (None on the first failure).
    """
    retriers = getattr(state, "retry", ())
    attempts = attempts if attempts is not None else (0,) * len(retriers)
    if isinstance(error, ExecutionTimedOut):
        return ErrorOutcome("fail", attempts)
    if retriers:
        decision = decide_retry(retriers, attempts, error.error, random)
        if decision.retry:
            return ErrorOutcome("retry", decision.attempts, delay=decision.delay)
    catcher = find_catcher(getattr(state, "catch", ()), error.error)
    if catcher is None:
        return ErrorOutcome("fail", attempts)
    output, assigned = catch_output(state, catcher, error, input, frame)
    return ErrorOutcome("catch", attempts, next=catcher.next, output=output, assigned=assigned)


def catch_output(state: State, catcher: Catcher, error: StatesError, input: Any, frame: Frame) -> tuple[Any, dict[str, Any]]:
    """A Catcher's output: the error output placed by its ResultPath (default ``$``), or its JSONata Output."""
    error_output = error.to_output()
    if state.query_language == JSONATA:
        names = bindings(frame, input, error_output=error_output)
        output = error_output if catcher.output is None else catcher.output.render(names, "Output")
        assigned = {} if catcher.assign is None else catcher.assign.render(names, "Assign")
        return output, assigned
    assigned = assign_variables(catcher.assign, state, input, None, frame, error_output=error_output)
    path = catcher.result_path
    if path is None:
        return input, assigned
    return (error_output if not path.steps else path.write(input, error_output)), assigned


# --- Map ---------------------------------------------------------------------------------------


def map_items(state: MapState, input: Any, frame: Frame) -> list[tuple[int, Any]]:
    """``(index, iteration input)`` for each item: ItemsPath/Items, then ItemSelector with ``$$.Map.Item``."""
    if state.query_language == JSONATA:
        value = input
        items = input if state.items is None else state.items.render(bindings(frame, input), "Items")
        if not isinstance(items, list):
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression for the field 'Items' of state '{state.name}' returned an unexpected "
                f"result type. Expected 'array', but was '{json_type(items)}'",
            )
    else:
        value = apply_input_path(state, input, frame)
        assert state.items_path is not None
        items = state.items_path.read(frame.scope(value))
        if not isinstance(items, list):
            raise StatesError(
                RUNTIME,
                f"Invalid path '{state.items_path.text}': the ItemsPath of state '{state.name}' must select an "
                f"array, got {json_type(items)}",
            )
    selector = state.item_selector
    if selector is None:
        return list(enumerate(items))
    selected = []
    for index, item in enumerate(items):
        item_frame = frame.with_context(map_item_context(frame.context, index, item))
        if state.query_language == JSONATA:
            selected.append((index, selector.render(bindings(item_frame, input), "ItemSelector")))
        else:
            selected.append((index, selector.render(item_frame.scope(value))))
    return selected


def map_item_size(state: MapState, input_size: int | None) -> int | None:
    """A bound of every iteration input's JSON size: the Map input's, since JSONPath items are parts
    of it; None (unknown) when ItemSelector or JSONata Items builds them, when ItemsPath reads a
    variable or ``$$``, or a full JSONPath InputPath gives a list of matches that may outgrow the input."""
    if state.query_language == JSONATA or state.item_selector is not None:
        return None
    if state.input_path is None or not selects_a_part(state.input_path):
        return None
    if state.items_path is None or not selects_a_part(state.items_path.path):
        return None  # items from a variable or $$ are not part of the input
    return input_size


def map_concurrency(state: MapState, input: Any, frame: Frame) -> int:
    """How many iterations may run at once (0 = unbounded; TCSL's default is 1)."""
    value = input if state.query_language == JSONATA else apply_input_path(state, input, frame)
    return resolve_integer(state.max_concurrency, value, frame, state.name)


def map_tolerance(state: MapState, input: Any, frame: Frame) -> tuple[int | None, float | None]:
    """ToleratedFailureCount and ToleratedFailurePercentage, None where not set."""
    value = input if state.query_language == JSONATA else apply_input_path(state, input, frame)
    count = None
    if state.tolerated_failure_count is not None:
        count = resolve_integer(state.tolerated_failure_count, value, frame, state.name)
    percentage = None
    if state.tolerated_failure_percentage is not None:
        raw = resolve_setting(state.tolerated_failure_percentage, value, frame)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw <= 100:
            raise StatesError(
                RUNTIME,
                f"ToleratedFailurePercentage of state '{state.name}' must be a number from 0 to 100, got {raw!r}",
            )
        percentage = float(raw)
    return count, percentage


def map_in_order(
    state: MapState,
    input: Any,
    frame: Frame,
    items: Sequence[tuple[int, Any]],
    tolerance: tuple[int | None, float | None],
    input_size: int | None,
    iterate: Callable[[Any, int | None], tuple[None, Any, int | None]],
    output_bound: tuple[int, int] | None = None,
    run_all: Callable[[Sequence[tuple[int, Any]], int | None], list[Any]] | None = None,
) -> StepOutcome:
    """Run the iterations one after another and collect them (:func:`map_collect`).

    ``iterate(item, item_size)`` returns ``(None, output, size bound)``, a finished run in the
    shape of the engine's compiled steps; the bounds add up to one for the results array, so a
    small Map's output is not serialised. ``output_bound`` ``(constant, factor)`` may say more:
    every output is at most ``constant + factor * size(item)``. The items are disjoint parts of
    the input, so all of them together are at most the input's size. ``run_all(items, item_size)``,
    if given, runs them all at once and returns their outputs; it is used when nothing is
    tolerated and the outputs' sizes are not needed (``output_bound``, or no payload limit).
    """
    item_size = map_item_size(state, input_size)
    bounded = output_bound is not None and item_size is not None
    failures: dict[int, StatesError] = {}
    if tolerance == (None, None) and run_all is not None and (bounded or frame.payload_limit is None):
        results, sizes = run_all(items, item_size), []
    elif tolerance == (None, None):  # the first failure is the Map's: no bookkeeping per iteration
        runs = [iterate(item, item_size) for _, item in items]
        results = [run[1] for run in runs]
        sizes = [] if bounded else [run[2] for run in runs]
    else:
        results, sizes = [None] * len(items), [None] * len(items)
        for index, item in items:
            try:
                _, results[index], sizes[index] = iterate(item, item_size)
            except StatesError as error:
                failures[index] = error
    # Brackets and commas, and the outputs' bounds: one for the results array (None: unknown).
    separators = len(items) + 1 if items else 2
    results_size: int | None = None
    if bounded and not failures:
        constant, factor = output_bound  # type: ignore[misc]
        results_size = separators + len(items) * constant + factor * item_size  # type: ignore[operator]
    elif len(sizes) == len(items) and None not in sizes:
        results_size = separators + sum(sizes)  # type: ignore[arg-type]
    return map_collect(state, input, results, failures, frame, tolerance, sizes=(input_size, results_size))


def map_collect(
    state: MapState,
    input: Any,
    results: Sequence[Any],
    failures: Mapping[int, StatesError],
    frame: Frame,
    tolerance: tuple[int | None, float | None] = (None, None),
    sizes: tuple[int | None, int | None] = (None, None),
) -> StepOutcome:
    """The Map's outcome from its iterations' results (item order) and failures (by index).

    ``tolerance`` is what :func:`map_tolerance` returned before the iterations ran (AWS checks it
    first). A failure beyond it raises: the first failing iteration's own error when nothing is
    tolerated, ``States.ExceedToleratedFailureThreshold`` otherwise. Tolerated failures appear
    in the results as their error output. ``sizes`` may bound the JSON sizes of the input and
    of the results array (see :func:`finish`).
    """
    if failures:
        timed_out = [error for error in failures.values() if isinstance(error, ExecutionTimedOut)]
        if timed_out:
            raise timed_out[0]  # the whole execution ran out of time: nothing to tolerate
        count, percentage = tolerance
        if count is None and percentage is None:
            raise failures[min(failures)]
        total = len(results)
        within_count = count is not None and len(failures) <= count
        within_percentage = percentage is not None and total and len(failures) * 100 / total <= percentage
        if not (within_count or within_percentage):
            raise StatesError(EXCEED_TOLERATED_FAILURE_THRESHOLD, "The specified tolerated failure threshold was exceeded")
        results = [failures[i].to_output() if i in failures else result for i, result in enumerate(results)]
        sizes = (sizes[0], None)
    return task_output(state, input, list(results), frame, sizes)


# --- Parallel ----------------------------------------------------------------------------------


def parallel_input(state: ParallelState, input: Any, frame: Frame) -> Any:
    """The input every branch receives (InputPath + Parameters, or Arguments)."""
    return effective_input(state, input, frame)


def parallel_collect(state: ParallelState, input: Any, results: Sequence[Any], frame: Frame) -> StepOutcome:
    """The Parallel's outcome from its branches' outputs, in branch order."""
    return task_output(state, input, list(results), frame)
