"""Suspending at top-level Waits and Retry delays, and resuming from the JSON resume point, gives the uninterrupted run's result."""

import json
from datetime import datetime, timedelta, timezone

from asw_airflow.engine.clock import VirtualClock
from asw_airflow.engine.handlers import HandlerRegistry
from asw_airflow.engine.interpreter import run_execution
from asw_airflow.engine.suspension import Suspension
from asw_airflow.ir import build_machine
from asw_airflow.semantics.errors import StatesError

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)

POLL = {
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.n", "Assign": {"polls": 0}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 30, "Next": "Poll"},
        "Poll": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)", "entered.$": "$$.State.EnteredTime"},
                 "Assign": {"polls.$": "States.MathAdd($polls, 1)"}, "Next": "Done?"},
        "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 3, "Next": "End"}], "Default": "W"},
        "End": {"Type": "Pass", "Parameters": {"n.$": "$.n", "polls.$": "$polls"}, "End": True},
    },
}


def _through_json(suspension: Suspension) -> Suspension:
    return Suspension.from_json(json.loads(json.dumps(suspension.to_json())))


def _resume_until_done(machine, input, clock, handlers=None):
    """Run with ``suspend``, advance the clock to each resume point, resume; the result and every suspension."""
    seen = []
    result = run_execution(machine, input, clock=clock, suspend=True, handlers=handlers)
    while result.status == "SUSPENDED":
        seen.append(result.suspension)
        clock.sleep((result.suspension.wake_time() - clock.now()).total_seconds())
        result = run_execution(machine, None, clock=clock, suspend=True, resume=_through_json(result.suspension), handlers=handlers)
    return result, seen


def test_a_polling_loop_suspends_at_each_wait_and_resumes_to_the_same_output() -> None:
    machine = build_machine(POLL)
    straight = run_execution(machine, {}, clock=VirtualClock(START))
    clock = VirtualClock(START)
    result, seen = _resume_until_done(machine, {}, clock)
    assert result.status == straight.status == "SUCCEED"
    assert result.output == straight.output == {"n": 3, "polls": 3}
    assert [(s.state, s.retry_count, s.until_time() - START) for s in seen] == [
        ("W", None, timedelta(seconds=30)), ("W", None, timedelta(seconds=60)), ("W", None, timedelta(seconds=90))]
    assert seen[1].variables == {"polls": 1} and seen[1].input == {"n": 1, "entered": "2024-01-01T00:00:30.000Z"}


def test_a_wait_in_the_past_or_inside_a_map_does_not_suspend() -> None:
    machine = build_machine({"StartAt": "M", "States": {
        "M": {"Type": "Map", "Iterator": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": True}}}, "Next": "Past"},
        "Past": {"Type": "Wait", "Timestamp": "2020-01-01T00:00:00Z", "End": True},
    }})
    clock = VirtualClock(START)
    result = run_execution(machine, [1, 2], clock=clock, suspend=True)
    assert (result.status, result.output) == ("SUCCEED", [1, 2]) and clock.now() == START + timedelta(seconds=10)


def test_a_retry_delay_suspends_with_the_attempt_counts() -> None:
    calls = []

    def flaky(invocation):
        calls.append(invocation.attempt)
        if len(calls) < 3:
            raise StatesError("Busy", str(invocation.attempt))
        return {"attempt": invocation.attempt}

    registry = HandlerRegistry()
    registry.register_kind("scf", flaky)
    machine = build_machine({"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": SCF, "End": True, "ResultSelector": {"attempt.$": "$.attempt", "count.$": "$$.State.RetryCount"},
        "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 5}],
    }}})
    clock = VirtualClock(START)
    result, seen = _resume_until_done(machine, {}, clock, registry)
    assert (result.status, result.output) == ("SUCCEED", {"attempt": 2, "count": 2})
    assert [(s.state, s.retry_count, s.attempts) for s in seen] == [("T", 1, (1,)), ("T", 2, (2,))]
    assert clock.now() == START + timedelta(seconds=2 + 6) and calls == [0, 1, 2]


def test_the_execution_timeout_holds_across_a_suspension() -> None:
    machine = build_machine({"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": True}}})
    clock = VirtualClock(START)
    result, seen = _resume_until_done(machine, {}, clock)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert seen[0].wake_time() == START + timedelta(seconds=10) and clock.now() == START + timedelta(seconds=10)


def test_without_suspend_the_run_sleeps_as_before() -> None:
    clock = VirtualClock(START)
    result = run_execution(build_machine(POLL), {}, clock=clock)
    assert result.status == "SUCCEED" and result.suspension is None and clock.now() == START + timedelta(seconds=90)
