"""Compiled DAG output == engine output == recorded output: Tencent's Map example and 160 AWS-recorded corpus cases."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest
from tests.airflow.helpers import SCF, run_both

from asw_airflow.airflow.conformance import airflow_engine
from asw_airflow.conformance import _WILDCARDS, ROLE_ARN, Case, judge, load_corpus, local_engine

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


SAMPLE_SIZE = 160


def _sample() -> list[Case]:
    """``SAMPLE_SIZE`` recorded cases spread over every area: round-robin over areas, evenly within each."""
    path = _corpus()
    if path is None:
        return []
    by_area: dict[str, list[Case]] = defaultdict(list)
    for case in load_corpus(path):
        if case.expected.get("status"):
            by_area[case.area].append(case)
    queues = {area: cases[:: max(1, len(cases) // SAMPLE_SIZE)] for area, cases in sorted(by_area.items())}
    chosen: list[Case] = []
    while len(chosen) < SAMPLE_SIZE and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < SAMPLE_SIZE:
                chosen.append(queue.pop(0))
    return chosen


def _masked(value: object) -> bool:
    """True if the corpus recorded a generated value (time, uuid, random) that two runs cannot share."""
    text = json.dumps(value)
    return any(f'"{word}"' in text for word in _WILDCARDS)


@pytest.mark.skipif(_corpus() is None, reason="conformance corpus absent: set ASW_CONFORMANCE_CORPUS")
@pytest.mark.parametrize("case", _sample(), ids=lambda case: f"{case.area}::{case.id.rsplit('::', 1)[-1][:50]}")
def test_corpus_case_gives_the_recorded_result_on_airflow_and_on_the_engine(case):
    ((_, airflow),) = airflow_engine([case])
    ((_, engine),) = local_engine([case])
    assert judge(case, engine), engine
    assert judge(case, airflow), airflow
    assert (airflow.status, airflow.error) == (engine.status, engine.error)
    if not _masked(case.expected):
        assert (airflow.output, airflow.cause) == (engine.output, engine.cause)


@pytest.mark.skipif(_corpus() is None, reason="conformance corpus absent: set ASW_CONFORMANCE_CORPUS")
def test_cases_reading_the_execution_role_pass_on_airflow_given_the_role_as_the_sidecar_would():
    cases = [case for case in load_corpus(_corpus()) if "RoleArn" in json.dumps(case.definition) or ROLE_ARN in json.dumps(case.expected)]
    assert len(cases) >= 3
    for case, outcome in airflow_engine(cases):
        assert judge(case, outcome), (case.id, outcome)


def test_sample_covers_every_area():
    if _corpus() is None:
        pytest.skip("conformance corpus absent")
    areas = {case.area for case in load_corpus(_corpus())}
    assert {case.area for case in _sample()} == areas and len(_sample()) >= 150
