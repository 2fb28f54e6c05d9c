"""Blocks (compiled runs of states): the general steps' outcome, exact payload checks, stoppable loops."""

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from asw_airflow.engine.interpreter import Execution, run_execution
from asw_airflow.ir import Machine, build_machine
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import Frame, check_size
from asw_airflow.semantics.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError
from asw_airflow.semantics.fast import compiled_machine, fast_steps
from asw_airflow.semantics.scope import Scope

NEVER_STOPPED = SimpleNamespace(stopped=False)

PASSES: list[dict[str, Any]] = [
    {"Type": "Pass"},
    {"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.b.c", "OutputPath": "$.b"},
    {"Type": "Pass", "InputPath": None, "ResultPath": None},
    {"Type": "Pass", "OutputPath": None},
    {"Type": "Pass", "Parameters": {"x.$": "$.a", "k": [1, {"y.$": "$"}], "f.$": "States.Format('{}', $.a)"}},
    {"Type": "Pass", "Parameters": {"x.$": "$.a.n", "k": [1, {"y.$": "$"}], "s": "é"}},
    {"Type": "Pass", "Result": {"r": 1}, "ResultSelector": {"s.$": "$.r"}, "ResultPath": "$.a"},
    {"Type": "Pass", "Result": "x", "InputPath": "$.missing"},  # a Result skips InputPath
]


def compiled(definition: dict[str, Any]) -> Machine:
    """A machine whose blocks are written now, so ``run_execution`` runs them from its first run."""
    machine = build_machine(definition)
    assert compiled_machine(machine) is not None and compiled_machine(machine, sized=False) is not None
    return machine


def _one_state(definition: dict[str, Any]) -> Any:
    return build_machine({"StartAt": "S", "States": {"S": {**definition, "End": True}}})


@pytest.mark.parametrize("definition", PASSES)
def test_a_pass_block_gives_the_general_outcome_with_and_without_a_limit(definition: dict[str, Any]) -> None:
    machine = _one_state(definition)
    value = {"a": {"n": 1}, "z": "é"}
    expected = steps.run_pass(machine.states["S"], value, Frame()).output
    sized = fast_steps(machine)["S"]
    unsized = fast_steps(machine, sized=False)["S"]
    assert sized is not None and unsized is not None
    next_state, output, size = sized(value, check_size(value, 1000), Scope(None), 1000, NEVER_STOPPED)
    assert (next_state, output) == (None, expected)
    assert size is not None and size >= check_size(output, 1000)  # type: ignore[operator]
    assert unsized(value, None, Scope(None), None, NEVER_STOPPED)[:2] == (None, expected)


def test_only_states_that_cannot_read_the_context_get_blocks() -> None:
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
    assert compiled_machine(machine) is None
    assert steps_by_name["C"]({"n": 1}, None, Scope(None), 1000, NEVER_STOPPED)[0] == "D"  # hands over to the Task


def _branching() -> dict[str, Any]:
    """Pass -> Choice -> (Big | Small), each target entered only from the Choice: one block runs it all."""
    return {
        "StartAt": "Prep",
        "States": {
            "Prep": {"Type": "Pass", "Parameters": {"value.$": "$.n"}, "Next": "Size"},
            "Size": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.value", "NumericGreaterThanEquals": 50, "Next": "Big"},
                    {"Variable": "$.value", "StringEquals": "many", "Next": "Big2"},
                ],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
            "Big2": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
            "Small": {"Type": "Succeed"},
        },
    }


@pytest.mark.parametrize(
    "value, output",
    [
        ({"n": 70}, {"value": 70, "size": "big"}),
        ({"n": 7}, {"value": 7}),
        ({"n": True}, {"value": True}),  # booleans are not numbers: the Default
        ({"n": "many"}, {"value": "many", "size": "big"}),
    ],
)
def test_a_choice_and_the_targets_only_it_leads_to_run_in_one_block(value: Any, output: Any) -> None:
    machine = compiled(_branching())
    block = fast_steps(machine)["Prep"]
    assert block is not None
    assert block(value, None, Scope(None), 1000, NEVER_STOPPED)[:2] == (None, output)
    assert run_execution(machine, value).output == output


@pytest.mark.parametrize("value", [{"m": 1}, [1, 2], "text", {"n": {"deep": 1}}])
def test_what_inline_code_cannot_read_fails_as_the_general_steps_fail(value: Any) -> None:
    machine = compiled(_branching())
    fast = run_execution(machine, value)
    general = run_execution(machine, value, history=True)  # the recording loop runs only general steps
    assert (fast.status, fast.output, fast.error, fast.cause) == (general.status, general.output, general.error, general.cause)
    if fast.status == "FAILED":
        assert fast.error == RUNTIME


def test_a_loop_of_blocks_can_be_stopped() -> None:
    machine = build_machine(
        {
            "StartAt": "Spin",
            "States": {
                "Spin": {"Type": "Pass", "Result": 1, "ResultPath": "$.n", "Next": "Again"},
                "Again": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Spin"}],
                    "Default": "Done",
                },
                "Done": {"Type": "Succeed"},
            },
        }
    )
    execution = Execution(machine, {})
    timer = threading.Timer(0.2, execution.stop)
    timer.start()
    try:
        assert execution.run().status == "TERMINATED"
    finally:
        timer.cancel()


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
    machine = compiled(_chain(12))
    value = {"s": "x" * 20}
    exact = len('{"s":"xxxxxxxxxxxxxxxxxxxx","last":{"v":"xxxxxxxxxxxxxxxxxxxx"}}')
    assert run_execution(machine, value, payload_limit=exact).status == "SUCCEED"  # bounds passed it many times
    fast = run_execution(machine, value, payload_limit=exact - 1)
    general = run_execution(machine, value, payload_limit=exact - 1, history=True)  # the recording loop
    assert (fast.status, fast.error, fast.cause) == (general.status, general.error, general.cause)
    assert fast.error == DATA_LIMIT_EXCEEDED and "'s0'" in (fast.cause or "")


def test_bounds_are_upper_bounds_for_result_path_inserts_with_non_ascii_keys() -> None:
    machine = compiled(
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
    machine = _one_state({"Type": "Pass", "Result": "x" * 50})
    block = fast_steps(machine)["S"]
    assert block is not None
    with pytest.raises(StatesError) as general:
        steps.run_pass(machine.states["S"], {}, Frame(payload_limit=20))
    with pytest.raises(StatesError) as fast:
        block({}, 2, Scope(None), 20, NEVER_STOPPED)
    assert (fast.value.error, fast.value.cause) == (general.value.error, general.value.cause)


def test_a_map_output_bounded_by_its_iterations_is_checked_exactly() -> None:
    iterator = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "é", "ResultPath": "$.r", "End": True}}}
    map_state = {"Type": "Map", "ItemsPath": "$.items", "Iterator": iterator, "ResultPath": "$.out", "End": True}
    machine = compiled({"StartAt": "M", "States": {"M": map_state}})
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
    machine = compiled({"StartAt": "S", "States": {"S": definition, "E": {"Type": "Succeed"}}})
    for limit in range(1, 12):  # the input 1 is one byte; the outputs are {} or {"a":{}}
        fast = run_execution(machine, 1, payload_limit=limit)
        general = run_execution(machine, 1, payload_limit=limit, history=True)
        assert (fast.status, fast.output, fast.error) == (general.status, general.output, general.error), limit


INLINE_RULES = [
    ("NumericGreaterThan", 0),
    ("NumericGreaterThanEquals", 0),
    ("NumericLessThan", 0),
    ("NumericLessThanEquals", 0),
    ("NumericEquals", 0),
    ("NumericEquals", 1.5),
    ("StringEquals", "x"),
    ("BooleanEquals", True),
    ("BooleanEquals", False),
    ("IsNull", True),
    ("IsNull", False),
    ("IsNumeric", True),
    ("IsNumeric", False),
    ("IsString", True),
    ("IsBoolean", True),
    ("IsBoolean", False),
]


@pytest.mark.parametrize("operator, operand", INLINE_RULES)
def test_choice_rules_written_inline_match_what_the_general_step_matches(operator: str, operand: Any) -> None:
    machine = compiled(
        {
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.v", operator: operand, "Next": "Yes"}], "Default": "No"},
                "Yes": {"Type": "Pass", "Result": "yes", "End": True},
                "No": {"Type": "Pass", "Result": "no", "End": True},
            },
        }
    )
    assert machine.states["C"].branching.rules[0].inline is not None  # type: ignore[attr-defined]
    for value in (0, 1, -1, 0.0, 1.5, -0.5, "x", "y", "", True, False, None, [], {}, [0]):
        fast = run_execution(machine, {"v": value})
        general = run_execution(machine, {"v": value}, history=True)
        assert (fast.status, fast.output) == (general.status, general.output), value


@pytest.mark.parametrize("states", [1, 2, 3])
def test_a_block_skips_its_checks_only_when_its_entry_bound_fits(states: int) -> None:
    machine = compiled(_chain(states))
    value = {"s": "x" * 20}
    exact = len('{"s":"xxxxxxxxxxxxxxxxxxxx","last":{"v":"xxxxxxxxxxxxxxxxxxxx"}}')
    for limit in (exact - 1, exact, exact * 4, 10**6):
        fast = run_execution(machine, value, payload_limit=limit)
        general = run_execution(machine, value, payload_limit=limit, history=True)
        assert (fast.status, fast.output, fast.error, fast.cause) == (general.status, general.output, general.error, general.cause)
    assert run_execution(machine, value, payload_limit=exact - 1).error == DATA_LIMIT_EXCEEDED


def test_a_choice_with_many_rules_and_a_long_run_of_choices_compile() -> None:
    """Rules are written flat and nested branches stop at a depth, whatever the definition's size."""
    states: dict[str, Any] = {}
    for i in range(120):
        rules = [{"Variable": "$.n", "NumericEquals": j, "Next": f"p{i}"} for j in range(150 if i == 0 else 1)]
        states[f"c{i}"] = {"Type": "Choice", "Choices": rules, "Default": "end"}
        states[f"p{i}"] = {"Type": "Pass", "Result": i, "ResultPath": "$.last", "Next": f"c{i + 1}" if i < 119 else "end"}
    states["end"] = {"Type": "Succeed"}
    machine = build_machine({"StartAt": "c0", "States": states})
    assert compiled_machine(machine) is not None
    assert run_execution(machine, {"n": 0}).output == {"n": 0, "last": 119}
    assert run_execution(machine, {"n": 149}).output == {"n": 149, "last": 0}  # the 150th rule, then Defaults
    assert run_execution(machine, {"n": 500}).output == {"n": 500}


def test_a_machine_gets_its_blocks_once_it_has_run_a_few_times() -> None:
    """Writing blocks costs tens of general runs: a workflow run once must not pay for it."""
    machine = build_machine(_branching())
    for _ in range(3):
        assert run_execution(machine, {"n": 70}).output == {"value": 70, "size": "big"}
    assert "fast_run" not in machine.memo
    for _ in range(30):
        assert run_execution(machine, {"n": 70}).output == {"value": 70, "size": "big"}
    assert machine.memo["fast_run"] is not None


@pytest.mark.parametrize("tolerated", [None, 1, 5])
@pytest.mark.parametrize("limit", [None, 10**6, 120])
def test_compiled_maps_fail_tolerate_and_nest_as_the_general_steps_do(tolerated: int | None, limit: int | None) -> None:
    """Items without ``n`` fail in the iterator (a missing path); inner Maps run in item order too."""
    inner = {
        "StartAt": "Deeper",
        "States": {
            "Deeper": {
                "Type": "Map",
                "ItemsPath": "$.parts",
                "Iterator": {"StartAt": "Part", "States": {"Part": {"Type": "Pass", "Parameters": {"p.$": "$"}, "End": True}}},
                "ResultPath": "$.parts",
                "Next": "Read",
            },
            "Read": {"Type": "Pass", "Parameters": {"n.$": "$.n", "parts.$": "$.parts"}, "End": True},
        },
    }
    map_state: dict[str, Any] = {"Type": "Map", "ItemsPath": "$.items", "Iterator": inner, "End": True}
    if tolerated is not None:
        map_state["ToleratedFailureCount"] = tolerated
    machine = compiled({"StartAt": "M", "States": {"M": map_state}})
    for items in ([{"n": 1, "parts": [1, 2]}, {"n": 2, "parts": []}], [{"n": 1, "parts": [1]}, {"parts": [3]}, {"parts": []}]):
        fast = run_execution(machine, {"items": items}, payload_limit=limit)
        general = run_execution(machine, {"items": items}, payload_limit=limit, history=True)
        assert (fast.status, fast.output, fast.error, fast.cause) == (general.status, general.output, general.error, general.cause)


@pytest.mark.parametrize("limit", [None, 10**6, 1000])  # 1000: the Task's output fits, the Map's does not
def test_the_interpreter_runs_a_long_map_through_its_compiled_iterator(limit: int | None) -> None:
    """A Task keeps the machine in the interpreter; its Map of many items still runs compiled."""
    from asw_airflow.engine.handlers import HandlerRegistry

    handlers = HandlerRegistry()
    handlers.register_kind("scf", lambda invocation: [{"n": i} for i in range(40)])
    resource = "qrn:qcs:asw:ap-guangzhou:1:sdk:json:qcloud:scf:Invoke/f"
    iterator = _branching() | {"StartAt": "Prep"}
    machine = build_machine(
        {
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": resource, "ResultPath": "$.items", "Next": "M"},
                "M": {"Type": "Map", "ItemsPath": "$.items", "Iterator": iterator, "ResultPath": "$.out", "End": True},
            },
        }
    )
    fast = run_execution(machine, {}, handlers=handlers, payload_limit=limit)
    general = run_execution(machine, {}, handlers=handlers, payload_limit=limit, history=True)
    assert (fast.status, fast.output, fast.error, fast.cause) == (general.status, general.output, general.error, general.cause)
    key = "fast_run" if limit is not None else "fast_run_unsized"
    assert machine.states["M"].iterator.memo.get(key) is not None  # type: ignore[attr-defined]


def test_names_keys_and_strings_in_a_definition_stay_data_in_generated_code() -> None:
    hostile = "x\nraise SystemExit('ran')  # '\"\\"
    machine = compiled(
        {
            "StartAt": hostile,
            "States": {
                hostile: {"Type": "Pass", "Parameters": {"k.$": "$.a", hostile: hostile}, "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.k", "StringEquals": hostile, "Next": "D"}], "Default": "E"},
                "D": {"Type": "Pass", "Result": hostile, "ResultPath": "$['q\"']", "End": True},
                "E": {"Type": "Pass", "Result": "no", "End": True},
            },
        }
    )
    assert run_execution(machine, {"a": hostile}).output == {"k": hostile, hostile: hostile, 'q"': hostile}
    assert run_execution(machine, {"a": "other"}).output == "no"


def _forty(char: str = "x") -> str:
    return char * 40


REVIEWED = [
    # A Map iterator of two blocks (both rules lead to B).
    (
        {"Type": "Map", "Iterator": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "B"}], "Default": "B"},
            "B": {"Type": "Pass", "End": True}}}},
        [{"x": 1}, {"x": 2}],
    ),
    # Inputs no earlier state checked: a Parallel's Parameters, a Map's ItemSelector.
    (
        {"Type": "Parallel", "Parameters": {"big": _forty()}, "ResultPath": None,
         "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}]},
        {},
    ),
    (
        {"Type": "Map", "ItemsPath": "$.a", "ItemSelector": {"big": _forty()}, "ResultPath": None,
         "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}},
        {"a": [1]},
    ),
    # Full JSONPath selects a list that can outgrow its input.
    ({"Type": "Pass", "InputPath": "$..b"}, {"b": {"b": {"b": _forty("y")}}}),
    ({"Type": "Pass", "OutputPath": "$..b"}, {"b": {"b": {"b": _forty("y")}}}),
    ({"Type": "Pass", "InputPath": "$..b"}, 1),
    ({"Type": "Succeed", "InputPath": "$..b"}, {"b": {"b": 1}}),
    ({"Type": "Pass", "Parameters": {"x.$": "$.x"}, "ResultPath": "$.r", "OutputPath": "$..*"}, {"x": _forty("y")}),
    (
        {"Type": "Map", "InputPath": "$..*", "ItemsPath": "$",
         "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}},
        {"a": {"b": _forty("y")}},
    ),
    # [0] and [-1] can be the same element.
    ({"Type": "Pass", "Parameters": {"p.$": "$.c[0]", "q.$": "$.c[-1]"}}, {"c": [_forty("y")]}),
    ({"Type": "Pass", "Parameters": {"p.$": "$.c[0]", "q.$": "$.c[-1]"}, "ResultPath": "$.r"}, {"c": [_forty("y")]}),
    # Floats msgspec writes longer than json does.
    ({"Type": "Pass", "Parameters": {"k": [1e-05] * 10, "x.$": "$.a"}}, {"a": 1}),
    ({"Type": "Pass", "Result": 2.5e-05, "ResultSelector": {"v.$": "$", "k": 1e-05}}, {}),
]


@pytest.mark.parametrize("definition, value", REVIEWED)
def test_reviewed_edges_agree_with_the_general_steps_at_every_limit(definition: dict[str, Any], value: Any) -> None:
    """Cases a review found the compiled path getting wrong; each is run at every limit around its sizes."""
    state = definition if definition["Type"] == "Succeed" else {**definition, "End": True}
    machine = compiled({"StartAt": "S", "States": {"S": state}})
    for limit in [None, *range(0, 200)]:
        fast = run_execution(machine, value, payload_limit=limit)
        general = run_execution(machine, value, payload_limit=limit, history=True)
        assert (fast.status, fast.output, fast.error, fast.cause) == (general.status, general.output, general.error, general.cause), limit


def test_a_catch_output_over_the_limit_fails_the_next_state_before_and_after_warm_up() -> None:
    machine = build_machine(
        {
            "StartAt": "Par",
            "States": {
                "Par": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c" * 60}}}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "P"}],
                    "Next": "P",
                },
                "P": {"Type": "Pass", "End": True},
            },
        }
    )
    for _ in range(40):
        result = run_execution(machine, {"a": 1}, payload_limit=50)
        assert (result.status, result.error) == ("FAILED", DATA_LIMIT_EXCEEDED)
        assert "'P'" in (result.cause or "")


def test_what_python_cannot_compile_runs_through_the_general_steps() -> None:
    deep: Any = "end"
    for _ in range(250):
        deep = {"a": deep}
    machine = compiled({"StartAt": "S", "States": {"S": {"Type": "Pass", "Parameters": {"deep": deep, "x.$": "$.x"}, "End": True}}})
    assert run_execution(machine, {"x": 1}).output == {"deep": deep, "x": 1}
    nan_rule = build_machine(
        {
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": float("inf"), "Next": "D"}]},
                "D": {"Type": "Succeed"},
            },
        }
    )
    assert compiled_machine(nan_rule) is not None
    assert run_execution(nan_rule, {"n": 1}).status == "SUCCEED"


def test_a_task_output_path_whose_matches_outgrow_the_write_is_measured() -> None:
    """OutputPath ``$..*`` repeats nested values: the ResultPath write's bound does not cover it."""
    from asw_airflow.engine.handlers import HandlerRegistry

    handlers = HandlerRegistry()
    handlers.register_kind("scf", lambda invocation: {"x": _forty("y")})
    resource = "qrn:qcs:asw:ap-guangzhou:1:sdk:json:qcloud:scf:Invoke/f"
    task = {"Type": "Task", "Resource": resource, "ResultPath": "$.r", "OutputPath": "$..*", "End": True}
    machine = build_machine({"StartAt": "T", "States": {"T": task}})
    value = {"x": _forty("y")}
    for limit in range(100, 200):
        fast = run_execution(machine, value, handlers=handlers, payload_limit=limit)  # carries the input's size
        general = run_execution(machine, value, handlers=handlers, payload_limit=limit, history=True)
        assert (fast.status, fast.output, fast.error) == (general.status, general.output, general.error), limit


@pytest.mark.parametrize("items_path", ["$big", "$$.Execution.Input.arr"])
def test_map_items_read_from_a_variable_or_the_context_are_not_bounded_by_the_map_input(items_path: str) -> None:
    iterator = {"StartAt": "I", "States": {"I": {"Type": "Pass", "Parameters": {"a.$": "$", "b.$": "$"}, "End": True}}}
    machine = build_machine(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Result": {}, "Next": "M"},
                "M": {"Type": "Map", "ItemsPath": items_path, "Iterator": iterator, "End": True},
            },
        }
    )
    value = {"arr": [_forty()] * 10}
    for limit in (100, 500, 1000, 2000):
        results = [
            Execution(machine, value, payload_limit=limit, variables={"big": [_forty()] * 10}).run() for _ in range(20)
        ]  # warm blocks from the second run on
        general = Execution(machine, value, payload_limit=limit, variables={"big": [_forty()] * 10}, history=True).run()
        for result in results:
            assert (result.status, result.output, result.error, result.cause) == (
                general.status, general.output, general.error, general.cause
            ), limit


def test_a_lone_surrogate_is_measured_not_a_crash() -> None:
    machine = build_machine({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}})
    assert run_execution(machine, {"s": "\ud800"}).output == {"s": "\ud800"}
    assert run_execution(machine, {"s": "\ud800"}, payload_limit=8).error == DATA_LIMIT_EXCEEDED  # {"s":"???"} is 10 bytes


def test_a_map_whose_iterator_block_would_not_compile_runs_on_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's compiler limits are guarded against; should one still refuse a block, nothing fails."""
    import asw_airflow.semantics.fast as fast

    written = fast._compile_block
    monkeypatch.setattr(fast, "_compile_block", lambda machine, start, *args, **kw: None if start == "I" else written(machine, start, *args, **kw))
    iterator = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    machine = build_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "M"}, "M": {"Type": "Map", "Iterator": iterator, "End": True}}})
    assert compiled_machine(machine) is None
    assert [run_execution(machine, [1, 2]).output for _ in range(20)] == [[1, 2]] * 20
