"""``asw validate`` and ``asw schema``: output lines, JSON output, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asw_airflow.cli import main

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"
VALID = {"StartAt": "A", "States": {
    "A": {"Type": "Task", "Resource": SCF, "Next": "B"},
    "B": {"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Pass", "End": True}}}, "End": True},
}}
INVALID = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "Nxt": "A", "End": true}\n  }\n}\n'


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "ok.json").write_text(json.dumps(VALID))
    (tmp_path / "bad.json").write_text(INVALID)
    (tmp_path / "notes.txt").write_text("not a definition")
    return tmp_path


def test_valid_file_prints_a_structure_summary(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tree / "nested" / "ok.json")]) == 0
    assert capsys.readouterr().out == f"{tree / 'nested' / 'ok.json'}: valid STANDARD workflow, 3 states (1 Task, 1 Map, 1 Pass)\n"


def test_directory_reports_every_file_and_exits_1(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tree)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{tree / 'bad.json'}:4:27: SCHEMA_VALIDATION_FAILED unknown field 'Nxt' in Pass state 'A'; did you mean 'Next'? "
        "(/States/A/Nxt)",
        f"{tree / 'nested' / 'ok.json'}: valid STANDARD workflow, 3 states (1 Task, 1 Map, 1 Pass)",
    ]


def test_sidecars_are_checked_as_sidecars_not_as_workflows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "etl.json").write_text(json.dumps(VALID))
    (tmp_path / "etl.dag.json").write_text('{"schedule": "@daily", "owner": "data"}')
    (tmp_path / "bad.dag.json").write_text('{\n  "type": "FAST"\n}')
    (tmp_path / "bad.json").write_text(json.dumps(VALID))
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'bad.dag.json'}:2:11: INVALID_SIDECAR type must be \"STANDARD\" or \"EXPRESS\", got 'FAST' (/type)",
        f"{tmp_path / 'bad.json'}: valid STANDARD workflow, 3 states (1 Task, 1 Map, 1 Pass)",
        f"{tmp_path / 'etl.dag.json'}: valid Airflow sidecar",
        f"{tmp_path / 'etl.json'}: valid STANDARD workflow, 3 states (1 Task, 1 Map, 1 Pass)",
    ]


def test_a_sidecar_without_its_workflow_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orphan = tmp_path / "x.dag.json"
    orphan.write_text('{"schedule": "@daily"}')
    assert main(["validate", str(orphan)]) == 1
    assert capsys.readouterr().out == (
        f"{orphan}:1:1: INVALID_SIDECAR no workflow x.json next to it; a sidecar configures the workflow of the same "
        "name, so rename or remove it (/)\n")


def test_the_root_pointer_is_slash_in_text_and_empty_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]")
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.endswith(" (/)\n")
    assert main(["validate", "--format", "json", str(path)]) == 1
    assert [d["pointer"] for d in json.loads(capsys.readouterr().out)] == [""]


def test_a_dangling_symlink_is_an_io_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tree / "gone.json"
    link.symlink_to(tree / "deleted.json")
    for argv in ([str(tree / "nested"), str(tree)], [str(tree / "nested"), str(link)]):
        assert main(["validate", *argv]) == 2
        captured = capsys.readouterr()
        assert captured.err == f"asw validate: {link}: broken symbolic link to {tree / 'deleted.json'}\n"
        assert "ok.json: valid" in captured.out  # the rest was still checked


def test_json_format_has_exactly_the_documented_keys(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", str(tree)]) == 1
    [diagnostic] = json.loads(capsys.readouterr().out)
    assert diagnostic == {"code": "SCHEMA_VALIDATION_FAILED", "severity": "ERROR", "pointer": "/States/A/Nxt",
                          "message": "unknown field 'Nxt' in Pass state 'A'; did you mean 'Next'?",
                          "file": str(tree / "bad.json"), "line": 4, "column": 27}


def test_json_format_prints_an_empty_array_when_valid(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", str(tree / "nested")]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_express_type_rejects_sync_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sync.json"
    path.write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": SCF.replace("Invoke", "Invoke.sync"), "End": True}}}))
    assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", "--type", "EXPRESS", str(path)]) == 1
    assert "INVALID_RESOURCE" in capsys.readouterr().out


def test_missing_path_is_exit_2_with_a_clear_message(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tree / "nested"), str(tree / "nope.json")]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"asw validate: {tree / 'nope.json'}: no such file or directory\n"
    assert "valid STANDARD workflow" in captured.out  # the other path was still checked
    assert "Traceback" not in captured.err


def test_invalid_json_is_a_diagnostic_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"StartAt": ')
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.startswith(f"{path}:1:13: INVALID_JSON_DESCRIPTION ")


def test_unknown_type_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--type", "FAST", "x.json"])
    assert exit_info.value.code == 2


def test_schema_command_prints_the_packaged_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "PassState" in schema["$defs"]
