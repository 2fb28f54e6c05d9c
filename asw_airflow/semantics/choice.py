"""Choice rules compiled once into small closures, so picking a branch is a few calls per rule.

Semantics follow what AWS Step Functions does (the ASL reference implementation), checked
against its recorded executions:

* a value of the wrong type makes a comparison false, never an error;
* a ``Variable`` (or ``...Path`` operand) that matches nothing fails with ``States.Runtime``,
  except for ``IsPresent``, which is then false; ``IsPresent`` is true for a ``null`` value;
* numbers compare by value (``1 == 1.0``), and booleans are not numbers;
* strings order by UTF-16 code unit, as AWS's Java runtime does;
* timestamps are RFC 3339 with an uppercase ``T`` and ``Z`` or a numeric offset, compared as
  instants to the nanosecond; anything else is simply not a timestamp.

JSONPath rules are evaluated against a ``Scope`` (``matches``/``select``). JSONata rules
(``{"Condition": "{% ... %}", "Next": ...}``) are evaluated against the JSONata bindings the
engine builds for the state (``$states``, variables), through ``matches_jsonata`` and
``select_jsonata``; a Choice state's rules are all of one query language. ``next_state`` turns
the selected rule (or none) into the next state's name.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping, Sequence

from asw_airflow.semantics.errors import (
    NO_CHOICE_MATCHED,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    ExpressionError,
    StatesError,
)
from asw_airflow.semantics.paths import Path, compact_json, compile_path, json_type
from asw_airflow.semantics.scope import Scope

JSONPATH = "JSONPath"
JSONATA = "JSONata"

NO_CHOICE_MATCHED_CAUSE = "No Choice Rule matched the input and the Choice state has no Default."

Key = Any
"""What a value is compared as (a str, number, bool or nanosecond instant); None for the wrong type."""


# --- value kinds -----------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:Z|([+-])([0-9]{2}):([0-9]{2}))",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1)
_ONE_SECOND = timedelta(seconds=1)


def parse_timestamp(value: Any) -> int | None:
    """Nanoseconds since the epoch for an ASL timestamp string, None for anything else."""
    if type(value) is not str:
        return None
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, sign, offset_hours, offset_minutes = match.groups()
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    seconds = (local - _EPOCH) // _ONE_SECOND
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            return None
        offset = int(offset_hours) * 3600 + int(offset_minutes) * 60
        seconds -= offset if sign == "+" else -offset
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return seconds * 1_000_000_000 + nanos


def _string_key(value: Any) -> Key:
    """Equality key: the string itself."""
    return value if type(value) is str else None


def _string_order_key(value: Any) -> Key:
    """Ordering key: UTF-16 code units (Java order); ASCII text orders the same either way, so skip the encode."""
    if type(value) is not str:
        return None
    return value if value.isascii() else value.encode("utf-16-be")


def _number_key(value: Any) -> Key:
    return value if type(value) in (int, float) else None


def _boolean_key(value: Any) -> Key:
    return value if type(value) is bool else None


def _ordered_strings(compare: Callable[[Any, Any], bool]) -> Callable[[Key, Key], bool]:
    """Compare two ordering keys, which differ in type when only one side is ASCII."""

    def ordered(left: Key, right: Key) -> bool:
        if type(left) is not type(right):
            left = left if type(left) is bytes else left.encode("utf-16-be")
            right = right if type(right) is bytes else right.encode("utf-16-be")
        return compare(left, right)

    return ordered


@dataclass(frozen=True, slots=True)
class _Comparison:
    """A two-sided operator: how to turn each side into a key, and how to compare keys.

    ``source`` is the same test as Python source on a value ``x`` with ``{}`` for the literal,
    for code generators; None where the key needs more than a type check (ordering strings by
    UTF-16, parsing timestamps).
    """

    key: Callable[[Any], Key]
    compare: Callable[[Key, Key], bool]
    literal: str
    """What the literal operand must be, for the error message."""
    source: str | None = None


_STRING, _NUMBER, _BOOLEAN = "type(x) is str", "type(x) in (int, float)", "type(x) is bool"
"""``_string_key``, ``_number_key`` and ``_boolean_key`` as Python source: the value if it is of the type."""
_TIMESTAMP_LITERAL = "an RFC 3339 timestamp such as '2016-08-18T17:33:00Z'"

_COMPARISONS: dict[str, _Comparison] = {
    "StringEquals": _Comparison(_string_key, operator.eq, "a string", f"{_STRING} and x == {{}}"),
    "StringLessThan": _Comparison(_string_order_key, _ordered_strings(operator.lt), "a string"),
    "StringGreaterThan": _Comparison(_string_order_key, _ordered_strings(operator.gt), "a string"),
    "StringLessThanEquals": _Comparison(_string_order_key, _ordered_strings(operator.le), "a string"),
    "StringGreaterThanEquals": _Comparison(_string_order_key, _ordered_strings(operator.ge), "a string"),
    "NumericEquals": _Comparison(_number_key, operator.eq, "a number", f"{_NUMBER} and x == {{}}"),
    "NumericLessThan": _Comparison(_number_key, operator.lt, "a number", f"{_NUMBER} and x < {{}}"),
    "NumericGreaterThan": _Comparison(_number_key, operator.gt, "a number", f"{_NUMBER} and x > {{}}"),
    "NumericLessThanEquals": _Comparison(_number_key, operator.le, "a number", f"{_NUMBER} and x <= {{}}"),
    "NumericGreaterThanEquals": _Comparison(_number_key, operator.ge, "a number", f"{_NUMBER} and x >= {{}}"),
    "BooleanEquals": _Comparison(_boolean_key, operator.eq, "true or false", f"{_BOOLEAN} and x == {{}}"),
    "TimestampEquals": _Comparison(parse_timestamp, operator.eq, _TIMESTAMP_LITERAL),
    "TimestampLessThan": _Comparison(parse_timestamp, operator.lt, _TIMESTAMP_LITERAL),
    "TimestampGreaterThan": _Comparison(parse_timestamp, operator.gt, _TIMESTAMP_LITERAL),
    "TimestampLessThanEquals": _Comparison(parse_timestamp, operator.le, _TIMESTAMP_LITERAL),
    "TimestampGreaterThanEquals": _Comparison(parse_timestamp, operator.ge, _TIMESTAMP_LITERAL),
}

_TYPE_TESTS: dict[str, tuple[Callable[[Any], bool], str | None]] = {
    "IsNull": (lambda value: value is None, "x is None"),
    "IsNumeric": (lambda value: type(value) in (int, float), _NUMBER),
    "IsString": (lambda value: type(value) is str, _STRING),
    "IsBoolean": (lambda value: type(value) is bool, _BOOLEAN),
    "IsTimestamp": (lambda value: parse_timestamp(value) is not None, None),
}
"""Each type test as a function and as Python source on ``x`` (see ``_Comparison.source``)."""

_PATH_SUFFIX = "Path"
OPERATORS: frozenset[str] = frozenset(
    [*_COMPARISONS, *(name + _PATH_SUFFIX for name in _COMPARISONS), *_TYPE_TESTS, "IsPresent", "StringMatches"]
)
"""Every comparison operator a JSONPath Choice rule may use."""
COMBINATORS: frozenset[str] = frozenset({"And", "Or", "Not"})

_COMMON_FIELDS = frozenset({"Next", "Comment", "Assign", "Output"})
_COMPARISON_FIELDS = _COMMON_FIELDS | {"Variable"}


# --- rules ------------------------------------------------------------------------------------------


def _wrong_language(*_: Any) -> bool:
    raise TypeError("this Choice rule belongs to the other query language: use matches() for JSONPath, matches_jsonata() for JSONata")


@dataclass(frozen=True, slots=True)
class InlineTest:
    """A comparison rule as Python source: ``source`` tests the name ``x`` bound to the value at
    ``variable``. Where ``variable`` finds nothing the rule fails (``States.Runtime``), and the
    caller must leave that to :meth:`ChoiceRule.matches`."""

    variable: Path
    source: str


@dataclass(frozen=True, slots=True)
class ChoiceRule:
    """A compiled Choice rule. ``next`` is the ``Next`` of a top-level rule (None inside And/Or/Not).

    ``assign`` and ``output`` are the rule's ``Assign`` and (JSONata) ``Output`` as written; the IR
    swaps in their compiled templates, which ``steps.run_choice`` renders.
    """

    query_language: str
    next: str | None = None
    assign: Mapping[str, Any] | None = None
    output: Any = None
    inline: InlineTest | None = None
    """The rule as Python source, for code generators; None unless a plain comparison (no And/Or/Not, ``...Path`` or IsPresent)."""
    _test: Callable[[Scope], bool] = field(default=_wrong_language, repr=False)
    _condition: Callable[[dict[str, Any]], bool] = field(default=_wrong_language, repr=False)

    def matches(self, scope: Scope) -> bool:
        """Evaluate a JSONPath rule against the state's effective input, context and variables."""
        return self._test(scope)

    @property
    def test(self) -> Callable[[Scope], bool]:
        """``matches`` as a plain function, one call less for generated code."""
        return self._test

    def matches_jsonata(self, bindings: dict[str, Any]) -> bool:
        """Evaluate a JSONata rule's ``Condition`` with the bindings the engine built for the state."""
        return self._condition(bindings)


def compile_rule(rule: Mapping[str, Any]) -> ChoiceRule:
    """Compile one Choice rule, top-level or nested: a comparison, And/Or/Not, or a JSONata Condition."""
    if not isinstance(rule, Mapping):
        raise ExpressionError(f"a Choice rule must be an object, got {type(rule).__name__}")
    extras = _extras(rule)
    if "Condition" in rule:
        return ChoiceRule(JSONATA, _condition=_compile_condition(rule), **extras)
    test = _compile_test(rule, nested=False)
    return ChoiceRule(JSONPATH, inline=_inline_test(rule), _test=test, **extras)


def _has_literal(value: Any) -> bool:
    """Whether ``repr(value)`` is Python source for it: not for NaN or infinities (a Python dict can hold them)."""
    return not isinstance(value, float) or math.isfinite(value)


def _inline_test(rule: Mapping[str, Any]) -> InlineTest | None:
    """The Python source of a compiled comparison (called after ``_compile_test`` accepted the rule)."""
    operators = [name for name in rule if name in _COMPARISONS or name in _TYPE_TESTS]
    if len(operators) != 1 or set(rule) - _COMMON_FIELDS - {"Variable", operators[0]}:
        return None
    name, operand = operators[0], rule[operators[0]]
    if name in _TYPE_TESTS:
        source = _TYPE_TESTS[name][1]
        if source is None or type(operand) is not bool:
            return None
        source = source if operand else f"not ({source})"
    else:
        template = _COMPARISONS[name].source
        if template is None or _COMPARISONS[name].key(operand) is None or not _has_literal(operand):
            return None
        source = template.format(repr(operand))
    return InlineTest(_compile_path(rule["Variable"], "Variable"), source)


def _extras(rule: Mapping[str, Any]) -> dict[str, Any]:
    next_state = rule.get("Next")
    if next_state is not None and not isinstance(next_state, str):
        raise ExpressionError(f"Next must be a state name, got {next_state!r}")
    assign = rule.get("Assign")
    if assign is not None and not isinstance(assign, Mapping):
        raise ExpressionError(f"Assign must be an object of variable names, got {assign!r}")
    return {"next": next_state, "assign": assign, "output": rule.get("Output")}


def _compile_test(rule: Mapping[str, Any], nested: bool) -> Callable[[Scope], bool]:
    if not isinstance(rule, Mapping):
        raise ExpressionError(f"a Choice rule must be an object, got {type(rule).__name__}")
    if nested:
        misplaced = sorted(set(rule) & {"Next", "Assign", "Output"})
        if misplaced:
            raise ExpressionError(f"{', '.join(misplaced)} belongs on a top-level Choice rule, not inside And/Or/Not")
    combinators = [name for name in rule if name in COMBINATORS]
    operators = [name for name in rule if name in OPERATORS]
    _reject_unknown(rule)
    if len(combinators) + len(operators) != 1:
        found = combinators + operators
        raise ExpressionError(
            "a Choice rule needs exactly one operator (or And/Or/Not), "
            + (f"found {', '.join(found)}" if found else "found none")
        )
    if combinators:
        if "Variable" in rule:
            raise ExpressionError(f"{combinators[0]} combines rules and takes no Variable")
        return _compile_combinator(combinators[0], rule[combinators[0]])
    return _compile_comparison(rule, operators[0])


def _reject_unknown(rule: Mapping[str, Any]) -> None:
    for name in rule:
        if name in _COMPARISON_FIELDS or name in COMBINATORS or name in OPERATORS:
            continue
        close = difflib.get_close_matches(name, sorted(OPERATORS | COMBINATORS | _COMPARISON_FIELDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ExpressionError(f"unknown Choice rule field {name!r}{hint}")


def _compile_combinator(name: str, operand: Any) -> Callable[[Scope], bool]:
    if name == "Not":
        if not isinstance(operand, Mapping):
            raise ExpressionError("Not takes one Choice rule (an object)")
        inner = _compile_test(operand, nested=True)
        return lambda scope: not inner(scope)
    if not isinstance(operand, list) or not operand:
        raise ExpressionError(f"{name} takes a non-empty array of Choice rules")
    tests = tuple(_compile_test(item, nested=True) for item in operand)
    if name == "And":
        return lambda scope: all(test(scope) for test in tests)
    return lambda scope: any(test(scope) for test in tests)


def _invalid_path(text: str) -> StatesError:
    return StatesError(RUNTIME, f"Invalid path '{text}': The choice state's condition path references an invalid value.")


def _compile_path(text: Any, field_name: str) -> Path:
    if not isinstance(text, str):
        raise ExpressionError(f"{field_name} must be a path string such as '$.value', got {text!r}")
    try:
        return compile_path(text)
    except ExpressionError as exc:
        raise ExpressionError(f"{field_name}: {exc}") from exc


def _reader(text: Any, field_name: str) -> Callable[[Scope], Any]:
    """Read a Variable or ``...Path`` operand, failing as AWS does when it matches nothing."""
    read = _compile_path(text, field_name).reader()

    def read_or_fail(scope: Scope) -> Any:
        try:
            return read(scope)
        except StatesError:
            raise _invalid_path(text) from None

    return read_or_fail


def _compile_comparison(rule: Mapping[str, Any], name: str) -> Callable[[Scope], bool]:
    if "Variable" not in rule:
        raise ExpressionError(f"{name} needs a Variable: the path of the value to test")
    operand = rule[name]
    if name == "IsPresent":
        return _compile_is_present(rule["Variable"], _bool_operand(name, operand))
    variable = _reader(rule["Variable"], "Variable")
    if name in _TYPE_TESTS:
        type_test, expected = _TYPE_TESTS[name][0], _bool_operand(name, operand)
        return lambda scope: type_test(variable(scope)) is expected
    if name == "StringMatches":
        pattern = _compile_wildcard(operand)
        return lambda scope: type(value := variable(scope)) is str and pattern(value) is not None
    if name.endswith(_PATH_SUFFIX):
        comparison = _COMPARISONS[name[: -len(_PATH_SUFFIX)]]
        other = _reader(operand, name)
        return _compare_with_path(variable, comparison, other)
    comparison = _COMPARISONS[name]
    literal = comparison.key(operand)
    if literal is None:
        raise ExpressionError(f"{name} compares with {comparison.literal}, got {operand!r}")
    return _compare_with_literal(variable, comparison, literal)


def _compare_with_literal(variable: Callable[[Scope], Any], comparison: _Comparison, literal: Key) -> Callable[[Scope], bool]:
    key, compare = comparison.key, comparison.compare

    def test(scope: Scope) -> bool:
        value = key(variable(scope))
        return value is not None and compare(value, literal)

    return test


def _compare_with_path(
    variable: Callable[[Scope], Any], comparison: _Comparison, other: Callable[[Scope], Any]
) -> Callable[[Scope], bool]:
    key, compare = comparison.key, comparison.compare

    def test(scope: Scope) -> bool:
        value = key(variable(scope))
        if value is None:
            return False
        against = key(other(scope))
        return against is not None and compare(value, against)

    return test


def _compile_is_present(text: Any, expected: bool) -> Callable[[Scope], bool]:
    read = _compile_path(text, "Variable").read

    def test(scope: Scope) -> bool:
        try:
            read(scope)
        except StatesError:
            return not expected
        return expected

    return test


def _bool_operand(name: str, operand: Any) -> bool:
    if type(operand) is not bool:
        raise ExpressionError(f"{name} takes true or false, got {operand!r}")
    return operand


def _compile_wildcard(pattern: Any) -> Callable[[str], Any]:
    """StringMatches: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash."""
    if not isinstance(pattern, str):
        raise ExpressionError(f"StringMatches takes a pattern string such as 'log-*.txt', got {pattern!r}")
    parts: list[str] = []
    literal: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise ExpressionError(f"StringMatches pattern {pattern!r} ends in a lone backslash; write '\\\\\\\\' for one")
            literal.append(escaped)
        elif char == "*":
            parts.append(re.escape("".join(literal)))
            literal.clear()
            parts.append(".*")
        else:
            literal.append(char)
    parts.append(re.escape("".join(literal)))
    return re.compile("".join(parts), re.DOTALL).fullmatch


# --- JSONata conditions ----------------------------------------------------------------------------


def _compile_condition(rule: Mapping[str, Any]) -> Callable[[dict[str, Any]], bool]:
    unknown = sorted(set(rule) - _COMMON_FIELDS - {"Condition"})
    if unknown:
        raise ExpressionError(f"a JSONata Choice rule takes Condition, Next, Assign and Output; not {', '.join(unknown)}")
    condition = rule["Condition"]
    if type(condition) is bool:
        return lambda bindings: condition
    from asw_airflow.semantics.jsonata import compile_jsonata, is_jsonata

    if not is_jsonata(condition):
        raise ExpressionError(f"Condition must be true, false or a JSONata expression '{{% ... %}}', got {condition!r}")
    expression = compile_jsonata(condition)
    evaluate, source = expression.evaluate, expression.text

    def test(bindings: dict[str, Any]) -> bool:
        result = evaluate(bindings, "Condition")
        if type(result) is not bool:
            raise StatesError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{source}' specified for the field 'Condition' returned an unexpected "
                f"result type. Expected 'boolean', but was '{json_type(result)}' for value: {_shown(result)}",
            )
        return result

    return test


def _shown(value: Any) -> str:
    try:
        return compact_json(value)
    except (TypeError, ValueError):
        return repr(value)


# --- a Choice state's branching --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChoiceBranching:
    """A Choice state's ``Choices`` and ``Default``: the first matching rule wins, else Default."""

    rules: tuple[ChoiceRule, ...]
    default: str | None
    query_language: str

    def select(self, scope: Scope) -> ChoiceRule | None:
        """The first JSONPath rule that matches, so the engine can also apply its Assign."""
        for rule in self.rules:
            if rule.matches(scope):
                return rule
        return None

    def select_jsonata(self, bindings: dict[str, Any]) -> ChoiceRule | None:
        """The first JSONata rule whose Condition holds, so the engine can apply its Assign and Output."""
        for rule in self.rules:
            if rule.matches_jsonata(bindings):
                return rule
        return None

    def next_state(self, rule: ChoiceRule | None) -> str:
        """The selected rule's Next, else Default; ``States.NoChoiceMatched`` when there is neither."""
        if rule is not None:
            return rule.next  # type: ignore[return-value]  # compile_choices requires Next
        if self.default is None:
            raise StatesError(NO_CHOICE_MATCHED, NO_CHOICE_MATCHED_CAUSE)
        return self.default


def compile_choices(choices: Sequence[Mapping[str, Any]], default: str | None) -> ChoiceBranching:
    """Compile a Choice state's ``Choices`` (non-empty, each with ``Next``) and ``Default``."""
    if not isinstance(choices, Sequence) or isinstance(choices, str) or not choices:
        raise ExpressionError("Choices must be a non-empty array of Choice rules")
    if default is not None and not isinstance(default, str):
        raise ExpressionError(f"Default must be a state name, got {default!r}")
    rules = []
    for index, rule in enumerate(choices):
        try:
            compiled = compile_rule(rule)
        except ExpressionError as exc:
            raise ExpressionError(f"Choices[{index}]: {exc}") from exc
        if compiled.next is None:
            raise ExpressionError(f"Choices[{index}]: a top-level Choice rule needs Next")
        rules.append(compiled)
    languages = {rule.query_language for rule in rules}
    if len(languages) > 1:
        raise ExpressionError("Choices mixes JSONata Condition rules with JSONPath Variable rules; use one query language")
    return ChoiceBranching(tuple(rules), default, languages.pop())
