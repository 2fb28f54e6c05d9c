"""Catch as data plus one decision: which Catcher, if any, takes an error after retries are spent.

Applying a Catcher (placing the error output with ResultPath, or rendering a JSONata
``Output``/``Assign``) is ``steps.catch_output``'s job; this module only parses and picks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from asw_airflow.semantics.errors import ExpressionError, check_fields, error_matches, parse_error_equals
from asw_airflow.semantics.paths import ReferencePath, compile_reference_path

_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Output", "Assign", "Comment"})
_WHOLE_INPUT = compile_reference_path("$")


@dataclass(frozen=True)
class Catcher:
    """One entry of a state's ``Catch`` list.

    ``result_path`` (JSONPath mode) is where the error output ``{"Error", "Cause"}`` goes in the
    state input; the default ``$`` replaces the input with it, None (``"ResultPath": null``)
    discards it so the state input passes through unchanged. ``output`` (JSONata) and ``assign``
    are the ``Output`` and ``Assign`` as written; the IR swaps in their compiled templates, which
    ``steps.catch_output`` renders.
    """

    error_equals: tuple[str, ...]
    next: str
    result_path: ReferencePath | None = field(default=_WHOLE_INPUT)
    output: Any = None
    assign: Mapping[str, Any] | None = None

    @classmethod
    def from_definition(cls, obj: Mapping[str, Any]) -> Catcher:
        """Build a Catcher from its TCSL object; ``ExpressionError`` names the first field that is wrong."""
        check_fields(obj, "a Catcher", _FIELDS)
        next_state = obj.get("Next")
        if not isinstance(next_state, str) or not next_state:
            raise ExpressionError(f"a Catcher needs Next, the state that handles the error; got {next_state!r}")
        assign = obj.get("Assign")
        if assign is not None and not isinstance(assign, Mapping):
            raise ExpressionError(f"Assign must be an object of variable names, got {assign!r}")
        return cls(
            error_equals=parse_error_equals(obj.get("ErrorEquals")),
            next=next_state,
            result_path=_result_path(obj),
            output=obj.get("Output"),
            assign=assign,
        )


def _result_path(obj: Mapping[str, Any]) -> ReferencePath | None:
    if "ResultPath" not in obj:
        return _WHOLE_INPUT
    text = obj["ResultPath"]
    if text is None:
        return None
    try:
        path = compile_reference_path(text)
    except ExpressionError as exc:
        raise ExpressionError(f"ResultPath: {exc}") from exc
    if path.root != "$":
        raise ExpressionError(f"ResultPath must start with '$' (the state input), got {text!r}")
    return path


def find_catcher(catchers: Sequence[Catcher], error: str) -> Catcher | None:
    """The first Catcher whose ``ErrorEquals`` matches ``error`` (AWS's wildcard rules), else None."""
    for catcher in catchers:
        if error_matches(catcher.error_equals, error):
            return catcher
    return None
