"""Run a corpus of recorded executions (``../shared/conformance`` format) and count what matches.

Each line is ``{"id", "definition", "input", "expected": {"status", "output" | "error", "cause"}}``
with AWS's status words; values AWS generated are masked in the expectations, so the
runner gives every execution the masked context and treats the mask words as wildcards.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.loader import load_value

# AWS's status words in the corpus against ASW's own.
ASW_STATUS = {"SUCCEEDED": "SUCCEED", "FAILED": "FAILED", "ABORTED": "TERMINATED", "TIMED_OUT": "FAILED"}

# The context the corpus was recorded with (masked values), see the corpus README.
EXECUTION_NAME = "<ExecArnPart_0idx>"
STATE_MACHINE_NAME = "<ArnPart_0idx>"
EXECUTION_ID = f"arn:<partition>:states:<region>:111111111111:execution:{STATE_MACHINE_NAME}:{EXECUTION_NAME}"
STATE_MACHINE_ID = f"arn:<partition>:states:<region>:111111111111:stateMachine:{STATE_MACHINE_NAME}"
ROLE_ARN = "snf_role_arn"

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_WILDCARDS: dict[str, Callable[[Any], bool]] = {
    "date": lambda v: isinstance(v, str) and bool(_TIMESTAMP.match(v)),
    "<timestamp>": lambda v: isinstance(v, str) and bool(_TIMESTAMP.match(v)),
    "start-time": lambda v: isinstance(v, str) and bool(_TIMESTAMP.match(v)),
    "entered-time": lambda v: isinstance(v, str) and bool(_TIMESTAMP.match(v)),
    "generated-uuid": lambda v: isinstance(v, str) and bool(_UUID.match(v)),
    "RandomNumberGenerated": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


@dataclass(frozen=True)
class Outcome:
    """What an engine reports for one execution, in ASW's words."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    definition: Mapping[str, Any]
    input: Any
    expected: Mapping[str, Any]

    @property
    def area(self) -> str:
        """The test module the case came from, e.g. ``choice_operators/test_is_operators``."""
        module = self.id.split("::", 1)[0]
        module = module.split("stepfunctions/v2/", 1)[-1]
        return module.removesuffix(".py")

    @property
    def query_language(self) -> str:
        return "JSONata" if '"JSONata"' in json.dumps(self.definition) else "JSONPath"

    @property
    def has_wait(self) -> bool:
        return any(state.get("Type") == "Wait" for state in _all_states(self.definition))


@dataclass
class CaseResult:
    case: Case
    passed: bool
    skipped: str | None = None
    got: Outcome | None = None


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)

    def count(self, *, language: str | None = None, wait: bool | None = None) -> tuple[int, int]:
        """(passed, run) over the cases that were not skipped, optionally for one language or Wait-ness."""
        chosen = [
            r
            for r in self.results
            if r.skipped is None
            and (language is None or r.case.query_language == language)
            and (wait is None or r.case.has_wait == wait)
        ]
        return sum(r.passed for r in chosen), len(chosen)

    def to_json(self) -> dict[str, Any]:
        by_area: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0})
        for r in self.results:
            by_area[r.case.area]["skipped" if r.skipped else "passed" if r.passed else "failed"] += 1
        by_language = {}
        for language in ("JSONPath", "JSONata"):
            passed, run = self.count(language=language)
            by_language[language] = {"passed": passed, "total": run}
        return {
            "total": len(self.results),
            "passed": sum(r.passed for r in self.results),
            "failed": sum(not r.passed and not r.skipped for r in self.results),
            "skipped": sum(bool(r.skipped) for r in self.results),
            "by_language": by_language,
            "by_area": dict(sorted(by_area.items())),
            "failures": [
                {"id": r.case.id, "expected": r.case.expected, "got": r.got and r.got.__dict__}
                for r in self.results
                if not r.passed and not r.skipped
            ],
        }


def _all_states(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    pending = [definition]
    while pending:
        machine = pending.pop()
        for state in (machine.get("States") or {}).values():
            if not isinstance(state, dict):
                continue
            yield state
            pending.extend(b for b in state.get("Branches") or [] if isinstance(b, dict))
            for key in ("Iterator", "ItemProcessor"):
                if isinstance(state.get(key), dict):
                    pending.append(state[key])


class CorpusError(ValueError):
    """A corpus that holds no cases, or a line that is not one; the message names the line and what is wrong."""


def load_corpus(path: str | Path) -> list[Case]:
    """Every case of a JSON Lines corpus, each line read as strictly as a definition (OSError propagates)."""
    cases = []
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                cases.append(_case(line, number))
    if not cases:
        raise CorpusError("it holds no cases (one JSON object per line)")
    return cases


def _case(line: bytes, number: int) -> Case:
    try:
        raw = load_value(line.rstrip(b"\r\n"))
    except DefinitionError as exc:
        first = exc.diagnostics[0]
        raise CorpusError(f"line {number} column {first.column}: {first.message}") from None
    if not isinstance(raw, dict):
        raise CorpusError(f"line {number}: a case must be a JSON object, got {type(raw).__name__}")
    for key in ("id", "definition"):
        if key not in raw:
            raise CorpusError(f"line {number}: the case has no {key!r} (every case needs id and definition)")
    if not isinstance(raw["id"], str) or not raw["id"]:
        raise CorpusError(f"line {number}: 'id' must be a non-empty string, got {raw['id']!r}")
    if not isinstance(raw["definition"], dict):
        raise CorpusError(f"line {number}: 'definition' of {raw['id']} must be an object")
    expected = raw.get("expected") or {}
    if not isinstance(expected, dict):
        raise CorpusError(f"line {number}: 'expected' of {raw['id']} must be an object")
    return Case(raw["id"], raw["definition"], raw.get("input"), expected)


def matches(expected: Any, got: Any) -> bool:
    """Deep equality where the corpus's mask words match any value of the right kind."""
    if isinstance(expected, str) and expected in _WILDCARDS and _WILDCARDS[expected](got):
        return True
    if isinstance(expected, dict):
        return isinstance(got, dict) and expected.keys() == got.keys() and all(
            matches(v, got[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(got, list) and len(expected) == len(got) and all(map(matches, expected, got))
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    return expected == got


def judge(case: Case, got: Outcome) -> bool:
    expected = case.expected
    if got.status != ASW_STATUS.get(expected.get("status", ""), expected.get("status")):
        return False
    if got.status == "SUCCEED":
        return matches(expected.get("output"), got.output)
    return got.error == expected.get("error")


Engine = Callable[..., Iterator[tuple[Case, Outcome]]]
"""``engine(cases, functions=None)``: outcomes in any order; ``functions`` serves cloud functions to Tasks."""


def run_corpus(cases: list[Case], engine: Engine) -> Report:
    """Run every case with an expectation through ``engine`` (which may batch them) and judge each."""
    report = Report()
    runnable = []
    for case in cases:
        if not case.expected.get("status"):
            report.results.append(CaseResult(case, False, skipped="the corpus records no expected result"))
        else:
            runnable.append(case)
    for case, got in engine(runnable):
        report.results.append(CaseResult(case, judge(case, got), got=got))
    return report


def corpus_context(case: Case, start_time: datetime) -> dict[str, Any]:
    """The masked ``$$`` the corpus was recorded with."""
    from asw_airflow.semantics.dataflow import make_context

    return make_context(
        EXECUTION_ID, EXECUTION_NAME, case.input, start_time, STATE_MACHINE_ID, STATE_MACHINE_NAME, role_arn=ROLE_ARN
    )


def local_engine(cases: Iterable[Case], functions: str | None = None) -> Iterator[tuple[Case, Outcome]]:
    """Each case on the in-process engine with a virtual clock, so Wait states cost nothing.

    With ``functions``, Tasks call a local emulator serving that folder of cloud functions.
    """
    import contextlib

    from asw_airflow.engine.clock import VirtualClock
    from asw_airflow.engine.interpreter import run_execution
    from asw_airflow.ir import build_machine

    with contextlib.ExitStack() as stack:
        handlers = None
        if functions is not None:
            from asw_airflow.tencentcloud.local import local_cloud

            handlers = stack.enter_context(local_cloud(functions)).handlers
        for case in cases:
            try:
                machine = build_machine(case.definition)
            except DefinitionError as exc:
                yield case, Outcome("INVALID", error="DefinitionError", cause=str(exc))
                continue
            clock = VirtualClock()
            result = run_execution(machine, case.input, context=corpus_context(case, clock.now()), clock=clock, handlers=handlers)
            yield case, Outcome(result.status, result.output, result.error, result.cause)


def airflow_engine(cases: Iterable[Case], functions: str | None = None) -> Iterator[tuple[Case, Outcome]]:
    """Each case compiled to an Airflow DAG and run with ``dag.test()``, all in this process (Airflow loads here)."""
    from asw_airflow.airflow.conformance import airflow_engine as run

    return run(cases, functions)


ENGINES: dict[str, Engine] = {"local": local_engine, "airflow": airflow_engine}
