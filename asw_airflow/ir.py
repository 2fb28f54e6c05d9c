"""The intermediate representation: a validated TCSL definition compiled once into frozen dataclasses.

Every path, payload template, intrinsic call, Choice rule, JSONata expression, Retrier and
Catcher is compiled here, at build time, so both backends (the engine and the Airflow
operators) run states by calling compiled objects and never re-read raw JSON. The IR is
built only from a definition the validator accepted: ``build_machine`` refuses anything else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Literal, Mapping

from asw_airflow.diagnostics import DefinitionError, pointer_join
from asw_airflow.loader import Source, load_text
from asw_airflow.resource import ResourceRef, parse_resource
from asw_airflow.semantics.catch import Catcher
from asw_airflow.semantics.choice import ChoiceBranching, compile_choices
from asw_airflow.semantics.errors import ExpressionError
from asw_airflow.semantics.intrinsics import parse_intrinsic
from asw_airflow.semantics.paths import Path, ReferencePath, compile_path, compile_reference_path
from asw_airflow.semantics.retry import Retrier
from asw_airflow.semantics.templates import compile_template

QueryLanguage = Literal["JSONPath", "JSONata"]
WorkflowType = Literal["STANDARD", "EXPRESS"]
StateType = Literal["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"]

JSONPATH: QueryLanguage = "JSONPath"
JSONATA: QueryLanguage = "JSONata"
INVALID_EXPRESSION = "INVALID_EXPRESSION"
"""Diagnostic code when a compile function rejects what the validator let through."""

TCSL_MAP_MAX_CONCURRENCY = 1
"""TCSL's Map default (ASL's is 0, unbounded); 0 still means unbounded."""


@dataclass(frozen=True, slots=True)
class Setting:
    """A value a state reads at run time: a constant, a ``...Path`` (path or intrinsic) or a JSONata template.

    Used for Wait Seconds/Timestamp, Fail Error/Cause, TimeoutSeconds, HeartbeatSeconds, Map
    MaxConcurrency and tolerated failures, so one resolver in ``semantics.dataflow`` serves all.
    ``field`` is the name written in the definition, quoted in runtime error causes.
    """

    field: str
    constant: Any = None
    path: Path | None = None
    intrinsic: Any = None
    expression: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    """Fields every state has.

    Data-flow fields keep absent and ``null`` apart where ASL does: an absent InputPath,
    ResultPath or OutputPath is compiled as ``$`` (identity), ``null`` is stored as None.
    ``parameters``/``result_selector`` are compiled JSONPath templates (None when absent);
    ``arguments``/``output`` are JSONata templates; ``assign`` is a JSONPath template or a
    JSONata template according to ``query_language``.
    """

    name: str
    type: StateType
    pointer: str
    query_language: QueryLanguage = JSONPATH
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: Path | None = None
    output_path: Path | None = None
    assign: Any = None
    output: Any = None

    def successors(self) -> tuple[str, ...]:
        """Names of the states control can move to from here: Next, Choices' Next, Default, Catchers' Next."""
        names: list[str] = []
        if self.next is not None:
            names.append(self.next)
        for name in self._extra_successors():
            if name not in names:
                names.append(name)
        return tuple(names)

    def _extra_successors(self) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoverableState(State):
    """States with a result and error handling: Task, Parallel, Map."""

    parameters: Any = None
    arguments: Any = None
    result_selector: Any = None
    result_path: ReferencePath | None = None
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()

    def _extra_successors(self) -> tuple[str, ...]:
        return tuple(c.next for c in self.catch)


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(State):
    """``has_result`` tells an absent ``Result`` (pass the input) from ``Result: null``."""

    parameters: Any = None
    result: Any = None
    has_result: bool = False
    result_selector: Any = None
    result_path: ReferencePath | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskState(RecoverableState):
    resource: ResourceRef
    timeout: Setting | None = None
    heartbeat: Setting | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(State):
    """``branching`` is the compiled Choices (each rule with its own compiled Assign and JSONata
    Output) and Default."""

    branching: ChoiceBranching

    def _extra_successors(self) -> tuple[str, ...]:
        names = tuple(rule.next for rule in self.branching.rules if rule.next is not None)
        default = self.branching.default
        return names + ((default,) if default is not None else ())


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitState(State):
    """Exactly one of ``seconds`` and ``timestamp`` is set."""

    seconds: Setting | None = None
    timestamp: Setting | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(State):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(State):
    error: Setting | None = None
    cause: Setting | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(RecoverableState):
    branches: tuple["Machine", ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(RecoverableState):
    """``items_path`` defaults to ``$``; ``items`` is the JSONata ``Items`` field; ``item_selector`` is
    ItemSelector (or the older Parameters) in JSONPath or JSONata form according to ``query_language``."""

    iterator: "Machine"
    items_path: ReferencePath | None = None
    items: Any = None
    item_selector: Any = None
    max_concurrency: Setting = field(default_factory=lambda: Setting("MaxConcurrency", TCSL_MAP_MAX_CONCURRENCY))
    tolerated_failure_count: Setting | None = None
    tolerated_failure_percentage: Setting | None = None


@dataclass(frozen=True, slots=True)
class Machine:
    """A state machine, or a Parallel branch / Map iterator (then ``pointer`` is where it sits in the file)."""

    start_at: str
    states: Mapping[str, State]
    timeout_seconds: int | None = None
    query_language: QueryLanguage = JSONPATH
    comment: str | None = None
    workflow_type: WorkflowType = "STANDARD"
    name: str | None = None
    pointer: str = ""
    context_free: frozenset[str] = frozenset()
    """States that cannot read ``$$`` (see :func:`_reads_context`), so a backend may skip building
    their per-state context. Empty, the safe default, for machines not built by ``build_machine``."""
    memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Per-machine cache for a backend's derived data (the engine's compiled steps); never part
    of the definition, and fresh on ``dataclasses.replace``."""

    def walk(self) -> Iterator[State]:
        """Every state, nested branches and iterators included, parents before children (no recursion)."""
        stack: list[Machine] = [self]
        while stack:
            machine = stack.pop()
            nested: list[Machine] = []
            for state in machine.states.values():
                yield state
                if isinstance(state, ParallelState):
                    nested.extend(state.branches)
                elif isinstance(state, MapState):
                    nested.append(state.iterator)
            stack.extend(reversed(nested))


def build_machine(
    definition: Source | str | bytes | Mapping[str, Any],
    workflow_type: WorkflowType = "STANDARD",
    name: str | None = None,
) -> Machine:
    """Validate ``definition`` and compile it; :class:`DefinitionError` carries every ERROR diagnostic."""
    from asw_airflow.validate import validate

    source = _as_source(definition)
    errors = [d for d in validate(source, workflow_type=workflow_type) if d.severity == "ERROR"]
    if errors:
        raise DefinitionError(errors)
    builder = _Builder(source, workflow_type)
    return builder.machine(source.document, "", JSONPATH, name=name)


_NESTED_MACHINES = ("Iterator", "ItemProcessor", "Branches")


def _reads_context(state: Mapping[str, Any], language: QueryLanguage) -> bool:
    """Whether a state may see ``$$``: a Task (its handler gets the context), any JSONata state
    (``$states.context``), or any string in its definition holding ``$$``, which covers every
    ``$$`` path, intrinsic argument and Choice Variable, at the price of a rare false positive.
    Nested machines are left out: each has its own ``context_free``."""
    if state.get("Type") == "Task" or language == JSONATA:
        return True
    return any(_mentions_context(value) for key, value in state.items() if key not in _NESTED_MACHINES)


def _mentions_context(value: Any) -> bool:
    if isinstance(value, str):
        return "$$" in value
    if isinstance(value, Mapping):
        return any(_mentions_context(item) for item in value.values())
    if isinstance(value, list):
        return any(_mentions_context(item) for item in value)
    return False


def _as_source(definition: Source | str | bytes | Mapping[str, Any]) -> Source:
    if isinstance(definition, Source):
        return definition
    if isinstance(definition, (str, bytes)):
        return load_text(definition)
    return Source(definition, json.dumps(definition, indent=1, ensure_ascii=False))


class _Builder:
    """Compiles a validated document; an ``ExpressionError`` here becomes a located diagnostic."""

    def __init__(self, source: Source, workflow_type: WorkflowType):
        self.source = source
        self.workflow_type = workflow_type

    def machine(self, obj: Mapping[str, Any], pointer: str, inherited: QueryLanguage, name: str | None = None) -> Machine:
        language = obj.get("QueryLanguage", inherited)
        states_pointer = pointer + "/States"
        states = {
            state_name: self.state(state_name, definition, states_pointer + pointer_join(state_name), language)
            for state_name, definition in obj["States"].items()
        }
        return Machine(
            start_at=obj["StartAt"],
            states=states,
            timeout_seconds=obj.get("TimeoutSeconds"),
            query_language=language,
            comment=obj.get("Comment"),
            workflow_type=self.workflow_type,
            name=name,
            pointer=pointer,
            context_free=frozenset(
                state_name
                for state_name, definition in obj["States"].items()
                if not _reads_context(definition, definition.get("QueryLanguage", language))
            ),
        )

    def compile(self, pointer: str, function: Any, *values: Any) -> Any:
        try:
            return function(*values)
        except ExpressionError as exc:
            raise DefinitionError([self.source.diagnostic(INVALID_EXPRESSION, str(exc), pointer)]) from None

    def state(self, name: str, obj: Mapping[str, Any], pointer: str, inherited: QueryLanguage) -> State:
        language: QueryLanguage = obj.get("QueryLanguage", inherited)
        kind = obj["Type"]
        common: dict[str, Any] = {
            "name": name,
            "type": kind,
            "pointer": pointer,
            "query_language": language,
            "comment": obj.get("Comment"),
            "next": obj.get("Next"),
            "end": bool(obj.get("End", False)) or kind in ("Succeed", "Fail"),
            "assign": self.assign(obj, pointer, language),
        }
        if language == JSONATA:
            common["output"] = self.jsonata(obj, "Output", pointer)
        else:
            common["input_path"] = self.path_or_null(obj, "InputPath", pointer)
            common["output_path"] = self.path_or_null(obj, "OutputPath", pointer)
        if kind == "Pass":
            return PassState(
                **common,
                parameters=self.template(obj, "Parameters", pointer, language),
                result=obj.get("Result"),
                has_result="Result" in obj,
                result_selector=self.template(obj, "ResultSelector", pointer, language),
                result_path=self.result_path(obj, pointer, language),
            )
        if kind == "Task":
            return TaskState(
                **common,
                **self.recoverable(obj, pointer, language),
                resource=self.compile(pointer + "/Resource", parse_resource, obj["Resource"]),
                timeout=self.setting(obj, "TimeoutSeconds", pointer, language),
                heartbeat=self.setting(obj, "HeartbeatSeconds", pointer, language),
            )
        if kind == "Choice":
            return ChoiceState(**common, branching=self.branching(obj, pointer, language))
        if kind == "Wait":
            return WaitState(
                **common,
                seconds=self.setting(obj, "Seconds", pointer, language),
                timestamp=self.setting(obj, "Timestamp", pointer, language),
            )
        if kind == "Succeed":
            return SucceedState(**common)
        if kind == "Fail":
            return FailState(
                **common,
                error=self.setting(obj, "Error", pointer, language),
                cause=self.setting(obj, "Cause", pointer, language),
            )
        if kind == "Parallel":
            return ParallelState(
                **common,
                **self.recoverable(obj, pointer, language),
                branches=tuple(
                    self.machine(branch, f"{pointer}/Branches/{index}", language)
                    for index, branch in enumerate(obj["Branches"])
                ),
            )
        if kind == "Map":
            return self.map_state(obj, pointer, language, common)
        raise DefinitionError([self.source.diagnostic(INVALID_EXPRESSION, f"unknown state Type {kind!r}", pointer)])

    def map_state(self, obj: Mapping[str, Any], pointer: str, language: QueryLanguage, common: dict[str, Any]) -> MapState:
        iterator_key = "ItemProcessor" if "ItemProcessor" in obj else "Iterator"
        selector_key = "ItemSelector" if "ItemSelector" in obj else "Parameters"
        recoverable = self.recoverable(obj, pointer, language)
        recoverable.pop("parameters")
        recoverable.pop("arguments")
        return MapState(
            **common,
            **recoverable,
            iterator=self.machine(obj[iterator_key], f"{pointer}/{iterator_key}", language),
            items_path=(
                self.compile(pointer + "/ItemsPath", compile_reference_path, obj.get("ItemsPath", "$"))
                if language == JSONPATH
                else None
            ),
            items=self.jsonata(obj, "Items", pointer) if language == JSONATA else None,
            item_selector=self.template(obj, selector_key, pointer, language),
            max_concurrency=self.setting(obj, "MaxConcurrency", pointer, language)
            or Setting("MaxConcurrency", TCSL_MAP_MAX_CONCURRENCY),
            tolerated_failure_count=self.setting(obj, "ToleratedFailureCount", pointer, language),
            tolerated_failure_percentage=self.setting(obj, "ToleratedFailurePercentage", pointer, language),
        )

    def recoverable(self, obj: Mapping[str, Any], pointer: str, language: QueryLanguage) -> dict[str, Any]:
        return {
            "parameters": self.template(obj, "Parameters", pointer, language) if language == JSONPATH else None,
            "arguments": self.jsonata(obj, "Arguments", pointer) if language == JSONATA else None,
            "result_selector": self.template(obj, "ResultSelector", pointer, language),
            "result_path": self.result_path(obj, pointer, language),
            "retry": tuple(
                self.compile(f"{pointer}/Retry/{index}", Retrier.from_definition, retrier)
                for index, retrier in enumerate(obj.get("Retry", ()))
            ),
            "catch": tuple(
                self.catcher(catcher, f"{pointer}/Catch/{index}", language)
                for index, catcher in enumerate(obj.get("Catch", ()))
            ),
        }

    def catcher(self, obj: Mapping[str, Any], pointer: str, language: QueryLanguage) -> Catcher:
        """``Catcher.from_definition`` with its Assign and (JSONata) Output swapped for their compiled forms."""
        catcher = self.compile(pointer, Catcher.from_definition, obj)
        return replace(
            catcher,
            result_path=catcher.result_path if language == JSONPATH else None,
            assign=self.assign(obj, pointer, language),
            output=self.jsonata(obj, "Output", pointer) if language == JSONATA else None,
        )

    def branching(self, obj: Mapping[str, Any], pointer: str, language: QueryLanguage) -> ChoiceBranching:
        """``compile_choices`` with each rule's Assign and (JSONata) Output swapped for their compiled forms."""
        branching = self.compile(pointer + "/Choices", compile_choices, obj["Choices"], obj.get("Default"))
        rules = []
        for index, (rule, choice) in enumerate(zip(branching.rules, obj["Choices"])):
            where = f"{pointer}/Choices/{index}"
            output = self.jsonata(choice, "Output", where) if language == JSONATA else None
            rules.append(replace(rule, assign=self.assign(choice, where, language), output=output))
        return replace(branching, rules=tuple(rules))

    def path_or_null(self, obj: Mapping[str, Any], key: str, pointer: str) -> Path | None:
        if key in obj and obj[key] is None:
            return None
        return self.compile(f"{pointer}/{key}", compile_path, obj.get(key, "$"))

    def result_path(self, obj: Mapping[str, Any], pointer: str, language: QueryLanguage) -> ReferencePath | None:
        if language == JSONATA or ("ResultPath" in obj and obj["ResultPath"] is None):
            return None
        return self.compile(pointer + "/ResultPath", compile_reference_path, obj.get("ResultPath", "$"))

    def template(self, obj: Mapping[str, Any], key: str, pointer: str, language: QueryLanguage) -> Any:
        if language == JSONATA:
            return self.jsonata(obj, key, pointer)
        if key not in obj:
            return None
        return self.compile(f"{pointer}/{key}", compile_template, obj[key])

    def jsonata(self, obj: Mapping[str, Any], key: str, pointer: str) -> Any:
        if key not in obj:
            return None
        # Imported here: JSONPath-only workflows (most of them) never load jsonata-python.
        from asw_airflow.semantics.jsonata import compile_jsonata_template

        return self.compile(f"{pointer}/{key}", compile_jsonata_template, obj[key])

    def assign(self, obj: Mapping[str, Any], pointer: str, language: QueryLanguage) -> Any:
        return self.template(obj, "Assign", pointer, language)

    def setting(self, obj: Mapping[str, Any], key: str, pointer: str, language: QueryLanguage) -> Setting | None:
        """``Key`` (constant, or JSONata in JSONata mode) or ``KeyPath`` (a path or intrinsic call)."""
        if key in obj:
            value = obj[key]
            if language == JSONATA and isinstance(value, str) and value.startswith("{%"):
                return Setting(key, expression=self.jsonata(obj, key, pointer))
            return Setting(key, constant=value)
        path_key = key + "Path"
        if path_key not in obj:
            return None
        text = obj[path_key]
        where = f"{pointer}/{path_key}"
        if isinstance(text, str) and text.startswith("States."):
            return Setting(path_key, intrinsic=self.compile(where, parse_intrinsic, text))
        return Setting(path_key, path=self.compile(where, compile_path, text))
