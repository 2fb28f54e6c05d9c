"""Compiled DAGs run with dag.test() give the engine's status, output, Error and Cause."""

from __future__ import annotations

from datetime import timedelta

from tests.airflow.helpers import SCF, compile_definition, run_both

from asw_airflow.airflow.runner import run_dag
from asw_airflow.semantics.errors import StatesError

CHOICE = {
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": {"x": 3}, "ResultPath": "$.r", "Next": "Route"},
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.r.x", "NumericGreaterThan": 2, "Next": "Big"}],
            "Default": "Small",
        },
        "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "Next": "Join"},
        "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "Next": "Join"},
        "Join": {"Type": "Pass", "End": True},
    },
}


def test_choice_runs_only_the_chosen_branch_and_joins():
    airflow, engine = run_both(CHOICE, {"in": 1})
    assert airflow.status == engine.status == "SUCCEED"
    assert airflow.output == engine.output == {"in": 1, "r": {"x": 3}, "size": "big"}


def test_retry_then_catch_leaves_the_run_successful(handlers):
    calls = []

    def flaky(invocation):
        calls.append(invocation.attempt)
        raise StatesError("Scf.Busy", f"attempt {invocation.attempt}")

    handlers.register_kind("scf", flaky)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": SCF + "busy",
                "Retry": [{"ErrorEquals": ["Scf.Busy"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
                "End": True,
            },
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    airflow, engine = run_both(definition, {"k": 1}, handlers)
    assert calls == [0, 1, 2, 0, 1, 2]  # three attempts on Airflow (two deferred retries), three on the engine
    assert airflow.status == engine.status == "SUCCEED"
    assert airflow.output == engine.output == {"k": 1, "error": {"Error": "Scf.Busy", "Cause": "attempt 2"}}


def test_fail_state_fails_the_run_with_error_and_cause_in_the_note():
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}], "Default": "Broken"},
            "Done": {"Type": "Succeed"},
            "Broken": {"Type": "Fail", "Error": "Deploy.Failed", "Cause": "health check failed"},
        },
    }
    airflow, engine = run_both(definition, {"ok": False})
    assert airflow.status == engine.status == "FAILED"
    assert (airflow.error, airflow.cause) == (engine.error, engine.cause) == ("Deploy.Failed", "health check failed")
    assert airflow.note.startswith("Error: Deploy.Failed\nCause: health check failed")


def test_parallel_outputs_in_branch_order():
    definition = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
                    {"StartAt": "B", "States": {
                        "B": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "B1"}], "Default": "B2"},
                        "B1": {"Type": "Pass", "Result": "one", "End": True},
                        "B2": {"Type": "Pass", "Result": "other", "End": True},
                    }},
                ],
                "ResultPath": "$.both",
                "End": True,
            }
        },
    }
    airflow, engine = run_both(definition, {"n": 1})
    assert airflow.output == engine.output == {"n": 1, "both": ["a", "one"]}


def test_map_with_choice_inside_skips_per_iteration():
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "Iterator": {"StartAt": "Odd?", "States": {
                    "Odd?": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "High"}], "Default": "Low"},
                    "High": {"Type": "Pass", "Result": "high", "End": True},
                    "Low": {"Type": "Pass", "Result": "low", "End": True},
                }},
                "End": True,
            }
        },
    }
    airflow, engine = run_both(definition, [1, 2, 3, 4])
    assert airflow.output == engine.output == ["low", "low", "high", "high"]


def test_loop_runs_as_one_engine_task():
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Result": 0, "ResultPath": "$.i", "Next": "Inc"},
            "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "Done?"},
            "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericGreaterThanEquals": 3, "Next": "After"}], "Default": "Inc"},
            "After": {"Type": "Pass", "Result": "done", "ResultPath": "$.status", "End": True},
        },
    }
    machine, dag = compile_definition(definition)
    loops = [task_id for task_id in dag.task_dict if task_id.startswith("loop_Inc_Done")]
    assert len(loops) == 1 and set(dag.task_dict) == {"Init", "After", "end", *loops}
    assert dag.get_task(loops[0]).region_states == ["Inc", "Done?"]
    airflow, engine = run_both(definition, {})
    assert airflow.output == engine.output == {"i": 3, "status": "done"}


def test_express_workflow_is_one_engine_task():
    machine, dag = compile_definition(CHOICE, workflow_type="EXPRESS")
    assert sorted(dag.task_dict) == ["end", "execution"]
    whole = dag.get_task("execution")
    assert whole.execution_timeout == timedelta(minutes=5), "ASW Express runs five minutes at most"
    assert whole.retries >= 1, "Express is at-least-once: a crashed attempt runs again"
    assert run_dag(dag, {}).output == {"r": {"x": 3}, "size": "big"}


def test_wait_defers_until_the_deadline():
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    airflow, engine = run_both(definition, {"a": 1})
    assert airflow.output == engine.output == {"a": 1}


def test_map_over_more_than_max_map_length_items_runs_on_the_engine_in_its_items_task(monkeypatch):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "3")
    definition = {"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "MaxConcurrency": 0, "End": True,
        "Iterator": {"StartAt": "Double", "States": {"Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "End": True}}},
    }}}

    def expanded(run) -> int:
        with create_session() as session:
            return session.query(TaskInstance).filter(
                TaskInstance.run_id == run.run_id, TaskInstance.task_id == "Each.iteration.Double", TaskInstance.map_index >= 0
            ).count()

    for items in ([1, 2, 3], [1, 2, 3, 4, 5]):
        airflow, engine = run_both(definition, items)
        assert airflow.status == engine.status == "SUCCEED"
        assert airflow.output == engine.output == [{"v": 2 * i} for i in items]
        assert expanded(airflow) == (len(items) if len(items) <= 3 else 0)


def test_assign_variables_flow_into_and_out_of_a_loop():
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"limit": 3, "total": 0}, "Next": "Inc"},
            "Inc": {"Type": "Pass", "Assign": {"total.$": "States.MathAdd($total, 1)"}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$total", "NumericGreaterThanEqualsPath": "$limit", "Next": "After"}], "Default": "Inc"},
            "After": {"Type": "Pass", "Parameters": {"total.$": "$total", "limit.$": "$limit"}, "End": True},
        },
    }
    airflow, engine = run_both(definition, {})
    assert airflow.output == engine.output == {"total": 3, "limit": 3}


def test_assign_variables_reach_a_nested_map_and_leave_an_engine_run_map():
    inner = {"StartAt": "Scale", "States": {"Scale": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $offset)"}, "End": True}}}
    definition = {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Assign": {"offset": 10}, "Next": "Outer"},
            "Outer": {"Type": "Map", "ItemsPath": "$.rows", "Next": "Tally",
                      "Iterator": {"StartAt": "Inner", "States": {"Inner": {"Type": "Map", "Iterator": inner, "End": True}}}},
            "Tally": {"Type": "Map", "Retry": [{"ErrorEquals": ["States.ALL"]}], "ItemsPath": "$[0]", "Assign": {"count.$": "States.ArrayLength($)"},
                      "Iterator": {"StartAt": "Keep", "States": {"Keep": {"Type": "Pass", "End": True}}}, "Next": "Report"},
            "Report": {"Type": "Pass", "Parameters": {"count.$": "$count", "offset.$": "$offset", "rows.$": "$"}, "End": True},
        },
    }
    machine, dag = compile_definition(definition)
    assert type(dag.get_task("Outer.iteration.Inner")).__name__ == "EngineRegionOperator"
    assert type(dag.get_task("Tally")).__name__ == "EngineRegionOperator"
    airflow, engine = run_both(definition, {"rows": [[1, 2], [3]]})
    assert airflow.status == engine.status == "SUCCEED", (airflow.error, airflow.cause, engine.error, engine.cause)
    assert airflow.output == engine.output == {"count": 2, "offset": 10, "rows": [{"v": 11}, {"v": 12}]}


def test_map_tolerated_failures_are_applied_by_the_collector():
    iterator = {"StartAt": "Odd?", "States": {
        "Odd?": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Ok"},
        "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "two"},
        "Ok": {"Type": "Pass", "End": True},
    }}
    tolerant = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ToleratedFailureCount": 1, "Iterator": iterator, "End": True}}}
    airflow, engine = run_both(tolerant, [1, 2, 3])
    assert airflow.status == engine.status == "SUCCEED"
    assert airflow.output == engine.output == [1, {"Error": "Item.Bad", "Cause": "two"}, 3]
    strict = {"StartAt": "Each", "States": {"Each": {"Type": "Map", "ToleratedFailureCount": 0, "Iterator": iterator, "End": True}}}
    airflow, engine = run_both(strict, [1, 2, 3])
    assert (airflow.status, airflow.error) == (engine.status, engine.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")
