import pytest

from asw_airflow.semantics.errors import ExpressionError, StatesError
from asw_airflow.semantics.scope import Scope
from asw_airflow.semantics.templates import compile_template

SCOPE = Scope(
    {"user": "susu", "scores": [90, 80], "detail": {"class": "No-01"}},
    {"Map": {"Item": {"Value": {"id": 7}, "Index": 0}}},
    {"region": "ap-shanghai"},
)


def test_dollar_keys_take_paths_and_lose_the_suffix():
    template = compile_template({"who.$": "$.user", "item.$": "$$.Map.Item.Value", "where.$": "$region", "n": 1})
    assert template.render(SCOPE) == {"who": "susu", "item": {"id": 7}, "where": "ap-shanghai", "n": 1}


def test_dollar_keys_take_intrinsic_calls():
    template = compile_template({"msg.$": "States.Format('{} in {}', $.user, $.detail.class)"})
    assert template.render(SCOPE) == {"msg": "susu in No-01"}


def test_dollar_keys_work_at_any_depth_inside_objects_and_arrays():
    template = compile_template({"outer": {"list": [{"first.$": "$.scores[0]"}, [{"c.$": "$.detail.class"}], "lit"]}})
    assert template.render(SCOPE) == {"outer": {"list": [{"first": 90}, [{"c": "No-01"}], "lit"]}}


def test_indefinite_paths_give_lists():
    assert compile_template({"high.$": "$.scores[?(@ > 85)]"}).render(SCOPE) == {"high": [90]}


def test_literal_strings_that_look_like_paths_stay_literal():
    assert compile_template({"p": "$.user", "f": "States.UUID()"}).render(SCOPE) == {"p": "$.user", "f": "States.UUID()"}


@pytest.mark.parametrize("value", [None, 3, "text", [1, "a"], {"a": {"b": [True]}}])
def test_constant_templates_render_equal_values(value):
    assert compile_template(value).render(SCOPE) == value


def test_renders_never_share_mutable_parts_of_the_template():
    source = {"fixed": {"list": [1, {"deep": 2}]}, "dyn.$": "$.user", "arr": [[0]]}
    template = compile_template(source)
    first = template.render(SCOPE)
    first["fixed"]["list"][1]["deep"] = 99
    first["arr"][0].append(1)
    assert template.render(SCOPE) == {"fixed": {"list": [1, {"deep": 2}]}, "dyn": "susu", "arr": [[0]]}
    assert source["fixed"]["list"][1]["deep"] == 2


def test_a_path_that_matches_nothing_fails_with_states_runtime_naming_the_field():
    with pytest.raises(StatesError) as raised:
        compile_template({"a": {"value.$": "$.nope"}}).render(SCOPE)
    assert raised.value.error == "States.Runtime"
    assert "specified for the field 'value.$'" in raised.value.cause


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"a.$": 1}, "must be a string"),
        ({"a": [{"b.$": None}]}, r"a\[0\]/b\.\$"),
        ({"a.$": "user"}, "must be a path starting with"),
        ({"a.$": "$.x[?("}, "invalid JSONPath"),
        ({"a.$": "States.Nope()"}, "unknown intrinsic"),
        ({"a.$": "States.MathAdd(1)"}, "takes 2"),
        ({"a": 1, "a.$": "$.x"}, "twice"),
    ],
)
def test_bad_templates_fail_at_compile_time(source, message):
    with pytest.raises(ExpressionError, match=message):
        compile_template(source)


def test_the_template_keeps_its_source():
    source = {"a.$": "$"}
    assert compile_template(source).source is source


def test_tencent_map_result_selector_example():
    selector = compile_template({"user.$": "$.user", "score.$": "$.average"})
    assert selector.render(Scope({"user": "susu", "average": 75, "extra": 1})) == {"user": "susu", "score": 75}
