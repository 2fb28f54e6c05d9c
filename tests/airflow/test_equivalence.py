"""Compiled DAG output == engine output: Tencent's Map example and a bounded sample of the AWS-recorded corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import SCF, run_both

from asw_airflow.diagnostics import DefinitionError

TENCENT_MAP = {
    "StartAt": "Average",
    "States": {
        "Average": {
            "Type": "Map",
            "InputPath": "$.detail",
            "ItemsPath": "$.exam",
            "ResultPath": "$.detail.exam",
            "Iterator": {
                "StartAt": "Compute",
                "States": {
                    "Compute": {
                        "Type": "Task",
                        "Resource": SCF + "average",
                        "ResultSelector": {"user.$": "$.user", "score.$": "$.average"},
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}
TENCENT_INPUT = {
    "date": "2021-03-14T01:59:00Z",
    "detail": {
        "class": "No-01",
        "exam": [{"user": "susu", "score": [90, 80, 70, 60]}, {"user": "lili", "score": [100, 90, 80, 70]}],
    },
}


def test_tencent_map_example(handlers):
    handlers.register_kind(
        "scf", lambda call: {"user": call.payload["user"], "average": sum(call.payload["score"]) / len(call.payload["score"])}
    )
    airflow, engine = run_both(TENCENT_MAP, TENCENT_INPUT, handlers)
    expected = {"date": "2021-03-14T01:59:00Z", "detail": {"class": "No-01", "exam": [{"user": "susu", "score": 75}, {"user": "lili", "score": 85}]}}
    assert airflow.output == engine.output == expected


def _corpus() -> Path | None:
    path = Path(os.environ.get("ASW_CONFORMANCE_CORPUS", Path(__file__).parents[3] / "shared/conformance/localstack-sfn-pure.jsonl"))
    return path if path.exists() else None


SAMPLE_SIZE = 16


def _sample() -> list[dict]:
    path = _corpus()
    if path is None:
        return []
    cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    usable = [c for c in cases if c.get("expected") and "Wait" not in json.dumps(c["definition"]) and "Resource" not in json.dumps(c["definition"])]
    step = max(1, len(usable) // SAMPLE_SIZE)
    return usable[::step][:SAMPLE_SIZE]


@pytest.mark.skipif(_corpus() is None, reason="conformance corpus absent: set ASW_CONFORMANCE_CORPUS")
@pytest.mark.parametrize("case", _sample(), ids=lambda case: case["id"].rsplit("::", 1)[-1][:60])
def test_corpus_case_runs_the_same_on_airflow(case):
    try:
        airflow, engine = run_both(case["definition"], case["input"])
    except DefinitionError as error:
        pytest.skip(f"not valid TCSL: {str(error).splitlines()[0]}")
    assert (airflow.status, airflow.error, airflow.cause) == (engine.status, engine.error, engine.cause)
    assert airflow.output == engine.output
