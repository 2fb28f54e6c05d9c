"""Per-state-type rules the schema cannot say: exclusive fields, ranges, ErrorEquals order, Task resources."""

from __future__ import annotations

from typing import Any

from asw_airflow.resource import ResourceError, WorkflowType, check_mode, parse_resource
from asw_airflow.semantics.errors import ALL, ExpressionError
from asw_airflow.semantics.retry import Retrier
from asw_airflow.validate.codes import (
    INVALID_ERROR_EQUALS,
    INVALID_FAIL,
    INVALID_MAP,
    INVALID_RESOURCE,
    INVALID_RETRY,
    INVALID_TIMEOUT,
    INVALID_WAIT,
)
from asw_airflow.validate.machine import Machine, State
from asw_airflow.validate.report import Report

WAIT_FIELDS = ("Seconds", "Timestamp", "SecondsPath", "TimestampPath")


def check_rules(machine: Machine, report: Report, workflow_type: WorkflowType) -> None:
    """Apply each state type's rules; fields the schema already rejected are not examined again."""
    for state in machine.states:
        kind = state.type
        if kind in ("Task", "Parallel", "Map"):
            _check_retry(state, report)
            _check_error_equals(state, "Catch", report)
        if kind == "Task":
            _check_resource(state, report, workflow_type)
            _check_timeouts(state, report)
        elif kind == "Wait":
            _check_wait(state, report)
        elif kind == "Fail":
            _exclusive(state, report, INVALID_FAIL, "Error", "ErrorPath")
            _exclusive(state, report, INVALID_FAIL, "Cause", "CausePath")
        elif kind == "Map":
            _check_map(state, report)


def _exclusive(state: State, report: Report, code: str, static: str, dynamic: str) -> bool:
    if static in state.body and dynamic in state.body:
        report.add(code, f"{state.type} state {state.name!r} has both {static} and {dynamic}; keep one",
                   f"{state.pointer}/{dynamic}", key=True)
        return False
    return True


def _check_error_equals(state: State, field: str, report: Report) -> None:
    """``States.ALL`` must be alone in its ErrorEquals and in the last Retrier or Catcher."""
    entries = state.body.get(field)
    if not isinstance(entries, list):
        return
    for index, entry in enumerate(entries):
        names = entry.get("ErrorEquals") if isinstance(entry, dict) else None
        if not isinstance(names, list) or ALL not in names:
            continue
        pointer = f"{state.pointer}/{field}/{index}/ErrorEquals"
        if len(names) > 1 and field == "Catch":  # Retrier.from_definition says so for Retry
            report.add(INVALID_ERROR_EQUALS, f"{ALL} must appear alone in ErrorEquals; move the other names "
                       "to an earlier Catcher", pointer)
        if index != len(entries) - 1:
            report.add(INVALID_ERROR_EQUALS, f"the {field} entry with {ALL} must be the last one; entries after it "
                       "can never match", pointer)


def _check_retry(state: State, report: Report) -> None:
    retriers = state.body.get("Retry")
    if not isinstance(retriers, list):
        return
    for index, retrier in enumerate(retriers):
        pointer = f"{state.pointer}/Retry/{index}"
        if not isinstance(retrier, dict):  # the schema has said so
            continue
        for field, message in _retrier_problems(retrier):
            field_pointer = f"{pointer}/{field}" if field else pointer
            if not report.reported_under(field_pointer):
                report.add(INVALID_RETRY, message, field_pointer)
    _check_error_equals(state, "Retry", report)


def _retrier_problems(retrier: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, message)`` for every bad field of a Retrier; field ``""`` for a problem of the whole.

    ``Retrier.from_definition`` stops at the first problem, but a user fixing a retrier wants
    them all at once. Each field is given to it alone, beside a valid ``ErrorEquals``, so the
    range rules stay written once, in ``semantics/retry.py``; the whole retrier is checked
    last for rules no single field breaks (a missing ``ErrorEquals``).
    """
    problems = []
    for field, value in retrier.items():
        alone = {"ErrorEquals": value} if field == "ErrorEquals" else {"ErrorEquals": [ALL], field: value}
        try:
            Retrier.from_definition(alone)
        except ExpressionError as exc:
            problems.append((field, str(exc)))
    if not problems:
        try:
            Retrier.from_definition(retrier)
        except ExpressionError as exc:
            problems.append(("", str(exc)))
    return problems


def _check_resource(state: State, report: Report, workflow_type: WorkflowType) -> None:
    resource = state.body.get("Resource")
    if not isinstance(resource, str):
        return
    try:
        check_mode(parse_resource(resource), workflow_type)
    except ResourceError as exc:
        report.add(INVALID_RESOURCE, str(exc), f"{state.pointer}/Resource")


def _static_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_timeouts(state: State, report: Report) -> None:
    timeout_ok = _exclusive(state, report, INVALID_TIMEOUT, "TimeoutSeconds", "TimeoutSecondsPath")
    heartbeat_ok = _exclusive(state, report, INVALID_TIMEOUT, "HeartbeatSeconds", "HeartbeatSecondsPath")
    timeout, heartbeat = state.body.get("TimeoutSeconds"), state.body.get("HeartbeatSeconds")
    if timeout_ok and heartbeat_ok and _static_int(timeout) and _static_int(heartbeat) and heartbeat >= timeout:
        report.add(INVALID_TIMEOUT, f"HeartbeatSeconds ({heartbeat}) must be less than TimeoutSeconds ({timeout})",
                   f"{state.pointer}/HeartbeatSeconds")


def _check_wait(state: State, report: Report) -> None:
    present = [name for name in WAIT_FIELDS if name in state.body]
    if len(present) == 1:
        return
    if present:
        report.add(INVALID_WAIT, f"Wait state {state.name!r} has {', '.join(present)}; give exactly one of "
                   f"{', '.join(WAIT_FIELDS)}", f"{state.pointer}/{present[1]}", key=True)
    else:
        report.add(INVALID_WAIT, f"Wait state {state.name!r} needs exactly one of {', '.join(WAIT_FIELDS)}",
                   state.pointer, key=True)


def _check_map(state: State, report: Report) -> None:
    body = state.body
    if "Iterator" in body and "ItemProcessor" in body:
        report.add(INVALID_MAP, f"Map state {state.name!r} has both Iterator and ItemProcessor; they are two names "
                   "for the same thing, keep one", f"{state.pointer}/Iterator", key=True)
    elif "Iterator" not in body and "ItemProcessor" not in body:
        report.add(INVALID_MAP, f"Map state {state.name!r} needs ItemProcessor (or Iterator): the states to run "
                   "for each item", state.pointer, key=True)
    _exclusive(state, report, INVALID_MAP, "MaxConcurrency", "MaxConcurrencyPath")
    _exclusive(state, report, INVALID_MAP, "ToleratedFailureCount", "ToleratedFailureCountPath")
    _exclusive(state, report, INVALID_MAP, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath")
