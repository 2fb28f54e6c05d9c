"""The interpreter end to end: every state type, fan-out, Retry/Catch on a virtual clock, timeouts, scale."""

import threading
import time
from datetime import datetime, timezone
from typing import Any

import pytest

from asw_airflow.engine import interpreter
from asw_airflow.engine.clock import VirtualClock
from asw_airflow.engine.handlers import HandlerRegistry, TaskInvocation
from asw_airflow.engine.interpreter import Execution, run_execution
from asw_airflow.ir import build_machine
from asw_airflow.semantics.errors import StatesError

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
HANG_GUARD_SECONDS = 30
"""Only bounds a test whose engine is broken (a thread that never arrives); never reached when it works."""


def _handlers(function) -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register_kind("scf", function)
    return registry


def _iterator(state: dict) -> dict:
    return {"StartAt": "I", "States": {"I": {**state, "End": True}}}


def test_pass_choice_wait_succeed_on_a_virtual_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = build_machine(
        {
            "StartAt": "P",
            "States": {
                "P": {"Type": "Pass", "Result": 3, "ResultPath": "$.n", "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 2, "Next": "W"}], "Default": "F"},
                "W": {"Type": "Wait", "Seconds": 3600, "Next": "S"},
                "S": {"Type": "Succeed"},
                "F": {"Type": "Fail", "Error": "Small"},
            },
        }
    )
    clock = VirtualClock(START)
    real_sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", real_sleeps.append)  # the hour must pass on the clock alone
    result = run_execution(machine, {"a": 1}, clock=clock)
    assert (result.status, result.output) == ("SUCCEED", {"a": 1, "n": 3})
    assert (clock.now() - START).total_seconds() == 3600
    assert real_sleeps == []
    failed = run_execution(machine, {"n": 0}, clock=VirtualClock(START))
    assert failed.status == "SUCCEED"  # P overwrote n with 3
    fail_machine = build_machine({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "why"}}})
    assert run_execution(fail_machine, {}).error == "E"


def test_retry_sleeps_the_backoff_on_the_clock_then_succeeds() -> None:
    calls: list[int] = []

    def flaky(invocation: TaskInvocation) -> dict:
        calls.append(invocation.attempt)
        if len(calls) < 3:
            raise StatesError("Busy", "try later")
        return {"ok": True}

    machine = build_machine(
        {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": SCF, "End": True,
                                            "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 10, "BackoffRate": 3}]}}}
    )
    clock = VirtualClock(START)
    result = run_execution(machine, {}, handlers=_handlers(flaky), clock=clock)
    assert (result.status, result.output) == ("SUCCEED", {"ok": True})
    assert calls == [0, 1, 2]
    assert (clock.now() - START).total_seconds() == 10 + 30


def test_catch_routes_the_error_output_and_unknown_exceptions_are_task_failed() -> None:
    def broken(invocation: TaskInvocation) -> None:
        raise KeyError("boom")

    machine = build_machine(
        {"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": SCF, "Next": "Done",
                  "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Done"}]},
            "Done": {"Type": "Pass", "End": True}}}
    )
    result = run_execution(machine, {"a": 1}, handlers=_handlers(broken))
    assert result.status == "SUCCEED"
    assert result.output["a"] == 1 and result.output["error"]["Error"] == "States.TaskFailed"


def test_task_timeout_and_execution_timeout_raise_states_timeout() -> None:
    clock = VirtualClock(START)

    def slow(invocation: TaskInvocation) -> int:
        clock.sleep(30)
        return 1

    task = build_machine({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": SCF, "TimeoutSeconds": 5, "End": True}}})
    result = run_execution(task, {}, handlers=_handlers(slow), clock=clock)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")

    waiting = build_machine({"StartAt": "W", "TimeoutSeconds": 60, "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
    clock = VirtualClock(START)
    result = run_execution(waiting, {}, clock=clock)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert (clock.now() - START).total_seconds() == 60


def test_map_runs_up_to_max_concurrency_and_keeps_item_order() -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]
    # Items pass only three at a time, all three inside the handler at once: peak reaches 3
    # however slowly threads start, and a fourth call would arrive while three are held.
    together = threading.Barrier(3, timeout=HANG_GUARD_SECONDS)

    def work(invocation: TaskInvocation) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        together.wait()
        with lock:
            running[0] -= 1
        return invocation.payload * 10

    machine = build_machine(
        {"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 3, "End": True,
                                            "Iterator": _iterator({"Type": "Task", "Resource": SCF})}}}
    )
    result = run_execution(machine, list(range(9)), handlers=_handlers(work))
    assert result.output == [i * 10 for i in range(9)]
    assert peak[0] == 3


def test_map_default_concurrency_is_one() -> None:
    seen: list[str] = []

    def work(invocation: TaskInvocation) -> None:
        seen.append(threading.current_thread().name)

    machine = build_machine(
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": True, "Iterator": _iterator({"Type": "Task", "Resource": SCF})}}}
    )
    run_execution(machine, [1, 2, 3], handlers=_handlers(work))
    assert set(seen) == {threading.current_thread().name}


def test_map_tolerated_failures() -> None:
    def odd_fails(invocation: TaskInvocation) -> int:
        if invocation.payload % 2:
            raise StatesError("Odd", str(invocation.payload))
        return invocation.payload

    def machine(tolerated: int):
        return build_machine(
            {"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 0, "ToleratedFailureCount": tolerated,
                                                "End": True, "Iterator": _iterator({"Type": "Task", "Resource": SCF})}}}
        )

    ok = run_execution(machine(2), [0, 1, 2, 3], handlers=_handlers(odd_fails))
    assert ok.output == [0, {"Error": "Odd", "Cause": "1"}, 2, {"Error": "Odd", "Cause": "3"}]
    over = run_execution(machine(1), [0, 1, 2, 3], handlers=_handlers(odd_fails))
    assert (over.status, over.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_parallel_failure_surfaces_the_branch_error_and_cancels_siblings(monkeypatch: pytest.MonkeyPatch) -> None:
    finished: list[str] = []
    cancelled = threading.Event()
    cancel = interpreter._Cancel.set

    def cancel_and_tell(self: interpreter._Cancel) -> None:
        cancel(self)
        cancelled.set()

    monkeypatch.setattr(interpreter._Cancel, "set", cancel_and_tell)

    def task(invocation: TaskInvocation) -> None:
        if invocation.state_name == "Breaks":
            raise StatesError("BranchError", "branch 2 broke")
        assert cancelled.wait(HANG_GUARD_SECONDS), "the fan-out never cancelled"  # Slow ends after Breaks failed
        finished.append(invocation.state_name)

    machine = build_machine({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Slow", "States": {"Slow": {"Type": "Task", "Resource": SCF, "Next": "After"},
                                       "After": {"Type": "Task", "Resource": SCF, "End": True}}},
        {"StartAt": "Breaks", "States": {"Breaks": {"Type": "Task", "Resource": SCF, "End": True}}},
    ]}}})
    result = run_execution(machine, {}, handlers=_handlers(task))
    assert (result.status, result.error, result.cause) == ("FAILED", "BranchError", "branch 2 broke")
    assert finished == ["Slow"]  # the sibling stopped before its next state


def test_parallel_output_in_branch_order_and_variables_scoped() -> None:
    machine = build_machine(
        {"StartAt": "Set", "States": {
            "Set": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
            "P": {"Type": "Parallel", "Next": "Read", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "$x"}, "End": True}}},
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}}]},
            "Read": {"Type": "Pass", "Parameters": {"branches.$": "$", "x.$": "$x"}, "End": True}}}
    )
    assert run_execution(machine, {}).output == {"branches": [{"x": 1}, "b"], "x": 1}


def test_history_is_recorded_only_when_asked() -> None:
    machine = build_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert run_execution(machine, {}).history == []
    events = run_execution(machine, {"a": 1}, history=True).history
    assert [e["EventCategory"] for e in events] == ["ExecutionStart", "PassNodeEnter", "PassNodeExit", "ExecutionSucceed"]
    assert [e["EventId"] for e in events] == [1, 2, 3, 4]
    assert events[1]["StepName"] == "P" and '"a": 1' in events[1]["Content"]


def test_stop_terminates_the_execution() -> None:
    release = threading.Event()

    def block(invocation: TaskInvocation) -> int:
        release.wait(5)
        return 1

    machine = build_machine({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": SCF, "Next": "P"}, "P": {"Type": "Pass", "End": True}}})
    execution = Execution(machine, {}, handlers=_handlers(block))
    result: list = []
    worker = threading.Thread(target=lambda: result.append(execution.run()))
    worker.start()
    execution.stop()
    release.set()
    worker.join(5)
    assert result[0].status == "TERMINATED"


def test_a_5000_state_chain_runs_without_recursion() -> None:
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(4999)}
    states["S4999"] = {"Type": "Pass", "Result": "end", "End": True}
    machine = build_machine({"StartAt": "S0", "States": states})
    assert run_execution(machine, {}).output == "end"


def test_map_over_100000_items_and_a_10_mb_input() -> None:
    machine = build_machine(
        {"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 0, "End": True,
                                            "Iterator": _iterator({"Type": "Pass", "Parameters": {"v.$": "$"}})}}}
    )
    result = run_execution(machine, list(range(100_000)), payload_limit=None)
    assert len(result.output) == 100_000 and result.output[-1] == {"v": 99_999}
    big = {"blob": "x" * 10_000_000}
    passthrough = build_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert run_execution(passthrough, big, payload_limit=None).output is big
    limited = run_execution(passthrough, big)
    assert (limited.status, limited.error) == ("FAILED", "States.DataLimitExceeded")


def test_tencent_map_documentation_example() -> None:
    """Tencent's Map doc example (DESIGN.md section 1): InputPath, ItemsPath, ResultSelector, ResultPath."""

    def average(invocation: TaskInvocation) -> dict:
        scores = invocation.payload["score"]
        return {"user": invocation.payload["user"], "average": sum(scores) / len(scores)}

    machine = build_machine({"StartAt": "Scores", "States": {"Scores": {
        "Type": "Map", "InputPath": "$.detail", "ItemsPath": "$.exam", "ResultPath": "$.detail.exam", "End": True,
        "Iterator": {"StartAt": "Average", "States": {"Average": {
            "Type": "Task", "Resource": "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/average",
            "ResultSelector": {"user.$": "$.user", "score.$": "$.average"}, "End": True}}}}}})
    data = {"date": "2021-03-14T01:59:00Z", "detail": {"class": "No-01", "exam": [
        {"user": "susu", "score": [90, 80, 70, 60]}, {"user": "dudu", "score": [100, 90]}]}}
    result = run_execution(machine, data, handlers=_handlers(average))
    assert result.output == {"date": "2021-03-14T01:59:00Z", "detail": {"class": "No-01", "exam": [
        {"user": "susu", "score": 75}, {"user": "dudu", "score": 95}]}}


def test_jsonata_output_null_is_kept_apart_from_an_absent_output() -> None:
    """``"Output": null`` on a Catcher or Choice rule gives null; without Output the state's own output flows."""

    def run(extra: dict) -> Any:
        machine = build_machine({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "F", **extra}]},
            "F": {"Type": "Pass", "End": True}}})
        return run_execution(machine, {"a": 1}).output

    assert run({"Output": None}) is None
    assert run({}) == {"a": 1}

    def caught(extra: dict) -> Any:
        machine = build_machine({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Fail", "Error": "Boom"}}}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H", **extra}], "End": True},
            "H": {"Type": "Pass", "End": True}}})
        return run_execution(machine, {"a": 1}).output

    assert caught({"Output": None}) is None
    assert caught({})["Error"] == "Boom"
