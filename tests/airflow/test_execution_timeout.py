"""The workflow's TimeoutSeconds holds on Airflow as on the engine: FAILED with States.Timeout, past any Catch."""

from __future__ import annotations

from tests.airflow.helpers import SCF, run_both

from asw_airflow.engine.handlers import TaskInvocation
from asw_airflow.semantics.errors import StatesError


def _assert_timed_out(airflow, engine) -> None:
    assert (airflow.status, airflow.error) == (engine.status, engine.error) == ("FAILED", "States.Timeout")
    assert airflow.cause == engine.cause
    assert "TimeoutSeconds (1 s)" in airflow.cause


def test_a_wait_past_the_execution_timeout_fails_the_run():
    definition = {"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}}
    _assert_timed_out(*run_both(definition, {}))


def test_a_task_running_past_the_execution_timeout_is_not_caught(handlers):
    handlers.register_kind("scf", lambda call: call.cancelled.wait(30) and "late")
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": SCF + "fn", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    _assert_timed_out(*run_both(definition, {}, handlers))


def test_a_retry_delay_past_the_execution_timeout_ends_at_the_deadline(handlers):
    def failing(call: TaskInvocation) -> None:
        raise StatesError("Busy", "try later")

    handlers.register_kind("scf", failing)
    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 30, "MaxAttempts": 3}]
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": SCF + "fn", "Retry": retry, "End": True}},
    }
    _assert_timed_out(*run_both(definition, {}, handlers))


def test_a_loop_run_on_the_engine_times_out_with_the_dag_run():
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 1, "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "BooleanEquals": True, "Next": "Done"}], "Default": "W"},
            "Done": {"Type": "Succeed"},
        },
    }
    _assert_timed_out(*run_both(definition, {"stop": False}))


def test_express_five_minute_limit_holds_on_both(monkeypatch):
    from asw_airflow.semantics import steps

    monkeypatch.setattr(steps, "EXPRESS_TIMEOUT_SECONDS", 1)  # five minutes, scaled down
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3, "End": True}}}
    _assert_timed_out(*run_both(definition, {}, workflow_type="EXPRESS"))
