import uuid

import pytest

from asw_airflow.semantics.errors import ExpressionError, StatesError
from asw_airflow.semantics.intrinsics import KNOWN_FUNCTIONS, is_intrinsic, parse_intrinsic
from asw_airflow.semantics.scope import Scope


def run(text: str, value=None, context=None, variables=None):
    return parse_intrinsic(text).evaluate(Scope(value, context or {}, variables or {}))


def fails(text: str, value=None) -> StatesError:
    with pytest.raises(StatesError) as raised:
        run(text, value)
    return raised.value


# ---- recognising and parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("States.Array()", True), ("  States.Format('x')", True), ("$.x", False), ("States.x", False), (3, False)],
)
def test_is_intrinsic(text, expected):
    assert is_intrinsic(text) is expected


def test_parse_keeps_name_and_arguments():
    call = parse_intrinsic("States.Array(1, 'a', $.x, States.UUID())")
    assert call.name == "Array"
    assert len(call.args) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("States.Array(1, -2, 1.5, 2e3, true, false, null)", [1, -2, 1.5, 2000.0, True, False, None]),
        ("States.Array('it\\'s', 'a\\\\b', ' spaced ')", ["it's", "a\\b", " spaced "]),
        ("States.Array('line\nbreak')", ["line\nbreak"]),
        ("States.Array( $.a ,$$.c,$v )", [1, "ctx", "var"]),
        ("States.Array($.list[?(@ > 1)], $['a'])", [[2, 3], 1]),
    ],
)
def test_literal_and_path_arguments(text, expected):
    assert run(text, {"a": 1, "list": [1, 2, 3]}, {"c": "ctx"}, {"v": "var"}) == expected


def test_nested_calls_evaluate_inside_out():
    text = (
        "States.ArrayGetItem(States.StringSplit($$.Name, '-'), "
        "States.MathAdd(States.ArrayLength(States.StringSplit($$.Name, '-')), -1))"
    )
    assert run(text, context={"Name": "flow-a-last"}) == "last"


def test_unknown_function_suggests_the_closest_name():
    with pytest.raises(ExpressionError, match="did you mean States.JsonMerge"):
        parse_intrinsic("States.JsonMerg($.a, $.b, false)")


def test_unknown_function_lists_the_known_ones():
    with pytest.raises(ExpressionError) as raised:
        parse_intrinsic("States.Zzzzzz()")
    assert all(f"States.{name}" in str(raised.value) for name in KNOWN_FUNCTIONS)


@pytest.mark.parametrize(
    ("text", "count"),
    [("States.MathAdd(1)", "2"), ("States.UUID(1)", "0"), ("States.MathRandom(1)", "2 to 3"), ("States.Format()", None)],
)
def test_wrong_arity_says_what_is_expected(text, count):
    with pytest.raises(ExpressionError) as raised:
        parse_intrinsic(text)
    if count is not None:
        assert f"takes {count} argument" in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "States.Array(1",
        "States.Array(1) trailing",
        "States.Array('open)",
        "States.Array(@)",
        "States.Array(1 2)",
        "Format('x')",
        "States.Array($.a[)",
    ],
)
def test_syntax_errors_are_expression_errors(text):
    with pytest.raises(ExpressionError):
        parse_intrinsic(text)


def test_a_path_argument_that_matches_nothing_is_states_runtime():
    assert fails("States.Array($.nope)", {}).error == "States.Runtime"


# ---- States.Format


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "v=."),
        ("text", "v=text."),
        (None, "v=null."),
        (1, "v=1."),
        (1.1, "v=1.1."),
        (2.0, "v=2.0."),
        (True, "v=true."),
        ({"Arg1": 1, "Arg2": [], "s": "x"}, "v={Arg1=1, Arg2=[], s=x}."),
        ([1, "a", None, {"k": [2]}], "v=[1, a, null, {k=[2]}]."),
        ('{"json": "text"}', 'v={"json": "text"}.'),
    ],
)
def test_format_prints_values_the_way_aws_does(value, expected):
    assert run("States.Format('v={}.', $.v)", {"v": value}) == expected


def test_format_escaped_braces_are_not_placeholders():
    assert run("States.Format('\\{\\} {} \\'q\\'', 'x')") == "{} x 'q'"


def test_format_template_from_a_path():
    assert run("States.Format($.t, 1, 2)", {"t": "{}+{}"}) == "1+2"


def test_format_placeholder_count_mismatch():
    with pytest.raises(ExpressionError, match="1 placeholder"):
        parse_intrinsic("States.Format('{}', 1, 2)")
    assert fails("States.Format($.t, 1)", {"t": "none"}).error == "States.IntrinsicFailure"


# ---- JSON


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), ("   ", None), ("null", None), ("-0", 0), ("1.1", 1.1), ('"s"', "s"), ('{"a": [1]}', {"a": [1]})],
)
def test_string_to_json(text, expected):
    assert run("States.StringToJson($.s)", {"s": text}) == expected


@pytest.mark.parametrize("value", ["{not json", 5, "NaN", "[1e999]", '{"a": 1, "a": 2}'])
def test_string_to_json_failures(value):
    assert fails("States.StringToJson($.s)", {"s": value}).error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "null"), (1.5, "1.5"), ("s", '"s"'), ([1, "é"], '[1,"é"]'), ({"a": 1, "b": []}, '{"a":1,"b":[]}')],
)
def test_json_to_string_is_compact(value, expected):
    assert run("States.JsonToString($.v)", {"v": value}) == expected


def test_json_merge_is_shallow_and_right_wins():
    left = {"a": {"a1": 1}, "b": 2, "d": 3}
    right = {"a": {"a3": 1}, "c": 3, "d": 4}
    assert run("States.JsonMerge($.l, $.r, false)", {"l": left, "r": right}) == {
        "a": {"a3": 1},
        "b": 2,
        "c": 3,
        "d": 4,
    }
    assert left == {"a": {"a1": 1}, "b": 2, "d": 3}


def test_json_merge_with_escaped_json_literal():
    out = run("States.JsonMerge(States.StringToJson('{\"k\": \"false\"}'), $.o, false)", {"o": {"x": 1}})
    assert out == {"k": "false", "x": 1}


@pytest.mark.parametrize("args", ["$.o, $.o, true", "$.o, 1, false", "$.o, $.o, 'no'"])
def test_json_merge_rejects_deep_and_non_objects(args):
    assert fails(f"States.JsonMerge({args})", {"o": {}}).error == "States.IntrinsicFailure"


# ---- arrays


@pytest.mark.parametrize(
    ("items", "size", "expected"),
    [([], 2, []), ([0], 3, [[0]]), ([0, 1, 2], 2, [[0, 1], [2]]), ([0, 1, 2, 3], 2, [[0, 1], [2, 3]])],
)
def test_array_partition(items, size, expected):
    assert run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size}) == expected


@pytest.mark.parametrize("size", [0, -1, 1.5, "2"])
def test_array_partition_needs_a_positive_integer(size):
    assert fails("States.ArrayPartition($.a, $.n)", {"a": [1], "n": size}).error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("items", "value", "expected"),
    [
        ([], None, False),
        ([[1, 2, 3], 2], [1, 2, 3], True),
        ([{"1": 2, "2": []}], {"2": [], "1": 2}, True),
        ([{"1": 2}], [], False),
        ([True, False], False, True),
        ([1], True, False),
        ([True], 1, False),
    ],
)
def test_array_contains_uses_json_equality(items, value, expected):
    assert run("States.ArrayContains($.a, $.v)", {"a": items, "v": value}) is expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [("0, 9, 3", [0, 3, 6, 9]), ("0, 10, 3", [0, 3, 6, 9]), ("1, 9, 9", [1]), ("5, 1, -2", [5, 3, 1]), ("1, 0, 1", [])],
)
def test_array_range(args, expected):
    assert run(f"States.ArrayRange({args})") == expected


def test_array_range_allows_at_most_1000_items():
    assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
    assert fails("States.ArrayRange(0, 1000, 1)").error == "States.IntrinsicFailure"


def test_array_range_step_zero_fails():
    assert fails("States.ArrayRange(0, 3, 0)").error == "States.IntrinsicFailure"


def test_array_get_item_and_length():
    data = {"a": [1, 2, 3, 4, 5, 6]}
    assert run("States.ArrayGetItem($.a, 5)", data) == 6
    assert run("States.ArrayLength($.a)", data) == 6
    assert fails("States.ArrayGetItem($.a, 6)", data).error == "States.IntrinsicFailure"
    assert fails("States.ArrayLength($.a[0])", data).error == "States.IntrinsicFailure"


def test_array_unique_keeps_first_occurrences_and_tells_types_apart():
    items = [None, None, True, 1, 1, 1.1, "a", "a", [], [], {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": 1}]
    assert run("States.ArrayUnique($)", items) == [None, True, 1, 1.1, "a", [], {"a": 1, "b": 2}, {"a": 1}]


# ---- encoding, hashing


def test_base64_round_trip():
    assert run("States.Base64Encode('Data to encode')") == "RGF0YSB0byBlbmNvZGU="
    assert run("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')") == "Data to encode"
    assert run("States.Base64Encode('')") == ""
    assert run("States.Base64Decode('5LiK5rW3')") == "上海"


@pytest.mark.parametrize("text", ["States.Base64Decode('not base64!')", "States.Base64Encode(1)"])
def test_base64_bad_input(text):
    assert fails(text).error == "States.IntrinsicFailure"


def test_base64_input_limit_is_10000_characters():
    assert run("States.Base64Encode($)", "x" * 10000)
    assert fails("States.Base64Encode($)", "x" * 10001).error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
    ],
)
def test_hash(algorithm, digest):
    assert run("States.Hash('input data', $)", algorithm) == digest


def test_hash_has_sha384_and_sha512():
    assert len(run("States.Hash('x', 'SHA-384')")) == 96
    assert len(run("States.Hash('x', 'SHA-512')")) == 128


@pytest.mark.parametrize("algorithm", ["sha-256", "SHA256", "CRC32"])
def test_hash_algorithm_names_are_exact(algorithm):
    assert fails("States.Hash('x', $)", algorithm).error == "States.IntrinsicFailure"


# ---- math


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (1.5, 1.51, 4),
        (-1.49, -1.5, -2),
        (-1.5, -1.51, -3),
        (0.5, 0, 1),
        (2.5, 0, 3),
        (-0.5, 0, 0),
        (-2.5, 0, -2),
        (-0.5, 0.5, 1),
    ],
)
def test_math_add_rounds_each_argument_half_up(a, b, expected):
    result = run("States.MathAdd($.a, $.b)", {"a": a, "b": b})
    assert result == expected and isinstance(result, int)


def test_math_add_needs_numbers():
    assert fails("States.MathAdd('1', 2)").error == "States.IntrinsicFailure"
    assert fails("States.MathAdd(true, 2)").error == "States.IntrinsicFailure"


@pytest.mark.parametrize(("start", "end"), [(12.5, 44.51), (9999, 99999), (-99999, -9999)])
def test_math_random_stays_in_range(start, end):
    for _ in range(50):
        value = run("States.MathRandom($.s, $.e)", {"s": start, "e": end})
        assert isinstance(value, int) and round(start) - 1 <= value <= end


def test_math_random_with_a_seed_repeats():
    first = run("States.MathRandom(0, 1000, 7)")
    assert all(run("States.MathRandom(0, 1000, 7)") == first for _ in range(5))


def test_math_random_empty_range_fails():
    assert fails("States.MathRandom(5, 5)").error == "States.IntrinsicFailure"


# ---- strings, uuid


@pytest.mark.parametrize(
    ("text", "separators", "expected"),
    [
        (" ", ",", [" "]),
        (", , ,", ",", [" ", " "]),
        (",,,,", ",", []),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        ("split on T and \nnew line", "T\n", ["split on ", " and ", "new line"]),
        ("a,b\nc,", ",", ["a", "b\nc"]),
    ],
)
def test_string_split_splits_on_any_separator_character_and_drops_empty_pieces(text, separators, expected):
    assert run("States.StringSplit($.t, $.s)", {"t": text, "s": separators}) == expected


def test_uuid_is_a_fresh_v4_uuid():
    first, second = run("States.UUID()"), run("States.UUID()")
    assert uuid.UUID(first).version == 4 and first != second
