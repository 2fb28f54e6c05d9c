"""``asw conformance``: counts in text and JSON, exit 1 on a failed case, exit 2 on a corpus it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asw_airflow.cli import main

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": 1}, "End": True}}}
GOOD = {"id": "tests/aws/services/stepfunctions/v2/base/test_pass.py::test_ok", "definition": PASS, "input": {},
        "expected": {"status": "SUCCEEDED", "output": {"a": 1}}}
WRONG = {"id": "tests/aws/services/stepfunctions/v2/base/test_pass.py::test_wrong", "definition": PASS, "input": {},
         "expected": {"status": "SUCCEEDED", "output": {"a": 2}}}
UNRECORDED = {"id": "tests/aws/services/stepfunctions/v2/other/test_x.py::test_none", "definition": PASS}


def corpus(tmp_path: Path, *lines: object) -> str:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return str(path)


def test_all_passing_is_exit_0_with_counts_per_area(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", corpus(tmp_path, GOOD, "", UNRECORDED)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "   1/1    base/test_pass",
        "   0/0    other/test_x",
        "JSONPath: 1/1 passed",
        "JSONata: 0/0 passed",
        "total: 1 passed, 0 failed, 1 skipped",
    ]


def test_json_format_keys_and_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--format", "json", corpus(tmp_path, GOOD, WRONG, UNRECORDED)]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"total", "passed", "failed", "skipped", "by_language", "by_area", "failures"}
    assert (summary["total"], summary["passed"], summary["failed"], summary["skipped"]) == (3, 1, 1, 1)
    assert summary["by_area"] == {"base/test_pass": {"passed": 1, "failed": 1, "skipped": 0},
                                  "other/test_x": {"passed": 0, "failed": 0, "skipped": 1}}
    [failure] = summary["failures"]
    assert set(failure) == {"id", "expected", "got"}
    assert failure["id"] == WRONG["id"] and failure["expected"] == WRONG["expected"]
    assert (failure["got"]["status"], failure["got"]["output"]) == ("SUCCEED", {"a": 1})


def test_only_runs_the_matching_cases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--only", "test_ok", "--format", "json", corpus(tmp_path, GOOD, WRONG)]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((GOOD, {"definition": PASS}), "line 2: the case has no 'id' (every case needs id and definition)"),
        (({"id": "x"},), "line 1: the case has no 'definition' (every case needs id and definition)"),
        ((GOOD, "", '{"id": "x", '), "line 3 column 13: not valid JSON: Expecting property name enclosed in double "
                                    "quotes"),
        (('{"id": "x", "id": "y", "definition": {}}',), "line 1 column 13: key 'id' appears more than once"),
        (("[1]",), "line 1: a case must be a JSON object, got list"),
        (({"id": 7, "definition": PASS},), "line 1: 'id' must be a non-empty string, got 7"),
        (({"id": "x", "definition": PASS, "expected": "ok"},), "line 1: 'expected' of x must be an object"),
        (("",), "it holds no cases (one JSON object per line)"),
    ],
)
def test_a_malformed_corpus_is_exit_2_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      lines: tuple[object, ...], message: str) -> None:
    path = corpus(tmp_path, *lines)
    assert main(["conformance", path]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"asw conformance: corpus {path}: {message}") and captured.out == ""


def test_a_missing_corpus_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.jsonl"
    assert main(["conformance", str(path)]) == 2
    assert capsys.readouterr().err == f"asw conformance: cannot read corpus {path}: No such file or directory\n"
