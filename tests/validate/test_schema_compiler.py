"""The packaged schema is valid 2020-12 JSON Schema, and the compiled checker agrees with jsonschema."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from asw_airflow.validate.schema import _Compiler, schema_document, schema_errors
from tests.validate.mutations import VALID_DEFINITIONS, mutated_definitions

REFERENCE = jsonschema.Draft202012Validator(schema_document())


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(schema_document())
    assert schema_document()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("definition", VALID_DEFINITIONS)
def test_valid_samples_pass_both(definition: dict) -> None:
    assert schema_errors(definition) == []
    assert REFERENCE.is_valid(definition)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_definitions())
def test_verdict_agrees_with_jsonschema(definition: object) -> None:
    assert (schema_errors(definition) == []) == REFERENCE.is_valid(definition)


def test_unsupported_keyword_fails_at_compile_time() -> None:
    with pytest.raises(ValueError, match="'oneOf' is not supported"):
        _Compiler({}).compile({"oneOf": [{"type": "string"}]})


def test_if_then_reports_only_the_branch_of_the_state_type() -> None:
    errors = schema_errors({"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": -1, "End": True}}})
    assert [(e.keyword, e.location) for e in errors] == [("anyOf", ("States", "A", "Seconds"))]
