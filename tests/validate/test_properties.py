"""Whatever the input, validation returns diagnostics and never raises."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from asw_airflow.diagnostics import DefinitionError, Diagnostic
from asw_airflow.loader import load_text
from asw_airflow.validate import validate
from tests.validate.mutations import json_values, mutated_definitions

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(value: object) -> None:
    try:
        source = load_text(json.dumps(value, indent=1))
    except DefinitionError as error:
        assert error.diagnostics and all(isinstance(d, Diagnostic) for d in error.diagnostics)
        return
    diagnostics = validate(source)
    assert all(isinstance(d, Diagnostic) and d.line and d.column for d in diagnostics)


@SETTINGS
@given(json_values)
def test_random_json_never_raises(value: object) -> None:
    _check(value)


@SETTINGS
@given(mutated_definitions())
def test_mutated_definitions_never_raise(definition: object) -> None:
    _check(definition)


def test_the_samples_being_mutated_are_valid() -> None:
    from tests.validate.mutations import VALID_DEFINITIONS

    for definition in VALID_DEFINITIONS:
        assert validate(load_text(json.dumps(definition))) == []
