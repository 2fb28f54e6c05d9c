"""The TCSL JSON Schema, compiled once into Python closures that report every violation.

``jsonschema`` takes about half a second over a 1,000-state definition; validation runs on
every DAG parse, so the schema (which stays the single source of truth, shipped as
``tcsl.schema.json`` for editors) is compiled here into one closure per schema node.
Only the keywords the schema uses are supported; an unknown keyword fails at compile time,
so the schema cannot silently gain a rule this compiler ignores (tests check that the
verdicts agree with ``jsonschema``). Each ``if``/``then`` picks one branch by the state's
``Type``, and an ``anyOf`` with no passing branch yields one error, never a cascade.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Callable

Location = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One violation: the failing ``keyword`` at ``location`` in the document, with its schema node."""

    keyword: str
    location: Location
    instance: Any
    schema: dict[str, Any]
    name: str | None = None
    """The offending member name, for ``required`` and ``additionalProperties``."""


Check = Callable[[Any, Location, list[SchemaError]], None]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "x-hint", "$comment"})


@cache
def schema_document() -> dict[str, Any]:
    """The packaged schema, parsed once."""
    return json.loads(resources.files("asw_airflow.validate").joinpath("tcsl.schema.json").read_text("utf-8"))


class _Compiler:
    def __init__(self, root: dict[str, Any]):
        self.definitions = root.get("$defs", {})
        self.compiled: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        name = ref.removeprefix("#/$defs/")
        if name not in self.definitions:
            raise ValueError(f"unsupported $ref {ref!r}")
        if name not in self.compiled:
            slot: list[Check] = []
            self.compiled[name] = lambda value, location, errors: slot[0](value, location, errors)
            slot.append(self.compile(self.definitions[name]))
        return self.compiled[name]

    def compile(self, schema: dict[str, Any] | bool) -> Check:
        if schema is True:
            return lambda value, location, errors: None
        checks = [self.keyword(schema, key) for key in schema if key not in _ANNOTATIONS and key not in ("then", "$defs")]
        return checks[0] if len(checks) == 1 else self.all_of(checks)

    def keyword(self, schema: dict[str, Any], key: str) -> Check:
        argument = schema[key]
        if key == "$ref":
            return self.ref(argument)
        if key == "type":
            tests = [_TYPES[name] for name in ([argument] if isinstance(argument, str) else argument)]
            if len(tests) == 1:
                return _simple(schema, key, tests[0])
            return _simple(schema, key, lambda v: any(test(v) for test in tests))
        if key == "enum":
            return _simple(schema, key, lambda v: any(v == item and type(v) is type(item) for item in argument))
        if key in ("minimum", "maximum", "exclusiveMinimum"):
            compare = {"minimum": float.__ge__, "maximum": float.__le__, "exclusiveMinimum": float.__gt__}[key]
            return _simple(schema, key, lambda v: not _TYPES["number"](v) or compare(float(v), float(argument)))
        if key in ("minLength", "maxLength"):
            bound = argument
            return _simple(schema, key, lambda v: not isinstance(v, str) or (len(v) >= bound if key == "minLength" else len(v) <= bound))
        if key == "pattern":
            regex = re.compile(argument)
            return _simple(schema, key, lambda v: not isinstance(v, str) or regex.search(v) is not None)
        if key == "minItems":
            return _simple(schema, key, lambda v: not isinstance(v, list) or len(v) >= argument)
        if key == "minProperties":
            return _simple(schema, key, lambda v: not isinstance(v, dict) or len(v) >= argument)
        if key == "const":
            return _simple(schema, key, lambda v: v == argument and type(v) is type(argument))
        if key == "required":
            return self.required(schema, argument)
        if key == "properties":
            return self.properties(argument)
        if key == "additionalProperties":
            return self.additional(schema, argument)
        if key == "items":
            return self.items(argument)
        if key == "anyOf":
            return self.any_of(schema, argument)
        if key == "allOf":
            return self.dispatch(argument) or self.all_of([self.compile(part) for part in argument])
        if key == "if":
            return self.if_then(argument, schema.get("then", True))
        raise ValueError(f"schema keyword {key!r} is not supported by the TCSL schema compiler")

    def required(self, schema: dict[str, Any], names: list[str]) -> Check:
        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            if isinstance(value, dict):
                for name in names:
                    if name not in value:
                        errors.append(SchemaError("required", location, value, schema, name))

        return check

    def properties(self, properties: dict[str, Any]) -> Check:
        checks = {name: self.compile(sub) for name, sub in properties.items() if sub is not True}

        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            if isinstance(value, dict):
                for name, item in value.items():
                    sub = checks.get(name)
                    if sub is not None:
                        sub(item, location + (name,), errors)

        return check

    def additional(self, schema: dict[str, Any], additional: Any) -> Check:
        known = frozenset(schema.get("properties", ()))
        if additional is False:
            def reject(value: Any, location: Location, errors: list[SchemaError]) -> None:
                if isinstance(value, dict):
                    for name in value:
                        if name not in known:
                            errors.append(SchemaError("additionalProperties", location + (name,), value, schema, name))

            return reject
        sub = self.compile(additional)

        def each(value: Any, location: Location, errors: list[SchemaError]) -> None:
            if isinstance(value, dict):
                for name, item in value.items():
                    if name not in known:
                        sub(item, location + (name,), errors)

        return each

    def items(self, items: Any) -> Check:
        sub = self.compile(items)

        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    sub(item, location + (index,), errors)

        return check

    def any_of(self, schema: dict[str, Any], branches: list[Any]) -> Check:
        parts = [self.compile(branch) for branch in branches]

        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            for part in parts:
                trial: list[SchemaError] = []
                part(value, location, trial)
                if not trial:
                    return
            errors.append(SchemaError("anyOf", location, value, schema))

        return check

    def all_of(self, parts: list[Check]) -> Check:
        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            for part in parts:
                part(value, location, errors)

        return check

    def dispatch(self, parts: list[Any]) -> Check | None:
        """``allOf`` of ``if {P: const X, required P} then S`` (a discriminated union): one dict lookup, not N trials."""
        table: dict[Any, Check] = {}
        member = None
        for part in parts:
            condition = part.get("if") if isinstance(part, dict) and set(part) == {"if", "then"} else None
            if not isinstance(condition, dict) or set(condition) != {"properties", "required"}:
                return None
            [(name, test)] = condition["properties"].items() if len(condition["properties"]) == 1 else [(None, None)]
            if (condition["required"] != [name] or not isinstance(test, dict) or set(test) != {"const"}
                    or not isinstance(test["const"], str) or member not in (None, name)):
                return None
            member = name
            table[test["const"]] = self.compile(part["then"])

        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            if isinstance(value, dict):
                selector = value.get(member)
                sub = table.get(selector) if isinstance(selector, str) else None
                if sub is not None:
                    sub(value, location, errors)

        return check

    def if_then(self, condition: Any, then: Any) -> Check:
        test, consequence = self.compile(condition), self.compile(then)

        def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
            trial: list[SchemaError] = []
            test(value, location, trial)
            if not trial:
                consequence(value, location, errors)

        return check


def _simple(schema: dict[str, Any], keyword: str, test: Callable[[Any], bool]) -> Check:
    def check(value: Any, location: Location, errors: list[SchemaError]) -> None:
        if not test(value):
            errors.append(SchemaError(keyword, location, value, schema))

    return check


@cache
def _root_check() -> Check:
    root = schema_document()
    return _Compiler(root).compile({k: v for k, v in root.items() if k != "$defs"})


def schema_errors(document: Any) -> list[SchemaError]:
    """Every violation of the TCSL schema in ``document``."""
    errors: list[SchemaError] = []
    _root_check()(document, (), errors)
    return errors
