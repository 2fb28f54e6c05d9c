"""The TCSL error model: named runtime errors with a cause, as ASL and ASW report them."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

ALL = "States.ALL"
RUNTIME = "States.Runtime"
TIMEOUT = "States.Timeout"
TASK_FAILED = "States.TaskFailed"
PERMISSIONS = "States.Permissions"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"

# Terminal errors: AWS lets no wildcard catch or retry them, only their own name.
_UNCATCHABLE_BY_WILDCARD = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """A runtime error a workflow can Retry or Catch: ``error`` is its name, ``cause`` the human detail."""

    def __init__(self, error: str, cause: str | None = None):
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause

    def to_output(self) -> dict[str, Any]:
        """The error output a Catcher passes on: ``{"Error": ..., "Cause": ...}``."""
        output: dict[str, Any] = {"Error": self.error}
        if self.cause is not None:
            output["Cause"] = self.cause
        return output


class ExpressionError(ValueError):
    """A path, template, intrinsic call or rule that cannot be compiled; the message says what would be right."""


def error_matches(error_equals: Sequence[str], error: str) -> bool:
    """Whether a Retrier's or Catcher's ``ErrorEquals`` covers ``error``, by AWS's rules.

    ``States.ALL`` matches every error except the terminal ``States.Runtime`` and
    ``States.DataLimitExceeded`` (AWS, not the written spec). ``States.TaskFailed``
    matches every error except ``States.Timeout`` (ASL spec); being narrower than
    ``States.ALL`` it does not reach the terminal errors either. Any other name
    matches only itself, case-sensitively.
    """
    for name in error_equals:
        if name == error:
            return True
        if error in _UNCATCHABLE_BY_WILDCARD:
            continue
        if name == ALL or (name == TASK_FAILED and error != TIMEOUT):
            return True
    return False


def check_fields(obj: Any, what: str, fields: frozenset[str]) -> None:
    """``obj`` must be an object with only ``fields``; ``what`` (``a Retrier``) names it in the message."""
    if not isinstance(obj, Mapping):
        raise ExpressionError(f"{what} must be an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - fields)
    if unknown:
        raise ExpressionError(f"{what} does not accept {', '.join(unknown)}; fields are {', '.join(sorted(fields))}")


def parse_error_equals(names: Any) -> tuple[str, ...]:
    """A Retrier's or Catcher's ``ErrorEquals``, checked: non-empty strings, ``States.ALL`` alone."""
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise ExpressionError(f"ErrorEquals must be a non-empty array of error names, got {names!r}")
    if ALL in names and len(names) > 1:
        raise ExpressionError("States.ALL must appear alone in ErrorEquals")
    return tuple(names)
