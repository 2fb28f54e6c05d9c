"""Fast steps: JSONPath Pass, Choice and Succeed states compiled into one closure each, cached per machine.

They compose the same pieces as ``steps.run_pass``/``run_choice``/``run_succeed`` (path readers,
templates, Choice rules, ResultPath writes), with every decision that depends only on the
definition (is InputPath ``$``? is there a Result?) taken once, so the engine's hot loop is one
call per state: ``step(value, size, scope, limit) -> (next, output, size)``.

``scope`` is the caller's scratch :class:`Scope` (its ``$$`` and variables), reused by setting
``value``: allocating one per state showed in profiles. A step exists only for states that need
no per-state context (``Machine.context_free``) and assign no variables.

``size`` is an upper bound of the UTF-8 JSON size of ``value`` (None: unknown). Each step bounds
its output from it (a ResultPath insert adds at most the result and the keys, see
``dataflow.insert_overhead``; a template renders at most its ``Template.size_bound``) and
serialises only when the bound passes the limit, so ``States.DataLimitExceeded`` is raised
exactly when the real size exceeds it.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Mapping

from asw_airflow.ir import JSONPATH, ChoiceState, Machine, PassState, State, SucceedState
from asw_airflow.semantics.dataflow import EMPTY_OBJECT_SIZE, check_size, insert_overhead, path_selector
from asw_airflow.semantics.scope import Scope

FastStep = Callable[[Any, "int | None", Scope, "int | None"], tuple["str | None", Any, "int | None"]]
_MEMO_KEY = "fast_steps"


class _Steps(dict):  # type: ignore[type-arg]
    """Fast steps by state name, each compiled on first use: a run pays only for the states it enters."""

    def __init__(self, machine: Machine):
        super().__init__()
        self._machine = machine

    def __missing__(self, name: str) -> FastStep | None:
        machine = self._machine
        step = compile_fast_step(machine.states[name]) if name in machine.context_free else None
        self[name] = step
        return step


def fast_steps(machine: Machine) -> Mapping[str, FastStep | None]:
    """Each state's fast step, None where the state needs the general path; cached on the machine."""
    compiled = machine.memo.get(_MEMO_KEY)
    if compiled is None:
        compiled = machine.memo[_MEMO_KEY] = _Steps(machine)
    return compiled


def compile_fast_step(state: State) -> FastStep | None:
    """The fast step of ``state``, or None when it is not a JSONPath Pass/Choice/Succeed without Assign."""
    if state.query_language != JSONPATH or state.assign is not None:
        return None
    if type(state) is PassState:
        return _pass_step(state)
    if type(state) is ChoiceState:
        if any(rule.assign is not None for rule in state.branching.rules):
            return None
        return _choice_step(state)
    if type(state) is SucceedState:
        return _choice_step(state)
    return None


def _pass_step(state: PassState) -> FastStep:
    """``steps.run_pass``: Result, or InputPath + Parameters; ResultSelector; ResultPath; OutputPath; size check."""
    next_state = None if state.end else state.next
    name = state.name
    has_result, constant = state.has_result, state.result
    constant_size = _json_size(constant)
    select_input = path_selector(state.input_path)
    select_output = path_selector(state.output_path)
    input_floor = EMPTY_OBJECT_SIZE if state.input_path is None else 0  # null InputPath: {}, maybe larger than the input
    empty_output = state.output_path is None
    render = None if state.parameters is None else state.parameters.renderer
    render_bound = None if state.parameters is None else state.parameters.size_bound
    selector = None if state.result_selector is None else state.result_selector.renderer
    selector_bound = None if state.result_selector is None else state.result_selector.size_bound
    result_path = state.result_path
    replaces = result_path is not None and not result_path.steps
    write = None if result_path is None or replaces else result_path.writer()
    insert_size = 0 if write is None else insert_overhead(result_path)  # type: ignore[arg-type]

    def step(value: Any, size: int | None, scope: Scope, limit: int | None) -> tuple[str | None, Any, int | None]:
        if has_result:
            result, bound = constant, constant_size
        else:
            if select_input is None:
                result = value
            else:
                scope.value = value
                result = select_input(scope)
            bound = None if size is None else max(size, input_floor)
            if render is not None:
                scope.value = result
                result = render(scope)
                bound = None if render_bound is None or bound is None else render_bound[0] + render_bound[1] * bound
        if selector is not None:
            scope.value = result
            result = selector(scope)
            bound = None if selector_bound is None or bound is None else selector_bound[0] + selector_bound[1] * bound
        if write is not None:
            output = write(value, result)
            bound = None if bound is None or size is None else size + bound + insert_size
        elif not replaces:
            output, bound = value, size
        else:
            output = result
        if select_output is not None:
            scope.value = output
            output = select_output(scope)
            if empty_output:
                bound = EMPTY_OBJECT_SIZE
        if limit is not None and (bound is None or bound > limit):
            bound = check_size(output, limit, name)
        return next_state, output, bound

    return step


def _choice_step(state: ChoiceState | SucceedState) -> FastStep:
    """``steps.run_choice`` (or ``run_succeed``): InputPath, the first matching rule's Next, OutputPath.

    The output is a part of the input (so the input's size bound still holds) or, through a null
    InputPath or OutputPath, a part of ``{}``.
    """
    select_input = path_selector(state.input_path)
    select_output = path_selector(state.output_path)
    empties = state.input_path is None or state.output_path is None
    choose = state.branching.chooser() if isinstance(state, ChoiceState) else None

    def step(value: Any, size: int | None, scope: Scope, limit: int | None) -> tuple[str | None, Any, int | None]:
        if select_input is not None:
            scope.value = value
            value = select_input(scope)
        if choose is None:
            next_state = None
        else:
            scope.value = value
            next_state = choose(scope)
        if select_output is not None:
            scope.value = value
            value = select_output(scope)
        return next_state, value, EMPTY_OBJECT_SIZE if empties else size

    return step


# --- size bounds --------------------------------------------------------------------------------


def _json_size(value: Any) -> int:
    return check_size(value, sys.maxsize)  # type: ignore[return-value]  # an int with a limit
