"""Step Functions Local mock files: per-invocation Return/Throw, ranges, clear config errors."""

import json

import pytest

from asw_airflow.engine.clock import VirtualClock
from asw_airflow.engine.interpreter import run_execution
from asw_airflow.engine.mocks import MockConfigError, load_mock_file, mock_registry
from asw_airflow.ir import build_machine

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/charge"
CONFIG = {
    "StateMachines": {"order": {"TestCases": {"Flaky": {"Charge": "BusyThenOk"}, "Down": {"Charge": "AlwaysBusy"}}}},
    "MockedResponses": {
        "BusyThenOk": {"0-1": {"Throw": {"Error": "Busy", "Cause": "later"}}, "2": {"Return": {"charged": True}}},
        "AlwaysBusy": {"0-9": {"Throw": {"Error": "Busy", "Cause": "down"}}},
    },
}
MACHINE = build_machine(
    {"StartAt": "Charge", "States": {"Charge": {"Type": "Task", "Resource": SCF, "ResultPath": "$.charge", "End": True,
                                                "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}]}}}
)


def test_mocked_responses_follow_invocation_numbers_through_retries() -> None:
    result = run_execution(MACHINE, {"id": 7}, handlers=mock_registry(CONFIG, "Flaky"), clock=VirtualClock())
    assert (result.status, result.output) == ("SUCCEED", {"id": 7, "charge": {"charged": True}})


def test_a_thrown_mock_error_fails_the_execution_once_retries_run_out() -> None:
    result = run_execution(MACHINE, {}, handlers=mock_registry(CONFIG, "Down", "order"), clock=VirtualClock())
    assert (result.status, result.error, result.cause) == ("FAILED", "Busy", "down")


def test_unmocked_states_fail_with_a_clear_cause() -> None:
    config = {"StateMachines": {"order": {"TestCases": {"Empty": {}}}}, "MockedResponses": {}}
    result = run_execution(MACHINE, {}, handlers=mock_registry(config, "Empty"))
    assert result.error == "States.Runtime" and "Charge" in result.cause


@pytest.mark.parametrize(
    ("config", "case", "message"),
    [
        ({}, "X", "StateMachines"),
        (CONFIG, "Missing", "test case 'Missing'"),
        ({"StateMachines": {"m": {"TestCases": {"C": {"S": "R"}}}}, "MockedResponses": {}}, "C", "lacks"),
        ({"StateMachines": {"m": {"TestCases": {"C": {"S": "R"}}}}, "MockedResponses": {"R": {"x": {"Return": 1}}}}, "C", "invocation"),
    ],
)
def test_bad_config_is_reported(config: dict, case: str, message: str) -> None:
    with pytest.raises(MockConfigError, match=message):
        mock_registry(config, case)


def test_load_mock_file(tmp_path) -> None:
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps(CONFIG))
    result = run_execution(MACHINE, {}, handlers=load_mock_file(path, "Flaky", "order"), clock=VirtualClock())
    assert result.status == "SUCCEED"
    path.write_text("{nope")
    with pytest.raises(MockConfigError, match="not valid JSON"):
        load_mock_file(path, "Flaky")
    path.write_text('{"StateMachines": {}, "StateMachines": {}}')
    with pytest.raises(MockConfigError, match="DUPLICATE_JSON_KEY"):
        load_mock_file(path, "Flaky")
