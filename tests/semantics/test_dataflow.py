"""The state I/O pipeline: AWS's null-path rules, ResultPath merging, $$ helpers, size limit."""

from datetime import datetime, timezone

import pytest

from asw_airflow.ir import build_machine
from asw_airflow.semantics.dataflow import (
    Frame,
    check_size,
    effective_input,
    enter_state,
    finish,
    make_context,
    map_item_context,
    resolve_integer,
)
from asw_airflow.semantics.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError


def _pass(**fields):
    return build_machine({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True, **fields}}}).states["S"]


def test_input_path_and_parameters_build_the_effective_input() -> None:
    state = _pass(InputPath="$.a", Parameters={"b.$": "$.b", "k": 1})
    assert effective_input(state, {"a": {"b": 2}}, Frame()) == {"b": 2, "k": 1}


def test_null_input_path_gives_an_empty_object() -> None:
    assert effective_input(_pass(InputPath=None), {"a": 1}, Frame()) == {}


def test_result_path_merges_and_creates_missing_objects() -> None:
    state = _pass(ResultPath="$.x.y")
    output, _ = finish(state, {"a": 1}, 5, Frame())
    assert output == {"a": 1, "x": {"y": 5}}


def test_null_result_path_passes_the_input_and_null_output_path_gives_empty() -> None:
    assert finish(_pass(ResultPath=None), {"a": 1}, 5, Frame())[0] == {"a": 1}
    assert finish(_pass(OutputPath=None), {"a": 1}, 5, Frame())[0] == {}


def test_result_selector_runs_before_result_path() -> None:
    state = _pass(ResultSelector={"v.$": "$.raw"}, ResultPath="$.r")
    assert finish(state, {"a": 1}, {"raw": 7}, Frame())[0] == {"a": 1, "r": {"v": 7}}


def test_assign_sees_old_variables_and_the_selected_result() -> None:
    state = _pass(Assign={"old.$": "$x", "new.$": "$.v"}, ResultSelector={"v.$": "$.raw"})
    _, assigned = finish(state, {}, {"raw": 3}, Frame(variables={"x": "before"}))
    assert assigned == {"old": "before", "new": 3}


def test_inner_frames_read_outer_variables_without_writing_them() -> None:
    outer = Frame(variables={"x": 1})
    inner = outer.inner({})
    inner.variables.update({"x": 2, "y": 3})  # type: ignore[attr-defined]
    assert dict(outer.variables) == {"x": 1}
    assert inner.variables["x"] == 2


def test_jsonata_output_and_assign_see_states_input_and_result() -> None:
    machine = build_machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "S",
            "States": {
                "S": {
                    "Type": "Pass",
                    "Output": {"sum": "{% $states.input.a + $states.result %}", "v": "{% $v %}"},
                    "Assign": {"v": "{% $states.result %}"},
                    "End": True,
                }
            },
        }
    )
    output, assigned = finish(machine.states["S"], {"a": 1}, 2, Frame(variables={"v": "old"}))
    assert output == {"sum": 3, "v": "old"}
    assert assigned == {"v": 2}


def test_context_helpers_build_aws_shaped_context() -> None:
    start = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)
    context = make_context("exec-id", "run-1", {"i": 1}, start, "sm-id", "sm", role_arn="role")
    assert context["Execution"] == {
        "Id": "exec-id", "Input": {"i": 1}, "Name": "run-1", "StartTime": "2024-05-06T07:08:09.123Z",
        "RedriveCount": 0, "RoleArn": "role",
    }
    entered = enter_state(context, "S", start, retry_count=2)
    assert entered["State"] == {"EnteredTime": "2024-05-06T07:08:09.123Z", "Name": "S", "RetryCount": 2}
    assert "RetryCount" not in enter_state(context, "P", start)["State"]
    assert map_item_context(entered, 3, "v")["Map"] == {"Item": {"Index": 3, "Value": "v"}}
    assert "State" not in context  # helpers never mutate what they are given


def test_payload_limit_raises_data_limit_exceeded() -> None:
    check_size({"a": "x" * 10}, 100)
    with pytest.raises(StatesError) as raised:
        check_size({"a": "é" * 60}, 100, "S")  # 120 UTF-8 bytes
    assert raised.value.error == DATA_LIMIT_EXCEEDED
    check_size("x" * 1000, None)


def test_integer_settings_from_paths_are_checked() -> None:
    machine = build_machine(
        {
            "StartAt": "M",
            "States": {
                "M": {
                    "Type": "Map",
                    "MaxConcurrencyPath": "$.c",
                    "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                    "End": True,
                }
            },
        }
    )
    setting = machine.states["M"].max_concurrency
    assert resolve_integer(setting, {"c": "3"}, Frame(), "M") == 3
    for bad in ({}, "many", -1):
        with pytest.raises(StatesError) as raised:
            resolve_integer(setting, {"c": bad}, Frame(), "M")
        assert raised.value.error == RUNTIME
