"""``asw run --engine airflow`` keeps the CLI contract: only the output JSON on stdout, Airflow's chatter on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def asw_run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path), "AIRFLOW_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", "asw_airflow", "run", *args, "--engine", "airflow"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )


def test_demo_prints_only_the_output_and_never_the_secret(tmp_path):
    done = asw_run(
        "dags/workflows/trade_etl.json", "--functions", "dags/functions", "--input", '{"market": "SSE", "window_hours": 12}',
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    ranked = json.loads(done.stdout)["ranked"]
    assert [row["rank"] for row in ranked] == [1, 2, 3, 4, 5] and ranked[0]["symbol"] == "002594"
    assert "password" not in done.stderr and "AIRFLOW_CONN" not in done.stderr


def test_failure_prints_error_and_cause_and_exits_1(tmp_path):
    definition = tmp_path / "broken.json"
    definition.write_text(json.dumps({"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "E.Bad", "Cause": "why"}}}))
    done = asw_run(str(definition), tmp_path=tmp_path)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout) == {"Error": "E.Bad", "Cause": "why"}


def test_a_sidecar_next_to_the_workflow_gives_input_role_and_connection(tmp_path):
    folder = tmp_path / "workflows"
    (tmp_path / "functions" / "echo").mkdir(parents=True)
    (tmp_path / "functions" / "echo" / "index.py").write_text("def main_handler(event, context):\n    return {'echo': event}\n")
    folder.mkdir()
    (folder / "ctx.json").write_text(json.dumps({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/echo",
                 "ResultPath": "$.called", "Next": "Show"},
        "Show": {"Type": "Pass", "Parameters": {"in.$": "$", "role.$": "$$.Execution.RoleArn"}, "End": True}}}))
    role = "qrn:qcs:cam::1250000000:roleName/asw-runner"
    (folder / "ctx.dag.json").write_text(json.dumps({"input": {"x": 1}, "role": role, "connection_id": "my_cloud"}))
    done = asw_run(str(folder / "ctx.json"), "--functions", str(tmp_path / "functions"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"in": {"x": 1, "called": {"echo": {"x": 1}}}, "role": role}
    done = asw_run(str(folder / "ctx.json"), "--functions", str(tmp_path / "functions"), "--input", '{"x": 2}', tmp_path=tmp_path)
    assert json.loads(done.stdout)["in"]["x"] == 2, done.stderr


def test_without_airflow_home_the_temp_home_is_removed_at_exit(tmp_path):
    definition = tmp_path / "hello.json"
    definition.write_text(json.dumps({"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "Result": 1, "End": True}}}))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path / "user"), "TMPDIR": str(scratch)}
    for command in (["run", str(definition), "--engine", "airflow"], ["compile", str(definition)]):
        done = subprocess.run(
            [sys.executable, "-m", "asw_airflow", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr
        assert not [path.name for path in scratch.iterdir() if path.name.startswith("asw-airflow-")]
        assert not (tmp_path / "user" / "airflow").exists()
