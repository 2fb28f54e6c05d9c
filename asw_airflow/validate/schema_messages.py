"""Turn schema violations into sentences a workflow author can act on, pinned to the right pointer."""

from __future__ import annotations

import difflib
from typing import Any

from asw_airflow.diagnostics import pointer_join
from asw_airflow.semantics.paths import json_type
from asw_airflow.validate.codes import SCHEMA_VALIDATION_FAILED
from asw_airflow.validate.report import Report
from asw_airflow.validate.schema import Location, SchemaError, schema_errors

_ARTICLES = {"object": "an object", "array": "an array", "string": "a string", "boolean": "true or false",
             "null": "null", "number": "a number", "integer": "a whole number"}
_CONTAINERS = {"Retry": "Retrier", "Catch": "Catcher", "Choices": "Choice rule", "And": "Choice rule",
               "Or": "Choice rule", "Branches": "Parallel branch"}


def _lookup(document: Any, location: Location) -> Any:
    for step in location:
        document = document[step]
    return document


def _describe(document: Any, location: Location) -> str:
    """What the object at ``location`` is: ``Pass state 'Hello'``, ``Retrier``, ``the state machine``..."""
    if not location:
        return "the state machine"
    value = _lookup(document, location)
    last = location[-1]
    if len(location) >= 2 and location[-2] == "States" and isinstance(value, dict) and isinstance(value.get("Type"), str):
        return f"{value['Type']} state {last!r}"
    if len(location) >= 2 and location[-2] in _CONTAINERS:
        return _CONTAINERS[str(location[-2])]
    if last == "Not":
        return "Choice rule"
    if last in ("Iterator", "ItemProcessor"):
        return f"Map {last}"
    if last == "States":
        return "States"
    return repr(last) if isinstance(last, str) else f"item {last}"


def _field(location: Location) -> str:
    named = [step for step in location if isinstance(step, str)]
    return named[-1] if named else "the definition"


def _suggest(word: Any, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _message(error: SchemaError, document: Any) -> tuple[str, str, bool]:
    """(message, pointer, point at the key) for one violation."""
    location, schema, value = error.location, error.schema, error.instance
    pointer = pointer_join(*location)
    field = _field(location)
    keyword = error.keyword
    if keyword == "additionalProperties":
        allowed = schema.get("properties", {})
        hint = _suggest(error.name, allowed) or f"; allowed fields are {', '.join(sorted(allowed))}"
        return f"unknown field {error.name!r} in {_describe(document, location[:-1])}{hint}", pointer, True
    if keyword == "required":
        return f"{_describe(document, location)} is missing required field {error.name!r}", pointer, True
    if keyword == "type":
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = " or ".join(_ARTICLES[t] for t in types)
        return f"{field} must be {wanted}, got {json_type(value)}", pointer, False
    if keyword in ("enum", "const"):
        options = schema["enum"] if keyword == "enum" else [schema["const"]]
        wanted = ", ".join(repr(option) for option in options)
        return f"{field} must be one of {wanted}, got {value!r}{_suggest(value, map(str, options))}", pointer, False
    if keyword in ("minimum", "maximum", "exclusiveMinimum"):
        relation = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">"}[keyword]
        return f"{field} must be {relation} {schema[keyword]}, got {value!r}", pointer, False
    if keyword == "minLength":
        return f"{field} must not be empty", pointer, False
    if keyword == "maxLength":
        return f"{field} must be at most {schema['maxLength']} characters, got {len(value)}", pointer, False
    if keyword == "minItems":
        return f"{field} must not be empty: give at least {schema['minItems']} item", pointer, False
    if keyword == "minProperties":
        return f"{field} must define at least one state", pointer, False
    hint = schema.get("x-hint", "has the wrong form")
    return f"{field} {hint}, got {value!r}", pointer, False


def report_schema_errors(report: Report) -> None:
    """Check the document against the TCSL schema and add one readable diagnostic per violation."""
    document = report.source.document
    for error in schema_errors(document):
        message, pointer, key = _message(error, document)
        report.add(SCHEMA_VALIDATION_FAILED, message, pointer, key=key)
