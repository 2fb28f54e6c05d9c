"""``asw run``: output on stdout, exit codes 0/1/2, messages instead of tracebacks."""

import json

import pytest

from asw_airflow.cli import main

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/fn"


@pytest.fixture
def workflow(tmp_path):
    path = tmp_path / "order.json"
    path.write_text(json.dumps({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": SCF, "ResultPath": "$.t", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.t.ok", "BooleanEquals": True, "Next": "Done"}], "Default": "Bad"},
        "Done": {"Type": "Succeed"},
        "Bad": {"Type": "Fail", "Error": "NotOk", "Cause": "t.ok was false"}}}))
    mocks = tmp_path / "mocks.json"
    mocks.write_text(json.dumps({
        "StateMachines": {"order": {"TestCases": {"Good": {"T": "Ok"}, "Bad": {"T": "NotOk"}}}},
        "MockedResponses": {"Ok": {"0": {"Return": {"ok": True}}}, "NotOk": {"0": {"Return": {"ok": False}}}}}))
    return path, mocks


def test_success_prints_the_output_and_exits_0(workflow, capsys, tmp_path) -> None:
    path, mocks = workflow
    history = tmp_path / "history.json"
    code = main(["run", str(path), "--input", '{"a": 1}', "--mock", f"{mocks}#Good", "--history", str(history)])
    assert code == 0
    assert json.loads(capsys.readouterr().out) == {"a": 1, "t": {"ok": True}}
    assert json.loads(history.read_text())[0]["EventCategory"] == "ExecutionStart"


def test_failure_prints_error_and_cause_and_exits_1(workflow, capsys, tmp_path) -> None:
    path, mocks = workflow
    input_file = tmp_path / "input.json"
    input_file.write_text('{"a": 2}')
    assert main(["run", str(path), "--input", f"@{input_file}", "--mock", f"{mocks}#Bad"]) == 1
    assert json.loads(capsys.readouterr().out) == {"Error": "NotOk", "Cause": "t.ok was false"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--input", "{nope"], "--input is not JSON"),
        (["--input", "@missing.json"], "missing.json"),
        (["--mock", "mocks.json"], "FILE#CASE"),
        (["--input", "NaN"], "--input is not JSON: NaN is not a JSON number"),
        (["--input", "[1e999]"], "--input is not JSON: 1e999 is beyond the range of a JSON number"),
        (["--input", '{"a": 1, "a": 2}'], "key 'a' appears more than once in this object; JSON parsers keep only the "
                                          "last one, so merge or rename them at line 1 column 10 (/a)"),
    ],
)
def test_usage_errors_exit_2_with_a_message(workflow, capsys, extra, message) -> None:
    path, _ = workflow
    assert main(["run", str(path), *extra]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err and captured.out == ""


def test_missing_file_and_invalid_definition_exit_2(tmp_path, capsys) -> None:
    assert main(["run", str(tmp_path / "nope.json")]) == 2
    assert "No such file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"StartAt": "X", "States": {"A": {"Type": "Pass", "End": true}}}')
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "(/StartAt)" in err


CONTEXT = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
    "in.$": "$", "role.$": "$$.Execution.RoleArn"}, "End": True}}}
ROLE = "qrn:qcs:cam::1250000000:roleName/asw-runner"


def test_a_sidecar_gives_default_input_role_and_type_and_flags_override_it(tmp_path, capsys) -> None:
    path = tmp_path / "ctx.json"
    path.write_text(json.dumps(CONTEXT))
    (tmp_path / "ctx.dag.json").write_text(json.dumps({"input": {"from": "sidecar"}, "role": ROLE, "type": "EXPRESS"}))
    assert main(["run", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"in": {"from": "sidecar"}, "role": ROLE}
    assert main(["run", str(path), "--input", '{"from": "flag"}', "--type", "STANDARD"]) == 0
    assert json.loads(capsys.readouterr().out) == {"in": {"from": "flag"}, "role": ROLE}


def test_a_sidecar_type_applies_unless_type_is_given(tmp_path, capsys) -> None:
    path = tmp_path / "sync.json"
    path.write_text(json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": SCF.replace("Invoke/", "Invoke.sync/"), "End": True}}}))
    (tmp_path / "sync.dag.json").write_text('{"type": "EXPRESS"}')
    assert main(["run", str(path)]) == 2  # EXPRESS cannot run a sync-run Task: rejected at validation
    assert "sync" in capsys.readouterr().err.lower()
    assert main(["run", str(path), "--type", "STANDARD"]) == 1  # valid; no cloud to call
    assert json.loads(capsys.readouterr().out)["Error"] == "States.Runtime"


def test_without_a_role_there_is_no_role_arn_and_an_invalid_sidecar_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "ctx.json"
    path.write_text(json.dumps(CONTEXT))
    assert main(["run", str(path)]) == 1
    assert json.loads(capsys.readouterr().out)["Error"] == "States.Runtime"
    (tmp_path / "ctx.dag.json").write_text('{"role": 5}')
    assert main(["run", str(path)]) == 2
    assert "ctx.dag.json:1:10: INVALID_SIDECAR role must be" in capsys.readouterr().err


def test_input_may_be_any_json_value(tmp_path, capsys) -> None:
    path = tmp_path / "echo.json"
    path.write_text(json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
    assert main(["run", str(path), "--input", "[1, 2.5]"]) == 0
    assert capsys.readouterr().out == "[1, 2.5]\n"


def test_a_non_utf8_input_file_is_located(workflow, tmp_path, capsys) -> None:
    path, _ = workflow
    binary = tmp_path / "bin.in"
    binary.write_bytes(b'{"a":\n "\xff"}')
    assert main(["run", str(path), "--input", f"@{binary}"]) == 2
    assert capsys.readouterr().err == (
        f"asw run: {binary} is not JSON: the file is not UTF-8 text; save it as UTF-8 at line 2 column 3\n")


@pytest.mark.parametrize(("text", "shown"), [("NaN", "NaN"), ("[1, -Infinity]", "-Infinity")])
def test_non_finite_numbers_never_enter_a_run(tmp_path, capsys, text, shown) -> None:
    path = tmp_path / "parse.json"
    path.write_text(json.dumps({"StartAt": "P", "States": {"P": {
        "Type": "Pass", "Parameters": {"v.$": "States.StringToJson($.s)"}, "End": True}}}))
    history = tmp_path / "history.json"
    assert main(["run", str(path), "--input", json.dumps({"s": text}), "--history", str(history)]) == 1
    failure = json.loads(capsys.readouterr().out)
    assert failure["Error"] == "States.IntrinsicFailure"
    assert f"{shown} is not a JSON number" in failure["Cause"]
    json.loads(history.read_text(), parse_constant=lambda word: pytest.fail(f"history holds {word}"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--functions", "{tmp}/nonexistent"], "--functions {tmp}/nonexistent: no such directory"),
        (["--workflows", "{tmp}/order.json"], "--workflows {tmp}/order.json: is not a directory"),
        (["--endpoint", "http://127.0.0.1:1", "--functions", "{tmp}"],
         "--endpoint and --functions exclude each other: Tasks call either a Tencent Cloud endpoint or the local "
         "emulator"),
        (["--endpoint", "http://127.0.0.1:1", "--functions", "{tmp}", "--workflows", "{tmp}"],
         "--endpoint and --functions/--workflows exclude each other"),
        (["--mock", "{tmp}/mocks.json#Good", "--endpoint", "http://127.0.0.1:1"], "--mock and --endpoint exclude"),
        (["--history", "{tmp}/no/such/dir/history.json"], "--history {tmp}/no/such/dir/history.json: No such file"),
        (["--history", "{tmp}"], "--history {tmp}: Is a directory"),
    ],
)
def test_contradicting_or_unusable_options_exit_2_before_running(workflow, tmp_path, capsys, extra, message) -> None:
    path, _ = workflow
    argv = [arg.format(tmp=tmp_path) for arg in extra]
    assert main(["run", str(path), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("asw run: " + message.format(tmp=tmp_path)) and captured.out == ""


def test_history_replaces_an_earlier_file_and_survives_a_usage_error(workflow, tmp_path, capsys) -> None:
    path, mocks = workflow
    history = tmp_path / "history.json"
    history.write_text("earlier " * 10000)
    assert main(["run", str(path), "--input", "{nope", "--history", str(history)]) == 2
    assert history.read_text() == "earlier " * 10000
    assert main(["run", str(path), "--mock", f"{mocks}#Good", "--history", str(history)]) == 0
    assert json.loads(history.read_text())[-1]["EventCategory"] == "ExecutionSucceed"


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_goes_to_stderr_only_when_it_is_a_terminal(workflow, capsys, monkeypatch, terminal) -> None:
    import sys

    path, mocks = workflow
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    assert main(["run", str(path), "--mock", f"{mocks}#Good"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"t": {"ok": True}}
    if terminal:
        assert [line.split() for line in captured.err.splitlines()] == [
            ["ExecutionStart"], ["TaskNodeEnter", "T"], ["TaskNodeExit", "T"], ["ChoiceNodeEnter", "C"],
            ["ChoiceNodeExit", "C"], ["SucceedNodeEnter", "Done"], ["SucceedNodeExit", "Done"], ["ExecutionSucceed"]]
    else:
        assert captured.err == ""
