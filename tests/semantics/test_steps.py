"""Per-state steps both backends call: outcomes, Retry/Catch decisions, Map and Parallel helpers."""

from datetime import datetime, timedelta, timezone

import pytest

from asw_airflow.ir import build_machine
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import Frame
from asw_airflow.semantics.errors import EXCEED_TOLERATED_FAILURE_THRESHOLD, NO_CHOICE_MATCHED, StatesError

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"
NOW = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _state(definition: dict, name: str = "S", **top):
    return build_machine({"StartAt": name, "States": {name: definition, "Next1": {"Type": "Succeed"}}, **top}).states[name]


def test_pass_result_is_literal() -> None:
    state = _state({"Type": "Pass", "Result": {"a.$": "$.x"}, "Next": "Next1"})
    assert steps.run_pass(state, {"x": 1}, Frame()) == steps.StepOutcome("Next1", {"a.$": "$.x"}, {})


def test_choice_picks_first_match_applies_its_assign_else_default_else_fails() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Next1", "Assign": {"hit.$": "$.n"}}],
    }
    state = _state(choice)
    assert steps.run_choice(state, {"n": 1}, Frame()) == steps.StepOutcome("Next1", {"n": 1}, {"hit": 1})
    with pytest.raises(StatesError) as raised:
        steps.run_choice(state, {"n": 2}, Frame())
    assert raised.value.error == NO_CHOICE_MATCHED
    with_default = _state({**choice, "Default": "Next1"})
    assert steps.run_choice(with_default, {"n": 2}, Frame()).next == "Next1"


def test_wait_deadline_from_seconds_path_and_timestamp() -> None:
    by_seconds = _state({"Type": "Wait", "SecondsPath": "$.s", "Next": "Next1"})
    assert steps.wait_deadline(by_seconds, {"s": 90}, Frame(), NOW) == NOW + timedelta(seconds=90)
    by_stamp = _state({"Type": "Wait", "Timestamp": "2024-02-01T00:00:00Z", "Next": "Next1"})
    assert steps.wait_deadline(by_stamp, {}, Frame(), NOW) == datetime(2024, 2, 1, tzinfo=timezone.utc)


def test_fail_raises_error_and_cause_from_paths() -> None:
    state = build_machine(
        {"StartAt": "S", "States": {"S": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('c{}', $.n)"}}}
    ).states["S"]
    with pytest.raises(StatesError) as raised:
        steps.run_fail(state, {"e": "Boom", "n": 1}, Frame())
    assert (raised.value.error, raised.value.cause) == ("Boom", "c1")


def test_task_payload_and_output() -> None:
    state = _state(
        {"Type": "Task", "Resource": SCF, "Parameters": {"v.$": "$.a"}, "ResultSelector": {"r.$": "$.x"},
         "ResultPath": "$.out", "Next": "Next1"}
    )
    assert steps.task_payload(state, {"a": 1}, Frame()) == {"v": 1}
    assert steps.task_output(state, {"a": 1}, {"x": 2}, Frame()).output == {"a": 1, "out": {"r": 2}}


def test_on_error_retries_then_catches_then_fails() -> None:
    state = _state(
        {"Type": "Task", "Resource": SCF, "Next": "Next1",
         "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 2, "MaxAttempts": 1}],
         "Catch": [{"ErrorEquals": ["Busy"], "ResultPath": "$.err", "Next": "Next1"}]}
    )
    error = StatesError("Busy", "later")
    first = steps.on_error(state, error, {"a": 1}, None, Frame())
    assert (first.action, first.delay, first.attempts) == ("retry", 2.0, (1,))
    second = steps.on_error(state, error, {"a": 1}, first.attempts, Frame())
    assert (second.action, second.next) == ("catch", "Next1")
    assert second.output == {"a": 1, "err": {"Error": "Busy", "Cause": "later"}}
    assert steps.on_error(state, StatesError("Other"), {}, None, Frame()).action == "fail"


def test_map_items_apply_item_selector_with_map_item_context() -> None:
    state = _state(
        {"Type": "Map", "ItemsPath": "$.xs", "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
         "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "Next": "Next1"}
    )
    items = steps.map_items(state, {"xs": ["a", "b"], "k": 0}, Frame())
    assert items == [(0, {"i": 0, "v": "a", "k": 0}), (1, {"i": 1, "v": "b", "k": 0})]


def test_map_collect_tolerates_failures_up_to_the_threshold() -> None:
    state = _state(
        {"Type": "Map", "ToleratedFailureCount": 1,
         "Iterator": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, "Next": "Next1"}
    )
    failure = StatesError("E", "c")
    tolerance = steps.map_tolerance(state, [], Frame())
    outcome = steps.map_collect(state, [1, 2], [1, None], {1: failure}, Frame(), tolerance)
    assert outcome.output == [1, {"Error": "E", "Cause": "c"}]
    with pytest.raises(StatesError) as raised:
        steps.map_collect(state, [1, 2], [None, None], {0: failure, 1: failure}, Frame(), tolerance)
    assert raised.value.error == EXCEED_TOLERATED_FAILURE_THRESHOLD
    with pytest.raises(StatesError) as surfaced:
        steps.map_collect(state, [1], [None], {0: failure}, Frame())
    assert surfaced.value is failure  # nothing tolerated: the iteration's own error


def test_parallel_collect_keeps_branch_order() -> None:
    state = _state(
        {"Type": "Parallel", "ResultPath": "$.r", "Next": "Next1",
         "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}]}
    )
    assert steps.parallel_collect(state, {}, ["a", "b"], Frame()).output == {"r": ["a", "b"]}
