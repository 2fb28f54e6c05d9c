"""State operators: one Airflow task per TCSL state, running the shared step functions.

Control flow travels as a token. Every state task returns an *envelope*
``{"next": <chosen state or None>, "output": <state output>, "vars": {...}}`` as its XCom;
a task reads the envelopes of its possible predecessors (same map index) and runs only if
one of them chose it, else it skips. This works inside mapped task groups, where Airflow's
branch operators do not skip (apache/airflow#67265), and lets every join use
``none_failed_min_one_success``. Retry and Catch are decided inside the operator by
``steps.on_error``: a caught error leaves the run successful, and a Retry delay is a
deferral, so no worker slot is held while waiting. So is a Wait, and a sync-run Task
(``.sync``) waits for its job in ``TencentCloudJobTrigger``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence

from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
from airflow.sdk.bases.operator import BaseOperator

from asw_airflow.ir import (
    ChoiceState,
    FailState,
    Machine,
    MapState,
    PassState,
    State,
    SucceedState,
    TaskState,
    WaitState,
)
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import Frame, enter_state, make_context, timestamp
from asw_airflow.semantics.errors import RUNTIME, StatesError

if TYPE_CHECKING:
    from asw_airflow.engine import handlers
    from asw_airflow.engine.interpreter import Execution
    from asw_airflow.engine.suspension import Suspension

ERROR_KEY = "asw_error"
"""XCom key of ``{"Error", "Cause"}`` pushed by a task whose state failed (read by joins and the run note)."""
HEAD_KEY = "asw_head"
"""XCom key a Map's items task and a Parallel's fork push for their collector: raw input, variables, count,
and ``done``, the envelope of a state its head task already finished (a caught error, a Map run on the engine)."""
EXIT_KEY = "__asw_exit__"
"""Marks the output of an engine region that left through one of its exits."""

Envelope = dict[str, Any]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _map_index(context: Any) -> int | None:
    index = context["ti"].map_index
    return index if index is not None and index >= 0 else None


def execution_input(context: Any) -> Any:
    """The workflow input: the run's conf ``input`` (trigger form or REST API), else the sidecar default."""
    return context["params"].get("input", {})


def execution_context(context: Any, workflow_name: str, role_arn: str | None = None) -> dict[str, Any]:
    """``$$`` for this DAG run: Execution.Id/Name from the run, StateMachine from the workflow, RoleArn from the sidecar."""
    run = context["dag_run"]
    return make_context(
        execution_id=f"{run.dag_id}:{run.run_id}",
        name=run.run_id,
        input=execution_input(context),
        start_time=run.start_date or _now(),
        state_machine_id=run.dag_id,
        state_machine_name=workflow_name,
        role_arn=role_arn,
    )


@dataclass(frozen=True)
class Attempt:
    """Which try of a state is running: what a Retry decision needs, carried across deferrals as JSON."""

    entered: str
    retry_count: int = 0
    attempts: tuple[int, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"entered": self.entered, "retry_count": self.retry_count, "attempts": None if self.attempts is None else list(self.attempts)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attempt:
        attempts = data.get("attempts")
        return cls(data["entered"], data.get("retry_count", 0), None if attempts is None else tuple(attempts))


Step = Callable[[Any, Any, Frame, Attempt], steps.StepOutcome]
"""``(context, value, frame, tried) -> outcome``: one try of a state."""


def envelope(outcome: steps.StepOutcome, variables: dict[str, Any]) -> Envelope:
    result: Envelope = {"next": outcome.next, "output": outcome.output}
    merged = {**variables, **outcome.assigned} if outcome.assigned else variables
    if merged:
        result["vars"] = merged
    return result


class StateOperator(BaseOperator):
    """Runs one state; subclasses implement :meth:`step` for their state type.

    ``sources`` lists ``(task_id, wanted_next)`` pairs: this task runs when the envelope of
    ``task_id`` names ``wanted_next`` (None for a branch start, which takes its fork's output).
    No sources means the workflow's first state (execution input); ``iteration`` is the
    first state of a Map iteration (expanded from the items task). ``workflow_timeout`` is the
    execution's time limit (``steps.execution_timeout``), counted from the DAG run's start.
    """

    template_fields: Sequence[str] = ("iteration",)
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        state: State,
        workflow_name: str,
        connection_id: str,
        role_arn: str | None = None,
        workflow_timeout: int | None = None,
        sources: Sequence[tuple[str, str | None]] = (),
        iteration: Any = None,
        **kwargs: Any,
    ):
        kwargs.setdefault("doc_md", f"TCSL state **{state.name}** ({state.type}) at `{state.pointer}`")
        super().__init__(**kwargs)
        self.state_name = state.name
        self.workflow_name = workflow_name
        self.connection_id = connection_id
        self.role_arn = role_arn
        self.workflow_timeout = workflow_timeout
        self.sources = [list(source) for source in sources]
        self.iteration = iteration
        self._state = state

    # --- the token ----------------------------------------------------------------------------

    def receive(self, context: Any) -> tuple[Any, dict[str, Any], str]:
        """Input, variables and the name this task was entered as; skips when no predecessor chose it."""
        if self.iteration is not None:
            return self.iteration["output"], self.iteration.get("vars", {}), self.state_name
        if not self.sources:
            return execution_input(context), {}, self.state_name
        sources = self.sources if len(self.sources) == 1 else self._sources_that_ran(context)
        found = context["ti"].xcom_pull(task_ids=[task_id for task_id, _ in sources], map_indexes=_map_index(context))
        for (_, wanted), env in zip(sources, found):
            if env is not None and env.get("next") == wanted:
                return env["output"], env.get("vars", {}), wanted or self.state_name
        raise AirflowSkipException(f"state {self.state_name!r} was not chosen by its predecessor")

    def _sources_that_ran(self, context: Any) -> list[list[Any]]:
        """A join's predecessors that succeeded: pulling a skipped branch's missing XCom logs an error."""
        ti, run = context["ti"], context["dag_run"]
        task_ids = sorted({task_id for task_id, _ in self.sources})
        states = ti.get_task_states(dag_id=run.dag_id, map_index=_map_index(context), task_ids=task_ids, run_ids=[run.run_id])
        succeeded = {task_id for task_id, state in states.get(run.run_id, {}).items() if state == "success"}
        return [source for source in self.sources if source[0] in succeeded]

    def frame(self, context: Any, variables: dict[str, Any], entered: str, retry_count: int | None = None) -> Frame:
        ctx = enter_state(execution_context(context, self.workflow_name, self.role_arn), self.state_name, entered, retry_count)
        return Frame(ctx, variables)

    # --- the execution's deadline -----------------------------------------------------------------

    def deadline(self, context: Any) -> steps.Deadline | None:
        """The DAG run's TimeoutSeconds deadline, as the engine keeps it for a whole execution."""
        run = context["dag_run"]
        return steps.execution_deadline(run.start_date or _now(), self.workflow_timeout)

    def check_deadline(self, context: Any) -> None:
        """Fail the task (and so the run) with States.Timeout once the run is past its deadline; no Catch applies."""
        deadline = self.deadline(context)
        if deadline is not None:
            try:
                deadline.check(_now())
            except steps.ExecutionTimedOut as error:
                self.fail(context, error)

    def capped(self, context: Any, moment: datetime) -> datetime:
        """A timer's ``moment``, brought forward to the run's deadline so a deferral cannot outlive it."""
        deadline = self.deadline(context)
        return moment if deadline is None else deadline.cap(moment)

    # --- running, retrying, catching ------------------------------------------------------------

    def execute(self, context: Any) -> Envelope:
        value, variables, _ = self.receive(context)
        return self.attempt(context, value, variables, Attempt(timestamp(_now())))

    def resume_retry(self, context: Any, event: dict[str, Any]) -> Envelope:
        """Back from a Retry delay: re-read the input (XComs do not change) and try again."""
        value, variables, _ = self.receive(context)
        return self.attempt(context, value, variables, Attempt.from_json(event))

    def attempt(self, context: Any, value: Any, variables: dict[str, Any], tried: Attempt, step: Step | None = None) -> Envelope:
        """Run ``step`` (default :meth:`step`) as try ``tried``; a StatesError goes to Retry/Catch."""
        self.check_deadline(context)
        frame = self.frame(context, variables, tried.entered, tried.retry_count if isinstance(self._state, TaskState) else None)
        try:
            outcome = (step or self.step)(context, value, frame, tried)
        except StatesError as error:
            return self.recover(context, error, value, variables, frame, tried)
        return envelope(outcome, variables)

    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        raise NotImplementedError

    def recover(
        self,
        context: Any,
        error: StatesError,
        value: Any,
        variables: dict[str, Any],
        frame: Frame,
        tried: Attempt,
    ) -> Envelope:
        decision = steps.on_error(self._state, error, value, tried.attempts, frame)
        self.log.warning("State %r failed with %s: %s -> %s", self.state_name, error.error, error.cause, decision.action)
        if decision.action == "retry":
            from asw_airflow.airflow.triggers import StateTimerTrigger

            moment = self.capped(context, _now() + timedelta(seconds=decision.delay or 0))
            again = Attempt(tried.entered, tried.retry_count + 1, decision.attempts)
            self.defer(trigger=StateTimerTrigger(moment.isoformat(), again.to_json()), method_name="resume_retry")
        if decision.action == "catch":
            return envelope(steps.StepOutcome(decision.next, decision.output, decision.assigned), variables)
        self.fail(context, error)

    def fail(self, context: Any, error: StatesError) -> NoReturn:
        """End this task failed with the workflow's Error and Cause in its log and in XCom for the run note."""
        context["ti"].xcom_push(key=ERROR_KEY, value=error.to_output())
        self.log.error("Error: %s\nCause: %s", error.error, error.cause)
        raise AirflowFailException(f"{error.error}: {error.cause}" if error.cause else str(error.error))


class PassOperator(StateOperator):
    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        return steps.run_pass(self._state, value, frame)  # type: ignore[arg-type]


class ChoiceOperator(StateOperator):
    ui_color = "#fff4d6"

    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        return steps.run_choice(self._state, value, frame)  # type: ignore[arg-type]


class SucceedOperator(StateOperator):
    ui_color = "#dff5e1"

    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        return steps.run_succeed(self._state, value, frame)  # type: ignore[arg-type]


class FailOperator(StateOperator):
    ui_color = "#fde2e1"

    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        steps.run_fail(self._state, value, frame)  # type: ignore[arg-type]
        raise AssertionError("run_fail always raises")


class WaitOperator(StateOperator):
    """Defers until the computed moment: a Wait of a day holds no worker slot."""

    ui_color = "#eeeeee"

    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        from asw_airflow.airflow.triggers import StateTimerTrigger

        until = steps.wait_deadline(self._state, value, frame, _now())  # type: ignore[arg-type]
        if until > _now():
            moment = self.capped(context, until)
            self.defer(trigger=StateTimerTrigger(moment.isoformat(), {"entered": tried.entered}), method_name="resume_wait")
        return steps.wait_output(self._state, value, frame)  # type: ignore[arg-type]

    def resume_wait(self, context: Any, event: dict[str, Any]) -> Envelope:
        value, variables, _ = self.receive(context)
        self.check_deadline(context)  # the timer fired at the run's deadline, before the Wait's end
        frame = self.frame(context, variables, event["entered"])
        return envelope(steps.wait_output(self._state, value, frame), variables)  # type: ignore[arg-type]


class TaskOperator(StateOperator):
    """Calls the Task's integration: request-response inline, sync-run by deferring to the job's trigger.

    A sync-run (``scf:Invoke.sync``, ``asw:StartExecution.sync``) through the connection starts
    the job here (a child execution gets the deterministic name of this state, try and map
    index, so a restarted task does not start a second child) and hands the wait to
    ``TencentCloudJobTrigger``: no worker slot is held while the job runs, and the resumed
    task reads the job's result from the trigger event instead of invoking again. The Task's
    TimeoutSeconds is the trigger's deadline: past it the job is stopped and the try fails
    with States.Timeout, which Retry and Catch see as on the engine.

    Killing the task (:meth:`on_kill`) stops what it is running: a job it has started, and an
    inline call through its cancel signal. A deferred task gets no kill signal (see docs).
    """

    ui_color = "#d6e9ff"

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._job: dict[str, Any] | None = None
        self._invocation: handlers.TaskInvocation | None = None

    def on_kill(self) -> None:
        """Stopping the task stops its sync-run job, as the hand-written Tencent Cloud operators do."""
        if self._invocation is not None:
            self._invocation.cancelled.set()
        if self._job is None:
            return
        from asw_airflow.airflow.integrations import connection_client
        from asw_airflow.tencentcloud.integrations import cancel

        try:
            client, _ = connection_client(self.connection_id)
            with client:
                cancel(client, self._job)
        except Exception as exc:  # the kill goes on; say what may still be running
            self.log.warning("Could not stop Tencent Cloud job %s: %s", self._job, exc)

    def step(self, context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
        from asw_airflow.airflow import integrations
        from asw_airflow.engine.clock import RealClock
        from asw_airflow.engine.handlers import TaskInvocation

        state: TaskState = self._state  # type: ignore[assignment]
        payload = steps.task_payload(state, value, frame)
        timeout = steps.task_timeout(state, value, frame)
        if state.resource.mode == "sync" and not integrations.injected():
            self.start_job(context, payload, frame, tried, timeout)
        invocation = TaskInvocation(
            resource=state.resource,
            payload=payload,
            context=frame.context,
            state_name=state.name,
            attempt=tried.retry_count,
            timeout_seconds=timeout,
        )
        self._invocation = invocation
        with contextlib.ExitStack() as stack:  # closes the connection's client; opening it may fail the Task
            resolve = lambda: stack.enter_context(integrations.handlers_for(self.connection_id)).resolve(state.resource)  # noqa: E731
            result = steps.invoke_task(state, invocation, resolve, RealClock().run, self.deadline(context), _now)
        return steps.task_output(state, value, result, frame)

    def start_job(self, context: Any, payload: Any, frame: Frame, tried: Attempt, timeout: int | None) -> None:
        from asw_airflow.airflow.integrations import connection_client
        from asw_airflow.tencentcloud.integrations import child_execution_name, start
        from asw_airflow.tencentcloud.triggers import TencentCloudJobTrigger

        name = child_execution_name(frame.context["Execution"]["Id"], self.state_name, tried.retry_count, _map_index(context))
        until = None if timeout is None else _now() + timedelta(seconds=timeout)
        run_deadline = self.deadline(context)
        if run_deadline is not None:
            until = run_deadline.at if until is None else run_deadline.cap(until)
        deadline = None if until is None else until.isoformat()
        try:
            client, interval = connection_client(self.connection_id)
            with client:
                handle = start(client, self._state.resource, payload, execution_name=name)  # type: ignore[attr-defined]
        except StatesError:
            raise
        except Exception as exc:  # a missing connection or credentials is the Task's failure, as on the engine
            raise steps.task_failure(exc) from exc
        self._job = handle
        self.log.info("State %r started sync-run job %s; deferring until it ends", self.state_name, handle)
        trigger = TencentCloudJobTrigger(handle, self.connection_id, interval, resume=tried.to_json(), deadline=deadline)
        self.defer(trigger=trigger, method_name="resume_job")

    def resume_job(self, context: Any, event: dict[str, Any]) -> Envelope:
        """The job ended: its output (or failure) goes through the Task's output pipeline, Retry and Catch."""
        value, variables, _ = self.receive(context)

        def finish(context: Any, value: Any, frame: Frame, tried: Attempt) -> steps.StepOutcome:
            if event["status"] == "timeout":
                raise steps.task_timed_out(self._state, steps.task_timeout(self._state, value, frame))  # type: ignore[arg-type]
            if event["status"] != "success":
                raise StatesError(event["error"], event.get("cause"))
            return steps.task_output(self._state, value, event["output"], frame)  # type: ignore[arg-type]

        return self.attempt(context, value, variables, Attempt.from_json(event["resume"]), finish)


# --- Map and Parallel: a head task, the fan-out, a collector ------------------------------------


class _Collector(StateOperator):
    """Shared by Map's collect and Parallel's join: runs after its fan-out whatever happened (all_done)."""

    def __init__(self, *, head_task_id: str, **kwargs: Any):
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        self.head_task_id = head_task_id

    def head(self, context: Any) -> dict[str, Any]:
        """What the head task pushed; skip when the state was not chosen, fail when something before it failed."""
        ti = context["ti"]
        head = ti.xcom_pull(task_ids=self.head_task_id, key=HEAD_KEY, map_indexes=_map_index(context))
        if head is not None:
            return head
        run = context["dag_run"]
        states = ti.get_task_states(dag_id=run.dag_id, map_index=_map_index(context), task_ids=[self.head_task_id], run_ids=[run.run_id])
        state = states.get(run.run_id, {}).get(self.head_task_id)
        if state == "skipped":
            raise AirflowSkipException(f"state {self.state_name!r} was not chosen by its predecessor")
        raise AirflowFailException(f"{self.head_task_id} ended {state}: an earlier state failed")

    def finish(self, context: Any, head: dict[str, Any], collect: Any) -> Envelope:
        self.check_deadline(context)
        variables = head.get("vars", {})
        frame = self.frame(context, variables, head["entered"])
        try:
            outcome = collect(frame)
        except StatesError as error:
            return self.recover(context, error, head["input"], variables, frame, Attempt(head["entered"]))
        return envelope(outcome, variables)

    def first_errors(self, context: Any, task_ids: Sequence[str], indexes: Sequence[int | None]) -> dict[int | None, StatesError]:
        """The error each failed iteration/branch pushed, by index (the first failing task wins)."""
        ti = context["ti"]
        errors: dict[int | None, StatesError] = {}
        for task_id in task_ids:
            pulled = ti.xcom_pull(task_ids=[task_id], key=ERROR_KEY, map_indexes=list(indexes))
            for index, error in zip(indexes, pulled):
                if error is not None and index not in errors:
                    errors[index] = StatesError(error["Error"], error.get("Cause"))
        return errors


class EngineRunner(StateOperator):
    """An operator that may run part of the workflow on the in-process engine (:func:`run_region`).

    Killing the task (:meth:`on_kill`) stops that execution, as it stops a native Task's job:
    the run ends TERMINATED at its next state and a Task call in flight is told to cancel.
    """

    _execution: Execution | None = None

    def on_kill(self) -> None:
        """Stop the running engine execution; a handler polling a sync-run job cancels that job."""
        execution = self._execution
        if execution is not None:
            self.log.info("Task killed: stopping its engine execution")
            execution.stop()


class MapItemsOperator(EngineRunner):
    """A Map's head: the iteration inputs (ItemsPath, ItemSelector with ``$$.Map.Item``) to expand over.

    Airflow fails a task that returns more than ``[core] max_map_length`` items to expand; past
    that limit the whole Map (``region``: the Map state and exit stubs) runs here on the engine,
    and the iteration group expands over nothing.
    """

    ui_color = "#f0e6ff"

    def __init__(self, *, region: Machine, **kwargs: Any):
        super().__init__(**kwargs)
        self._region = region

    def execute(self, context: Any) -> list[Envelope]:
        from airflow.sdk.configuration import conf

        value, variables, _ = self.receive(context)
        self.check_deadline(context)
        entered = timestamp(_now())
        frame = self.frame(context, variables, entered)
        head: dict[str, Any] = {"input": value, "vars": variables, "entered": entered}
        state: MapState = self._state  # type: ignore[assignment]
        try:
            # The engine's order: items, then MaxConcurrency (checked even though the DAG's limit is
            # fixed at parse time), then the tolerance the collector applies.
            items = steps.map_items(state, value, frame)
            steps.map_concurrency(state, value, frame)
            head["tolerance"] = list(steps.map_tolerance(state, value, frame))
        except StatesError as error:
            head["done"] = self.recover(context, error, value, variables, frame, Attempt(entered))
            items = []
        limit = conf.getint("core", "max_map_length")
        if len(items) > limit:
            self.log.warning("Map %r has %d items, over max_map_length %d: running it on the engine in this task", self.state_name, len(items), limit)
            head["done"] = run_region(self, context, self._region, value, variables)
            items = []
        head["count"] = len(items)
        context["ti"].xcom_push(key=HEAD_KEY, value=head)
        return [{"output": item, "vars": variables} if variables else {"output": item} for _, item in items]


class MapCollectOperator(_Collector):
    """A Map's result: iteration outputs in item order, tolerated failures, ResultSelector/Path, Catch."""

    ui_color = "#f0e6ff"

    def __init__(self, *, terminal_task_ids: Sequence[str], iterator_task_ids: Sequence[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.terminal_task_ids = list(terminal_task_ids)
        self.iterator_task_ids = list(iterator_task_ids)

    def execute(self, context: Any) -> Envelope:
        head = self.head(context)
        if "done" in head:
            return head["done"]
        count = head["count"]
        results: list[Any] = [None] * count
        finished: set[int] = set()
        ti = context["ti"]
        if count:
            for task_id in self.terminal_task_ids:
                for index, env in enumerate(ti.xcom_pull(task_ids=[task_id], map_indexes=list(range(count)))):
                    if env is not None and env.get("next") is None:
                        results[index] = env["output"]
                        finished.add(index)
        missing = [index for index in range(count) if index not in finished]
        failures: dict[int, StatesError] = {}
        if missing:
            failures = self.first_errors(context, self.iterator_task_ids, missing)  # type: ignore[assignment]
            for index in missing:
                failures.setdefault(index, StatesError(RUNTIME, f"iteration {index} of {self.state_name!r} did not finish"))
        state: MapState = self._state  # type: ignore[assignment]
        tolerance = tuple(head["tolerance"])
        return self.finish(context, head, lambda frame: steps.map_collect(state, head["input"], results, failures, frame, tolerance))


class ParallelForkOperator(StateOperator):
    """A Parallel's head: the input every branch receives."""

    ui_color = "#ffe9d6"

    def execute(self, context: Any) -> Envelope:
        value, variables, _ = self.receive(context)
        self.check_deadline(context)
        entered = timestamp(_now())
        frame = self.frame(context, variables, entered)
        head: dict[str, Any] = {"input": value, "vars": variables, "entered": entered}
        try:
            branch_input = steps.parallel_input(self._state, value, frame)  # type: ignore[arg-type]
        except StatesError as error:
            head["done"] = self.recover(context, error, value, variables, frame, Attempt(entered))
            context["ti"].xcom_push(key=HEAD_KEY, value=head)
            return {"next": "", "output": None}  # no branch starts
        context["ti"].xcom_push(key=HEAD_KEY, value=head)
        result: Envelope = {"next": None, "output": branch_input}
        if variables:
            result["vars"] = variables
        return result


class ParallelJoinOperator(_Collector):
    """A Parallel's result: branch outputs in branch order; the first failed branch's error otherwise."""

    ui_color = "#ffe9d6"

    def __init__(self, *, branches: Sequence[Sequence[str]], branch_task_ids: Sequence[Sequence[str]], **kwargs: Any):
        super().__init__(**kwargs)
        self.branches = [list(terminals) for terminals in branches]
        self.branch_task_ids = [list(task_ids) for task_ids in branch_task_ids]

    def execute(self, context: Any) -> Envelope:
        head = self.head(context)
        if "done" in head:
            return head["done"]
        index = _map_index(context)
        results: list[Any] = []
        failure: StatesError | None = None
        for terminals, task_ids in zip(self.branches, self.branch_task_ids):
            found = context["ti"].xcom_pull(task_ids=terminals, map_indexes=index)
            ended = [env for env in found if env is not None and env.get("next") is None]
            if ended:
                results.append(ended[0]["output"])
                continue
            errors = self.first_errors(context, task_ids, [index])
            failure = errors.get(index) or StatesError(RUNTIME, f"a branch of {self.state_name!r} did not finish")
            break

        def collect(frame: Frame) -> steps.StepOutcome:
            if failure is not None:
                raise failure
            return steps.parallel_collect(self._state, head["input"], results, frame)  # type: ignore[arg-type]

        return self.finish(context, head, collect)


# --- regions run on the engine, and the final output -------------------------------------------


class EngineRegionOperator(EngineRunner):
    """Runs a set of states on the in-process engine: an EXPRESS workflow, a loop, a nested Map.

    The region leaves through stub states that report which outside state comes next, so the
    rest of the DAG keeps routing by envelope. At a Wait or Retry delay of one of its own
    states the engine stops and the task defers to a timer carrying the resume point (the
    event, since ``dag.test()`` drops ``defer`` kwargs): a polling loop holds no worker slot
    while it waits. Waits inside a nested Map or Parallel still sleep in the task.
    """

    ui_color = "#e0e0e0"

    def __init__(self, *, region: Machine, members: Sequence[str], **kwargs: Any):
        super().__init__(**kwargs)
        self.region_states = list(members)
        self._region = region

    def execute(self, context: Any) -> Envelope:
        value, variables, entry = self.receive(context)
        return run_region(self, context, replace(self._region, start_at=entry), value, variables, suspend=True)

    def resume_region(self, context: Any, event: dict[str, Any]) -> Envelope:
        """The timer of a Wait or Retry delay fired: continue the region where the engine stopped."""
        from asw_airflow.engine.suspension import Suspension

        return run_region(self, context, self._region, None, {}, suspend=True, resume=Suspension.from_json(event["resume"]))


def run_region(
    operator: EngineRunner,
    context: Any,
    region: Machine,
    value: Any,
    variables: dict[str, Any],
    *,
    suspend: bool = False,
    resume: Suspension | None = None,
) -> Envelope:
    """Run ``region`` on the engine from its StartAt (or ``resume``); the envelope names the outside state it exits to.

    Variables go in and come out (Assign inside a loop or nested Map is seen after it); a
    failure fails ``operator``'s task with the workflow's Error and Cause. With ``suspend``
    the task defers (to ``resume_region``) when the engine stops at a Wait or Retry delay.
    """
    from asw_airflow.airflow.integrations import handlers_for
    from asw_airflow.engine.interpreter import Execution

    calls_out = any(isinstance(state, TaskState) for state in region.walk())
    carried = dict(variables if resume is None else resume.variables)
    with handlers_for(operator.connection_id) if calls_out else contextlib.nullcontext() as handlers:
        operator._execution = Execution(
            region,
            value,
            context=execution_context(context, operator.workflow_name, operator.role_arn),
            handlers=handlers,
            variables=carried,
            suspend=suspend,
            resume=resume,
            deadline=operator.deadline(context),
        )
        try:
            result = operator._execution.run()
        finally:
            operator._execution = None
    if result.status == "TERMINATED":
        raise AirflowFailException("The task was killed: its engine execution stopped")
    if result.suspension is not None:
        from asw_airflow.airflow.triggers import StateTimerTrigger

        stop = result.suspension
        operator.log.info("Engine stopped at %r until %s: deferring", stop.state, stop.until)
        operator.defer(trigger=StateTimerTrigger(stop.wake_time().isoformat(), {"resume": stop.to_json()}), method_name="resume_region")
    if result.status != "SUCCEED":
        operator.fail(context, StatesError(result.error or RUNTIME, result.cause))
    output = result.output
    if isinstance(output, dict) and EXIT_KEY in output:
        return envelope(steps.StepOutcome(output[EXIT_KEY], output["value"]), carried)
    return envelope(steps.StepOutcome(None, output), carried)


class EndOperator(StateOperator):
    """The workflow's final output, as the plain ``return_value`` XCom of task ``end``."""

    ui_color = "#dff5e1"

    def __init__(self, *, machine: Machine, **kwargs: Any):
        kwargs.setdefault("doc_md", "The workflow's output: the `return_value` XCom of this task.")
        super().__init__(state=SucceedState(name="end", type="Succeed", pointer=machine.pointer), **kwargs)

    def execute(self, context: Any) -> Any:
        value, _, _ = self.receive(context)
        return value


OPERATORS: dict[type[State], type[StateOperator]] = {
    PassState: PassOperator,
    ChoiceState: ChoiceOperator,
    SucceedState: SucceedOperator,
    FailState: FailOperator,
    WaitState: WaitOperator,
    TaskState: TaskOperator,
}
"""The single-task state types; Map and Parallel compile to groups, loops to engine regions."""
