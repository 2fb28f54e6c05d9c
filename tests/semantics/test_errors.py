"""Error-name matching as Retry and Catch rely on it (AWS behaviour, ASL spec for TaskFailed)."""

import pytest

from asw_airflow.semantics.errors import ExpressionError, StatesError, error_matches, parse_error_equals


@pytest.mark.parametrize(
    "error",
    ["MyError", "States.TaskFailed", "States.Timeout", "States.HeartbeatTimeout", "States.BranchFailed", ""],
)
def test_states_all_matches_ordinary_errors(error: str) -> None:
    assert error_matches(["States.ALL"], error)


@pytest.mark.parametrize("error", ["States.Runtime", "States.DataLimitExceeded"])
def test_states_all_does_not_match_terminal_errors(error: str) -> None:
    assert not error_matches(["States.ALL"], error)


@pytest.mark.parametrize("error", ["States.Runtime", "States.DataLimitExceeded"])
def test_terminal_errors_match_their_own_name(error: str) -> None:
    assert error_matches([error], error)


@pytest.mark.parametrize("error", ["MyError", "States.Permissions", "States.HeartbeatTimeout", "States.TaskFailed"])
def test_task_failed_is_a_wildcard(error: str) -> None:
    assert error_matches(["States.TaskFailed"], error)


@pytest.mark.parametrize("error", ["States.Timeout", "States.Runtime", "States.DataLimitExceeded"])
def test_task_failed_excludes_timeout_and_terminal_errors(error: str) -> None:
    assert not error_matches(["States.TaskFailed"], error)


def test_timeout_is_caught_when_named_next_to_task_failed() -> None:
    assert error_matches(["States.TaskFailed", "States.Timeout"], "States.Timeout")


def test_names_match_exactly_and_case_sensitively() -> None:
    assert error_matches(["ErrorA", "ErrorB"], "ErrorB")
    assert not error_matches(["ErrorA"], "errora")
    assert not error_matches(["ErrorA"], "ErrorAB")
    # A misspelt wildcard (as in the AWS corpus) is an ordinary name that matches nothing else.
    assert not error_matches(["State.ALL"], "HandleItemFailError")


def test_empty_error_equals_matches_nothing() -> None:
    assert not error_matches([], "MyError")


def test_error_output_omits_absent_cause() -> None:
    assert StatesError("E", "why").to_output() == {"Error": "E", "Cause": "why"}
    assert StatesError("E").to_output() == {"Error": "E"}


def test_error_equals_is_parsed_to_a_tuple() -> None:
    assert parse_error_equals(["ErrorA", "ErrorB"]) == ("ErrorA", "ErrorB")


@pytest.mark.parametrize("names", [None, [], "States.ALL", ["E", 3], ["States.ALL", "E"]])
def test_malformed_error_equals_is_rejected(names: object) -> None:
    with pytest.raises(ExpressionError, match="ErrorEquals"):
        parse_error_equals(names)
