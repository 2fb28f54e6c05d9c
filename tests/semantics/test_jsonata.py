import threading
import uuid

import pytest

from asw_airflow.semantics.errors import ExpressionError, StatesError
from asw_airflow.semantics.jsonata import compile_jsonata, compile_jsonata_template, is_jsonata

BINDINGS = {
    "states": {"input": {"n": [0, 1, 2, 3], "absent_is_not_this": None, "s": '{"a": [1]}', "type": "Private"}},
    "ItemsVar": ["Item1", "Item2"],
    "nothing": None,
}


def evaluate(expression: str, bindings=None, field=None):
    return compile_jsonata("{% " + expression + " %}").evaluate(BINDINGS if bindings is None else bindings, field)


def failure(expression: str, field=None) -> StatesError:
    with pytest.raises(StatesError) as raised:
        evaluate(expression, field=field)
    assert raised.value.error == "States.QueryEvaluationError"
    return raised.value


@pytest.mark.parametrize(
    ("value", "expected"),
    [("{% 1 %}", True), ("{%1%}", True), (" {% 1 %}", False), ("{% 1", False), ("text", False), (1, False)],
)
def test_is_jsonata(value, expected):
    assert is_jsonata(value) is expected


def test_compile_strips_the_delimiters():
    assert compile_jsonata("{%   $states.input.n  %}").text == "$states.input.n"


@pytest.mark.parametrize("text", ["$states.input", "{% a[1,2) %}", "{%   %}", "{% $f( %}"])
def test_bad_expressions_are_expression_errors(text):
    with pytest.raises(ExpressionError):
        compile_jsonata(text)


def test_states_and_variables_are_bound():
    assert evaluate("$states.input.n[$ > 1]") == [2, 3]
    assert evaluate("$ItemsVar[1]") == "Item2"
    assert evaluate("$not($states.input.type = 'Private')") is False
    assert evaluate("$states.input.n[0] >= 0 and $states.input.n[0] < 1") is True


def test_json_null_is_a_value_not_undefined():
    assert evaluate("$states.input.absent_is_not_this") is None
    assert evaluate("$nothing") is None
    assert evaluate("$type($nothing)") == "null"
    assert evaluate("{'k': $states.input.absent_is_not_this}") == {"k": None}


def test_an_undefined_result_fails_and_names_the_field():
    cause = failure("$states.input.missing", field="Output/v").cause
    assert cause == "The JSONata expression '$states.input.missing' specified for the field 'Output/v' returned nothing (undefined)."


def test_undefined_members_of_a_constructed_object_are_dropped():
    assert evaluate("{'a': $states.input.missing, 'b': 1}") == {"b": 1}


def test_evaluation_errors_are_query_evaluation_errors():
    assert "The JSONata expression '$number(\"x\") + [1]'" in failure('$number("x") + [1]').cause


# ---- functions Step Functions adds


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$partition([0, 1, 2], 2)", [[0, 1], [2]]),
        ("$partition([0, 1, 2, 3], 2)", [[0, 1], [2, 3]]),
        ("$partition([0], 5)", [[0]]),
        ("$partition([0, 1, 2], 2.9)", [[0, 1], [2]]),
        ("$range(0, 9, 3)", [0, 3, 6, 9]),
        ("$range(0, 10, 3)", [0, 3, 6, 9]),
        ("$range(1, 9, 2)", [1, 3, 5, 7, 9]),
        ("$range(1, 9, 9)", 1),
        ("$range(-1.7, 2, 1)", [-1, 0, 1, 2]),
        ("$range(5, 1, -2)", [5, 3, 1]),
        ('$parse("-0")', 0),
        ('$parse("1.1")', 1.1),
        ('$parse("[1, 2, \\"x\\"]")', [1, 2, "x"]),
        ("$parse($states.input.s)", {"a": [1]}),
        ('$parse("null")', None),
        ('$hash("input data", "MD5")', "812f45842bc6d66ee14572ce20db8e86"),
        ('$hash("input data", "SHA-1")', "aaff4a450a104cd177d28d18d74485e8cae074b7"),
    ],
)
def test_aws_functions(expression, expected):
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    "expression",
    ["$partition([], 2)", "$partition([1], 0)", "$range(1, 5)", "$range(1, 5, -1)", '$hash("x")'],
)
def test_aws_functions_that_answer_undefined_fail_the_field(expression):
    assert "returned nothing (undefined)" in failure(expression).cause


@pytest.mark.parametrize("expression", ['$hash("x", "sha-256")', '$parse("{bad")', '$eval("1 + 1")'])
def test_aws_function_errors(expression):
    assert failure(expression).cause.startswith("The JSONata expression")


def test_random_and_uuid():
    value = evaluate("$random()")
    assert 0 <= value < 1
    assert evaluate("$random(7)") == evaluate("$random(7)")
    assert uuid.UUID(evaluate("$uuid()")).version == 4
    assert isinstance(evaluate("$now()"), str)


def test_an_expression_can_be_evaluated_from_many_threads():
    expression = compile_jsonata("{% $states.input.i * 2 %}")
    results: dict[int, int] = {}

    def work(i: int) -> None:
        results[i] = expression.evaluate({"states": {"input": {"i": i}}})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {i: i * 2 for i in range(8)}


# ---- templates


def test_template_evaluates_expressions_anywhere_and_keeps_literals():
    template = compile_jsonata_template(
        {
            "map_item_value": "{% $ItemsVar[0] %}",
            "nested": {"list": [1, "{% $count($states.input.n) %}", "plain"]},
            "string_literal": "string literal",
            "not_whole": "x {% 1 %}",
        }
    )
    assert template.render(BINDINGS) == {
        "map_item_value": "Item1",
        "nested": {"list": [1, 4, "plain"]},
        "string_literal": "string literal",
        "not_whole": "x {% 1 %}",
    }


def test_a_whole_field_can_be_one_expression():
    assert compile_jsonata_template("{% $states.input.n %}").render(BINDINGS) == [0, 1, 2, 3]
    assert compile_jsonata_template(True).render(BINDINGS) is True


def test_template_undefined_names_the_nested_field():
    template = compile_jsonata_template({"a": {"b": ["{% 1 %}", "{% $states.input.missing %}"]}})
    with pytest.raises(StatesError) as raised:
        template.render(BINDINGS, "Output")
    assert "specified for the field 'Output/a/b[1]'" in raised.value.cause


def test_template_renders_never_share_literal_containers():
    template = compile_jsonata_template({"fixed": {"l": [1]}, "v": "{% 1 %}"})
    first = template.render(BINDINGS)
    first["fixed"]["l"].append(2)
    assert template.render(BINDINGS) == {"fixed": {"l": [1]}, "v": 1}


def test_template_syntax_errors_fail_at_compile_time():
    with pytest.raises(ExpressionError):
        compile_jsonata_template({"a": ["{% a[1,2) %}"]})
