"""Mocked Task responses in Step Functions Local's mock config format, so workflows run with no cloud.

    {"StateMachines": {"order": {"TestCases": {"HappyPath": {"ChargeCard": "ChargeOk"}}}},
     "MockedResponses": {"ChargeOk": {"0": {"Throw": {"Error": "Busy", "Cause": "try later"}},
                                      "1-2": {"Return": {"charged": true}}}}}

A test case maps state names to mocked response names; a response maps invocation numbers
(``"0"``, or a range ``"1-2"``) to ``Return`` (the Task's raw result) or ``Throw`` (an error
with ``Error`` and ``Cause``). Invocations of a state are counted across the whole execution,
retries included, as Step Functions Local does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.engine.handlers import HandlerRegistry, TaskInvocation
from asw_airflow.loader import load_value
from asw_airflow.semantics.errors import RUNTIME, StatesError

KINDS = ("scf", "asw", "api")


class MockConfigError(ValueError):
    """A mock file that does not follow the format; the message names the offending entry."""


@dataclass(frozen=True, slots=True)
class _Response:
    first: int
    last: int
    returns: Any = None
    throws: tuple[str, str | None] | None = None


def _parse_response(name: str, entries: Any) -> tuple[_Response, ...]:
    if not isinstance(entries, Mapping) or not entries:
        raise MockConfigError(f"MockedResponses.{name} must be an object of invocation numbers like \"0\" or \"1-2\"")
    responses = []
    for key, body in entries.items():
        first, _, last = key.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise MockConfigError(f"MockedResponses.{name}: {key!r} is not an invocation number or range like \"1-2\"")
        if not isinstance(body, Mapping) or len(body.keys() & {"Return", "Throw"}) != 1:
            raise MockConfigError(f"MockedResponses.{name}.{key} must have exactly one of Return or Throw")
        if "Throw" in body:
            throw = body["Throw"]
            if not isinstance(throw, Mapping) or not isinstance(throw.get("Error"), str):
                raise MockConfigError(f"MockedResponses.{name}.{key}.Throw needs an Error string (and optional Cause)")
            responses.append(_Response(int(first), int(last or first), throws=(throw["Error"], throw.get("Cause"))))
        else:
            responses.append(_Response(int(first), int(last or first), returns=body["Return"]))
    return tuple(responses)


class MockedTasks:
    """The Task handler of one test case: answers by state name and invocation number."""

    def __init__(self, mocks: Mapping[str, tuple[_Response, ...]]):
        self._mocks = mocks
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, invocation: TaskInvocation) -> Any:
        responses = self._mocks.get(invocation.state_name)
        if responses is None:
            raise StatesError(RUNTIME, f"the mock test case has no response for Task state {invocation.state_name!r}")
        with self._lock:
            number = self._counts.get(invocation.state_name, 0)
            self._counts[invocation.state_name] = number + 1
        for response in responses:
            if response.first <= number <= response.last:
                if response.throws is not None:
                    raise StatesError(*response.throws)
                return json.loads(json.dumps(response.returns))  # a fresh copy per invocation
        raise StatesError(
            RUNTIME, f"the mocked response for Task state {invocation.state_name!r} has no entry for invocation {number}"
        )


def mock_registry(config: Mapping[str, Any], case: str, machine: str | None = None) -> HandlerRegistry:
    """A HandlerRegistry answering every Task from test case ``case``.

    ``machine`` picks the entry of ``StateMachines``; it may be omitted when there is only one.
    """
    machines = config.get("StateMachines")
    if not isinstance(machines, Mapping) or not machines:
        raise MockConfigError("the mock file needs a StateMachines object")
    if machine is None or machine not in machines:
        if len(machines) != 1:
            raise MockConfigError(
                f"state machine {machine!r} is not in the mock file; it has {', '.join(sorted(machines))}"
            )
        machine = next(iter(machines))
    cases = machines[machine].get("TestCases", {}) if isinstance(machines[machine], Mapping) else {}
    if case not in cases:
        raise MockConfigError(f"test case {case!r} is not in StateMachines.{machine}.TestCases; it has {', '.join(sorted(cases)) or 'none'}")
    responses = config.get("MockedResponses", {})
    mocks = {}
    for state_name, response_name in cases[case].items():
        if response_name not in responses:
            raise MockConfigError(f"test case {case!r} maps {state_name!r} to {response_name!r}, which MockedResponses lacks")
        mocks[state_name] = _parse_response(response_name, responses[response_name])
    handler = MockedTasks(mocks)
    registry = HandlerRegistry()
    for kind in KINDS:
        registry.register_kind(kind, handler)
    return registry


def load_mock_file(path: str | Path, case: str, machine: str | None = None) -> HandlerRegistry:
    """``mock_registry`` for a JSON file; ``OSError`` and ``MockConfigError`` tell the caller what is wrong."""
    try:
        config = load_value(Path(path).read_bytes(), str(path))
    except DefinitionError as exc:
        raise MockConfigError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, Mapping):
        raise MockConfigError(f"{path} must hold a JSON object with StateMachines and MockedResponses")
    return mock_registry(config, case, machine)
