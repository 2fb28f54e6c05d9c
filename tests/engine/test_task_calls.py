"""A Task's call as both backends make it (``steps.invoke_task``): timeouts, handler bugs, the cancel signal."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pytest

from asw_airflow.engine.clock import RealClock, VirtualClock
from asw_airflow.engine.handlers import HandlerRegistry, TaskInvocation
from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import build_machine

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"
START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _machine(task: dict) -> object:
    return build_machine({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": SCF, **task}, "Caught": {"Type": "Pass", "End": True}}})


def _handlers(function) -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.register_kind("scf", function)
    return registry


def test_a_slow_handler_times_out_and_timeout_is_not_task_failed() -> None:
    clock = VirtualClock(START)
    catch_task_failed = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]
    machine = _machine({"TimeoutSeconds": 1, "Catch": catch_task_failed, "End": True})
    result = run_execution(machine, {}, handlers=_handlers(lambda call: clock.sleep(5)), clock=clock)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert "TimeoutSeconds (1 s)" in (result.cause or "")


def test_a_handler_exception_is_task_failed_and_reaches_catch() -> None:
    def broken(call: TaskInvocation) -> None:
        raise ValueError("no credentials")

    catcher = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}]
    result = run_execution(_machine({"Catch": catcher, "End": True}), {}, handlers=_handlers(broken), clock=VirtualClock(START))
    assert result.status == "SUCCEED"
    assert result.output == {"error": {"Error": "States.TaskFailed", "Cause": "ValueError: no credentials"}}


def test_a_timed_out_call_is_signalled_to_stop_before_its_retry_starts() -> None:
    calls: list[bool] = []

    def polling(call: TaskInvocation) -> str:
        stopped = call.cancelled.wait(30)  # a polling handler's sleep
        calls.append(stopped)
        return "late"

    retry = [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    catch = [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Caught"}]
    machine = _machine({"TimeoutSeconds": 1, "Retry": retry, "Catch": catch, "End": True})
    result = run_execution(machine, {}, handlers=_handlers(polling), clock=RealClock())
    assert result.output["error"]["Error"] == "States.Timeout"
    assert calls == [True, True]  # each try saw its cancel signal and had returned before the next began


def test_a_call_that_ignores_the_signal_is_reported_still_running(caplog: pytest.LogCaptureFixture) -> None:
    release = threading.Event()
    cancel = threading.Event()
    with caplog.at_level(logging.WARNING, logger="asw_airflow.engine.clock"):
        with pytest.raises(TimeoutError):
            RealClock().run(lambda: release.wait(30), 0.05, cancel)
    release.set()
    assert cancel.is_set()
    assert "still running in the background" in caplog.text


def test_the_execution_timeout_passes_a_map_catch_and_its_tolerance() -> None:
    iteration = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
    for extra in ({"Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}, {"ToleratedFailurePercentage": 100}):
        definition = {
            "TimeoutSeconds": 60,
            "StartAt": "M",
            "States": {
                "M": {"Type": "Map", "ItemsPath": "$.items", "Iterator": iteration, "End": True, **extra},
                "Caught": {"Type": "Pass", "End": True},
            },
        }
        if "Catch" not in extra:
            del definition["States"]["Caught"]
        result = run_execution(build_machine(definition), {"items": [1, 2]}, clock=VirtualClock(START))
        assert (result.status, result.error) == ("FAILED", "States.Timeout"), extra


def test_a_task_call_is_cut_at_the_execution_deadline() -> None:
    clock = VirtualClock(START)
    definition = {
        "TimeoutSeconds": 10,
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": SCF, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": True}, "C": {"Type": "Pass", "End": True}},
    }
    result = run_execution(build_machine(definition), {}, handlers=_handlers(lambda call: clock.sleep(60)), clock=clock)
    assert (result.status, result.error) == ("FAILED", "States.Timeout")
    assert "state machine's TimeoutSeconds (10 s)" in (result.cause or "")


def test_an_express_execution_times_out_after_five_minutes() -> None:
    waiting = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 400, "End": True}}}
    express = run_execution(build_machine(waiting, workflow_type="EXPRESS"), {}, clock=VirtualClock(START))
    assert (express.status, express.error) == ("FAILED", "States.Timeout")
    assert "(300 s)" in (express.cause or "")
    assert run_execution(build_machine(waiting), {}, clock=VirtualClock(START)).status == "SUCCEED"
    shorter = build_machine({**waiting, "TimeoutSeconds": 100}, workflow_type="EXPRESS")
    assert "(100 s)" in (run_execution(shorter, {}, clock=VirtualClock(START)).cause or "")
