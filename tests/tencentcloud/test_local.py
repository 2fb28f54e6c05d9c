"""A local Tencent Cloud: the emulator, engine-run nested workflows, and ``asw run --functions``."""

import json
import time
from pathlib import Path

from asw_airflow.cli import main
from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import build_machine
from asw_airflow.tencentcloud.local import local_cloud

DATA = Path(__file__).parent / "data"
APP = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud"
MAP_INPUT = {
    "date": "2021-03-14T01:59:00Z",
    "detail": {
        "class": "No-01",
        "exam": [{"user": "susu", "score": [90, 80, 70, 60]}, {"user": "dudu", "score": [100, 90, 80, 70]}],
    },
}


def test_tencent_map_example_gives_the_documented_output_through_asw_run(capsys):
    code = main([
        "run", str(DATA / "tencent_map_example.json"), "--input", json.dumps(MAP_INPUT),
        "--functions", str(DATA / "functions"),
    ])
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out) == {
        "date": "2021-03-14T01:59:00Z",
        "detail": {"class": "No-01", "exam": [{"user": "susu", "score": 75}, {"user": "dudu", "score": 85}]},
    }


def test_nested_sync_run_child_calls_functions_in_the_same_emulator():
    parent = build_machine({"StartAt": "Child", "States": {"Child": {
        "Type": "Task", "Resource": f"{APP}:asw:StartExecution.sync",
        "Parameters": {"StateMachineResourceName": "grade", "Input": {"user.$": "$.user", "score.$": "$.score"}},
        "End": True}}})
    with local_cloud(DATA / "functions", DATA / "workflows") as cloud:
        result = run_execution(parent, {"user": "susu", "score": [1, 2, 3]}, handlers=cloud.handlers)
        executions = cloud.emulator.asw.execution_count
    assert (result.status, result.output) == ("SUCCEED", {"user": "susu", "average": 2})
    assert executions == 1, "one child execution, started once"


def test_each_local_cloud_signs_with_its_own_generated_credentials():
    with local_cloud() as first, local_cloud() as second:
        assert first.credentials.secret_id != second.credentials.secret_id
        assert first.credentials.secret_key not in repr(first.credentials)


SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke"
HOLD = (
    "import os, time\n\ndef main_handler(event, context):\n"
    "    open(event['started'], 'w').close()\n"
    "    deadline = time.time() + 30\n"
    "    while not os.path.exists(event['gate']) and time.time() < deadline:\n"
    "        time.sleep(0.01)\n"
    "    return event\n"
)
COUNT = "def main_handler(event, context):\n    open(event['file'], 'a').write('ran\\n')\n    return event\n"


def _stop_cloud(tmp_path: Path, first: dict) -> tuple[Path, Path]:
    """Functions ``hold`` and ``count``, and a child ``first`` -> Wait 60 s -> ``count`` of ``$.after``."""
    functions, workflows = tmp_path / "functions", tmp_path / "workflows"
    for name, source in {"hold": HOLD, "count": COUNT}.items():
        (functions / name).mkdir(parents=True)
        (functions / name / "index.py").write_text(source)
    workflows.mkdir()
    (workflows / "stoppable.json").write_text(json.dumps({"StartAt": "First", "States": {
        "First": {**first, "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 60, "Next": "After"},
        "After": {"Type": "Task", "Resource": f"{SCF}/count", "Parameters": {"file.$": "$.after"}, "End": True},
    }}))
    return functions, workflows


def _started(path: Path) -> bool:
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    return path.exists()


def test_stopped_child_in_a_function_starts_nothing_more(tmp_path):
    functions, workflows = _stop_cloud(tmp_path, {"Type": "Task", "Resource": f"{SCF}/hold"})
    files = {name: str(tmp_path / name) for name in ("started", "gate", "after")}
    with local_cloud(functions, workflows) as cloud:
        qrn = cloud.client.call("asw", "StartExecution", {"StateMachineResourceName": "stoppable", "Input": json.dumps(files)})[
            "ExecutionResourceName"]
        assert _started(tmp_path / "started")
        cloud.client.call("asw", "StopExecution", {"ExecutionQrn": qrn})
        (tmp_path / "gate").touch()
        assert cloud.emulator.asw.join(qrn, 10), "the runner ended"
        status = cloud.client.call("asw", "DescribeExecution", {"ExecutionResourceName": qrn})["Status"]
    assert status == "TERMINATED"
    assert not (tmp_path / "after").exists(), "no function was invoked after the stop"


def test_stopped_child_in_a_wait_ends_at_once(tmp_path):
    functions, workflows = _stop_cloud(tmp_path, {"Type": "Task", "Resource": f"{SCF}/count", "Parameters": {"file.$": "$.marker"}, "ResultPath": None})
    files = {name: str(tmp_path / name) for name in ("marker", "after")}
    with local_cloud(functions, workflows) as cloud:
        qrn = cloud.client.call("asw", "StartExecution", {"StateMachineResourceName": "stoppable", "Input": json.dumps(files)})[
            "ExecutionResourceName"]
        assert _started(tmp_path / "marker")
        began = time.monotonic()
        cloud.client.call("asw", "StopExecution", {"ExecutionQrn": qrn})
        assert cloud.emulator.asw.join(qrn, 10), "the 60 s Wait was cut short"
    assert time.monotonic() - began < 10
    assert not (tmp_path / "after").exists()


def test_child_history_is_the_engines_with_one_start_and_one_end():
    with local_cloud(DATA / "functions", DATA / "workflows") as cloud:
        qrn = cloud.client.call("asw", "StartExecution", {
            "StateMachineResourceName": "grade", "Input": json.dumps({"user": "u", "score": [2, 4]})})["ExecutionResourceName"]
        assert cloud.emulator.asw.join(qrn, 10)
        events = cloud.client.call("asw", "DescribeExecutionHistory", {"ExecutionResourceName": qrn})["Events"]
    assert [e["EventCategory"] for e in events] == ["ExecutionStart", "TaskNodeEnter", "TaskNodeExit", "ExecutionSucceed"]
    assert [e["EventId"] for e in events] == [1, 2, 3, 4]
    assert json.loads(events[-1]["Content"]) == {"output": {"user": "u", "average": 3}}
    assert all(e["ExecutionResourceName"] == qrn and isinstance(e["Timestamp"], str) for e in events)


def test_nested_map_iterations_get_their_own_children():
    """Iteration 0 of both outer items runs ``grade``: one child each, not one reused."""
    child = {"Type": "Task", "Resource": f"{APP}:asw:StartExecution.sync",
             "Parameters": {"StateMachineResourceName": "grade", "Input.$": "$"}, "End": True}
    inner = {"Type": "Map", "ItemsPath": "$", "Iterator": {"StartAt": "Child", "States": {"Child": child}}, "End": True}
    parent = build_machine({"StartAt": "Outer", "States": {"Outer": {
        "Type": "Map", "ItemsPath": "$", "Iterator": {"StartAt": "Inner", "States": {"Inner": inner}}, "End": True}}})
    items = [[{"user": "a", "score": [1, 3]}], [{"user": "b", "score": [5, 7]}]]
    with local_cloud(DATA / "functions", DATA / "workflows") as cloud:
        result = run_execution(parent, items, handlers=cloud.handlers)
        executions = cloud.emulator.asw.execution_count
    assert (result.status, result.output) == ("SUCCEED", [[{"user": "a", "average": 2}], [{"user": "b", "average": 6}]])
    assert executions == 2
