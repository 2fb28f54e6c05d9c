"""Hypothesis strategies shared by the validator's property tests: random JSON and mutated valid definitions."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"

VALID_DEFINITIONS: list[dict[str, Any]] = [
    {
        "Comment": "every state type",
        "StartAt": "Task",
        "TimeoutSeconds": 60,
        "States": {
            "Task": {"Type": "Task", "Resource": SCF, "Parameters": {"a.$": "$.a", "f.$": "States.Format('{}', $.b)"},
                     "ResultSelector": {"r.$": "$.Response"}, "ResultPath": "$.out", "TimeoutSeconds": 30,
                     "HeartbeatSeconds": 10, "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2,
                                                        "BackoffRate": 1.5, "JitterStrategy": "FULL"}],
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed", "ResultPath": "$.error"}],
                     "Next": "Choose"},
            "Choose": {"Type": "Choice", "Choices": [
                {"Variable": "$.out.r", "NumericGreaterThan": 3, "Next": "Fan"},
                {"And": [{"Variable": "$.x", "IsPresent": True}, {"Not": {"Variable": "$.x", "StringEquals": "y"}}],
                 "Next": "Wait"}], "Default": "Done"},
            "Wait": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Done"},
            "Fan": {"Type": "Parallel", "Branches": [
                {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Result": {"k": 1}, "End": True}}},
                {"StartAt": "Each", "States": {"Each": {
                    "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "ItemSelector": {"v.$": "$$.Map.Item.Value"},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Inner",
                                      "States": {"Inner": {"Type": "Pass", "End": True}}},
                    "End": True}}}],
                "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail", "Error": "Oops", "CausePath": "$.error.Cause"},
        },
    },
    {
        "QueryLanguage": "JSONata",
        "StartAt": "Calc",
        "States": {
            "Calc": {"Type": "Pass", "Output": "{% $states.input.a + 1 %}", "Assign": {"n": "{% $states.input.n %}"},
                     "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $n > 1 %}", "Next": "End"}], "Default": "End"},
            "End": {"Type": "Succeed"},
        },
    },
]

json_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    ["", "$", "$.a", "$.a[*]", "$$.Map.Item.Value", "$.[", "States.Format()", "States.Array(1)", "{% 1 + %}",
     "{% 1 %}", "Task", "Pass", "Map", "Choice", "Next", "End", "States.ALL", SCF, "arn:aws:states:::lambda:invoke"]
) | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["Type", "Next", "End", "StartAt", "States", "Variable", "Choices", "Retry", "ErrorEquals",
                         "Parameters", "a.$", "x"]) | st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)


def _containers(value: Any, found: list[Any]) -> list[Any]:
    if isinstance(value, (dict, list)):
        found.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            _containers(child, found)
    return found


@st.composite
def mutated_definitions(draw: st.DrawFn) -> Any:
    """A valid definition after one to three random edits: replace, delete or add a member or item."""
    definition = copy.deepcopy(draw(st.sampled_from(VALID_DEFINITIONS)))
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(_containers(definition, [])))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if isinstance(target, dict):
            key = draw(st.sampled_from(sorted(target))) if target and action != "add" else draw(json_values.filter(
                lambda v: isinstance(v, str)) | st.sampled_from(["Nxt", "End", "Next", "Default"]))
            if action == "delete":
                target.pop(key, None)
            else:
                target[key] = draw(json_values)
        elif target:
            index = draw(st.integers(0, len(target) - 1))
            if action == "delete":
                del target[index]
            else:
                target.insert(index, draw(json_values)) if action == "add" else target.__setitem__(index, draw(json_values))
    return definition
