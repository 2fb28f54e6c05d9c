"""One walk over a (possibly malformed) definition: every scope and state, with pointers.

The semantic passes read this instead of the raw JSON, so none of them re-walks the tree
or has to guard against non-object states: anything malformed is simply not listed (the
schema pass has reported it already).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from asw_airflow.diagnostics import pointer_join

JSONPATH = "JSONPath"
JSONATA = "JSONata"
STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")


@dataclass(slots=True)
class State:
    """A state object: its name, JSON pointer, body, and the query language its fields are written in."""

    name: str
    pointer: str
    body: dict[str, Any]
    scope: MachineScope
    query_language: str

    @property
    def type(self) -> str | None:
        kind = self.body.get("Type")
        return kind if kind in STATE_TYPES else None


@dataclass(slots=True)
class MachineScope:
    """The top-level machine, a Parallel branch or a Map processor: transitions stay inside one scope."""

    pointer: str
    body: dict[str, Any]
    kind: str
    query_language: str
    states: dict[str, State] = field(default_factory=dict)

    @property
    def start_at(self) -> Any:
        return self.body.get("StartAt")


@dataclass(slots=True)
class Machine:
    """Every scope, top-level first, and every state in document order."""

    scopes: list[MachineScope]
    states: list[State]

    def type_counts(self) -> Counter[str]:
        return Counter(state.type or "?" for state in self.states)


def read_machine(document: dict[str, Any]) -> Machine:
    """List the scopes and states of ``document``, skipping whatever is not shaped like them."""
    machine = Machine([], [])
    language = document.get("QueryLanguage")
    _scope(machine, document, "", "state machine", language if language in (JSONPATH, JSONATA) else JSONPATH)
    return machine


def _scope(machine: Machine, body: dict[str, Any], pointer: str, kind: str, inherited: str) -> None:
    language = body.get("QueryLanguage", inherited)
    scope = MachineScope(pointer, body, kind, language if language in (JSONPATH, JSONATA) else inherited)
    machine.scopes.append(scope)
    states = body.get("States")
    if not isinstance(states, dict):
        return
    for name, state_body in states.items():
        if not isinstance(state_body, dict):
            continue
        state_pointer = f"{pointer}{pointer_join('States', name)}"
        state_language = state_body.get("QueryLanguage", scope.query_language)
        state = State(name, state_pointer, state_body, scope,
                      state_language if state_language in (JSONPATH, JSONATA) else scope.query_language)
        scope.states[name] = state
        machine.states.append(state)
        _children(machine, state)


def _children(machine: Machine, state: State) -> None:
    if state.type == "Parallel" and isinstance(state.body.get("Branches"), list):
        for index, branch in enumerate(state.body["Branches"]):
            if isinstance(branch, dict):
                _scope(machine, branch, f"{state.pointer}/Branches/{index}", f"branch {index} of Parallel state {state.name!r}",
                       state.scope.query_language)
    if state.type == "Map":
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.body.get(key), dict):
                _scope(machine, state.body[key], f"{state.pointer}/{key}", f"{key} of Map state {state.name!r}",
                       state.scope.query_language)
