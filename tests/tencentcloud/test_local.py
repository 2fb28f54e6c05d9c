"""A local Tencent Cloud: the emulator, engine-run nested workflows, and ``asw run --functions``."""

import json
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
