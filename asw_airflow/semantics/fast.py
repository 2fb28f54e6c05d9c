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
``value``. Blocks are written in two forms. Without a payload limit they do only the states'
work. With one, ``size`` bounds the UTF-8 JSON size of ``value`` (measured on entry when the
caller does not know it); each state bounds its output from it (see ``dataflow.insert_overhead``
and ``Template.size_bound``) and serialises only when the bound passes ``limit``, so
``States.DataLimitExceeded`` is raised exactly when the real size exceeds it. ``cancel.stopped``
is polled between blocks.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from asw_airflow.ir import JSONPATH, ChoiceState, Machine, MapState, ParallelState, PassState, State, SucceedState
from asw_airflow.semantics import steps
from asw_airflow.semantics.dataflow import EMPTY_OBJECT_SIZE, Frame, check_size, insert_overhead, json_size, write_bound
from asw_airflow.semantics.errors import StatesError
from asw_airflow.semantics.paths import VALUE_ROOT, Path, compile_path
from asw_airflow.semantics.scope import Scope
from asw_airflow.semantics.templates import Template

FastStep = Callable[[Any, "int | None", Scope, "int | None", Any], tuple["str | None", Any, "int | None"]]

_INLINE_ERRORS = (LookupError, TypeError, ValueError, StatesError)
"""What inline code raises where the general step decides: a missing key, a wrong type, a failed closure."""
_LITERAL_LIMIT = 512
"""Template constants with longer source stay with the template's own renderer, to keep the source small."""


class Cancelled(Exception):
    """A compiled run saw ``cancel.stopped``: the execution was stopped or a sibling failed."""


class _Steps(dict):  # type: ignore[type-arg]
    """Blocks by the state they start at, each written on first use: a run pays only for what it enters."""

    def __init__(self, machine: Machine, sized: bool):
        super().__init__()
        self._machine = machine
        self._sized = sized

    def __missing__(self, name: str) -> FastStep | None:
        step = _compile_block(self._machine, name, self._sized) if _holds(self._machine, name) else None
        self[name] = step
        return step


def fast_steps(machine: Machine, sized: bool = True) -> Mapping[str, FastStep | None]:
    """The block starting at each state, None where the state needs the general path; cached on the machine.

    ``sized``: blocks for runs with a payload limit (they keep size bounds), else for runs without.
    """
    key = "fast_steps" if sized else "fast_steps_unsized"
    compiled = machine.memo.get(key)
    if compiled is None:
        compiled = machine.memo[key] = _Steps(machine, sized)
    return compiled


def compiled_machine(machine: Machine, sized: bool = True) -> FastStep | None:
    """The whole machine as one :data:`FastStep` whose next is always None, or None when some
    state needs the general path; cached on the machine."""
    key = "fast_run" if sized else "fast_run_unsized"
    if key not in machine.memo:
        holds = all(_holds(machine, name) for name in machine.states)
        machine.memo[key] = _machine_run(machine, sized) if holds else None
    return machine.memo[key]  # type: ignore[no-any-return]


def _machine_run(machine: Machine, sized: bool) -> FastStep:
    """The start block itself when it never hands over to another, else a loop over blocks."""
    blocks = fast_steps(machine, sized)
    first = blocks[machine.start_at]
    assert first is not None
    if not first.exits:  # type: ignore[attr-defined]
        return first

    def run(value: Any, size: int | None, scope: Scope, limit: int | None, cancel: Any) -> tuple[None, Any, int | None]:
        name, value, size = first(value, size, scope, limit, cancel)
        while name is not None:
            if cancel.stopped:
                raise Cancelled
            name, value, size = blocks[name](value, size, scope, limit, cancel)  # type: ignore[misc]
        return None, value, size

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
        return not state.retry and not state.catch and all(compiled_machine(m) is not None for m in nested)  # type: ignore[attr-defined]
    return False


# --- the general path, for what inline code cannot do ---------------------------------------------

_GENERAL: dict[type, Callable[[Any, Any, Frame], steps.StepOutcome]] = {
    PassState: steps.run_pass,
    ChoiceState: steps.run_choice,
    SucceedState: steps.run_succeed,
}


def _general(state: State, value: Any, scope: Scope, limit: int | None) -> tuple[str | None, Any, int | None]:
    """Run ``state`` by its general step: its exact output and next state, or its error."""
    outcome = _GENERAL[type(state)](state, value, Frame(scope.context, scope.variables, limit))
    return outcome.next, outcome.output, None if limit is None else json_size(outcome.output)


# --- Map and Parallel run their compiled machines one after another -------------------------------


def _map_step(state: MapState, sized: bool) -> Callable[[Any, int | None, Scope, int | None, Any], Any]:
    """The Map's items, its iterations in item order (no Task or Wait inside: threads would only add overhead), its output."""
    iterate = compiled_machine(state.iterator, sized)
    assert iterate is not None

    def run_map(value: Any, size: int | None, scope: Scope, limit: int | None, cancel: Any) -> Any:
        frame = Frame(scope.context, scope.variables, limit)
        items = steps.map_items(state, value, frame)
        steps.map_concurrency(state, value, frame)  # a bad MaxConcurrencyPath fails here as in the interpreter
        tolerance = steps.map_tolerance(state, value, frame)
        in_order = lambda item, item_size: iterate(item, item_size, scope, limit, cancel)  # noqa: E731
        return steps.map_in_order(state, value, frame, items, tolerance, size, in_order).output

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


def _compile_block(machine: Machine, start: str, sized: bool) -> FastStep:
    writer = _BlockWriter(machine, sized)
    writer.line(0, "def block(v, size, scope, limit, cancel):")
    if sized:
        writer.line(1, "if size is None: size = json_size(v)")
    writer.chain(start, 1)
    namespace = dict(writer.names)
    source = "\n".join(writer.lines)
    exec(compile(source, f"<fast block {machine.pointer or '/'} {start}>", "exec"), namespace)  # noqa: S102  # our own source
    block = namespace["block"]
    block.__doc__ = source  # what runs, for a reader in a debugger
    block.exits = writer.exits  # whether it may hand over to another block
    return block  # type: ignore[no-any-return]


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

    Expressions are built as strings; a bound is a Python expression of ``size`` (the input's
    bound) or None when only measuring the output can tell.
    """

    def __init__(self, machine: Machine, sized: bool):
        self.machine = machine
        self.sized = sized
        self.incoming = _incoming(machine)
        self.lines: list[str] = []
        self.names: dict[str, Any] = {
            "_general": _general,
            "write_bound": write_bound,
            "_INLINE_ERRORS": _INLINE_ERRORS,
            "check_size": check_size,
            "json_size": json_size,
        }
        self.entered: set[str] = set()
        self.exits = False

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    def bind(self, value: Any, prefix: str) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def hand_over(self, depth: int, name: str) -> None:
        self.exits = True
        self.line(depth, f"return {name!r}, v, size")

    def chain(self, name: str, depth: int) -> None:
        """States from ``name`` on, while each is the only way into the next."""
        while True:
            state = self.machine.states[name]
            self.entered.add(name)
            self.line(depth, f"# {name}")
            kind = type(state)
            if kind is ChoiceState:
                self.choice(state, depth)  # type: ignore[arg-type]
                return
            following = None if state.end or kind is SucceedState else state.next
            if kind is PassState:
                self.pass_state(state, depth)  # type: ignore[arg-type]
            elif kind is SucceedState:
                self.succeed(state, depth)  # type: ignore[arg-type]
            else:
                run = _map_step(state, self.sized) if kind is MapState else _parallel_step(state, self.sized)  # type: ignore[arg-type]
                self.line(depth, f"v = {self.bind(run, 'run_')}(v, size, scope, limit, cancel)")
                if self.sized:  # what follows needs a bound; the output was checked, not bounded
                    self.line(depth, "size = json_size(v)" if following is not None else "size = None")
            if following is None:
                self.line(depth, "return None, v, size")
                return
            if not self.enterable(following):
                self.hand_over(depth, following)
                return
            name = following

    def enterable(self, name: str) -> bool:
        return name not in self.entered and self.incoming[name] == 1 and _holds(self.machine, name)

    def pass_state(self, state: PassState, depth: int) -> None:
        """``steps.run_pass`` for JSONPath: Result or InputPath + Parameters; ResultSelector; ResultPath; OutputPath."""
        body: list[str] = []
        bound: str | None
        if state.has_result:  # as the general step: the same object every run (states never mutate values)
            result, bound = self.bind(state.result, "result_"), str(json_size(state.result))
        else:
            result = self.variable(self.path(state.input_path, "v", body), "r", body)
            bound = "size" if state.input_path is not None else f"max(size, {EMPTY_OBJECT_SIZE})"
            if state.parameters is not None:
                result, bound = self.template(state.parameters, result, bound, body)
        if state.result_selector is not None:
            result, bound = self.template(state.result_selector, result, bound, body)
        path = state.result_path
        measure = [f"b = check_size(o, limit, {state.name!r})"]
        if path is None:
            output, bound = "v", "size"
        elif not path.steps:
            output = result
        else:
            writer = self.bind(path.writer(), "write_")
            key = path.steps[0]
            if path.path.root == VALUE_ROOT and len(path.steps) == 1 and isinstance(key, str):
                body.append(f"o = {{**v, {key!r}: {result}}} if type(v) is dict else {writer}(v, {result})")
            else:
                body.append(f"o = {writer}(v, {result})")
            output = "o"
            bound = None if bound is None else f"size + {bound} + {insert_overhead(path)}"
            overhead = insert_overhead(path)
            measure.insert(0, f"b = write_bound(size, {result}, {overhead})")
            measure[1] = f"if b > limit: {measure[1]}"
        if state.output_path is None:
            output, bound = "{}", str(EMPTY_OBJECT_SIZE)
        elif state.output_path.text != "$":
            output = self.path(state.output_path, self.variable(output, "o", body), body)
        if output != "o":
            body.append(f"o = {output}")
        if self.sized:
            if bound is None:
                body.extend(measure)
            else:
                body.append(f"b = {bound}")
                body.append("if b > limit:")
                body.extend("    " + text for text in measure)
            body.append("size = b")
        body.append("v = o")
        self.guarded(self.bind(state, "state_"), body, depth)

    def succeed(self, state: SucceedState, depth: int) -> None:
        """``steps.run_succeed``: InputPath then OutputPath; the output is a part of the input, or ``{}``."""
        body: list[str] = []
        selected = self.variable(self.path(state.input_path, "v", body), "o", body)
        body.append(f"o = {self.path(state.output_path, selected, body)}")
        if self.sized and (state.input_path is None or state.output_path is None):
            body.append(f"size = {EMPTY_OBJECT_SIZE}")
        body.append("v = o")
        self.guarded(self.bind(state, "state_"), body, depth)

    def choice(self, state: ChoiceState, depth: int) -> None:
        """``steps.run_choice``: the first matching rule's target (entered in place when nothing else leads there).

        Rules are tested in order, each in the ``else`` of the one before, so a rule's Variable is
        read only when the rules before it did not match, as the general step reads it.
        """
        branching = state.branching
        body: list[str] = []
        body.append(f"scope.value = c = {self.path(state.input_path, 'v', body)}")
        for index, rule in enumerate(branching.rules):
            indent = "    " * index
            inline = None if rule.inline is None else _path_source(rule.inline.variable, "c")
            if inline is None:
                body.append(f"{indent}if {self.bind(rule.test, 'test_')}(scope): k = {index}")
            else:
                body.append(f"{indent}x = {inline}")
                body.append(f"{indent}if {rule.inline.source}: k = {index}")  # type: ignore[union-attr]
            body.append(f"{indent}else:")
        indent = "    " * len(branching.rules)
        # No rule matched and no Default: the general step raises States.NoChoiceMatched.
        body.append(f"{indent}k = -1" if branching.default is not None else f"{indent}raise LookupError")
        body.append(f"o = {self.path(state.output_path, 'c', body)}")
        if self.sized and (state.input_path is None or state.output_path is None):
            body.append(f"size = {EMPTY_OBJECT_SIZE}")
        body.append("v = o")
        # The general step decides what inline code could not, and the block goes on from its choice.
        targets = {rule.next: index for index, rule in reversed(list(enumerate(branching.rules)))}
        if branching.default is not None:
            targets.setdefault(branching.default, -1)
        at = self.bind(state, "state_")
        self.guarded(at, body, depth, self.bind(targets, "targets_"))
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
            if self.enterable(target):  # type: ignore[arg-type]
                self.chain(target, inner)  # type: ignore[arg-type]
            else:
                self.hand_over(inner, target)  # type: ignore[arg-type]

    def guarded(self, at: str, body: list[str], depth: int, targets: str | None = None) -> None:
        """``body`` with the state's general step taking over from its input when inline code raises.

        ``at`` names the state. The general step's output becomes ``v``; for a Choice, ``targets``
        names the map from its next state to the branch ``k`` the block goes on with.
        """
        self.line(depth, "try:")
        for text in body:
            self.line(depth + 1, text)
        self.line(depth, "except _INLINE_ERRORS:")
        if targets is None:
            self.line(depth + 1, f"_, v, size = _general({at}, v, scope, limit)")
        else:
            self.line(depth + 1, f"chosen, v, size = _general({at}, v, scope, limit)")
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
        body.append(f"scope.value = {var}")
        return f"{self.bind(path.reader(), 'read_')}(scope)"

    def template(self, template: Template, var: str, bound: str | None, body: list[str]) -> tuple[str, str | None]:
        """``template`` rendered from ``var`` into ``r``, and the render's bound from ``var``'s ``bound``."""
        inline = _template_source(template.source, var)
        if inline is None:
            body.append(f"scope.value = {var}")
            inline = f"{self.bind(template.renderer, 'render_')}(scope)"
        body.append(f"r = {inline}")
        if template.size_bound is None or bound is None:
            return "r", None
        constant, factor = template.size_bound
        return "r", f"{constant} + {factor} * ({bound})"


def _path_source(path: Path, var: str) -> str | None:
    """``var["a"]["b"]`` for a field path on ``$``; None for other roots, indexes or full JSONPath."""
    if path.root != VALUE_ROOT or path.steps is None or not all(isinstance(step, str) for step in path.steps):
        return None
    return var + "".join(f"[{step!r}]" for step in path.steps)


def _template_source(value: Any, var: str) -> str | None:
    """A template as a Python display building a fresh value, when every ``.$`` is a field path; else None."""
    if isinstance(value, dict):
        fields = []
        for key, item in value.items():
            if key.endswith(".$"):
                if not isinstance(item, str) or not item.startswith("$"):
                    return None  # an intrinsic call
                inline = _path_source(compile_path(item), var)
                key = key[:-2]
            else:
                inline = _template_source(item, var)
            if inline is None:
                return None
            fields.append(f"{key!r}: {inline}")
        return "{" + ", ".join(fields) + "}"
    if isinstance(value, list):
        items = [_template_source(item, var) for item in value]
        return None if None in items else "[" + ", ".join(items) + "]"  # type: ignore[arg-type]
    return _literal(value)


def _literal(value: Any) -> str | None:
    """Python source for a JSON scalar, None for non-finite floats (no literal) and long strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    source = repr(value)
    return source if len(source) <= _LITERAL_LIMIT else None
