"""The TCSL error model: named runtime errors with a cause, as ASL and ASW report them."""

from __future__ import annotations

from typing import Any

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
