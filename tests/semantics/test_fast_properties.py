"""The engine's fused fast steps must agree with the general steps the Airflow operators run.

Random Pass and Choice definitions over random inputs: same next state, same output, same
error name; so the fast path can never drift from ``semantics.steps``.
"""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asw_airflow.ir import build_machine
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import Frame, check_size
from asw_airflow.semantics.errors import StatesError
from asw_airflow.semantics.fast import compile_fast_step

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
    {"Variable": "$.b", "StringEquals": "x"},
    {"Variable": "$.a.b", "IsNull": False},
    {"Not": {"Variable": "$.c", "IsPresent": True}},
    {"Or": [{"Variable": "$.a", "IsString": True}, {"Variable": "$.b", "IsBoolean": True}]},
])


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "ok", run()
    except StatesError as error:
        return "error", error.error


def _check_same(state: Any, value: Any, general: Any) -> None:
    step = compile_fast_step(state)
    assert step is not None
    frame = Frame()
    fast = _outcome(lambda: step(value, check_size(value, 10**6), frame.scope(None), 10**6)[:2])
    slow = _outcome(lambda: (lambda o: (o.next, o.output))(general(state, value, Frame())))
    assert fast == slow


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pass_definitions(), VALUES)
def test_fast_pass_agrees_with_steps_run_pass(definition: dict[str, Any], value: Any) -> None:
    state = build_machine({"StartAt": "S", "States": {"S": {**definition, "End": True}}}).states["S"]
    _check_same(state, value, steps.run_pass)


@settings(max_examples=200, deadline=None)
@given(st.lists(CHOICE_RULES, min_size=1, max_size=3), st.booleans(), _optional(PATHS), _optional(PATHS), VALUES)
def test_fast_choice_agrees_with_steps_run_choice(rules, has_default, input_path, output_path, value) -> None:
    choice: dict[str, Any] = {"Type": "Choice", "Choices": [{**rule, "Next": "Done"} for rule in rules]}
    if has_default:
        choice["Default"] = "Done"
    for field, path in (("InputPath", input_path), ("OutputPath", output_path)):
        if path != "absent":
            choice[field] = path
    machine = build_machine({"StartAt": "C", "States": {"C": choice, "Done": {"Type": "Succeed"}}})
    _check_same(machine.states["C"], value, steps.run_choice)
