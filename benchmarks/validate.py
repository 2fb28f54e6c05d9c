"""Validate a generated 1,000-state definition with ours and with statelint, side by side.

Run: ``.venv/bin/python benchmarks/validate.py [--states 1000] [--repeat 5]``. Both get the
same machine (Choice, Map, Parallel, Task, Pass mixed); statelint's copy uses AWS Task
resources, ours Tencent's. Each time is the best of ``--repeat`` runs, including parsing
the text, which both have to do. Targets: ours under 0.2 s and at most 0.5x statelint.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, Callable

from statelint.linter import Linter

from asw_airflow.loader import load_text
from asw_airflow.validate import read_machine, validate

TENCENT = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/step"
AWS = "arn:aws:states:::lambda:invoke"


def _block(i: int, resource: str, nxt: str) -> dict[str, dict[str, Any]]:
    """Ten states, nested ones included: Task -> Choice -> (Map of two Pass | Parallel of three Task) -> Pass."""
    p = f"s{i}_"
    inner = {"StartAt": f"{p}item", "States": {
        f"{p}item": {"Type": "Pass", "Parameters": {"v.$": "$$.Map.Item.Value"}, "Next": f"{p}item2"},
        f"{p}item2": {"Type": "Pass", "InputPath": "$.v", "End": True}}}
    branch = lambda n: {"StartAt": f"{p}b{n}", "States": {f"{p}b{n}": {"Type": "Task", "Resource": resource, "End": True}}}
    return {
        f"{p}task": {"Type": "Task", "Resource": resource, "Parameters": {"id.$": "$.id", "n": i}, "ResultSelector": {"r.$": "$.Response"},
                     "ResultPath": "$.result", "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 2}],
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": f"{p}pass", "ResultPath": "$.error"}], "Next": f"{p}choice"},
        f"{p}choice": {"Type": "Choice", "Choices": [
            {"Variable": "$.result.r", "NumericGreaterThan": 10, "Next": f"{p}map"},
            {"And": [{"Variable": "$.kind", "StringEquals": "x"}, {"Variable": "$.n", "IsPresent": True}], "Next": f"{p}parallel"}],
            "Default": f"{p}pass"},
        f"{p}map": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 4, "Iterator": inner, "ResultPath": "$.mapped", "Next": f"{p}pass"},
        f"{p}parallel": {"Type": "Parallel", "Branches": [branch(1), branch(2), branch(3)], "ResultPath": "$.branches", "Next": f"{p}pass"},
        f"{p}pass": {"Type": "Pass", "Result": {"done": i}, "ResultPath": "$.done", "Next": nxt},
    }


def definition(states: int, resource: str) -> dict[str, Any]:
    blocks = max(1, states // 10)
    machine: dict[str, Any] = {"Comment": f"{blocks * 10} states", "StartAt": "s0_task", "States": {}}
    for i in range(blocks):
        machine["States"].update(_block(i, resource, f"s{i + 1}_task" if i + 1 < blocks else "end"))
    machine["States"]["end"] = {"Type": "Succeed"}
    return machine


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ours_text = json.dumps(definition(args.states, TENCENT), indent=2)
    aws_text = json.dumps(definition(args.states, AWS), indent=2)
    validate(load_text(ours_text))  # warm-up: compile the schema once, as a long-lived process would
    ours, diagnostics = best_of(args.repeat, lambda: validate(load_text(ours_text)))
    theirs, problems = best_of(args.repeat, lambda: Linter.validate(aws_text))
    assert diagnostics == [], [d.format() for d in diagnostics[:5]]
    assert problems == [], problems[:5]
    count = sum(read_machine(json.loads(ours_text)).type_counts().values())
    print(f"definition: {count} states ({len(ours_text) // 1024} KiB)")
    print(f"asw validate : {ours * 1000:8.1f} ms (best of {args.repeat})")
    print(f"statelint    : {theirs * 1000:8.1f} ms (best of {args.repeat})")
    print(f"ratio        : {ours / theirs:8.2f}x statelint's time (target <= 0.5x, and ours < 200 ms)")


if __name__ == "__main__":
    main()
