"""One test per diagnostic code: the code, the pointer, and the line and column the author wrote it at."""

from __future__ import annotations

import json

import pytest

from asw_airflow.diagnostics import Diagnostic
from asw_airflow.loader import load_text
from asw_airflow.validate import validate, validate_file

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"


def position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column where ``needle`` first occurs in ``text``."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def machine(states: dict, start: str = "A", **top) -> str:
    """A definition laid out one state per line, so positions are easy to predict."""
    lines = [f"    {json.dumps(name)}: {json.dumps(body)}" for name, body in states.items()]
    extra = "".join(f"  {json.dumps(k)}: {json.dumps(v)},\n" for k, v in top.items())
    return '{\n' + extra + f'  "StartAt": {json.dumps(start)},\n  "States": {{\n' + ",\n".join(lines) + "\n  }\n}\n"


def only(text: str, code: str, workflow_type: str = "STANDARD") -> Diagnostic:
    diagnostics = validate(load_text(text, "wf.json"), workflow_type)
    assert [d.code for d in diagnostics] == [code], [d.format() for d in diagnostics]
    return diagnostics[0]


def assert_at(diagnostic: Diagnostic, pointer: str, text: str, needle: str) -> None:
    assert diagnostic.pointer == pointer
    assert (diagnostic.line, diagnostic.column) == position(text, needle)
    assert diagnostic.file == "wf.json"


def test_valid_definition_has_no_diagnostics() -> None:
    text = machine({"A": {"Type": "Task", "Resource": SCF, "Next": "B"}, "B": {"Type": "Succeed"}})
    assert validate(load_text(text)) == []


def test_invalid_json_description(tmp_path) -> None:
    path = tmp_path / "wf.json"
    path.write_text('{\n  "StartAt": "A",\n  "States": {,}\n}')
    [diagnostic] = validate_file(path)
    assert (diagnostic.code, diagnostic.pointer, diagnostic.line, diagnostic.column) == ("INVALID_JSON_DESCRIPTION", "", 3, 14)


def test_duplicate_json_key(tmp_path) -> None:
    path = tmp_path / "wf.json"
    path.write_text('{\n  "StartAt": "A",\n  "StartAt": "B",\n  "States": {}\n}')
    [diagnostic] = validate_file(path)
    assert (diagnostic.code, diagnostic.pointer, diagnostic.line, diagnostic.column) == ("DUPLICATE_JSON_KEY", "/StartAt", 3, 3)


def test_unknown_field_is_one_schema_diagnostic_with_a_suggestion() -> None:
    text = machine({"A": {"Type": "Pass", "Nxt": "B"}, "B": {"Type": "Succeed"}})
    diagnostics = validate(load_text(text, "wf.json"))
    # the misspelling explains the missing Next; B is unreachable because A has no Next
    assert [d.code for d in diagnostics] == ["SCHEMA_VALIDATION_FAILED", "UNREACHABLE_STATE"]
    assert diagnostics[0].message == "unknown field 'Nxt' in Pass state 'A'; did you mean 'Next'?"
    assert_at(diagnostics[0], "/States/A/Nxt", text, '"Nxt"')


def test_schema_type_error_names_the_field_and_the_expected_type() -> None:
    text = machine({"A": {"Type": "Task", "Resource": SCF, "TimeoutSeconds": "10", "End": True}})
    diagnostic = only(text, "SCHEMA_VALIDATION_FAILED")
    assert "TimeoutSeconds must be a whole number >= 1" in diagnostic.message
    assert_at(diagnostic, "/States/A/TimeoutSeconds", text, '"10"')


def test_unknown_state_type_suggests_the_closest() -> None:
    text = machine({"A": {"Type": "Tsak", "End": True}})
    diagnostic = only(text, "SCHEMA_VALIDATION_FAILED")
    assert diagnostic.message.endswith("got 'Tsak'; did you mean 'Task'?")
    assert_at(diagnostic, "/States/A/Type", text, '"Tsak"')


def test_missing_transition_target_for_start_at_tencent_case() -> None:
    text = machine({"Sum": {"Type": "Pass", "End": True}}, start="sum")
    diagnostic = only(text, "MISSING_TRANSITION_TARGET")
    assert "did you mean 'Sum'?" in diagnostic.message
    assert_at(diagnostic, "/StartAt", text, '"sum"')


def test_missing_transition_target_across_a_parallel_branch() -> None:
    branch = {"StartAt": "Inner", "States": {"Inner": {"Type": "Pass", "Next": "Outer"}}}
    text = machine({"A": {"Type": "Parallel", "Branches": [branch], "Next": "Outer"}, "Outer": {"Type": "Succeed"}})
    diagnostic = only(text, "MISSING_TRANSITION_TARGET")
    assert "cannot jump into or out of Parallel branches" in diagnostic.message
    assert_at(diagnostic, "/States/A/Branches/0/States/Inner/Next", text, '"Outer"}}}')


def test_unreachable_state() -> None:
    text = machine({"A": {"Type": "Succeed"}, "Lost": {"Type": "Succeed"}})
    assert_at(only(text, "UNREACHABLE_STATE"), "/States/Lost", text, '"Lost"')


def test_missing_end_state_in_a_loop() -> None:
    text = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}})
    assert_at(only(text, "MISSING_END_STATE"), "/StartAt", text, '"A",')


def test_duplicate_state_name_across_scopes() -> None:
    processor = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    text = machine({"A": {"Type": "Map", "ItemProcessor": processor, "End": True}})
    diagnostic = only(text, "DUPLICATE_STATE_NAME")
    assert_at(diagnostic, "/States/A/ItemProcessor/States/A", text, '"A": {"Type": "Pass"')


def test_state_name_too_long() -> None:
    name = "N" * 81
    text = machine({name: {"Type": "Succeed"}}, start=name)
    assert_at(only(text, "STATE_NAME_TOO_LONG"), f"/States/{name}", text, f'"{name}": ')


@pytest.mark.parametrize(
    ("body", "pointer", "needle"),
    [
        ({"Type": "Pass", "Next": "B", "End": True}, "/States/A/End", '"End"'),
        ({"Type": "Pass"}, "/States/A", '"A": '),
    ],
)
def test_invalid_transition(body: dict, pointer: str, needle: str) -> None:
    text = machine({"A": body, "B": {"Type": "Succeed"}})
    diagnostics = [d for d in validate(load_text(text, "wf.json")) if d.code == "INVALID_TRANSITION"]
    assert len(diagnostics) == 1
    assert_at(diagnostics[0], pointer, text, needle)


def test_invalid_jsonpath() -> None:
    text = machine({"A": {"Type": "Pass", "InputPath": "$.a[", "End": True}})
    assert_at(only(text, "INVALID_JSONPATH"), "/States/A/InputPath", text, '"$.a["')


def test_invalid_jsonpath_in_a_payload_template() -> None:
    text = machine({"A": {"Type": "Pass", "Parameters": {"x": {"y.$": "a.b"}}, "End": True}})
    assert_at(only(text, "INVALID_JSONPATH"), "/States/A/Parameters/x/y.$", text, '"a.b"')


def test_invalid_reference_path() -> None:
    text = machine({"A": {"Type": "Pass", "ResultPath": "$.items[*]", "End": True}})
    diagnostic = only(text, "INVALID_REFERENCE_PATH")
    assert "Reference Path" in diagnostic.message
    assert_at(diagnostic, "/States/A/ResultPath", text, '"$.items[*]"')


def test_invalid_intrinsic_unknown_name() -> None:
    text = machine({"A": {"Type": "Pass", "Parameters": {"v.$": "States.Formatt('x')"}, "End": True}})
    diagnostic = only(text, "INVALID_INTRINSIC")
    assert "States.Format" in diagnostic.message
    assert_at(diagnostic, "/States/A/Parameters/v.$", text, '"States.Formatt')


def test_invalid_intrinsic_arity() -> None:
    text = machine({"A": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd(1)"}, "End": True}})
    assert_at(only(text, "INVALID_INTRINSIC"), "/States/A/Parameters/v.$", text, '"States.MathAdd')


def test_invalid_jsonata() -> None:
    text = machine({"A": {"Type": "Pass", "Output": "{% $states.input. %}", "End": True}}, QueryLanguage="JSONata")
    assert_at(only(text, "INVALID_JSONATA"), "/States/A/Output", text, '"{% $states')


def test_invalid_query_language_field() -> None:
    text = machine({"A": {"Type": "Pass", "Output": {"a": 1}, "End": True}})
    assert_at(only(text, "INVALID_QUERY_LANGUAGE"), "/States/A/Output", text, '"Output"')


def test_invalid_choice_rule_two_operators() -> None:
    rule = {"Variable": "$.x", "StringEquals": "a", "NumericEquals": 1, "Next": "B"}
    text = machine({"A": {"Type": "Choice", "Choices": [rule]}, "B": {"Type": "Succeed"}})
    diagnostic = only(text, "INVALID_CHOICE_RULE")
    assert "exactly one operator" in diagnostic.message
    assert_at(diagnostic, "/States/A/Choices/0", text, '{"Variable"')


def test_invalid_choice_rule_nested_next() -> None:
    rule = {"Not": {"Variable": "$.x", "IsNull": True, "Next": "B"}, "Next": "B"}
    text = machine({"A": {"Type": "Choice", "Choices": [rule]}, "B": {"Type": "Succeed"}})
    diagnostic = only(text, "INVALID_CHOICE_RULE")
    assert "Next" in diagnostic.message
    assert diagnostic.pointer == "/States/A/Choices/0"


def test_invalid_retry_range() -> None:
    retry = [{"ErrorEquals": ["E"], "BackoffRate": 0.5}]
    text = machine({"A": {"Type": "Task", "Resource": SCF, "Retry": retry, "End": True}})
    diagnostic = only(text, "INVALID_RETRY")
    assert "BackoffRate must be a number >= 1.0" in diagnostic.message
    assert_at(diagnostic, "/States/A/Retry/0/BackoffRate", text, "0.5")


def test_invalid_retry_jitter_strategy() -> None:
    retry = [{"ErrorEquals": ["E"], "JitterStrategy": "HALF"}]
    text = machine({"A": {"Type": "Task", "Resource": SCF, "Retry": retry, "End": True}})
    assert_at(only(text, "INVALID_RETRY"), "/States/A/Retry/0/JitterStrategy", text, '"HALF"')


def test_every_bad_retrier_field_is_reported_at_once_each_at_its_value() -> None:
    retry = {"ErrorEquals": ["States.ALL"], "MaxAttempts": -1, "BackoffRate": 0.5, "IntervalSeconds": 0,
             "MaxDelaySeconds": 0, "JitterStrategy": "SOME"}
    fields = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in retry.items() if k != "ErrorEquals")
    text = ('{\n  "StartAt": "A",\n  "States": {"A": {"Type": "Task", "Resource": "%s", "End": true,\n'
            '    "Retry": [{"ErrorEquals": ["States.ALL"],\n      %s}]}}\n}\n') % (SCF, fields.replace(", ", ",\n      "))
    diagnostics = validate(load_text(text, "wf.json"))
    assert [(d.code, d.pointer, d.line, d.column) for d in diagnostics] == [
        ("INVALID_RETRY", f"/States/A/Retry/0/{field}", line, len('      "": ') + len(field) + 1)
        for line, field in enumerate(["MaxAttempts", "BackoffRate", "IntervalSeconds", "MaxDelaySeconds",
                                      "JitterStrategy"], start=5)
    ]
    assert [d.message for d in diagnostics] == [
        "MaxAttempts must be an integer >= 0, got -1",
        "BackoffRate must be a number >= 1.0, got 0.5",
        "IntervalSeconds must be an integer >= 1, got 0",
        "MaxDelaySeconds must be an integer >= 1, got 0",
        "JitterStrategy must be one of NONE, FULL, got 'SOME'",
    ]


def test_states_all_not_alone_in_a_retrier_is_located_at_error_equals() -> None:
    retry = [{"ErrorEquals": ["States.ALL", "E"], "MaxAttempts": 0}]
    text = machine({"A": {"Type": "Task", "Resource": SCF, "Retry": retry, "End": True}})
    diagnostic = only(text, "INVALID_RETRY")
    assert diagnostic.message == "States.ALL must appear alone in ErrorEquals"
    assert_at(diagnostic, "/States/A/Retry/0/ErrorEquals", text, '["States.ALL", "E"]')


def test_invalid_error_equals_states_all_not_last() -> None:
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "B"}, {"ErrorEquals": ["E"], "Next": "B"}]
    text = machine({"A": {"Type": "Task", "Resource": SCF, "Catch": catch, "End": True}, "B": {"Type": "Succeed"}})
    assert_at(only(text, "INVALID_ERROR_EQUALS"), "/States/A/Catch/0/ErrorEquals", text, '["States.ALL"]')


def test_invalid_wait() -> None:
    text = machine({"A": {"Type": "Wait", "Seconds": 5, "TimestampPath": "$.t", "End": True}})
    assert_at(only(text, "INVALID_WAIT"), "/States/A/TimestampPath", text, '"TimestampPath"')


def test_invalid_fail() -> None:
    text = machine({"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}})
    assert_at(only(text, "INVALID_FAIL"), "/States/A/ErrorPath", text, '"ErrorPath"')


def test_invalid_timeout_heartbeat_not_below_timeout() -> None:
    text = machine({"A": {"Type": "Task", "Resource": SCF, "TimeoutSeconds": 10, "HeartbeatSeconds": 10, "End": True}})
    assert_at(only(text, "INVALID_TIMEOUT"), "/States/A/HeartbeatSeconds", text, '10, "End"')


def test_invalid_map_without_processor() -> None:
    text = machine({"A": {"Type": "Map", "End": True}})
    assert_at(only(text, "INVALID_MAP"), "/States/A", text, '"A": ')


def test_invalid_resource_shows_the_expected_form() -> None:
    text = machine({"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}})
    diagnostic = only(text, "INVALID_RESOURCE")
    assert "expected qrn:qcs:asw:{region}:{appid}:sdk:json:qcloud:{service}:{Action}" in diagnostic.message
    assert_at(diagnostic, "/States/A/Resource", text, '"arn:aws')


def test_invalid_resource_sync_run_in_an_express_workflow() -> None:
    text = machine({"A": {"Type": "Task", "Resource": SCF.replace("Invoke", "Invoke.sync"), "End": True}})
    assert validate(load_text(text)) == []
    diagnostic = only(text, "INVALID_RESOURCE", "EXPRESS")
    assert "EXPRESS workflows support request-response only" in diagnostic.message


def test_schema_invalid_input_still_gets_semantic_diagnostics() -> None:
    text = machine({"A": {"Type": "Pass", "ResultPath": 3, "Next": "Nowhere"}})
    assert [d.code for d in validate(load_text(text))] == ["SCHEMA_VALIDATION_FAILED", "MISSING_TRANSITION_TARGET"]


def test_workflow_type_is_checked() -> None:
    with pytest.raises(ValueError, match="STANDARD, EXPRESS"):
        validate(load_text(machine({"A": {"Type": "Succeed"}})), "express")
