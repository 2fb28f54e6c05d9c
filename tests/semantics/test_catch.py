"""Catchers: compiling a Catch entry and picking the one that takes an error."""

import re

import pytest

from asw_airflow.semantics.catch import Catcher, find_catcher
from asw_airflow.semantics.errors import ExpressionError
from asw_airflow.semantics.scope import Scope


def test_default_result_path_replaces_the_input_with_the_error_output() -> None:
    catcher = Catcher.from_definition({"ErrorEquals": ["FailureType"], "Next": "FinalCaught"})
    assert (catcher.error_equals, catcher.next) == (("FailureType",), "FinalCaught")
    assert catcher.result_path is not None
    error_output = {"Error": "FailureType", "Cause": "Cause description"}
    assert catcher.result_path.write({"arr": [1]}, error_output) == error_output


def test_result_path_places_the_error_output_inside_the_input() -> None:
    catcher = Catcher.from_definition({"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": "$.error"})
    assert catcher.result_path is not None
    assert catcher.result_path.write({"a": 1}, {"Error": "E"}) == {"a": 1, "error": {"Error": "E"}}


def test_null_result_path_discards_the_error_output() -> None:
    catcher = Catcher.from_definition({"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": None})
    assert catcher.result_path is None


def test_the_default_catcher_built_in_code_also_replaces_the_input() -> None:
    catcher = Catcher(("E",), "H")
    assert catcher.result_path is not None
    assert catcher.result_path.read(Scope({"x": 1})) == {"x": 1}
    assert catcher.result_path.write({"x": 1}, {"Error": "E"}) == {"Error": "E"}


def test_jsonata_output_and_assign_are_carried_raw() -> None:
    catcher = Catcher.from_definition(
        {
            "ErrorEquals": ["States.ALL"],
            "Next": "H",
            "Output": {"failed": "{% $states.errorOutput.Error %}"},
            "Assign": {"lastError": "{% $states.errorOutput %}"},
        }
    )
    assert catcher.output == {"failed": "{% $states.errorOutput.Error %}"}
    assert catcher.assign == {"lastError": "{% $states.errorOutput %}"}
    plain = Catcher.from_definition({"ErrorEquals": ["States.ALL"], "Next": "H"})
    assert (plain.output, plain.assign) == (None, None)


def test_first_matching_catcher_wins() -> None:
    catchers = [
        Catcher.from_definition({"ErrorEquals": ["Internal Error"], "Next": "CaughtInternalError"}),
        Catcher.from_definition({"ErrorEquals": ["States.TaskFailed"], "Next": "CaughtTaskFailed"}),
        Catcher.from_definition({"ErrorEquals": ["States.ALL"], "Next": "CaughtAll"}),
    ]
    assert find_catcher(catchers, "Internal Error").next == "CaughtInternalError"  # type: ignore[union-attr]
    assert find_catcher(catchers, "HandleItemFailError").next == "CaughtTaskFailed"  # type: ignore[union-attr]
    assert find_catcher(catchers, "States.Timeout").next == "CaughtAll"  # type: ignore[union-attr]


def test_terminal_errors_escape_wildcard_catchers() -> None:
    catchers = [Catcher.from_definition({"ErrorEquals": ["States.ALL"], "Next": "H"})]
    assert find_catcher(catchers, "States.Runtime") is None
    assert find_catcher(catchers, "States.DataLimitExceeded") is None
    assert find_catcher([], "E") is None


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"ErrorEquals": ["E"]}, "needs Next"),
        ({"ErrorEquals": ["E"], "Next": ""}, "needs Next"),
        ({"Next": "H"}, "ErrorEquals"),
        ({"ErrorEquals": ["States.ALL", "E"], "Next": "H"}, "alone"),
        ({"ErrorEquals": ["E"], "Next": "H", "ResultPath": "$.items[*]"}, "ResultPath"),
        ({"ErrorEquals": ["E"], "Next": "H", "ResultPath": "$$.Execution"}, "must start with '$'"),
        ({"ErrorEquals": ["E"], "Next": "H", "ResultPath": 3}, "ResultPath"),
        ({"ErrorEquals": ["E"], "Next": "H", "Assign": []}, "Assign"),
        ({"ErrorEquals": ["E"], "Next": "H", "Result": "$"}, "Result"),
        (["E"], "must be an object"),
    ],
)
def test_malformed_catchers_are_rejected(definition: object, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        Catcher.from_definition(definition)  # type: ignore[arg-type]
