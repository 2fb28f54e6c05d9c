"""Choice rules as AWS evaluates them: every operator, its Path variant, and AWS's edge cases."""

import re
from typing import Any

import pytest

from asw_airflow.semantics.choice import OPERATORS, compile_choices, compile_rule, parse_timestamp
from asw_airflow.semantics.errors import ExpressionError, StatesError
from asw_airflow.semantics.scope import Scope


def _matches(operator: str, operand: Any, value: Any) -> bool:
    """A literal comparison of ``value`` (at ``$.v``) against ``operand``."""
    return compile_rule({"Variable": "$.v", operator: operand}).matches(Scope({"v": value}))


def _matches_path(operator: str, value: Any, other: Any) -> bool:
    """The ``...Path`` variant: ``$.v`` against the value at ``$.w``."""
    rule = compile_rule({"Variable": "$.v", operator + "Path": "$.w"})
    return rule.matches(Scope({"v": value, "w": other}))


# Values of every JSON kind, for the "wrong type is false" checks.
ALL_KINDS = [None, 0, 1.5, "", "text", "2012-10-09T19:00:55Z", [], [""], {}, {"A": 0}, True, False]

COMPARISONS = [
    # operator, operand, value that matches, value that does not (same type)
    ("StringEquals", "Hello", "Hello", "hello"),
    ("StringLessThan", "AB", "A", "AB"),
    ("StringGreaterThan", "A", "AB", "A"),
    ("StringLessThanEquals", "AB", "AB", "B"),
    ("StringGreaterThanEquals", "AB", "AB", "A"),
    ("NumericEquals", 2.22, 2.22, 2.2),
    ("NumericLessThan", 1, 0, 1),
    ("NumericGreaterThan", 0, 1, 0),
    ("NumericLessThanEquals", 1, 1, 2),
    ("NumericGreaterThanEquals", 1, 1, 0.5),
    ("BooleanEquals", True, True, False),
    ("TimestampEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z"),
    ("TimestampLessThan", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z"),
    ("TimestampGreaterThan", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z", "2012-10-09T19:00:55Z"),
    ("TimestampLessThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", "2012-10-09T19:00:56Z"),
    ("TimestampGreaterThanEquals", "2012-10-09T19:00:55Z", "2012-10-09T19:00:55Z", "2012-10-09T19:00:54Z"),
]


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), COMPARISONS)
def test_comparison_with_a_literal(operator: str, operand: Any, hit: Any, miss: Any) -> None:
    assert _matches(operator, operand, hit)
    assert not _matches(operator, operand, miss)


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), COMPARISONS)
def test_comparison_with_a_path(operator: str, operand: Any, hit: Any, miss: Any) -> None:
    assert _matches_path(operator, hit, operand)
    assert not _matches_path(operator, miss, operand)


@pytest.mark.parametrize(("operator", "operand", "hit", "miss"), COMPARISONS)
def test_wrong_type_is_false_not_an_error(operator: str, operand: Any, hit: Any, miss: Any) -> None:
    wrong = [value for value in ALL_KINDS if type(value) is not type(hit) and not _same_family(value, hit)]
    for value in wrong:
        assert not _matches(operator, operand, value), value
        assert not _matches_path(operator, value, operand), value
        assert not _matches_path(operator, hit, value), value


def _same_family(value: Any, hit: Any) -> bool:
    """int and float are one kind (numbers); a timestamp is a string."""
    numbers = (int, float)
    return type(value) in numbers and type(hit) in numbers or (type(hit) is str and type(value) is str)


def test_numbers_compare_by_value_across_int_and_float() -> None:
    assert _matches("NumericEquals", 0, 0.0)
    assert _matches("NumericEquals", 1.0, 1)
    assert _matches_path("NumericEquals", 0.0, 0)
    assert not _matches("NumericEquals", 1, 1.1)


def test_booleans_are_not_numbers() -> None:
    assert not _matches("NumericEquals", 1, True)
    assert not _matches("NumericEquals", 0, False)
    assert not _matches_path("NumericEquals", 1, True)
    assert not _matches("IsNumeric", True, True)


def test_numbers_and_strings_are_not_booleans() -> None:
    for value in [0, 1, "", "true", None, [], {}]:
        assert not _matches("BooleanEquals", True, value)
        assert not _matches("BooleanEquals", False, value)


def test_string_comparison_is_exact() -> None:
    assert not _matches("StringEquals", "     ", " ")
    assert not _matches("StringEquals", "\t\r\n", "\t\n")
    assert not _matches("StringGreaterThan", "A ", "A")
    assert _matches("StringLessThanEquals", "", "")


def test_strings_order_by_utf16_code_unit_like_aws() -> None:
    # U+FF21 (one UTF-16 unit, 0xFF21) sorts after U+1F600 (surrogates starting 0xD83D) in Java,
    # though its code point is smaller.
    assert _matches("StringGreaterThan", "\U0001F600", "\uFF21")
    assert _matches("StringLessThan", "\uFF21", "\U0001F600")
    assert _matches("StringLessThan", "\U0001F600", "a")  # ASCII against non-ASCII
    assert _matches_path("StringGreaterThan", "\uFF21", "\U0001F600")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("log-*.txt", "log-2024.txt", True),
        ("log-*.txt", "log-.txt", True),
        ("log-*.txt", "log-2024.txt.gz", False),
        ("*", "", True),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "acb", False),
        ("exact", "exact", True),
        ("exact", "exactly", False),
        ("star\\*", "star*", True),
        ("star\\*", "starry", False),
        ("back\\\\slash*", "back\\slash and more", True),
        ("dot.plus+", "dot.plus+", True),
        ("dot.plus+", "dotXplus", False),
        ("multi*line", "multi\nline", True),
    ],
)
def test_string_matches_wildcards_and_escapes(pattern: str, value: str, expected: bool) -> None:
    assert _matches("StringMatches", pattern, value) is expected


def test_string_matches_on_a_non_string_is_false() -> None:
    for value in [None, 1, True, [], {}]:
        assert not _matches("StringMatches", "*", value)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("2012-10-09T19:00:55Z", "2012-10-09T20:00:55+01:00"),
        ("2012-10-09T19:00:55Z", "2012-10-09T18:30:55-00:30"),
        ("2012-10-09T19:00:55Z", "2012-10-09T19:00:55.000Z"),
        ("2016-03-05T21:29:29.243167252Z", "2016-03-05T21:29:29.243167252Z"),
    ],
)
def test_timestamps_compare_as_instants(left: str, right: str) -> None:
    assert _matches("TimestampEquals", left, right)
    assert _matches_path("TimestampEquals", left, right)


def test_timestamps_keep_nanosecond_precision() -> None:
    assert _matches("TimestampLessThan", "2016-03-05T21:29:29.243167253Z", "2016-03-05T21:29:29.243167252Z")


@pytest.mark.parametrize(
    "text",
    [
        "2012-10-09T19:00:55",  # no offset
        "2012-10-09 19:00:55Z",  # no T
        "2012-10-09t19:00:55Z",  # lowercase t
        "2012-10-09T19:00:55z",  # lowercase z
        "2023-02-24",
        "2023-02-24 12:15:56.832957",
        "2016-13-05T21:29:29Z",  # month 13
        "2016-12-05T25:29:29Z",  # hour 25
        "2016-02-30T01:00:00Z",  # no such day
        "05-12-2016T21:29:29Z",
        "2012-10-09T19:00:55.1234567890Z",  # ten fraction digits
        "2012-10-09T19:00:55+0100",
        "",
    ],
)
def test_strings_that_are_not_asl_timestamps(text: str) -> None:
    assert parse_timestamp(text) is None
    assert not _matches("TimestampEquals", "2012-10-09T19:00:55Z", text)
    assert not _matches("IsTimestamp", True, text)


@pytest.mark.parametrize(
    ("operator", "true_for"),
    [
        ("IsNull", [None]),
        ("IsNumeric", [0, 0.0, 1, 1.1, 1.5]),
        ("IsString", ["", " ", "text", "HelloWorld", "2012-10-09T19:00:55Z"]),
        ("IsBoolean", [True, False]),
        ("IsTimestamp", ["2012-10-09T19:00:55Z", "2012-10-09T19:00:55+01:00", "2016-03-05T21:29:29.243167252Z"]),
    ],
)
def test_type_tests_and_their_negation(operator: str, true_for: list[Any]) -> None:
    for value in ALL_KINDS + true_for:
        expected = any(type(value) is type(hit) and value == hit for hit in true_for)
        assert _matches(operator, True, value) is expected, value
        assert _matches(operator, False, value) is not expected, value


def test_is_present_is_true_for_a_null_value() -> None:
    assert _matches("IsPresent", True, None)
    assert not _matches("IsPresent", False, None)


def test_is_present_is_false_for_a_missing_path() -> None:
    scope = Scope({"a": {}})
    assert not compile_rule({"Variable": "$.a.b", "IsPresent": True}).matches(scope)
    assert compile_rule({"Variable": "$.a.b", "IsPresent": False}).matches(scope)
    assert not compile_rule({"Variable": "$undefinedVariable", "IsPresent": True}).matches(scope)


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.missing", "StringEquals": "x"},
        {"Variable": "$.missing", "IsNull": True},
        {"Variable": "$.missing", "IsNumeric": False},
        {"Variable": "$.v", "NumericEqualsPath": "$.missing"},
        {"Variable": "$nope", "BooleanEquals": True},
    ],
)
def test_a_missing_variable_fails_with_states_runtime(rule: dict) -> None:
    with pytest.raises(StatesError) as caught:
        compile_rule(rule).matches(Scope({"v": 1}))
    assert caught.value.error == "States.Runtime"
    missing = rule.get("NumericEqualsPath", rule["Variable"])
    assert caught.value.cause == f"Invalid path '{missing}': The choice state's condition path references an invalid value."


def test_variable_reads_context_and_assigned_variables() -> None:
    scope = Scope({}, context={"Execution": {"Input": {"input-value": 0}}}, variables={"limit": {"max": 3}})
    assert compile_rule({"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}).matches(scope)
    assert compile_rule({"Variable": "$limit.max", "NumericEquals": 3}).matches(scope)


def test_and_or_not_combine_rules() -> None:
    in_twenties = compile_rule(
        {
            "And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30},
            ],
            "Next": "ValueInTwenties",
        }
    )
    assert in_twenties.matches(Scope({"value": 22}))
    assert not in_twenties.matches(Scope({"value": 30}))
    assert in_twenties.next == "ValueInTwenties"
    either = compile_rule({"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.b", "IsNull": True}]})
    assert either.matches(Scope({"a": 1, "b": None}))
    assert not either.matches(Scope({"a": 1, "b": 2}))
    public = compile_rule({"Not": {"Variable": "$.type", "StringEquals": "Private"}})
    assert public.matches(Scope({"type": "Public"}))
    assert not public.matches(Scope({"type": "Private"}))


def test_and_stops_at_the_first_false_rule() -> None:
    guarded = compile_rule(
        {"And": [{"Variable": "$.x", "IsPresent": True}, {"Variable": "$.x", "NumericGreaterThan": 1}]}
    )
    assert not guarded.matches(Scope({}))


def test_aws_docs_scenario_picks_the_first_matching_rule() -> None:
    branching = compile_choices(
        [
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {
                "And": [
                    {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                    {"Variable": "$.value", "NumericLessThan": 30},
                ],
                "Next": "ValueInTwenties",
            },
        ],
        "DefaultState",
    )
    assert branching.next_state(branching.select(Scope({"type": "Private", "value": 22}))) == "ValueInTwenties"
    assert branching.next_state(branching.select(Scope({"type": "Public", "value": 0}))) == "Public"
    assert branching.next_state(branching.select(Scope({"type": "Private", "value": 0}))) == "ValueIsZero"
    assert branching.next_state(branching.select(Scope({"type": "Private", "value": 5}))) == "DefaultState"


def test_select_returns_the_matching_rule_with_its_assign() -> None:
    branching = compile_choices(
        [{"Variable": "$.n", "NumericEquals": 1, "Next": "One", "Assign": {"seen.$": "$.n"}}], "Other"
    )
    rule = branching.select(Scope({"n": 1}))
    assert rule is not None and rule.assign == {"seen.$": "$.n"}
    assert branching.select(Scope({"n": 2})) is None


def test_no_match_without_default_fails_with_no_choice_matched() -> None:
    branching = compile_choices([{"Variable": "$.thing", "StringEquals": "blue", "Next": "Blue"}], None)
    with pytest.raises(StatesError) as caught:
        branching.next_state(branching.select(Scope({"thing": "red"})))
    assert caught.value.error == "States.NoChoiceMatched"
    assert caught.value.cause


def test_operator_table_is_the_full_asl_set() -> None:
    comparisons = {
        f"{kind}{relation}"
        for kind in ("String", "Numeric", "Timestamp")
        for relation in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals")
    } | {"BooleanEquals"}
    expected = (
        comparisons
        | {name + "Path" for name in comparisons}
        | {"StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"}
    )
    assert OPERATORS == expected


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"Variable": "$.v", "Next": "A"}, "found none"),
        ({"Variable": "$.v", "StringEquals": "a", "NumericEquals": 1}, "found StringEquals, NumericEquals"),
        ({"Variable": "$.v", "StringEqual": "a"}, "did you mean 'StringEquals'"),
        ({"Variable": "$.v", "NumericGreaterThenEquals": 1}, "did you mean 'NumericGreaterThanEquals'"),
        ({"Variable": "$.v", "StringEquals": 1}, "StringEquals compares with a string"),
        ({"Variable": "$.v", "NumericEquals": "1"}, "NumericEquals compares with a number"),
        ({"Variable": "$.v", "NumericEquals": True}, "NumericEquals compares with a number"),
        ({"Variable": "$.v", "BooleanEquals": "true"}, "BooleanEquals compares with true or false"),
        ({"Variable": "$.v", "TimestampEquals": "2012-10-09"}, "RFC 3339"),
        ({"Variable": "$.v", "IsNull": "yes"}, "IsNull takes true or false"),
        ({"Variable": "$.v", "StringMatches": 3}, "StringMatches takes a pattern"),
        ({"Variable": "$.v", "StringMatches": "tail\\"}, "lone backslash"),
        ({"Variable": "$.v", "StringEqualsPath": "no-dollar"}, "StringEqualsPath"),
        ({"Variable": "v", "StringEquals": "a"}, "Variable"),
        ({"Variable": 3, "IsPresent": True}, "Variable must be a path"),
        ({"StringEquals": "a"}, "needs a Variable"),
        ({"And": []}, "non-empty array"),
        ({"Or": {"Variable": "$.v", "IsNull": True}}, "non-empty array"),
        ({"Not": [{"Variable": "$.v", "IsNull": True}]}, "Not takes one Choice rule"),
        ({"Not": {"Variable": "$.v", "IsNull": True, "Next": "A"}}, "top-level"),
        ({"And": [{"Variable": "$.v", "IsNull": True}], "Variable": "$.v"}, "takes no Variable"),
        ({"And": [{"Variable": "$.v", "Bogus": 1}]}, "unknown Choice rule field 'Bogus'"),
        ({"Variable": "$.v", "IsNull": True, "Next": 5}, "Next must be a state name"),
        ("StringEquals", "must be an object"),
    ],
)
def test_malformed_rules_are_rejected_with_a_clear_message(rule: Any, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_rule(rule)


@pytest.mark.parametrize(
    ("choices", "default", "message"),
    [
        ([], None, "non-empty array"),
        ([{"Variable": "$.v", "IsNull": True}], None, "Choices[0]: a top-level Choice rule needs Next"),
        ([{"Variable": "$.v", "IsNull": True, "Next": "A"}, {"Variable": "$.v", "Nope": 1, "Next": "B"}], None, "Choices[1]"),
        ([{"Variable": "$.v", "IsNull": True, "Next": "A"}, {"Condition": True, "Next": "B"}], None, "one query language"),
        ([{"Variable": "$.v", "IsNull": True, "Next": "A"}], 7, "Default must be a state name"),
    ],
)
def test_malformed_choices_are_rejected(choices: list, default: Any, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_choices(choices, default)


def test_constant_jsonata_conditions() -> None:
    branching = compile_choices([{"Condition": False, "Next": "Never"}, {"Condition": True, "Next": "Always"}], None)
    assert branching.query_language == "JSONata"
    assert branching.next_state(branching.select_jsonata({})) == "Always"


def test_jsonata_conditions_read_states_input_and_variables() -> None:
    branching = compile_choices(
        [
            {"Condition": "{% $not($states.input.type = 'Private') %}", "Next": "Public"},
            {"Condition": "{% $states.input.value >= $low and $states.input.value < 30 %}", "Next": "ValueInTwenties"},
        ],
        "DefaultState",
    )
    assert branching.next_state(branching.select_jsonata({"states": {"input": {"type": "Private", "value": 22}}, "low": 20})) == "ValueInTwenties"
    assert branching.next_state(branching.select_jsonata({"states": {"input": {"type": "Public", "value": 22}}, "low": 20})) == "Public"
    assert branching.next_state(branching.select_jsonata({"states": {"input": {"type": "Private", "value": 2}}, "low": 20})) == "DefaultState"


def test_a_jsonata_condition_must_yield_a_boolean() -> None:
    rule = compile_rule({"Condition": "{% $states.input.flag %}", "Next": "A"})
    assert rule.matches_jsonata({"states": {"input": {"flag": True}}})
    with pytest.raises(StatesError) as caught:
        rule.matches_jsonata({"states": {"input": {"flag": "yes"}}})
    assert caught.value.error == "States.QueryEvaluationError"
    assert "Expected 'boolean'" in (caught.value.cause or "")
    with pytest.raises(StatesError) as caught:
        rule.matches_jsonata({"states": {"input": {}}})
    assert caught.value.error == "States.QueryEvaluationError"


def test_jsonata_rule_carries_output_and_assign() -> None:
    rule = compile_rule({"Condition": True, "Next": "A", "Output": None, "Assign": {"x": 1}})
    assert (rule.output, rule.assign) == (None, {"x": 1})


def test_rules_refuse_the_other_languages_evaluation() -> None:
    with pytest.raises(TypeError):
        compile_rule({"Condition": True, "Next": "A"}).matches(Scope({}))
    with pytest.raises(TypeError):
        compile_rule({"Variable": "$.v", "IsNull": True}).matches_jsonata({})


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"Condition": "$states.input.done", "Next": "A"}, "JSONata expression '{% ... %}'"),
        ({"Condition": 1, "Next": "A"}, "Condition must be"),
        ({"Condition": True, "Variable": "$.v", "Next": "A"}, "not Variable"),
        ({"Condition": "{% $states.input. %}", "Next": "A"}, "invalid JSONata"),
    ],
)
def test_malformed_jsonata_rules_are_rejected(rule: dict, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        compile_rule(rule)
