"""Every path, intrinsic call, JSONata expression and Choice rule compiles, with the runtime's own compilers.

The semantics modules are the one place that knows what a valid path or rule is; this pass
only finds where each expression sits and turns ``ExpressionError`` into a located diagnostic.
"""

from __future__ import annotations

from typing import Any, Callable

from asw_airflow.semantics.choice import compile_rule
from asw_airflow.semantics.errors import ExpressionError
from asw_airflow.semantics.intrinsics import is_intrinsic, parse_intrinsic
from asw_airflow.semantics.jsonata import compile_jsonata, is_jsonata
from asw_airflow.semantics.paths import compile_path, compile_reference_path
from asw_airflow.validate.codes import (
    INVALID_CHOICE_RULE,
    INVALID_INTRINSIC,
    INVALID_JSONATA,
    INVALID_JSONPATH,
    INVALID_QUERY_LANGUAGE,
    INVALID_REFERENCE_PATH,
)
from asw_airflow.validate.machine import JSONATA, JSONPATH, Machine, State
from asw_airflow.validate.report import Report

PATHS = ("InputPath", "OutputPath")
REFERENCE_PATHS = (
    "ResultPath", "ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath", "HeartbeatSecondsPath",
    "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath",
)
TEMPLATES = ("Parameters", "ResultSelector", "ItemSelector", "Assign")
ERROR_FIELDS = ("ErrorPath", "CausePath")
JSONPATH_ONLY = frozenset(PATHS + REFERENCE_PATHS + ERROR_FIELDS + ("Parameters", "ResultSelector"))
JSONATA_ONLY = frozenset({"Arguments", "Output", "Items"})
_NESTED = frozenset({"Branches", "Iterator", "ItemProcessor", "Choices", "Catch", "Retry"})


def check_expressions(machine: Machine, report: Report) -> None:
    """Compile each state's expressions in the state's query language and report those that fail."""
    for state in machine.states:
        if state.type is None:
            continue
        _check_language(state, report)
        if state.query_language == JSONPATH:
            _check_jsonpath_state(state, report)
        else:
            _check_jsonata_state(state, report)
        _check_choice_rules(state, report)


def _report(report: Report, code: str, pointer: str, compile: Callable[[Any], Any], text: Any) -> None:
    try:
        compile(text)
    except ExpressionError as exc:
        report.add(code, str(exc), pointer)


def _check_language(state: State, report: Report) -> None:
    if state.scope.query_language == JSONATA and state.body.get("QueryLanguage") == JSONPATH:
        report.add(INVALID_QUERY_LANGUAGE,
                   "a state cannot use JSONPath when its state machine uses JSONata; remove QueryLanguage here",
                   f"{state.pointer}/QueryLanguage")
    wrong = JSONATA_ONLY if state.query_language == JSONPATH else JSONPATH_ONLY
    for name in state.body:
        if name in wrong:
            other = JSONATA if state.query_language == JSONPATH else JSONPATH
            report.add(INVALID_QUERY_LANGUAGE,
                       f"{name} is a {other} field but {state.type} state {state.name!r} uses {state.query_language}; "
                       f"set \"QueryLanguage\": \"{other}\" or use the {state.query_language} equivalent",
                       f"{state.pointer}/{name}", key=True)


def _check_jsonpath_state(state: State, report: Report) -> None:
    body, pointer = state.body, state.pointer
    for name in PATHS:
        if isinstance(body.get(name), str):
            _report(report, INVALID_JSONPATH, f"{pointer}/{name}", compile_path, body[name])
    for name in REFERENCE_PATHS:
        if isinstance(body.get(name), str):
            _report(report, INVALID_REFERENCE_PATH, f"{pointer}/{name}", compile_reference_path, body[name])
    for name in ERROR_FIELDS:
        if isinstance(body.get(name), str):
            _check_dynamic(body[name], f"{pointer}/{name}", report, compile_reference_path, INVALID_REFERENCE_PATH)
    for name in TEMPLATES:
        _check_template(body.get(name), f"{pointer}/{name}", report)
    for name in ("ItemReader", "ResultWriter"):
        if isinstance(body.get(name), dict):
            _check_template(body[name].get("Parameters"), f"{pointer}/{name}/Parameters", report)
    catchers = body.get("Catch")
    if isinstance(catchers, list):
        for index, catcher in enumerate(catchers):
            if isinstance(catcher, dict):
                if isinstance(catcher.get("ResultPath"), str):
                    _report(report, INVALID_REFERENCE_PATH, f"{pointer}/Catch/{index}/ResultPath",
                            compile_reference_path, catcher["ResultPath"])
                _check_template(catcher.get("Assign"), f"{pointer}/Catch/{index}/Assign", report)


def _check_dynamic(text: str, pointer: str, report: Report, compile: Callable[[Any], Any], code: str) -> None:
    """A ``key.$`` value or ErrorPath/CausePath: an intrinsic call or a path."""
    if is_intrinsic(text):
        _report(report, INVALID_INTRINSIC, pointer, parse_intrinsic, text)
    elif text.startswith("States."):
        report.add(INVALID_INTRINSIC, f"{text!r} looks like an intrinsic call but is not one; write States.Name(args)",
                   pointer)
    else:
        _report(report, code, pointer, compile, text)


def _check_template(value: Any, pointer: str, report: Report) -> None:
    """Walk a payload template: each ``key.$`` value must be a path or an intrinsic call."""
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
            if key.endswith(".$"):
                if isinstance(item, str):
                    _check_dynamic(item, child, report, compile_path, INVALID_JSONPATH)
                else:
                    report.add(INVALID_JSONPATH, f"{key!r} ends in '.$', so its value must be a path or an "
                               f"intrinsic call string, got {type(item).__name__}", child)
            else:
                _check_template(item, child, report)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_template(item, f"{pointer}/{index}", report)


def _check_jsonata_state(state: State, report: Report) -> None:
    for name, value in state.body.items():
        if name not in _NESTED:
            _check_jsonata_value(value, f"{state.pointer}/{name}", report)
    catchers = state.body.get("Catch")
    if isinstance(catchers, list):
        for index, catcher in enumerate(catchers):
            _check_jsonata_value(catcher, f"{state.pointer}/Catch/{index}", report)


def _check_jsonata_value(value: Any, pointer: str, report: Report) -> None:
    if isinstance(value, str):
        if is_jsonata(value):
            _report(report, INVALID_JSONATA, pointer, compile_jsonata, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_jsonata_value(item, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}", report)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_jsonata_value(item, f"{pointer}/{index}", report)


def _check_choice_rules(state: State, report: Report) -> None:
    rules = state.body.get("Choices")
    if state.type != "Choice" or not isinstance(rules, list):
        return
    for index, rule in enumerate(rules):
        pointer = f"{state.pointer}/Choices/{index}"
        if not isinstance(rule, dict) or report.reported_under(pointer):
            continue
        if state.query_language == JSONPATH and "Condition" in rule:
            report.add(INVALID_QUERY_LANGUAGE, "Condition is a JSONata field; this Choice state uses JSONPath, "
                       "so write a comparison such as {\"Variable\": \"$.x\", \"NumericEquals\": 1}",
                       f"{pointer}/Condition", key=True)
            continue
        if state.query_language == JSONATA and "Condition" not in rule:
            report.add(INVALID_CHOICE_RULE, "a JSONata Choice rule needs Condition: a {% JSONata %} boolean expression",
                       pointer)
            continue
        _report(report, INVALID_CHOICE_RULE, pointer, compile_rule, rule)
        if state.query_language == JSONPATH:
            _check_template(rule.get("Assign"), f"{pointer}/Assign", report)
