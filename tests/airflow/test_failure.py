"""The run's Error and Cause come from the failure that ended it, in ``asw run`` and in the run note alike."""

from __future__ import annotations

from asw_airflow.airflow.runner import run_dag
from tests.airflow.helpers import compile_definition

TOLERATED_THEN_FAIL = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ToleratedFailurePercentage": 100,
            "Iterator": {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "E.Iteration", "Cause": "tolerated"}}},
            "Next": "Stop",
        },
        "Stop": {"Type": "Fail", "Error": "E.Final", "Cause": "the end"},
    },
}


def test_a_tolerated_iteration_error_does_not_mask_the_failure_that_ended_the_run():
    _, dag = compile_definition(TOLERATED_THEN_FAIL)
    result = run_dag(dag, {"items": [1, 2, 3]})
    assert (result.status, result.error, result.cause) == ("FAILED", "E.Final", "the end")
    assert result.note == "Error: E.Final\nCause: the end\nState task: Stop"
