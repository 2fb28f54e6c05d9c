"""A state's I/O pipeline and the context object, written once for the engine and the Airflow operators.

JSONPath states: InputPath -> Parameters -> (result) -> ResultSelector -> Assign -> ResultPath
-> OutputPath. JSONata states: Arguments -> (result) -> Output and Assign, with ``$states``
bound to the input, result, error output and context. Assign evaluates every expression
against the variables as they were before the state (assignments land after Output), and
returns the new values for the caller to store in its own scope: inner Map/Parallel scopes
read outer variables but their assignments never leak out.
"""

from __future__ import annotations

import json
from collections import ChainMap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from asw_airflow.ir import JSONATA, Setting, State
from asw_airflow.semantics.errors import DATA_LIMIT_EXCEEDED, RUNTIME, StatesError
from asw_airflow.semantics.paths import VALUE_ROOT, Path, ReferencePath, json_size
from asw_airflow.semantics.scope import Scope

DEFAULT_PAYLOAD_LIMIT = 256 * 1024
"""Bytes of UTF-8 JSON a state's input or output may have, as AWS and ASW enforce."""

_NO_RESULT = object()
@dataclass(frozen=True, slots=True)
class Frame:
    """What a running state can see besides its input: ``$$``, the variables in scope, the payload limit."""

    context: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    payload_limit: int | None = DEFAULT_PAYLOAD_LIMIT

    def scope(self, value: Any) -> Scope:
        return Scope(value, self.context, self.variables)

    def with_context(self, context: Mapping[str, Any]) -> Frame:
        return Frame(context, self.variables, self.payload_limit)

    def inner(self, context: Mapping[str, Any]) -> Frame:
        """The frame of a Map iteration or Parallel branch: outer variables stay readable, not writable."""
        return Frame(context, ChainMap({}, self.variables), self.payload_limit)


# --- context object ----------------------------------------------------------------------------


def timestamp(moment: datetime | str) -> str:
    """ISO 8601 in UTC with milliseconds, as ``$$`` shows times (``2024-01-02T03:04:05.678Z``)."""
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        return moment.isoformat(timespec="milliseconds") + "Z"
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    # isoformat is C and truncates like the old strftime did; it is called once per state entered.
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def make_context(
    execution_id: str,
    name: str,
    input: Any,
    start_time: datetime | str,
    state_machine_id: str,
    state_machine_name: str,
    role_arn: str | None = None,
    redrive_count: int = 0,
) -> dict[str, Any]:
    """The ``$$`` object of a new execution (``State`` is filled in by :func:`enter_state`)."""
    execution: dict[str, Any] = {
        "Id": execution_id,
        "Input": input,
        "Name": name,
        "StartTime": timestamp(start_time),
        "RedriveCount": redrive_count,
    }
    if role_arn is not None:
        execution["RoleArn"] = role_arn
    return {
        "Execution": execution,
        "StateMachine": {"Id": state_machine_id, "Name": state_machine_name},
    }


def enter_state(
    context: Mapping[str, Any], state_name: str, entered_time: datetime | str, retry_count: int | None = None
) -> dict[str, Any]:
    """``context`` as seen inside ``state_name``: a new dict sharing the execution-wide parts.

    ``retry_count`` is given for Task states only: AWS shows ``$$.State.RetryCount`` there and
    nowhere else.
    """
    state: dict[str, Any] = {"EnteredTime": timestamp(entered_time), "Name": state_name}
    if retry_count is not None:
        state["RetryCount"] = retry_count
    return {**context, "State": state}


def map_item_context(context: Mapping[str, Any], index: int, value: Any) -> dict[str, Any]:
    """``context`` of Map iteration ``index`` (``$$.Map.Item.Index`` and ``.Value``)."""
    item = dict(context)
    item["Map"] = {"Item": {"Index": index, "Value": value}}
    return item


# --- JSONata bindings --------------------------------------------------------------------------


def bindings(frame: Frame, input: Any, result: Any = _NO_RESULT, error_output: Any = _NO_RESULT) -> dict[str, Any]:
    """Variables for a JSONata expression: Assign variables plus ``$states`` (input, result, errorOutput, context)."""
    states: dict[str, Any] = {"input": input, "context": frame.context}
    if result is not _NO_RESULT:
        states["result"] = result
    if error_output is not _NO_RESULT:
        states["errorOutput"] = error_output
    variables = dict(frame.variables)
    variables["states"] = states
    return variables


# --- JSONPath pipeline -------------------------------------------------------------------------


def apply_input_path(state: State, input: Any, frame: Frame) -> Any:
    """InputPath: absent or ``$`` passes the input, ``null`` gives ``{}``."""
    return _select(state.input_path, input, frame)


def _select(path: Path | None, value: Any, frame: Frame) -> Any:
    select = path_selector(path)
    return value if select is None else select(frame.scope(value))


EMPTY_OBJECT_SIZE = 2
"""Bytes of ``{}``, what a null InputPath or OutputPath gives."""


def _empty_object(scope: Scope) -> dict[str, Any]:
    return {}


def path_selector(path: Path | None) -> Callable[[Scope], Any] | None:
    """InputPath/OutputPath as a reader: ``null`` (None) gives ``{}``; None for ``$``, so callers skip the read."""
    if path is None:
        return _empty_object
    if path.text == "$":
        return None
    return path.reader()


def effective_input(state: State, input: Any, frame: Frame) -> Any:
    """What the state works on: InputPath then Parameters (JSONPath), or Arguments (JSONata)."""
    if state.query_language == JSONATA:
        arguments = getattr(state, "arguments", None)
        if arguments is None:
            return input
        return arguments.render(bindings(frame, input), "Arguments")
    value = apply_input_path(state, input, frame)
    parameters = getattr(state, "parameters", None)
    if parameters is not None:
        value = parameters.render(frame.scope(value))
    return value


def select_result(state: State, result: Any, frame: Frame) -> Any:
    """ResultSelector on a raw result (JSONPath only; JSONata shapes results in Output)."""
    selector = getattr(state, "result_selector", None)
    if selector is None or state.query_language == JSONATA:
        return result
    return selector.render(frame.scope(result))


def assign_variables(assign: Any, state: State, input: Any, result: Any, frame: Frame, error_output: Any = _NO_RESULT) -> dict[str, Any]:
    """The variables ``assign`` sets, all evaluated against the values before this state.

    JSONPath: ``$`` is the result (after ResultSelector) or, for a Catcher, the error output.
    JSONata: ``$states.input``, ``$states.result`` / ``$states.errorOutput``.
    """
    if assign is None:
        return {}
    if state.query_language == JSONATA:
        return assign.render(bindings(frame, input, result, error_output), "Assign")
    value = error_output if error_output is not _NO_RESULT else result
    return assign.render(frame.scope(value))


def merge_result(state: State, input: Any, result: Any, frame: Frame) -> Any:
    """ResultPath then OutputPath: the state's output built from its raw input and its (selected) result."""
    path = state.result_path  # type: ignore[attr-defined]
    if path is None:
        merged = input
    elif not path.steps:
        merged = result
    else:
        merged = path.write(input, result)
    return apply_output_path(state, merged, frame)


def apply_output_path(state: State, value: Any, frame: Frame) -> Any:
    """OutputPath: absent or ``$`` passes the value, ``null`` gives ``{}``."""
    return _select(state.output_path, value, frame)


def jsonata_output(state: State, input: Any, result: Any, frame: Frame, default: Any) -> Any:
    """JSONata ``Output`` with ``$states.input``/``$states.result``; ``default`` when the state has none."""
    if state.output is None:
        return default
    return state.output.render(bindings(frame, input, result), "Output")


def finish(
    state: State, input: Any, result: Any, frame: Frame, sizes: tuple[int | None, int | None] = (None, None)
) -> tuple[Any, dict[str, Any]]:
    """Output and assignments of a state that produced ``result`` (Pass, Task, Map, Parallel).

    JSONPath: ResultSelector, Assign on the selected result, ResultPath, OutputPath. JSONata:
    Output (default: the result) and Assign. The output is checked against the payload limit,
    without serialising it when ``sizes`` (bounds of the input's and the result's JSON sizes,
    None where unknown) bound it within the limit. When only the input's size is known and
    ResultPath inserts, the (selected) result is measured first: usually far smaller than the
    output it lands in, it often settles the check.
    """
    if state.query_language == JSONATA:
        output = jsonata_output(state, input, result, frame, result)
        assigned = assign_variables(state.assign, state, input, result, frame)
    else:
        selected = select_result(state, result, frame)
        assigned = assign_variables(state.assign, state, input, selected, frame)
        output = merge_result(state, input, selected, frame)
    limit = frame.payload_limit
    if limit is None:
        return output, assigned
    input_size = sizes[0]
    bound = output_bound(state, *sizes)
    if (bound is None or bound > limit) and input_size is not None and state.query_language != JSONATA:
        path = state.result_path  # type: ignore[attr-defined]
        output_path = state.output_path
        if path is not None and path.steps and output_path is not None and selects_a_part(output_path):
            bound = write_bound(input_size, selected, insert_overhead(path))
    if bound is None or bound > limit:
        check_size(output, limit, state.name)
    return output, assigned


def output_bound(state: State, input_size: int | None, result_size: int | None) -> int | None:
    """A bound of the JSON size of a JSONPath state's output from bounds of its input's and its
    result's (None when unknown: then measure). ResultPath adds at most the result and
    :func:`insert_overhead`; a Reference Path OutputPath only selects, a null one gives ``{}``.
    ResultSelector, full JSONPath OutputPath and JSONata give None."""
    if state.query_language == JSONATA or getattr(state, "result_selector", None) is not None:
        return None
    if state.output_path is None:
        return EMPTY_OBJECT_SIZE
    if not selects_a_part(state.output_path):
        return None
    path = state.result_path  # type: ignore[attr-defined]
    if path is None:
        return input_size
    if result_size is None or (path.steps and input_size is None):
        return None
    return result_size if not path.steps else input_size + result_size + insert_overhead(path)  # type: ignore[operator]


def write_bound(input_size: int, result: Any, overhead: int) -> int:
    """A bound of the output of a ResultPath insert of ``result`` into an input of ``input_size``
    bytes, with the path's :func:`insert_overhead`: the result is measured, usually far smaller
    than the output it lands in."""
    return input_size + json_size(result) + overhead


def selects_a_part(path: Path) -> bool:
    """Whether InputPath/OutputPath ``path`` gives a part of what it reads (a Reference Path on
    ``$``), so no more bytes: full JSONPath gives a list of matches, which may repeat nested
    values and outgrow it, and a variable is not part of it at all."""
    return path.root == VALUE_ROOT and path.steps is not None


def insert_overhead(path: ReferencePath) -> int:
    """Bytes a ResultPath write adds besides the result: per key its quoted name, ``:`` and ``,``,
    and ``{}`` if the object on the way is missing (replacing a value or an array item adds nothing)."""
    return sum(json_size(step) + 4 for step in path.steps if isinstance(step, str))


def check_size(value: Any, limit: int | None, state_name: str | None = None) -> int | None:
    """``States.DataLimitExceeded`` when ``value`` serialises to more than ``limit`` UTF-8 bytes.

    Returns the size (None when there is no limit) so a caller can bound later sizes from it.
    """
    if limit is None:
        return None
    size = json_size(value)
    if size > limit:
        where = f"The state/task '{state_name}' returned" if state_name else "The input has"
        raise StatesError(
            DATA_LIMIT_EXCEEDED,
            f"{where} a result with a size exceeding the maximum number of bytes service limit ({limit}).",
        )
    return size


# --- settings read at run time -----------------------------------------------------------------


def resolve_setting(setting: Setting, input: Any, frame: Frame) -> Any:
    """The value of a ``Key``/``KeyPath`` setting for this input (paths read the effective input)."""
    if setting.expression is not None:
        return setting.expression.render(bindings(frame, input), setting.field)
    if setting.path is not None:
        return setting.path.read(frame.scope(input), setting.field)
    if setting.intrinsic is not None:
        return setting.intrinsic.evaluate(frame.scope(input))
    return setting.constant


def resolve_integer(setting: Setting, input: Any, frame: Frame, state_name: str, minimum: int = 0) -> int:
    """An integer setting (MaxConcurrency, TimeoutSeconds...); a wrong value fails with ``States.Runtime``."""
    value = resolve_setting(setting, input, frame)
    if isinstance(value, str) and setting.path is not None:
        try:
            value = int(value)
        except ValueError:
            pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        what = f": {setting.path.text}" if setting.path is not None else ""
        raise StatesError(
            RUNTIME,
            f"An error occurred while executing the state '{state_name}'. The {setting.field} field refers to "
            f'value "{shown}" which is not a valid integer{what}',
        )
    if value < minimum:
        base = setting.field.removesuffix("Path")
        raise StatesError(RUNTIME, f"An error occurred while executing the state '{state_name}'. {base} cannot be negative.")
    return value
