from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time

import httpx
import pytest

from asw_airflow.tencentcloud.client import TencentCloudError
from asw_airflow.tencentcloud.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, add_arguments, start_emulator

from tests.tencentcloud.conftest import make_client


def test_raising_function_answers_with_scf_error_shape(client):
    result = client.call("scf", "Invoke", {"FunctionName": "boom", "ClientContext": '{"n": 1}'})["Result"]
    assert result["InvokeResult"] == -1 and result["RetMsg"] == ""
    err = json.loads(result["ErrMsg"])
    assert err["statusCode"] == 430 and err["errorMessage"] == "ValueError: bad input: 1"
    assert "Traceback" in err["stackTrace"]


def test_async_events_are_listed_and_terminable(client, tmp_path):
    gate = tmp_path / "gate"
    rid = client.call(
        "scf", "Invoke",
        {"FunctionName": "gated", "InvocationType": "Event", "ClientContext": json.dumps({"gate": str(gate)})},
    )["Result"]["FunctionRequestId"]
    status = client.call("scf", "GetAsyncEventStatus", {"InvokeRequestId": rid})["Result"]
    assert status == {"Status": "RUNNING", "StatusCode": 0, "InvokeRequestId": rid}
    client.call("scf", "TerminateAsyncEvent", {"FunctionName": "gated", "InvokeRequestId": rid})
    gate.touch()
    listed = client.call("scf", "ListAsyncEvents", {"FunctionName": "gated", "Status": ["ABORTED"]})
    assert [e["InvokeRequestId"] for e in listed["EventList"]] == [rid]


def test_execution_lifecycle_and_history(client, runner):
    started = client.call(
        "asw",
        "StartExecution",
        {"StateMachineResourceName": "qrn:qcs:asw:ap-guangzhou:1250000000:http:json:flowmachine:child", "Input": "{}", "Name": "n1"},
    )
    qrn = started["ExecutionResourceName"]
    assert qrn == "qrn:qcs:asw:ap-guangzhou:1250000000:execution:child:n1"
    for _ in range(200):
        described = client.call("asw", "DescribeExecution", {"ExecutionResourceName": qrn})
        if described["Status"] != "RUNNING":
            break
        time.sleep(0.01)
    assert described["Status"] == "SUCCEED" and json.loads(described["Output"]) == {"child": "Only", "input": {}}
    events = client.call("asw", "DescribeExecutionHistory", {"ExecutionResourceName": qrn})["Events"]
    assert [e["EventCategory"] for e in events] == ["ExecutionStart", "TaskNodeEnter", "ExecutionSucceed"]
    assert [e["EventId"] for e in events] == [1, 2, 3]
    again = client.call("asw", "StartExecution", {"StateMachineResourceName": "child", "Input": '{"other": 1}', "Name": "n1"})
    assert again["ExecutionResourceName"] == qrn and len(runner.calls) == 1


def test_unknown_state_machine_and_missing_runner(client, functions_dir, workflows_dir):
    with pytest.raises(TencentCloudError, match="ResourceNotFound.StateMachine"):
        client.call("asw", "StartExecution", {"StateMachineResourceName": "nope"})
    with start_emulator(functions_dir, workflows_dir) as bare, make_client(bare.endpoint) as c:
        with pytest.raises(TencentCloudError) as info:
            c.call("asw", "StartExecution", {"StateMachineResourceName": "child"})
    assert info.value.code == "UnsupportedOperation"


def test_admin_faults_endpoint_and_latency(emulator, client):
    response = httpx.post(emulator.endpoint + "/_admin/faults", json={"latency_ms": 50})
    assert response.json()["latency_ms"] == 50
    began = time.monotonic()
    client.call("scf", "ListNamespaces", {})
    assert time.monotonic() - began >= 0.05
    assert httpx.post(emulator.endpoint + "/_admin/faults", json={"bogus": 1}).status_code == 400


def test_unsigned_request_is_rejected(emulator):
    body = httpx.post(emulator.endpoint + "/", json={}, headers={"X-TC-Action": "Invoke"}).json()
    assert body["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    assert body["Response"]["RequestId"]


def test_cli_run_prints_one_listening_line(functions_dir, tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--fault-rate", "0.5"]).fault_rate == 0.5
    proc = subprocess.Popen(
        [sys.executable, "-m", "asw_airflow", "emulator", "--functions", str(functions_dir), "--port", "0",
         "--secret-id", DEFAULT_SECRET_ID, "--secret-key", DEFAULT_SECRET_KEY],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        with make_client(line.removeprefix("listening on ")) as c:
            assert c.call("scf", "Invoke", {"FunctionName": "greeting", "ClientContext": "{}"})["Result"]["RetMsg"] == "hello world"
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.stdout.read() == ""


BARRIER = (
    "import os, time\n\ndef main_handler(event, context):\n"
    "    open(os.path.join(event['dir'], context['request_id']), 'w').close()\n"
    "    deadline = time.time() + 10\n"
    "    while len(os.listdir(event['dir'])) < event['n'] and time.time() < deadline:\n"
    "        time.sleep(0.005)\n"
    "    return len(os.listdir(event['dir']))\n"
)


def test_concurrent_invokes_never_queue_into_a_timeout(tmp_path):
    """Each function returns only once all ``n`` runs have started: a bounded pool would run out of time."""
    functions, arrived = tmp_path / "functions", tmp_path / "arrived"
    (functions / "barrier").mkdir(parents=True)
    (functions / "barrier" / "index.py").write_text(BARRIER)
    (functions / "barrier" / "config.json").write_text(json.dumps({"Timeout": 15}))
    arrived.mkdir()
    n = 24
    event = json.dumps({"dir": str(arrived), "n": n})

    async def go(endpoint: str):
        async with make_client(endpoint) as c:
            return await asyncio.gather(*(c.acall("scf", "Invoke", {"FunctionName": "barrier", "ClientContext": event}) for _ in range(n)))

    with start_emulator(functions) as handle:
        results = asyncio.run(go(handle.endpoint))
    assert [r["Result"]["ErrMsg"] for r in results] == [""] * n
    assert {r["Result"]["RetMsg"] for r in results} == {str(n)}


def _emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("emulated-", "tencentcloud-emulator"))]


def test_stopping_the_emulator_ends_its_executions_and_functions(functions_dir, workflows_dir, runner, tmp_path):
    before = set(_emulator_threads())
    gate = tmp_path / "gate"
    with start_emulator(functions_dir, workflows_dir, workflow_runner=runner) as handle, make_client(handle.endpoint) as c:
        c.call("asw", "StartExecution", {"StateMachineResourceName": "child", "Input": '{"hold": true}'})
        c.call("scf", "Invoke", {"FunctionName": "gated", "InvocationType": "Event", "ClientContext": json.dumps({"gate": str(gate)})})
        gate.touch()
    assert set(_emulator_threads()) - before == set(), "stop() stopped the held execution and waited for the function"
    assert runner.release.is_set(), "the stop reached the runner"


@pytest.fixture
def broken_functions(tmp_path):
    for name, source in {"syntax": "def main_handler(event, context)\n    return 1\n", "ok": "def main_handler(e, c):\n    return 1\n"}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.py").write_text(source)
    (tmp_path / "ok" / "config.json").write_text("{not json")
    return tmp_path


@pytest.mark.parametrize(("function", "cause"), [("syntax", "SyntaxError"), ("ok", "config.json")])
def test_a_function_that_fails_to_load_is_a_function_error(broken_functions, function, cause):
    from asw_airflow.semantics.errors import StatesError
    from asw_airflow.tencentcloud.integrations import request_response

    with start_emulator(broken_functions) as handle, make_client(handle.endpoint) as c:
        with pytest.raises(StatesError) as info:
            request_response(c, f"qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/{function}", {})
        event = c.call("scf", "Invoke", {"FunctionName": function, "InvocationType": "Event"})["Result"]["FunctionRequestId"]
        assert handle.scf.wait_idle(10)
        status = c.call("scf", "GetAsyncEventStatus", {"InvokeRequestId": event})["Result"]["Status"]
        calls = list(handle.server.calls)
    assert info.value.error == "States.TaskFailed"
    assert info.value.cause.startswith(f"function {function} failed to load") and cause in info.value.cause
    assert status == "FAILED"
    assert calls.count(("scf", "Invoke")) == 2, "answered, not dropped and retried"


def test_an_emulator_bug_is_an_internal_error_envelope(client, emulator):
    emulator.server.actions[("scf", "ListNamespaces")] = lambda params, region: 1 / 0
    with pytest.raises(TencentCloudError) as info:
        client.call("scf", "ListNamespaces", {})
    assert info.value.code == "InternalError" and "ZeroDivisionError" in info.value.message
    with pytest.raises(TencentCloudError) as info:
        client.call("scf", "ListAsyncEvents", {"FunctionName": "echo", "Offset": "x"})
    assert info.value.code == "InvalidParameterValue"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--functions", "/no/such/dir"], "is not a directory (it does not exist)"),
        (["--workflows", __file__], "is not a directory"),
        (["--fault-rate", "1.5"], "is not a share between 0 and 1"),
        (["--fault-rate", "-0.1"], "is not a share between 0 and 1"),
        (["--port", "70000"], "is not a port"),
        (["--port", "-1"], "is not a port"),
        (["--host", "0.0.0.0"], "is not a loopback address"),
        (["--host", "example.com"], "is not a loopback address"),
        (["--latency-ms", "-5"], "non-negative"),
    ],
)
def test_cli_rejects_bad_arguments_with_exit_2(argv, message, capsys):
    from asw_airflow.cli import main

    with pytest.raises(SystemExit) as info:
        main(["emulator", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and "Traceback" not in err


def test_cli_port_in_use_exits_2(capsys):
    import socket

    from asw_airflow.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"asw emulator: cannot listen on 127.0.0.1:{port}: ") and "Traceback" not in err


def test_cli_accepts_loopback_hosts():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert [parser.parse_args(["--host", h]).host for h in ("127.0.0.1", "::1", "localhost", "127.0.0.2")] == [
        "127.0.0.1", "::1", "localhost", "127.0.0.2"]


def test_call_log_is_bounded(emulator, client):
    from asw_airflow.tencentcloud.emulator.server import CALL_LOG_SIZE

    assert emulator.server.calls.maxlen == CALL_LOG_SIZE
