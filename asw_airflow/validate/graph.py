"""Transitions: targets exist in the same scope, every state is reachable, some end is reachable, names are unique."""

from __future__ import annotations

import difflib
from typing import Any, Iterator

from asw_airflow.validate.codes import (
    DUPLICATE_STATE_NAME,
    INVALID_CHOICE_RULE,
    INVALID_TRANSITION,
    MISSING_END_STATE,
    MISSING_TRANSITION_TARGET,
    STATE_NAME_TOO_LONG,
    UNREACHABLE_STATE,
)
from asw_airflow.validate.machine import Machine, MachineScope, State
from asw_airflow.validate.report import Report

MAX_NAME_LENGTH = 80
_FLOWING = frozenset({"Task", "Pass", "Wait", "Parallel", "Map"})
_TERMINAL = frozenset({"Succeed", "Fail"})


def _transitions(state: State) -> Iterator[tuple[str, Any]]:
    """(pointer, target) for every transition the state declares; targets may be malformed."""
    body = state.body
    if "Next" in body:
        yield f"{state.pointer}/Next", body["Next"]
    if "Default" in body:
        yield f"{state.pointer}/Default", body["Default"]
    for field in ("Choices", "Catch"):
        entries = body.get(field)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict) and "Next" in entry:
                    yield f"{state.pointer}/{field}/{index}/Next", entry["Next"]


def _ends(state: State) -> bool:
    """Whether the state may end its scope; a malformed ending (no Next, a bad target) counts, to avoid a second report."""
    kind = state.type
    if kind is None or kind in _TERMINAL:
        return True
    if kind == "Choice":
        return False
    target = state.body.get("Next")
    return state.body.get("End") is True or not isinstance(target, str) or target not in state.scope.states


class _Names:
    """Where every state name lives, to explain a target that exists but in another scope."""

    def __init__(self, machine: Machine):
        self.home: dict[str, MachineScope] = {}
        for state in machine.states:
            self.home.setdefault(state.name, state.scope)

    def missing(self, target: str, scope: MachineScope) -> str:
        elsewhere = self.home.get(target)
        if elsewhere is not None:
            return (f"{target!r}, a state of the {elsewhere.kind}, not of the {scope.kind}; "
                    "transitions cannot jump into or out of Parallel branches or Map processors")
        close = difflib.get_close_matches(target, list(scope.states), n=1, cutoff=0.6)
        if not close:
            close = [name for name in scope.states if name.lower() == target.lower()]
        hint = f"; did you mean {close[0]!r}?" if close else f"; states here are {', '.join(repr(n) for n in list(scope.states)[:10])}"
        return f"{target!r}, which is not a state in the {scope.kind}{hint}"


def check_graph(machine: Machine, report: Report) -> None:
    """Report bad targets, Next/End mistakes, unreachable states, scopes that never end and duplicate names."""
    names = _Names(machine)
    _check_names(machine, report)
    for scope in machine.scopes:
        _check_scope(scope, names, report)


def _check_names(machine: Machine, report: Report) -> None:
    first: dict[str, State] = {}
    for state in machine.states:
        if len(state.name) > MAX_NAME_LENGTH:
            report.add(STATE_NAME_TOO_LONG,
                       f"state name is {len(state.name)} characters long; the limit is {MAX_NAME_LENGTH}",
                       state.pointer, key=True)
        if state.name in first:
            report.add(DUPLICATE_STATE_NAME,
                       f"state name {state.name!r} is already used at {first[state.name].pointer}; names must be "
                       "unique across the whole machine, including Parallel branches and Map processors",
                       state.pointer, key=True)
        else:
            first[state.name] = state


def _check_scope(scope: MachineScope, names: _Names, report: Report) -> None:
    start = scope.start_at
    start_ok = isinstance(start, str) and start in scope.states
    if isinstance(start, str) and not start_ok:
        report.add(MISSING_TRANSITION_TARGET, f"StartAt names {names.missing(start, scope)}", f"{scope.pointer}/StartAt")
    edges: dict[str, list[str]] = {}
    for state in scope.states.values():
        _check_next_end(state, report)
        targets = edges[state.name] = []
        for pointer, target in _transitions(state):
            if not isinstance(target, str):
                continue  # the schema pass reports the type
            if target in scope.states:
                targets.append(target)
            else:
                report.add(MISSING_TRANSITION_TARGET, f"{pointer.rsplit('/', 1)[1]} names {names.missing(target, scope)}",
                           pointer)
    if not start_ok:
        return
    reached = _reach(start, edges)
    for state in scope.states.values():
        if state.name not in reached:
            report.add(UNREACHABLE_STATE,
                       f"state {state.name!r} is never reached from StartAt {start!r}; link it with Next/Default/Catch "
                       "or remove it", state.pointer, key=True)
    if not any(_ends(scope.states[name]) for name in reached):
        report.add(MISSING_END_STATE,
                   f"no state reachable from StartAt {start!r} ends the {scope.kind}; add End: true, a Succeed or a "
                   "Fail state on some path", f"{scope.pointer}/StartAt")


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    reached = {start}
    pending = [start]
    while pending:
        for target in edges[pending.pop()]:
            if target not in reached:
                reached.add(target)
                pending.append(target)
    return reached


def _misspelled_transition(body: dict[str, Any]) -> bool:
    """A key like ``Nxt`` or ``end``: the schema pass already reported it with a suggestion."""
    return any(key not in ("Next", "End") and difflib.get_close_matches(key, ("Next", "End"), cutoff=0.6)
               for key in body)


def _check_next_end(state: State, report: Report) -> None:
    body = state.body
    if state.type in _FLOWING:
        has_next, has_end = "Next" in body, body.get("End") is True
        if has_next and has_end:
            report.add(INVALID_TRANSITION, f"{state.type} state {state.name!r} has both Next and End: true; keep one",
                       f"{state.pointer}/End", key=True)
        elif not has_next and not has_end and not _misspelled_transition(body):
            report.add(INVALID_TRANSITION,
                       f"{state.type} state {state.name!r} needs Next (the state to run after it) or End: true",
                       state.pointer, key=True)
    if state.type == "Choice" and isinstance(body.get("Choices"), list):
        for index, rule in enumerate(body["Choices"]):
            if isinstance(rule, dict) and "Next" not in rule:
                report.add(INVALID_CHOICE_RULE, "a top-level Choice rule needs Next: the state to run when it matches",
                           f"{state.pointer}/Choices/{index}")
