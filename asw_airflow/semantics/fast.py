"""Fast paths: runs of JSONPath Pass, Choice, Succeed, Map and Parallel states written as one Python function.

The general steps (``semantics.steps``) read a state's fields on every run. For its hot loop the
engine instead writes, once per machine, Python source for *blocks*: a block starts at a state
and follows ``Next``, entering a Choice rule's target in place when nothing else leads there, so
a straight chain or a Map iterator of Pass -> Choice -> Pass is one function with no dispatch.
A block ends where control may come from elsewhere (a join, a loop head), at an End, or at a
state it cannot hold (Task, Wait, Fail, anything that reads ``$$`` or assigns variables); the
caller's loop then goes on from the state named in its result.

The source composes the compiled pieces the general steps use (Choice rule tests, templates,
ResultPath writers, size bounds) and inlines only the plainest: a field path through dicts as
``v["a"]["b"]``, a template of such paths and constants as a literal, a ``$.key`` ResultPath as
``{**v, "key": r}``. Whatever inline code cannot do raises (KeyError, TypeError...) and the
state is run again by its general step, which gives its exact output or error. So a block ends
the way the general steps would; ``tests/semantics/test_fast_properties.py`` checks that on
random definitions.

A block is a :data:`FastStep`: ``step(value, size, scope, limit, cancel) -> (next, output, size)``.
``scope`` is the caller's scratch :class:`Scope` (``$$`` and variables), reused by setting
``value``. ``cancel.stopped`` is polled between blocks. Besides, a block has four attributes:
``exits`` (it may hand over to another block), ``handovers`` (the states it may hand over
to), ``uses_scope`` (else it also takes None for
``scope``) and ``bound`` (``(constant, factor)``: its output is at most ``constant + factor *``
its input's size; None when not known).

Payload sizes: without a limit, blocks do only the states' work. With one, ``size`` bounds the
UTF-8 JSON size of ``value`` (measured on entry when the caller does not know it). Each state
bounds its output from it (see ``dataflow.insert_overhead`` and ``Template.size_bound``) and
serialises only when the bound passes ``limit``, so ``States.DataLimitExceeded`` is raised
exactly when the real size exceeds it. Where every state's bound is linear in the block's input
size, the block is also written without these checks, and one comparison at entry picks that form.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from asw_airflow.ir import JSONPATH, ChoiceState, Machine, MapState, ParallelState, PassState, State, SucceedState
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import EMPTY_OBJECT_SIZE, Frame, check_size, insert_overhead, selects_a_part, write_bound
from asw_airflow.semantics.errors import StatesError
from asw_airflow.semantics.paths import Path, compile_path, json_size
from asw_airflow.semantics.scope import Scope
from asw_airflow.semantics.templates import Template

Bound = tuple[int, int] | None
"""A size bound while writing a block: ``(constant, factor)`` for ``constant + factor * size``,
``size`` bounding the state's input; None when only measuring can tell."""
FastStep = Callable[[Any, "int | None", Scope, "int | None", Any], tuple["str | None", Any, "int | None"]]

_INLINE_ERRORS = (LookupError, TypeError, ValueError, StatesError)
"""What inline code raises where the general step decides: a missing key, a wrong type, a failed closure."""
_UNCHECKED_FACTOR = 64
"""Blocks whose bounds grow faster than this many times their input get no unchecked form: it would never run."""
_WARM_RUNS = 16
"""Runs of a machine, or entries of a state, before its blocks are written. Writing and compiling
a block costs about what 30 to 50 runs through the general steps do (1,000 Pass states: ~230 ms
against ~6 ms a run), so a workflow run once is not made slower by it."""
_MAX_DEPTH = 32
"""Indentation levels a block may nest Choice branches to (CPython allows 100); deeper targets start blocks of their own."""
_LITERAL_LIMIT = 512
"""Template constants with longer source stay with the template's own renderer, to keep the source small."""


class Cancelled(Exception):
    """A compiled run saw ``cancel.stopped``: the execution was stopped or a sibling failed."""


class _Unwritable(Exception):
    """A block cannot be written: the general path runs its states."""


class _Steps(dict):  # type: ignore[type-arg]
    """Blocks by the state they start at, each written on first use: a run pays only for what it enters."""

    def __init__(self, machine: Machine, sized: bool):
        super().__init__()
        self._machine = machine
        self._sized = sized

    def __missing__(self, name: str) -> FastStep | None:
        step = _compile_block(self._machine, name, self._sized) if _holds(self._machine, name) else None
        self[name] = step
        return step  # type: ignore[no-any-return]


def fast_steps(machine: Machine, sized: bool = True) -> Mapping[str, FastStep | None]:
    """The block starting at each state, None where the state needs the general path; cached on the machine.

    ``sized``: blocks for runs with a payload limit (they keep size bounds), else for runs without.
    """
    key = "fast_steps" if sized else "fast_steps_unsized"
    compiled = machine.memo.get(key)
    if compiled is None:
        compiled = machine.memo[key] = _Steps(machine, sized)
    return compiled


class _WarmSteps(dict):  # type: ignore[type-arg]
    """:class:`_Steps` for a state only once it has been entered ``_WARM_RUNS`` times; None before."""

    def __init__(self, steps: Mapping[str, FastStep | None]):
        super().__init__()
        self._steps = steps
        self._entries: dict[str, int] = {}

    def __missing__(self, name: str) -> FastStep | None:
        entries = self._entries[name] = self._entries.get(name, 0) + 1
        if entries < _WARM_RUNS:
            return None
        step = self[name] = self._steps[name]
        return step


def warm_steps(machine: Machine, sized: bool = True) -> Mapping[str, FastStep | None]:
    """:func:`fast_steps` for a loop over states: a state gets its block once it has been entered often."""
    key = "warm_steps" if sized else "warm_steps_unsized"
    warm = machine.memo.get(key)
    if warm is None:
        warm = machine.memo[key] = _WarmSteps(fast_steps(machine, sized))
    return warm


def _run_key(sized: bool) -> str:
    return "fast_run" if sized else "fast_run_unsized"


def warm_machine(machine: Machine, sized: bool = True, runs: int = 1) -> FastStep | None:
    """:func:`compiled_machine` once the machine has been asked for ``runs`` (in all) ``_WARM_RUNS``
    times; None before, and the caller runs the general path."""
    key = _run_key(sized)
    try:
        return machine.memo[key]  # type: ignore[no-any-return]
    except KeyError:
        runs = machine.memo[f"{key}_runs"] = machine.memo.get(f"{key}_runs", 0) + runs
        return compiled_machine(machine, sized) if runs >= _WARM_RUNS else None


def compiled_machine(machine: Machine, sized: bool = True) -> FastStep | None:
    """The whole machine as one :data:`FastStep` whose next is always None, or None when some
    state needs the general path; cached on the machine."""
    key = _run_key(sized)
    try:
        return machine.memo[key]  # type: ignore[no-any-return]
    except KeyError:
        run = machine.memo[key] = _machine_run(machine, sized) if _holds_all(machine) else None
        return run


def _machine_run(machine: Machine, sized: bool) -> FastStep:
    """The start block itself when it never hands over to another, else a loop over blocks."""
    blocks = fast_steps(machine, sized)
    pending, seen = [machine.start_at], set()
    while pending:  # every block a run may reach, so the loop below never meets a missing one
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            block = blocks[name]
            if block is None:
                return None  # its source would not compile: the general path runs the machine
            pending.extend(block.handovers)  # type: ignore[attr-defined]
    first = blocks[machine.start_at]
    if not first.exits:  # type: ignore[union-attr]
        return first

    def run(value: Any, size: int | None, scope: Scope, limit: int | None, cancel: Any) -> tuple[None, Any, int | None]:
        name, value, size = first(value, size, scope, limit, cancel)
        while name is not None:
            if cancel.stopped:
                raise Cancelled
            name, value, size = blocks[name](value, size, scope, limit, cancel)  # type: ignore[misc]
        return None, value, size

    run.exits, run.handovers, run.bound = True, frozenset(), None  # type: ignore[attr-defined]
    run.uses_scope = any(blocks[name].uses_scope for name in seen)  # type: ignore[attr-defined,union-attr]
    return run


def _holds(machine: Machine, name: str) -> bool:
    """Whether a block can run this state: JSONPath, no ``$$``, no Assign, and nested machines that compile whole."""
    state = machine.states[name]
    if name not in machine.context_free or state.query_language != JSONPATH or state.assign is not None:
        return False
    kind = type(state)
    if kind is PassState or kind is SucceedState:
        return True
    if kind is ChoiceState:
        return all(rule.assign is None for rule in state.branching.rules)  # type: ignore[attr-defined]
    if kind is MapState or kind is ParallelState:
        nested = (state.iterator,) if kind is MapState else state.branches  # type: ignore[attr-defined]
        return not state.retry and not state.catch and all(_holds_all(inner) for inner in nested)  # type: ignore[attr-defined]
    return False


def _holds_all(machine: Machine) -> bool:
    """Whether blocks can run every state of the machine (cached on it)."""
    holds = machine.memo.get("fast_holds")
    if holds is None:
        holds = machine.memo["fast_holds"] = all(_holds(machine, name) for name in machine.states)
    return holds  # type: ignore[no-any-return]


# --- the general path, for what inline code cannot do ---------------------------------------------

_GENERAL: dict[type, Callable[[Any, Any, Frame], steps.StepOutcome]] = {
    PassState: steps.run_pass,
    ChoiceState: steps.run_choice,
    SucceedState: steps.run_succeed,
}


def _general(state: State, value: Any, scope: Scope | None, limit: int | None) -> tuple[str | None, Any, int | None]:
    """Run ``state`` by its general step: its exact output and next state, or its error."""
    frame = Frame(payload_limit=limit) if scope is None else Frame(scope.context, scope.variables, limit)
    outcome = _GENERAL[type(state)](state, value, frame)
    return outcome.next, outcome.output, None if limit is None else json_size(outcome.output)


# --- Map and Parallel run their compiled machines one after another -------------------------------


def map_iterations(
    iterator: Machine, sized: bool, scope: Scope | None, limit: int | None, cancel: Any
) -> tuple[Callable[[Any, int | None], Any], Bound, Callable[[Any, int | None], list[Any]] | None]:
    """What ``steps.map_in_order`` takes to run a compiled iterator: one iteration, the bound of
    its output from its item, and all iterations as one loop (None when it cannot be one)."""
    iterate = compiled_machine(iterator, sized)
    assert iterate is not None
    loop = _items_loop(iterator, sized)
    one = lambda item, item_size: iterate(item, item_size, scope, limit, cancel)  # noqa: E731
    every = None if loop is None else lambda items, item_size: loop(items, item_size, scope, limit, cancel)  # noqa: E731
    return one, getattr(iterate, "bound", None), every


def _map_step(state: MapState, sized: bool) -> Callable[[Any, int | None, Scope, int | None, Any], Any]:
    """The Map's items, its iterations in item order (no Task or Wait inside: threads would only add overhead), its output."""

    def run_map(value: Any, size: int | None, scope: Scope, limit: int | None, cancel: Any) -> Any:
        frame = Frame(scope.context, scope.variables, limit)
        items = steps.map_items(state, value, frame)
        steps.map_concurrency(state, value, frame)  # a bad MaxConcurrencyPath fails here as in the interpreter
        tolerance = steps.map_tolerance(state, value, frame)
        iterations = map_iterations(state.iterator, sized, scope, limit, cancel)
        return steps.map_in_order(state, value, frame, items, tolerance, size, *iterations).output

    return run_map


def _parallel_step(state: ParallelState, sized: bool) -> Callable[[Any, int | None, Scope, int | None, Any], Any]:
    """The Parallel's branches one after another on the same input, outputs in branch order."""
    branches = [compiled_machine(branch, sized) for branch in state.branches]

    def run_parallel(value: Any, size: int | None, scope: Scope, limit: int | None, cancel: Any) -> Any:
        frame = Frame(scope.context, scope.variables, limit)
        branch_input = steps.parallel_input(state, value, frame)
        results = [run(branch_input, None, scope, limit, cancel)[1] for run in branches]  # type: ignore[misc]
        return steps.parallel_collect(state, value, results, frame).output

    return run_parallel


# --- writing a block --------------------------------------------------------------------------------


def _compile_block(machine: Machine, start: str, sized: bool, loop: bool = False) -> Any:
    """The block's source, written once with a size check per state and, where every state's
    output is bounded from the block's input, again without: a single test at entry then shows
    that no state can pass the limit. None if Python cannot compile it (nesting beyond its limits).

    ``loop``: the block as a loop over Map items instead, ``run(items, item_size, scope, limit,
    cancel) -> outputs``, for a block that never hands over (see :func:`_items_loop`).
    """
    depth = 2 if loop else 1  # inside the function, or inside its loop
    checked = _BlockWriter(machine, sized, loop=loop)
    try:
        checked.chain(start, depth, (0, 1))
    except _Unwritable:
        return None
    if loop:
        lines = [
            "def block(items, item_size, scope, limit, cancel):",
            "    outputs = []",
            "    append = outputs.append",
            "    for _, v in items:",
            "        size = item_size",
        ]
    else:
        lines = ["def block(v, size, scope, limit, cancel):"]
    indent = "    " * depth
    if sized:
        lines.append(f"{indent}if size is None: size = json_size(v)")
        peak = checked.peak()
        if peak is not None and peak[1] <= _UNCHECKED_FACTOR:
            unchecked = _BlockWriter(machine, sized, checks=False, names=checked.names, loop=loop)
            unchecked.chain(start, depth + 1, (0, 1))
            lines.append(f"{indent}if {_bound_source(peak)} <= limit:  # no state's output can pass the limit")
            lines.extend(unchecked.lines)
    lines.extend(checked.lines)
    if loop:
        lines.append("    return outputs")
    namespace = dict(checked.names)
    source = "\n".join(lines)
    try:
        code = compile(source, f"<fast block {machine.pointer or '/'} {start}>", "exec")
    except (SyntaxError, RecursionError, MemoryError):  # a limit of Python's compiler: the general steps run it
        return None
    exec(code, namespace)  # noqa: S102  # our own source
    block = namespace["block"]
    block.__doc__ = source  # what runs, for a reader in a debugger
    block.exits = checked.exits  # whether it may hand over to another block
    block.handovers = frozenset(checked.handovers)  # the states it may hand over to
    block.uses_scope = checked.uses_scope  # whether it needs a Scope, or takes None (then no $$ or variables)
    block.bound = None if checked.exits else checked.leaf_bound()  # its output's size from its input's, if linear
    return block


def _items_loop(machine: Machine, sized: bool) -> Callable[..., list[Any]] | None:
    """A Map iterator's one block as a loop over the items, when its outputs' sizes need no
    adding up (no limit, or a bound from each item's size): no call per item. Cached on the machine."""
    key = "items_loop" if sized else "items_loop_unsized"
    if key not in machine.memo:
        block = compiled_machine(machine, sized)
        loops = block is not None and not block.exits and (not sized or block.bound is not None)  # type: ignore[attr-defined]
        machine.memo[key] = _compile_block(machine, machine.start_at, sized, loop=True) if loops else None
    return machine.memo[key]  # type: ignore[no-any-return]


def _incoming(machine: Machine) -> dict[str, int]:
    """How many transitions lead to each state; StartAt counts as one."""
    counts = dict.fromkeys(machine.states, 0)
    counts[machine.start_at] += 1
    for state in machine.states.values():
        for name in state.successors():
            counts[name] += 1
    return counts


class _BlockWriter:
    """Python source for one block; ``names`` are the objects it refers to (states, compiled pieces).

    Expressions are built as strings. Each state's output is bounded from the block's input
    (:data:`Bound`) as the writer goes, to choose the unchecked form and the block's ``bound``.
    """

    def __init__(
        self, machine: Machine, sized: bool, checks: bool = True, names: dict[str, Any] | None = None, loop: bool = False
    ):
        self.machine = machine
        self.loop = loop
        """Written inside a loop over Map items: an End appends the output and goes on to the next item."""
        self.sized = sized
        self.checks = sized and checks
        """Each state checks its output (``sized`` without ``checks``: the block's entry did)."""
        self.incoming = _incoming(machine)
        self.lines: list[str] = []
        self.names: dict[str, Any] = names if names is not None else {
            "_general": _general,
            "write_bound": write_bound,
            "_INLINE_ERRORS": _INLINE_ERRORS,
            "check_size": check_size,
            "json_size": json_size,
        }
        self.entered: set[str] = set()
        self.exits = False
        self.handovers: set[str] = set()
        self.uses_scope = False
        self.bounds: list[Bound] = []
        """Each state's output bound from the block's input, in the order written."""
        self.leaves: list[Bound] = []
        """The same where the block returns."""

    def peak(self) -> Bound:
        """A bound of every state's output from the block's input, None if some state's is unknown."""
        return _widest(self.bounds)

    def leaf_bound(self) -> Bound:
        """A bound of the block's output from its input."""
        return _widest(self.leaves)

    def leave(self, depth: int, cumulative: Bound, name: str | None = None) -> None:
        """Return from the block: at an End (``name`` None) or handing over to ``name``."""
        self.leaves.append(cumulative)
        if name is not None:
            self.exits = True
            self.handovers.add(name)
        if self.loop:
            assert name is None, "a block that hands over is not written as a loop"
            self.line(depth, "append(v)")
            self.line(depth, "continue")
            return
        size = "size" if self.checks or not self.sized else _bound_source(cumulative)  # type: ignore[arg-type]
        self.line(depth, f"return {name!r}, v, {size}")

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def set_scope(self, var: str, body: list[str]) -> None:
        """Let a compiled piece (a closure of the general steps) see ``var`` as ``$``."""
        self.uses_scope = True
        body.append(f"scope.value = {var}")

    def bind(self, value: Any, prefix: str) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def chain(self, name: str, depth: int, cumulative: Bound) -> None:
        """States from ``name`` on, while each is the only way into the next; ``cumulative``
        bounds the input of ``name`` from the block's input."""
        while True:
            state = self.machine.states[name]
            self.entered.add(name)
            self.line(depth, f"# {name!r}")  # repr: a name is text, never code
            kind = type(state)
            if kind is ChoiceState:
                self.choice(state, depth, cumulative)  # type: ignore[arg-type]
                return
            following = None if state.end or kind is SucceedState else state.next
            if kind is PassState:
                bound = self.pass_state(state, depth)  # type: ignore[arg-type]
            elif kind is SucceedState:
                bound = self.succeed(state, depth)  # type: ignore[arg-type]
            else:
                nested = (state.iterator,) if kind is MapState else state.branches  # type: ignore[attr-defined]
                if any(compiled_machine(inner, self.sized) is None for inner in nested):
                    raise _Unwritable  # a nested block Python would not compile
                run = _map_step(state, self.sized) if kind is MapState else _parallel_step(state, self.sized)  # type: ignore[arg-type]
                self.uses_scope = True
                self.line(depth, f"v = {self.bind(run, 'run_')}(v, size, scope, limit, cancel)")
                if self.sized:  # what follows needs a bound; the output was checked, not bounded
                    self.line(depth, "size = json_size(v)" if following is not None else "size = None")
                bound = None
            cumulative = _compose(cumulative, bound)
            self.bounds.append(cumulative)
            if following is None or not self.enterable(following, depth):
                self.leave(depth, cumulative, following)
                return
            name = following

    def enterable(self, name: str, depth: int) -> bool:
        """Whether to write ``name`` here: it has no other way in, and Python's indentation has room."""
        return depth < _MAX_DEPTH and name not in self.entered and self.incoming[name] == 1 and _holds(self.machine, name)

    def pass_state(self, state: PassState, depth: int) -> Bound:
        """``steps.run_pass`` for JSONPath: Result or InputPath + Parameters; ResultSelector; ResultPath; OutputPath."""
        body: list[str] = []
        bound: Bound
        if state.has_result:  # as the general step: the same object every run (states never mutate values)
            result, bound = self.bind(state.result, "result_"), (json_size(state.result), 0)
        else:
            result = self.variable(self.path(state.input_path, "v", body), "r", body)
            bound = _selection_bound(state.input_path, (0, 1))
            if state.parameters is not None:
                result, bound = self.template(state.parameters, result, bound, body)
        if state.result_selector is not None:
            result, bound = self.template(state.result_selector, result, bound, body)
        path = state.result_path
        exact = [f"b = check_size(o, limit, {state.name!r})"]
        measure = exact
        if path is None:
            output, bound = "v", (0, 1)
        elif not path.steps:
            output = result
        else:
            writer = self.bind(path.writer(), "write_")
            keys = path.path.field_keys
            if keys is not None and len(keys) == 1:  # the writer's own shortcut, written out
                body.append(f"o = {{**v, {keys[0]!r}: {result}}} if type(v) is dict else {writer}(v, {result})")
            else:
                body.append(f"o = {writer}(v, {result})")
            output = "o"
            overhead = insert_overhead(path)
            bound = None if bound is None else (bound[0] + overhead, bound[1] + 1)  # the input, the result, the keys
            measure = [f"b = write_bound(size, {result}, {overhead})", f"if b > limit: {exact[0]}"]
        if state.output_path is None:
            output, bound = "{}", (EMPTY_OBJECT_SIZE, 0)
        elif state.output_path.text != "$":
            output = self.path(state.output_path, self.variable(output, "o", body), body)
            bound = _selection_bound(state.output_path, bound)
            if not selects_a_part(state.output_path):
                measure = exact  # its matches may outgrow what the write bound covers
        if not body and output == "v" and bound == (0, 1) and not self.checks:
            return bound  # passes its input on; the entry test covered it (a block's input may be over the limit)
        if not self.checks:
            body.append(f"v = {output}")
            self.guarded(self.bind(state, "state_"), body, depth)
            return bound
        if output != "o":
            body.append(f"o = {output}")
        if bound is None:
            body.extend(measure)
        else:
            body.append(f"b = {_bound_source(bound)}")
            body.append("if b > limit:")
            body.extend("    " + text for text in measure)
        body.append("size = b")
        body.append("v = o")
        self.guarded(self.bind(state, "state_"), body, depth)
        return bound

    def succeed(self, state: SucceedState, depth: int) -> Bound:
        """``steps.run_succeed``: InputPath then OutputPath; the output is a part of the input, or ``{}``."""
        body: list[str] = []
        selected = self.variable(self.path(state.input_path, "v", body), "o", body)
        body.append(f"o = {self.path(state.output_path, selected, body)}")
        bound = _selection_bound(state.output_path, _selection_bound(state.input_path, (0, 1)))
        self.track_size(bound, "o", body)
        body.append("v = o")
        self.guarded(self.bind(state, "state_"), body, depth)
        return bound

    def choice(self, state: ChoiceState, depth: int, cumulative: Bound) -> None:
        """``steps.run_choice``: the first matching rule's target (entered in place when nothing else leads there).

        Rules are tested in order, each only while none before it matched (``k == -1``), so a rule's
        Variable is read only when the general step would read it; ``k == -1`` after them all is the Default.
        """
        branching = state.branching
        body: list[str] = []
        selected = self.variable(self.path(state.input_path, "v", body), "c", body)
        if any(rule.inline is None or _path_source(rule.inline.variable, selected) is None for rule in branching.rules):
            self.set_scope(selected, body)
        body.append("k = -1")
        for index, rule in enumerate(branching.rules):
            indent = "" if index == 0 else "    "
            if index:
                body.append("if k == -1:")
            inline = None if rule.inline is None else _path_source(rule.inline.variable, selected)
            if inline is None:
                body.append(f"{indent}if {self.bind(rule.test, 'test_')}(scope): k = {index}")
            else:
                body.append(f"{indent}x = {inline}")
                body.append(f"{indent}if {rule.inline.source}: k = {index}")  # type: ignore[union-attr]
        if branching.default is None:  # no rule matched: the general step raises States.NoChoiceMatched
            body.append("if k == -1: raise LookupError")
        output = self.variable(self.path(state.output_path, selected, body), "o", body)
        bound = _selection_bound(state.output_path, _selection_bound(state.input_path, (0, 1)))
        self.track_size(bound, output, body)
        if output != "v":
            body.append(f"v = {output}")
        # The general step decides what inline code could not, and the block goes on from its choice.
        targets = {rule.next: index for index, rule in reversed(list(enumerate(branching.rules)))}
        if branching.default is not None:
            targets.setdefault(branching.default, -1)
        at = self.bind(state, "state_")
        self.guarded(at, body, depth, self.bind(targets, "targets_"))
        cumulative = _compose(cumulative, bound)
        self.bounds.append(cumulative)
        choices = [(index, rule.next) for index, rule in enumerate(branching.rules)]
        if branching.default is not None:
            choices.append((-1, branching.default))
        for position, (index, target) in enumerate(choices):
            last = position == len(choices) - 1
            inner = depth if len(choices) == 1 else depth + 1
            if not last:
                self.line(depth, f"{'if' if position == 0 else 'elif'} k == {index}:")
            elif inner > depth:
                self.line(depth, "else:")
            if self.enterable(target, inner):  # type: ignore[arg-type]
                self.chain(target, inner, cumulative)  # type: ignore[arg-type]
            else:
                self.leave(inner, cumulative, target)

    def track_size(self, bound: Bound, output: str, body: list[str]) -> None:
        """Keep ``size`` a bound of a state's output that the general step does not check (Choice, Succeed)."""
        if not self.checks or bound == (0, 1):
            return
        body.append(f"size = {bound[0]}" if bound is not None and bound[1] == 0 else f"size = json_size({output})")

    def guarded(self, at: str, body: list[str], depth: int, targets: str | None = None) -> None:
        """``body`` with the state's general step taking over from its input when inline code raises.

        ``at`` names the state. The general step's output becomes ``v``; for a Choice, ``targets``
        names the map from its next state to the branch ``k`` the block goes on with.
        """
        self.line(depth, "try:")
        for text in body:
            self.line(depth + 1, text)
        self.line(depth, "except _INLINE_ERRORS:")
        size = "size" if self.checks or not self.sized else "_"  # the unchecked form keeps the entry size
        if targets is None:
            self.line(depth + 1, f"_, v, {size} = _general({at}, v, scope, limit)")
        else:
            self.line(depth + 1, f"chosen, v, {size} = _general({at}, v, scope, limit)")
            self.line(depth + 1, f"k = {targets}[chosen]")

    # --- expressions ----------------------------------------------------------------------------

    def variable(self, expression: str, name: str, body: list[str]) -> str:
        """``expression`` as a plain name, assigning it to ``name`` first when it is more than one."""
        if expression.isidentifier():
            return expression
        body.append(f"{name} = {expression}")
        return name

    def path(self, path: Path | None, var: str, body: list[str]) -> str:
        """An expression reading InputPath/OutputPath ``path`` from ``var``: ``null`` gives ``{}``, ``$`` the value."""
        if path is None:
            return "{}"
        inline = _path_source(path, var)
        if inline is not None:
            return inline
        self.set_scope(var, body)
        return f"{self.bind(path.reader(), 'read_')}(scope)"

    def template(self, template: Template, var: str, bound: Bound, body: list[str]) -> tuple[str, Bound]:
        """``template`` rendered from ``var`` into ``r``, and the render's bound from ``var``'s ``bound``."""
        inline = _template_source(template.source, var)
        if inline is None:
            self.set_scope(var, body)
            inline = f"{self.bind(template.renderer, 'render_')}(scope)"
        body.append(f"r = {inline}")
        if template.size_bound is None or bound is None:
            return "r", None
        constant, factor = template.size_bound  # constant + factor * (what it reads from)
        return "r", (constant + factor * bound[0], factor * bound[1])


def _selection_bound(path: Path | None, bound: Bound) -> Bound:
    """The bound of what InputPath/OutputPath ``path`` selects from a value bounded by ``bound``:
    ``{}`` for null, a part of it for a Reference Path on ``$``; unknown for a variable, or for
    full JSONPath, whose matches come as a list that may outgrow the value."""
    if path is None:
        return EMPTY_OBJECT_SIZE, 0
    return bound if selects_a_part(path) else None


def _widest(bounds: list[Bound]) -> Bound:
    """One bound at least as large as each of ``bounds``; None if one is unknown, or there are none."""
    if not bounds or None in bounds:
        return None
    return max(b[0] for b in bounds), max(b[1] for b in bounds)  # type: ignore[index]


def _compose(outer: Bound, inner: Bound) -> Bound:
    """``inner`` (a state's bound from its input) applied to ``outer`` (its input's bound)."""
    if outer is None or inner is None:
        return None
    return inner[0] + inner[1] * outer[0], inner[1] * outer[1]


def _bound_source(bound: tuple[int, int]) -> str:
    """``constant + factor * size`` as short Python source."""
    constant, factor = bound
    scaled = "0" if factor == 0 else "size" if factor == 1 else f"{factor} * size"
    return scaled if constant == 0 else str(constant) if factor == 0 else f"{scaled} + {constant}"


def _path_source(path: Path, var: str) -> str | None:
    """``var["a"]["b"]`` for a field path on ``$``; None for other roots, indexes or full JSONPath."""
    keys = path.field_keys
    return None if keys is None else var + "".join(f"[{key!r}]" for key in keys)


def _template_source(value: Any, var: str, depth: int = 0) -> str | None:
    """A template as a Python display building a fresh value, when every ``.$`` is a field path; else None.

    None too past ``_MAX_DEPTH`` levels of objects and arrays: Python's parser nests displays only so deep.
    """
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        fields = []
        for key, item in value.items():
            if key.endswith(".$"):
                if not isinstance(item, str) or not item.startswith("$"):
                    return None  # an intrinsic call
                inline = _path_source(compile_path(item), var)
                key = key[:-2]
            else:
                inline = _template_source(item, var, depth + 1)
            if inline is None:
                return None
            fields.append(f"{key!r}: {inline}")
        return "{" + ", ".join(fields) + "}"
    if isinstance(value, list):
        items = [_template_source(item, var, depth + 1) for item in value]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    return _literal(value)


def _literal(value: Any) -> str | None:
    """Python source for a JSON scalar, None for non-finite floats (no literal) and long strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    source = repr(value)
    return source if len(source) <= _LITERAL_LIMIT else None
