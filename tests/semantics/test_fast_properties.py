"""The engine's compiled blocks must agree with the general steps the Airflow operators run.

Random Pass and Choice definitions, alone and composed into Choice branches and Map
iterators, over random inputs: the same status, output, error and cause with a payload limit
and without; so the fast path can never drift from ``semantics.steps``.
"""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import build_machine
from asw_airflow.semantics.fast import compiled_machine

KEYS = st.sampled_from(["a", "b", "c"])
PATHS = st.sampled_from(["$", "$.a", "$.b", "$.a.b", "$.c[0]", "$.missing"])
REFERENCE_PATHS = st.sampled_from(["$", "$.a", "$.r", "$.a.r", "$.b.r"])
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("xyé", max_size=3))
VALUES = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)
TEMPLATES = st.dictionaries(
    st.sampled_from(["k", "n.$", "f.$", "lit"]), st.sampled_from(["$.a", "$", "States.Format('{}', $.b)", "x"]), max_size=3
).map(lambda t: {k: ("$.a" if k.endswith(".$") and not v.startswith(("$", "States.")) else v) for k, v in t.items()})


def _optional(strategy: st.SearchStrategy, *, nullable: bool = True) -> st.SearchStrategy:
    choices = [st.just("absent"), strategy]
    if nullable:
        choices.append(st.none())
    return st.one_of(*choices)


@st.composite
def pass_definitions(draw: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"Type": "Pass"}
    for field, strategy, nullable in (
        ("InputPath", PATHS, True),
        ("Parameters", TEMPLATES, False),
        ("Result", VALUES, True),
        ("ResultSelector", TEMPLATES, False),
        ("ResultPath", REFERENCE_PATHS, True),
        ("OutputPath", PATHS, True),
    ):
        value = draw(_optional(strategy, nullable=nullable))
        if value != "absent":
            definition[field] = value
    return definition


CHOICE_RULES = st.sampled_from([
    {"Variable": "$.a", "IsPresent": True},
    {"Variable": "$.a", "NumericGreaterThan": 0},
    {"Variable": "$.a", "NumericEquals": 1.0},
    {"Variable": "$.b", "StringEquals": "x"},
    {"Variable": "$.b", "StringLessThan": "y"},
    {"Variable": "$.c", "BooleanEquals": True},
    {"Variable": "$.a.b", "IsNull": False},
    {"Variable": "$.a", "IsNumeric": True},
    {"Variable": "$.c[0]", "IsString": False},
    {"Variable": "$.b", "IsBoolean": True},
    {"Not": {"Variable": "$.c", "IsPresent": True}},
    {"Or": [{"Variable": "$.a", "IsString": True}, {"Variable": "$.b", "IsBoolean": True}]},
])


LIMITS = st.sampled_from([None, 10**6, 40, 12])


def _check_same(definition: dict[str, Any], value: Any, limit: int | None) -> None:
    """The compiled run (``run_execution`` with no options) ends as the recording loop's general steps do."""
    machine = build_machine(definition)
    assert compiled_machine(machine) is not None and compiled_machine(machine, sized=False) is not None  # from the first run
    fast = run_execution(machine, value, payload_limit=limit)
    general = run_execution(machine, value, payload_limit=limit, history=True)
    assert (fast.status, fast.output, fast.error, fast.cause) == (general.status, general.output, general.error, general.cause)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pass_definitions(), VALUES, LIMITS)
def test_a_compiled_pass_agrees_with_steps_run_pass(definition: dict[str, Any], value: Any, limit: int | None) -> None:
    _check_same({"StartAt": "S", "States": {"S": {**definition, "End": True}}}, value, limit)


@st.composite
def choice_machines(draw: Any) -> dict[str, Any]:
    """Pass -> Choice -> (Pass | Succeed), the Choice's targets drawn for its rules and Default."""
    rules = draw(st.lists(CHOICE_RULES, min_size=1, max_size=3))
    target = st.sampled_from(["A", "B"])
    choice: dict[str, Any] = {"Type": "Choice", "Choices": [{**rule, "Next": draw(target)} for rule in rules]}
    if draw(st.booleans()):
        choice["Default"] = draw(target)
    for field, path in (("InputPath", draw(_optional(PATHS))), ("OutputPath", draw(_optional(PATHS)))):
        if path != "absent":
            choice[field] = path
    used = {rule["Next"] for rule in choice["Choices"]} | ({choice["Default"]} if "Default" in choice else set())
    branches = {"A": {**draw(pass_definitions()), "End": True}, "B": {"Type": "Succeed"}}
    return {
        "StartAt": "P",
        "States": {"P": {**draw(pass_definitions()), "Next": "C"}, "C": choice, **{name: branches[name] for name in sorted(used)}},
    }


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice_machines(), VALUES, LIMITS)
def test_a_compiled_choice_and_its_branches_agree_with_the_general_steps(definition: dict[str, Any], value: Any, limit: int | None) -> None:
    _check_same(definition, value, limit)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pass_definitions(), st.lists(VALUES, max_size=4), st.sampled_from(["$.items", "$"]), LIMITS)
def test_a_compiled_map_agrees_with_the_general_steps(iteration: dict[str, Any], items: list[Any], items_path: str, limit: int | None) -> None:
    iterator = {"StartAt": "I", "States": {"I": {**iteration, "End": True}}}
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemsPath": items_path, "Iterator": iterator, "ResultPath": "$.out", "End": True}},
    }
    _check_same(definition, {"items": items} if items_path == "$.items" else items, limit)
