"""The engine against AWS-recorded executions: the floors issue 3 sets, and the runner's own rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asw_airflow import conformance

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ASW_CONFORMANCE_CORPUS", REPO.parent / "shared/conformance/localstack-sfn-pure.jsonl"))


def test_mask_words_match_values_of_their_kind_only():
    assert conformance.matches({"t": "date"}, {"t": "2026-01-02T03:04:05.678Z"})
    assert not conformance.matches({"t": "date"}, {"t": "yesterday"})
    assert conformance.matches(["RandomNumberGenerated"], [0.25])
    assert not conformance.matches(["RandomNumberGenerated"], ["0.25"])
    assert conformance.matches("generated-uuid", "123e4567-e89b-12d3-a456-426614174000")
    assert not conformance.matches(1, True), "a boolean is not the number 1"
    assert not conformance.matches({"a": 1}, {"a": 1, "b": 2}), "extra keys are a difference"


def test_judge_maps_aws_status_words_to_asw():
    case = conformance.Case("x::y", {}, {}, {"status": "SUCCEEDED", "output": {"a": 1}})
    assert conformance.judge(case, conformance.Outcome("SUCCEED", {"a": 1}))
    assert not conformance.judge(case, conformance.Outcome("FAILED", error="States.Runtime"))
    failing = conformance.Case("x::y", {}, {}, {"status": "FAILED", "error": "States.Runtime", "cause": "c"})
    assert conformance.judge(failing, conformance.Outcome("FAILED", error="States.Runtime", cause="other words"))


@pytest.mark.skipif(not CORPUS.exists(), reason=f"conformance corpus not found at {CORPUS} (set ASW_CONFORMANCE_CORPUS)")
def test_local_engine_meets_the_corpus_floors():
    report = conformance.run_corpus(conformance.load_corpus(CORPUS), conformance.ENGINES["local"])
    jsonpath_passed, jsonpath_run = report.count(language="JSONPath")
    jsonata_passed, jsonata_run = report.count(language="JSONata")
    failures = [r.case.id for r in report.results if not r.passed and not r.skipped]
    assert jsonpath_run >= 725 and jsonata_run >= 70, "the corpus should hold 726 JSONPath and 71 JSONata cases"
    assert jsonpath_passed >= 0.99 * jsonpath_run, failures
    assert jsonata_passed >= 0.90 * jsonata_run, failures
