"""Fast steps: the same outcome as the general steps, and the payload check exact despite size bounds."""

from typing import Any

import pytest

from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import build_machine
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import Frame, check_size
from asw_airflow.semantics.errors import DATA_LIMIT_EXCEEDED, StatesError
from asw_airflow.semantics.fast import compile_fast_step, fast_steps

PASSES: list[dict[str, Any]] = [
    {"Type": "Pass"},
    {"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.b.c", "OutputPath": "$.b"},
    {"Type": "Pass", "InputPath": None, "ResultPath": None},
    {"Type": "Pass", "OutputPath": None},
    {"Type": "Pass", "Parameters": {"x.$": "$.a", "k": [1, {"y.$": "$"}], "f.$": "States.Format('{}', $.a)"}},
    {"Type": "Pass", "Result": {"r": 1}, "ResultSelector": {"s.$": "$.r"}, "ResultPath": "$.a"},
    {"Type": "Pass", "Result": "x", "InputPath": "$.missing"},  # a Result skips InputPath
]


@pytest.mark.parametrize("definition", PASSES)
def test_fast_pass_gives_the_general_outcome(definition: dict[str, Any]) -> None:
    state = build_machine({"StartAt": "S", "States": {"S": {**definition, "End": True}}}).states["S"]
    value = {"a": {"n": 1}, "z": "é"}
    step = compile_fast_step(state)
    assert step is not None
    frame = Frame()
    next_state, output, size = step(value, check_size(value, 1000), frame.scope(None), 1000)
    assert (next_state, output) == (None, steps.run_pass(state, value, frame).output)
    assert size is not None and size >= check_size(output, 1000)  # type: ignore[operator]


def test_only_states_that_cannot_read_the_context_get_fast_steps() -> None:
    machine = build_machine(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Parameters": {"n.$": "$$.State.Name"}, "Next": "B"},
                "B": {"Type": "Pass", "Assign": {"v": 1}, "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "IsPresent": True, "Next": "D"}]},
                "D": {"Type": "Task", "Resource": "qrn:qcs:asw:ap-guangzhou:1:sdk:json:qcloud:scf:Invoke/f", "Next": "E"},
                "E": {"Type": "Succeed"},
            },
        }
    )
    assert machine.context_free == {"B", "C", "E"}
    steps_by_name = fast_steps(machine)
    assert {name for name in machine.states if steps_by_name[name] is not None} == {"C", "E"}


def _chain(states: int) -> dict[str, Any]:
    """Each state sets ``last`` to a part of its input: the size stays put, the bound roughly doubles."""
    return {
        "StartAt": "s0",
        "States": {
            f"s{i}": {
                "Type": "Pass",
                "Parameters": {"v.$": "$.s"},
                "ResultPath": "$.last",
                **({"Next": f"s{i + 1}"} if i + 1 < states else {"End": True}),
            }
            for i in range(states)
        },
    }


def test_a_bound_past_the_limit_measures_and_only_the_real_size_fails() -> None:
    machine = build_machine(_chain(12))
    value = {"s": "x" * 20}
    exact = len('{"s":"xxxxxxxxxxxxxxxxxxxx","last":{"v":"xxxxxxxxxxxxxxxxxxxx"}}')
    assert run_execution(machine, value, payload_limit=exact).status == "SUCCEED"  # bounds passed it many times
    fast = run_execution(machine, value, payload_limit=exact - 1)
    general = run_execution(machine, value, payload_limit=exact - 1, history=True)  # the recording loop
    assert (fast.status, fast.error, fast.cause) == (general.status, general.error, general.cause)
    assert fast.error == DATA_LIMIT_EXCEEDED and "'s0'" in (fast.cause or "")


def test_bounds_are_upper_bounds_for_result_path_inserts_with_non_ascii_keys() -> None:
    machine = build_machine(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Result": "ü" * 10, "ResultPath": "$.ключ.ü", "Next": "B"},
                "B": {"Type": "Pass", "Result": "ü" * 10, "ResultPath": "$.další", "End": True},
            },
        }
    )
    output = {"ключ": {"ü": "ü" * 10}, "další": "ü" * 10}
    exact = len(str(output).replace("'", '"').replace(" ", "").encode())
    assert run_execution(machine, {}, payload_limit=exact).output == output
    failed = run_execution(machine, {}, payload_limit=exact - 1)
    assert (failed.error, failed.cause) == (
        DATA_LIMIT_EXCEEDED,
        f"The state/task 'B' returned a result with a size exceeding the maximum number of bytes service limit ({exact - 1}).",
    )


def test_general_and_fast_raise_the_same_error() -> None:
    state = build_machine({"StartAt": "S", "States": {"S": {"Type": "Pass", "Result": "x" * 50, "End": True}}}).states["S"]
    step = compile_fast_step(state)
    assert step is not None
    with pytest.raises(StatesError) as general:
        steps.run_pass(state, {}, Frame(payload_limit=20))
    with pytest.raises(StatesError) as fast:
        step({}, 2, Frame().scope(None), 20)
    assert (fast.value.error, fast.value.cause) == (general.value.error, general.value.cause)


def test_a_map_output_bounded_by_its_iterations_is_checked_exactly() -> None:
    iterator = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "é", "ResultPath": "$.r", "End": True}}}
    map_state = {"Type": "Map", "ItemsPath": "$.items", "Iterator": iterator, "ResultPath": "$.out", "End": True}
    machine = build_machine({"StartAt": "M", "States": {"M": map_state}})
    value = {"items": [{"n": i} for i in range(5)]}
    output = run_execution(machine, value, payload_limit=None).output
    assert output["out"] == [{"n": i, "r": "é"} for i in range(5)]
    exact = check_size(output, 10**9)
    assert run_execution(machine, value, payload_limit=exact).status == "SUCCEED"
    failed = run_execution(machine, value, payload_limit=exact - 1)
    assert (failed.error, "'M'" in (failed.cause or "")) == (DATA_LIMIT_EXCEEDED, True)


def test_template_bounds_count_overlapping_reads_and_refuse_what_is_not_part_of_the_input() -> None:
    from asw_airflow.semantics.templates import compile_template

    def bound(source: dict[str, Any]) -> tuple[int, int] | None:
        return compile_template(source).size_bound

    assert bound({"a.$": "$.a", "b.$": "$.b.c", "k": 1}) == (len('{"a":0,"b":0,"k":1}'), 1)  # disjoint
    assert bound({"a.$": "$.a", "b": [{"c.$": "$.a.b"}]})[1] == 2  # type: ignore[index]
    assert bound({"a.$": "$", "b.$": "$.x"})[1] == 2  # type: ignore[index]
    assert bound({"k": "v"}) == (len('{"k":"v"}'), 0)
    for unbounded in ("$$.Execution.Id", "$var", "States.Format('{}', $.a)", "$.items[*].id"):
        assert bound({"a.$": unbounded}) is None


def test_a_task_result_inserted_into_a_measured_input_is_checked_exactly() -> None:
    from asw_airflow.engine.handlers import HandlerRegistry

    handlers = HandlerRegistry()
    handlers.register_kind("scf", lambda invocation: "r" * 10)
    resource = "qrn:qcs:asw:ap-guangzhou:1:sdk:json:qcloud:scf:Invoke/f"
    task = {"Type": "Task", "Resource": resource, "ResultPath": "$.r", "End": True}
    machine = build_machine({"StartAt": "T", "States": {"T": task}})
    value = {"big": "x" * 100}
    exact = check_size({**value, "r": "r" * 10}, 10**9)
    assert run_execution(machine, value, handlers=handlers, payload_limit=exact).status == "SUCCEED"
    failed = run_execution(machine, value, handlers=handlers, payload_limit=exact - 1)
    assert (failed.error, "'T'" in (failed.cause or "")) == (DATA_LIMIT_EXCEEDED, True)


@pytest.mark.parametrize(
    "definition",
    [
        {"Type": "Pass", "OutputPath": None, "Next": "E"},
        {"Type": "Pass", "InputPath": None, "Parameters": {"a.$": "$"}, "Next": "E"},
        {"Type": "Pass", "InputPath": None, "Next": "E"},
        {"Type": "Choice", "OutputPath": None, "Choices": [{"Variable": "$", "IsPresent": True, "Next": "E"}]},
    ],
)
def test_null_paths_give_an_empty_object_larger_than_a_tiny_input(definition: dict[str, Any]) -> None:
    machine = build_machine({"StartAt": "S", "States": {"S": definition, "E": {"Type": "Succeed"}}})
    for limit in range(1, 12):  # the input 1 is one byte; the outputs are {} or {"a":{}}
        fast = run_execution(machine, 1, payload_limit=limit)
        general = run_execution(machine, 1, payload_limit=limit, history=True)
        assert (fast.status, fast.output, fast.error) == (general.status, general.output, general.error), limit
