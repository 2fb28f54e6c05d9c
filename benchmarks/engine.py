"""Run the same workloads through our engine, moto's interpreter and a hand-written function.

Run: ``.venv/bin/python benchmarks/engine.py [--repeat 3] [--map-items 100000]``. Workloads:
(a) a 3-state Pass machine, many executions; (b) Map over 100 items of Pass -> Choice -> Pass;
(c) a 1,000-state chain of Pass states with Parameters and ResultPath. For each it prints
states/s for ours and for moto (LocalStack's ASL interpreter: the definition is parsed once and
the program evaluated directly, no HTTP or boto), their ratio, and our time over a hand-written
Python function doing the same dict work. Every output is compared with the hand-written
function's (and moto's); a mismatch is printed loudly. Finally it prints the peak memory of a Map
over ``--map-items`` items (in a fresh process), next to the size of its input for scale.
Targets (issue 3): at least 50x moto's states/s, within 3x of the hand-written function.
Times are the best of ``--repeat`` batches; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import Machine, build_machine

# --- workloads ---------------------------------------------------------------------------------


def three_pass() -> dict[str, Any]:
    return {
        "StartAt": "Init",
        "States": {
            "Init": {"Type": "Pass", "Parameters": {"id.$": "$.id", "name.$": "$.name", "tags": ["a", "b"]}, "Next": "Tag"},
            "Tag": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.status", "Next": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }


def hand_three_pass(value: dict[str, Any]) -> dict[str, Any]:
    value = {"id": value["id"], "name": value["name"], "tags": ["a", "b"]}
    value = {**value, "status": {"ok": True}}
    return value


def map_choice() -> dict[str, Any]:
    iterator = {
        "StartAt": "Prep",
        "States": {
            "Prep": {"Type": "Pass", "Parameters": {"value.$": "$.n", "label.$": "$.label"}, "Next": "Size"},
            "Size": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.value", "NumericGreaterThanEquals": 50, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": True},
        },
    }
    return {
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemsPath": "$.items", "Iterator": iterator, "ResultPath": "$.results", "End": True}},
    }


def hand_map_choice(value: dict[str, Any]) -> dict[str, Any]:
    results = []
    for item in value["items"]:
        out = {"value": item["n"], "label": item["label"]}
        out = {**out, "size": "big" if out["value"] >= 50 else "small"}
        results.append(out)
    return {**value, "results": results}


def map_input(items: int) -> dict[str, Any]:
    return {"items": [{"n": i % 100, "label": f"item-{i}"} for i in range(items)]}


CHAIN = 1000


def chain() -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(CHAIN):
        states[f"s{i}"] = {
            "Type": "Pass",
            "Parameters": {"count.$": "$.count", "name.$": "$.name", "step": i},
            "ResultPath": "$.last",
            **({"Next": f"s{i + 1}"} if i + 1 < CHAIN else {"End": True}),
        }
    return {"StartAt": "s0", "States": states}


def hand_chain(value: dict[str, Any]) -> dict[str, Any]:
    for i in range(CHAIN):
        value = {**value, "last": {"count": value["count"], "name": value["name"], "step": i}}
    return value


@dataclass(frozen=True)
class Workload:
    label: str
    definition: dict[str, Any]
    input: Any
    states: int
    """States entered per execution (a Map counts itself plus every iteration's states)."""
    hand: Callable[[Any], Any]
    batch: int
    """Executions per timed batch of ours and of the hand-written function."""
    moto_batch: int


WORKLOADS = [
    Workload("(a) 3 x Pass", three_pass(), {"id": 7, "name": "n", "extra": [1, 2]}, 3, hand_three_pass, 3000, 300),
    Workload("(b) Map(100) x (Pass, Choice, Pass)", map_choice(), map_input(100), 1 + 100 * 3, hand_map_choice, 30, 3),
    Workload("(c) 1,000 x Pass + Parameters + ResultPath", chain(), {"count": 3, "name": "c"}, CHAIN, hand_chain, 10, 1),
]

# --- runners -----------------------------------------------------------------------------------


def run_ours(machine: Machine, input: Any, payload_limit: Any = "default") -> Any:
    kwargs = {} if payload_limit == "default" else {"payload_limit": payload_limit}
    result = run_execution(machine, input, **kwargs)
    if result.status != "SUCCEED":
        raise RuntimeError(f"our engine: {result.status} {result.error}: {result.cause}")
    return result.output


def parse_moto(definition: dict[str, Any]) -> Any:
    """moto's compiled program (an EvalComponent), parsed once and evaluated many times."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    return AmazonStateLanguageParser.parse(json.dumps(definition))[0]


def run_moto(program: Any, input: Any) -> Any:
    """One execution on moto's interpreter, set up as its ExecutionWorker does, minus threads and HTTP.

    moto is imported here, not at the top, so the memory child process does not carry its heap.
    """
    from moto.stepfunctions.parser.api import StateMachineType
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError
    from moto.stepfunctions.parser.asl.eval.states import ContextObjectData, ExecutionData, StateMachineData

    env = Environment(
        aws_execution_details=AWSExecutionDetails("111111111111", "us-east-1", "arn:aws:iam::111111111111:role/bench"),
        execution_type=StateMachineType.STANDARD,
        context=ContextObjectData(
            Execution=ExecutionData(
                Id="arn:aws:states:us-east-1:111111111111:execution:bench:run",
                Input=input,
                Name="run",
                RoleArn="arn:aws:iam::111111111111:role/bench",
                StartTime="2024-01-01T00:00:00.000Z",
            ),
            StateMachine=StateMachineData(Id="arn:aws:states:us-east-1:111111111111:stateMachine:bench", Name="bench"),
        ),
        event_history_context=EventHistoryContext.of_program_start(),
        cloud_watch_logging_session=None,
        activity_store={},
    )
    program.eval(env)
    state = env.program_state()
    if not isinstance(state, ProgramEnded):
        detail = state.error if isinstance(state, ProgramError) else type(state).__name__
        raise RuntimeError(f"moto: {detail}")
    return env.states.get_input()


def best_of(repeat: int, runs: dict[str, tuple[int, Callable[[], Any]]]) -> dict[str, float]:
    """Seconds per call of each ``name: (batch, run)``: the best of ``repeat`` batches.

    Batches of the runners alternate, so a burst of load from other processes on the machine
    hits all of them alike instead of skewing one side of a ratio.
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, (batch, run) in runs.items():
            start = time.perf_counter()
            for _ in range(batch):
                run()
            best[name] = min(best[name], (time.perf_counter() - start) / batch)
    return best


def check(label: str, expected: Any, outputs: dict[str, Any]) -> bool:
    ok = True
    for who, output in outputs.items():
        if output != expected:
            ok = False
            print(f"!!! MISMATCH in {label}: {who}'s output differs from the hand-written function's", file=sys.stderr)
            print(f"!!!   expected {json.dumps(expected)[:300]}", file=sys.stderr)
            print(f"!!!   {who:>8} {json.dumps(output)[:300]}", file=sys.stderr)
    return ok


# --- reports -----------------------------------------------------------------------------------


def throughput(repeat: int) -> bool:
    print(f"{'workload':44} {'ours st/s':>11} {'moto st/s':>10} {'ours/moto':>10} {'hand st/s':>11} {'ours/hand time':>15} {'output':>7}")
    all_ok = True
    for w in WORKLOADS:
        machine = build_machine(w.definition)
        program = parse_moto(w.definition)
        expected = w.hand(w.input)
        ok = check(w.label, expected, {"ours": run_ours(machine, w.input), "moto": run_moto(program, w.input)})
        all_ok &= ok
        times = best_of(
            repeat,
            {
                "ours": (w.batch, lambda: run_execution(machine, w.input)),  # called as directly as the hand-written one
                "hand": (w.batch, lambda: w.hand(w.input)),
                "moto": (w.moto_batch, lambda: run_moto(program, w.input)),
            },
        )
        ours, hand, moto = times["ours"], times["hand"], times["moto"]
        print(
            f"{w.label:44} {w.states / ours:11,.0f} {w.states / moto:10,.0f} {moto / ours:9.0f}x "
            f"{w.states / hand:11,.0f} {ours / hand:14.2f}x {'ok' if ok else 'WRONG':>7}"
        )
    return all_ok


def map_memory(items: int) -> None:
    """Peak memory of one Map over ``items`` items, in a fresh process so moto's heap is not counted.

    The payload limit is off: the input alone is megabytes. ``ru_maxrss`` is a high-water mark,
    so its growth while the run lasts is the run's peak on top of its input.
    """
    machine = build_machine(map_choice())
    rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # noqa: E731  (KiB -> MiB)
    base = rss()
    value = map_input(items)
    loaded = rss()
    start = time.perf_counter()
    output = run_ours(machine, value, payload_limit=None)
    elapsed = time.perf_counter() - start
    peak = rss()
    ok = check(f"Map({items:,})", hand_map_choice(value), {"ours": output})
    json_bytes = len(json.dumps(value, separators=(",", ":")))
    print(
        f"Map({items:,}) x (Pass, Choice, Pass), payload limit off: input {json_bytes / 2**20:.1f} MiB as JSON, "
        f"+{loaded - base:.0f} MiB max RSS to build; the run: +{peak - loaded:.0f} MiB max RSS "
        f"(peak {peak:.0f} MiB, {base:.0f} MiB of it interpreter and imports), {(1 + items * 3) / elapsed:,.0f} states/s; "
        f"output {'ok' if ok else 'WRONG'}"
    )
    sys.exit(0 if ok else 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed batches per measurement (best is kept)")
    parser.add_argument("--map-items", type=int, default=100_000, help="items of the Map whose peak memory is printed")
    parser.add_argument("--memory-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_only:
        map_memory(args.map_items)
    # The child starts first: Linux carries ru_maxrss across exec, so it must not inherit moto's peak.
    child = [sys.executable, __file__, "--memory-only", "--map-items", str(args.map_items)]
    memory_ok = subprocess.run(child, check=False).returncode == 0
    ok = throughput(args.repeat) and memory_ok
    if not ok:
        print("!!! OUTPUT MISMATCH: see above", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
