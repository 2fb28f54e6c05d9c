"""The IR: built only from validated definitions, every expression compiled, nesting walkable."""

import pytest

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.ir import (
    ChoiceState,
    MapState,
    ParallelState,
    PassState,
    TaskState,
    build_machine,
)
from asw_airflow.semantics.scope import Scope

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/average"


def _machine():
    return build_machine(
        {
            "StartAt": "Pick",
            "TimeoutSeconds": 60,
            "States": {
                "Pick": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Fan"}],
                    "Default": "Done",
                },
                "Fan": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                        {
                            "StartAt": "M",
                            "States": {
                                "M": {
                                    "Type": "Map",
                                    "ItemsPath": "$.items",
                                    "Iterator": {
                                        "StartAt": "Call",
                                        "States": {"Call": {"Type": "Task", "Resource": SCF, "End": True}},
                                    },
                                    "End": True,
                                }
                            },
                        },
                    ],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done", "ResultPath": None}],
                    "Next": "Done",
                },
                "Done": {"Type": "Pass", "InputPath": None, "OutputPath": "$.x", "Result": None, "End": True},
            },
        },
        name="demo",
    )


def test_build_compiles_states_with_their_pointers_and_defaults() -> None:
    machine = _machine()
    assert (machine.start_at, machine.timeout_seconds, machine.name) == ("Pick", 60, "demo")
    done = machine.states["Done"]
    assert isinstance(done, PassState)
    assert done.pointer == "/States/Done"
    assert done.input_path is None and done.output_path is not None and done.output_path.text == "$.x"
    assert done.has_result and done.result is None
    assert done.result_path is not None and done.result_path.text == "$"  # absent ResultPath is "$"


def test_walk_visits_nested_states_parents_first() -> None:
    names = [state.name for state in _machine().walk()]
    assert names == ["Pick", "Fan", "Done", "B", "M", "Call"]
    call = [s for s in _machine().walk() if s.name == "Call"][0]
    assert isinstance(call, TaskState)
    assert call.pointer == "/States/Fan/Branches/1/States/M/Iterator/States/Call"
    assert call.resource.function == "average"


def test_successors_cover_next_choices_default_and_catchers() -> None:
    machine = _machine()
    assert machine.states["Pick"].successors() == ("Fan", "Done")
    fan = machine.states["Fan"]
    assert isinstance(fan, ParallelState) and fan.successors() == ("Done",)
    assert fan.catch[0].result_path is None


def test_choice_rules_are_compiled() -> None:
    pick = _machine().states["Pick"]
    assert isinstance(pick, ChoiceState)
    assert pick.branching.rules[0].matches(Scope({"n": 2}))
    assert not pick.branching.rules[0].matches(Scope({"n": 0}))


def test_map_defaults_follow_tcsl() -> None:
    fan = _machine().states["Fan"]
    assert isinstance(fan, ParallelState)
    inner = fan.branches[1].states["M"]
    assert isinstance(inner, MapState)
    assert inner.max_concurrency.constant == 1  # TCSL default, not ASL's 0
    assert inner.items_path is not None and inner.items_path.text == "$.items"


def test_jsonata_fields_are_compiled() -> None:
    machine = build_machine(
        {
            "QueryLanguage": "JSONata",
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "Assign": {"v": 2}, "End": True}},
        }
    )
    state = machine.states["P"]
    assert state.query_language == "JSONata"
    assert state.output.render({"states": {"input": {"a": 1}}}) == 2


def test_invalid_definitions_are_refused_with_diagnostics() -> None:
    with pytest.raises(DefinitionError) as raised:
        build_machine('{"StartAt": "X", "States": {"A": {"Type": "Pass", "End": true}}}')
    assert any(d.pointer == "/StartAt" for d in raised.value.diagnostics)
