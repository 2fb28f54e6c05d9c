import pytest

from asw_airflow.semantics.errors import ExpressionError, StatesError
from asw_airflow.semantics.paths import compile_path, compile_reference_path
from asw_airflow.semantics.scope import Scope

DOC = {
    "order": {"id": "o-7", "lines": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 5}], "ship to": "Shenzhen"},
    "flag": None,
    "n": 0,
}
SCOPE = Scope(DOC, {"Execution": {"Name": "run-1"}, "Map": {"Item": {"Index": 3}}}, {"limit": {"max": [10, 20]}})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$", DOC),
        ("$.order.id", "o-7"),
        ("$.order.lines[1].qty", 5),
        ("$.order.lines[-1].sku", "B"),
        ("$['order']['ship to']", "Shenzhen"),
        ('$.order["ship to"]', "Shenzhen"),
        ("$.flag", None),
        ("$.n", 0),
        ("$$.Execution.Name", "run-1"),
        ("$$.Map.Item.Index", 3),
        ("$limit.max[1]", 20),
        ("$limit", {"max": [10, 20]}),
    ],
)
def test_definite_paths_read_one_value(text, expected):
    path = compile_path(text)
    assert path.is_reference
    assert path.read(SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$.order.lines[*].sku", ["A", "B"]),
        ("$.order.lines[?(@.qty > 2)]", [{"sku": "B", "qty": 5}]),
        ("$.order.lines[1:]", [{"sku": "B", "qty": 5}]),
        ("$..sku", ["A", "B"]),
        ("$.order.lines[0,1].qty", [2, 5]),
        ("$.missing[*]", []),
        ("$.missing[1:].x", []),
    ],
)
def test_indefinite_paths_read_a_list_of_matches(text, expected):
    path = compile_path(text)
    assert not path.is_reference
    assert path.read(SCOPE) == expected


def test_a_key_inside_a_quoted_step_may_hold_dots_and_brackets():
    assert compile_path("$['a.b[0]']").read(Scope({"a.b[0]": 1})) == 1


@pytest.mark.parametrize("text", ["$.order.nope", "$.order.lines[2]", "$.order.id.x", "$.order.lines.sku", "$undefined"])
def test_a_definite_path_that_matches_nothing_is_states_runtime(text):
    with pytest.raises(StatesError) as raised:
        compile_path(text).read(SCOPE)
    assert raised.value.error == "States.Runtime"


def test_the_cause_names_the_field_and_the_input_when_a_field_is_given():
    with pytest.raises(StatesError) as raised:
        compile_path("$.nope").read(Scope({"a": 1}), field="value.$")
    assert raised.value.cause == (
        "The JSONPath '$.nope' specified for the field 'value.$' could not be found in the input '{\"a\":1}'"
    )


def test_the_cause_without_a_field_is_the_inputpath_form():
    with pytest.raises(StatesError) as raised:
        compile_path("$.a.items[0]").read(Scope({"a": {}}))
    assert raised.value.cause == "Invalid path '$.a.items[0]' : No results for path: $['a']['items'][0]"


@pytest.mark.parametrize("text", ["order.id", "", "$.a[", "$.a[?(@.x >", 7])
def test_bad_syntax_is_an_expression_error(text):
    with pytest.raises(ExpressionError):
        compile_path(text)


def test_reading_does_not_copy_and_keeps_the_text():
    path = compile_path("$.order.lines")
    assert path.text == "$.order.lines"
    assert path.read(SCOPE) is DOC["order"]["lines"]


# ---- Reference Paths and ResultPath writes


@pytest.mark.parametrize("text", ["$.a[*]", "$..a", "$.a[?(@.b)]", "$.a[1:2]", "$.a[0,1]"])
def test_reference_paths_reject_wildcards_filters_slices_and_unions(text):
    with pytest.raises(ExpressionError, match="not a Reference Path"):
        compile_reference_path(text)


def test_reference_paths_read_like_paths_from_every_root():
    assert compile_reference_path("$$.Execution.Name").read(SCOPE) == "run-1"
    assert compile_reference_path("$limit.max").read(SCOPE) == [10, 20]
    assert compile_reference_path("$limit").root == "limit"


def test_write_at_root_replaces_the_whole_document():
    assert compile_reference_path("$").write({"a": 1}, [1, 2]) == [1, 2]


def test_write_returns_a_new_document_and_leaves_the_target_alone():
    target = {"keep": {"x": 1}, "detail": {"exam": [1], "class": "c"}}
    result = compile_reference_path("$.detail.exam").write(target, [{"score": 75}])
    assert result == {"keep": {"x": 1}, "detail": {"exam": [{"score": 75}], "class": "c"}}
    assert target == {"keep": {"x": 1}, "detail": {"exam": [1], "class": "c"}}


def test_write_creates_missing_intermediate_objects():
    assert compile_reference_path("$.a.b.c").write({"z": 0}, True) == {"z": 0, "a": {"b": {"c": True}}}


def test_write_replaces_an_array_element_in_range():
    assert compile_reference_path("$.l[1].v").write({"l": [{}, {"v": 1}]}, 2) == {"l": [{}, {"v": 2}]}


@pytest.mark.parametrize(
    ("target", "text"),
    [("just text", "$.x"), ({"a": "text"}, "$.a.b"), ({"a": [1]}, "$.a.b"), ({"l": [1]}, "$.l[3]"), ({"a": None}, "$.a.b")],
)
def test_writing_into_a_non_object_is_states_runtime(target, text):
    with pytest.raises(StatesError) as raised:
        compile_reference_path(text).write(target, 1)
    assert raised.value.error == "States.Runtime"
    assert raised.value.cause.startswith(f"Unable to apply ReferencePath {text} to input ")


def test_writing_through_a_context_or_variable_path_is_rejected():
    with pytest.raises(ExpressionError, match="must start with '\\$'"):
        compile_reference_path("$$.Execution").write({}, 1)


def test_only_the_enclosing_quote_is_escapable_inside_brackets():
    assert compile_path("$['it\\'s']").read(Scope({"it's": 1})) == 1
    key = 'Q\\""N"'
    assert compile_path("$['Q\\\"\"N\"']").read(Scope({key: "found"})) == "found"
