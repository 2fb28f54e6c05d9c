"""Tencent Cloud failures as TCSL errors, so workflows Retry/Catch them by name.

    API error                   -> StatesError(<Tencent error code>, <API message>)
    client/API timeout          -> States.Timeout
    cloud function that raised  -> States.TaskFailed, Cause = the function's error message
    cloud function timed out    -> States.Timeout

The full table is in docs/tencentcloud.md.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from asw_airflow.semantics.errors import TASK_FAILED, TIMEOUT, StatesError
from asw_airflow.tencentcloud.client import CLIENT_TIMEOUT, TencentCloudError

# SCF's statusCode for a function that ran past its configured timeout.
SCF_TIMEOUT_STATUS = 433


def from_api_error(exc: TencentCloudError) -> StatesError:
    """An API or client failure, named by its Tencent error code (client timeouts are ``States.Timeout``)."""
    if exc.code == CLIENT_TIMEOUT:
        return StatesError(TIMEOUT, f"{exc.action or 'request'} timed out: {exc.message}")
    cause = exc.message + (f" (RequestId {exc.request_id})" if exc.request_id else "")
    return StatesError(exc.code, cause)


def from_function_result(function: str, result: Mapping[str, Any]) -> StatesError | None:
    """The error of a synchronous Invoke ``Result``, or ``None`` when the function returned normally.

    SCF reports a raising function with a non-zero ``InvokeResult`` and an ``ErrMsg`` that is
    usually JSON ``{"errorMessage", "statusCode", ...}``; the Cause is that message.
    """
    err_msg = result.get("ErrMsg") or ""
    if not err_msg and not result.get("InvokeResult"):
        return None
    detail: Any = None
    try:
        detail = json.loads(err_msg)
    except ValueError:
        pass
    if isinstance(detail, dict):
        message = str(detail.get("errorMessage") or err_msg)
        if detail.get("statusCode") == SCF_TIMEOUT_STATUS:
            return StatesError(TIMEOUT, f"cloud function {function}: {message}")
    else:
        message = err_msg or f"InvokeResult {result.get('InvokeResult')}"
    return StatesError(TASK_FAILED, message)
