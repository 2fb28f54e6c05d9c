"""The strict loader: JSON errors, duplicate keys and non-finite numbers are located diagnostics."""

from __future__ import annotations

import pytest

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.loader import load_file, load_text, load_value

TEXT = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true}\n  }\n}\n'


def _error(data: str | bytes) -> list[tuple[str, str, int, int]]:
    with pytest.raises(DefinitionError) as info:
        load_text(data, "wf.json")
    return [(d.code, d.pointer, d.line, d.column) for d in info.value.diagnostics]


def test_document_and_positions_of_values_and_keys() -> None:
    source = load_text(TEXT, "wf.json")
    assert source.document["States"]["A"]["Type"] == "Pass"
    assert source.diagnostic("X", "m", "/States/A/Type").line == 4
    value = source.diagnostic("X", "m", "/States/A")
    key = source.diagnostic("X", "m", "/States/A", key=True)
    assert (value.line, value.column, key.column) == (4, 10, 5)


def test_missing_pointer_falls_back_to_nearest_ancestor() -> None:
    diagnostic = load_text(TEXT).diagnostic("X", "m", "/States/A/Next")
    assert (diagnostic.line, diagnostic.column, diagnostic.pointer) == (4, 10, "/States/A/Next")


def test_invalid_json_is_located() -> None:
    assert _error('{\n  "a": 1,\n}') == [("INVALID_JSON_DESCRIPTION", "", 3, 1)]


def test_duplicate_keys_are_each_reported() -> None:
    assert _error('{"a": {"b": 1, "b": 2}, "a": 3}') == [
        ("DUPLICATE_JSON_KEY", "/a/b", 1, 16),
        ("DUPLICATE_JSON_KEY", "/a", 1, 25),
    ]


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_rejected(word: str) -> None:
    assert _error('{"x": %s}' % word) == [("INVALID_JSON_DESCRIPTION", "/x", 1, 7)]


def test_top_level_must_be_an_object() -> None:
    assert _error("[1]") == [("INVALID_JSON_DESCRIPTION", "", 1, 1)]


def test_utf8_bom_is_accepted_and_non_utf8_is_located() -> None:
    assert load_text(b"\xef\xbb\xbf" + TEXT.encode()).document["StartAt"] == "A"
    assert _error(b'{"a":\n "\xff"}') == [("INVALID_JSON_DESCRIPTION", "", 2, 3)]


def test_deep_nesting_is_a_diagnostic() -> None:
    assert _error("[" * 100000 + "]" * 100000)[0][0] == "INVALID_JSON_DESCRIPTION"


def test_load_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "wf.json"
    path.write_text(TEXT)
    assert load_file(path).file == str(path)
    with pytest.raises(OSError):
        load_file(tmp_path / "missing.json")


@pytest.mark.parametrize(("text", "pointer", "column"), [
    ('{"x": 1e999}', "/x", 7),
    ('{"x": [1, -1e999]}', "/x/1", 11),
    ('{"x": 1%s.0}' % ("0" * 400), "/x", 7),
])
def test_numbers_beyond_the_double_range_are_rejected_not_read_as_infinity(text: str, pointer: str, column: int) -> None:
    assert _error(text) == [("INVALID_JSON_DESCRIPTION", pointer, 1, column)]


def test_the_largest_finite_numbers_still_load() -> None:
    assert load_value('[1e308, -1.7976931348623157e308, 1e-999]') == [1e308, -1.7976931348623157e308, 0.0]


def test_an_integer_past_pythons_digit_limit_is_a_diagnostic_not_a_value_error() -> None:
    assert _error('{"x": %s}' % ("1" * 5000)) == [("INVALID_JSON_DESCRIPTION", "/x", 1, 7)]


@pytest.mark.parametrize(("text", "value"), [("3", 3), ('"s"', "s"), ("[1, {}]", [1, {}]), ("null", None)])
def test_load_value_takes_any_json_value(text: str, value: object) -> None:
    assert load_value(text) == value


@pytest.mark.parametrize(("text", "code"), [
    ("NaN", "INVALID_JSON_DESCRIPTION"), ("[1e999]", "INVALID_JSON_DESCRIPTION"),
    ('{"a": 1, "a": 2}', "DUPLICATE_JSON_KEY"), (b'"\xff"', "INVALID_JSON_DESCRIPTION"),
])
def test_load_value_is_as_strict_as_load_text(text: str | bytes, code: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_value(text, "--input")
    assert [(d.code, d.file) for d in info.value.diagnostics] == [(code, "--input")]
