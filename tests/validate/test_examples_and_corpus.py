"""Real definitions validate: Tencent's own Map example and the 797 AWS-recorded corpus machines."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from asw_airflow.loader import load_text
from asw_airflow.validate import validate

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("ASW_CONFORMANCE_CORPUS", REPO / ".." / "shared" / "conformance" / "localstack-sfn-pure.jsonl"))

TENCENT_MAP_EXAMPLE = """{
  "Comment": "Average each student's scores (Tencent Cloud ASW Map documentation example)",
  "StartAt": "Map",
  "States": {
    "Map": {
      "Type": "Map",
      "InputPath": "$.detail",
      "ItemsPath": "$.exam",
      "ResultPath": "$.detail.exam",
      "MaxConcurrency": 1,
      "Iterator": {
        "StartAt": "Average",
        "States": {
          "Average": {
            "Type": "Task",
            "Resource": "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/average",
            "ResultSelector": {"user.$": "$.user", "score.$": "$.average"},
            "End": true
          }
        }
      },
      "End": true
    }
  }
}"""

TENCENT_START_AT_TYPO = """{
  "Comment": "StartAt is case-sensitive",
  "StartAt": "sum",
  "States": {
    "Sum": {
      "Type": "Task",
      "Resource": "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/sum",
      "End": true
    }
  }
}"""


def test_tencent_map_example_validates() -> None:
    assert validate(load_text(TENCENT_MAP_EXAMPLE)) == []


def test_tencent_start_at_in_the_wrong_case_is_reported_at_start_at() -> None:
    [diagnostic] = validate(load_text(TENCENT_START_AT_TYPO, "sum.json"))
    assert diagnostic.code == "MISSING_TRANSITION_TARGET"
    assert (diagnostic.pointer, diagnostic.line, diagnostic.column) == ("/StartAt", 3, 14)
    assert diagnostic.format() == (
        "sum.json:3:14: MISSING_TRANSITION_TARGET StartAt names 'sum', which is not a state in the state machine; "
        "did you mean 'Sum'? (/StartAt)"
    )


@pytest.mark.skipif(not CORPUS.is_file(), reason=f"conformance corpus not found at {CORPUS}; set ASW_CONFORMANCE_CORPUS")
def test_every_corpus_definition_validates() -> None:
    failures = []
    with CORPUS.open(encoding="utf-8") as lines:
        cases = [json.loads(line) for line in lines]
    assert len(cases) >= 797
    for case in cases:
        text = json.dumps(case["definition"], indent=2)
        for diagnostic in validate(load_text(text, case["id"])):
            failures.append(diagnostic.format())
    assert failures == []
