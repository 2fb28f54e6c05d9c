"""Wait, Retry delays and sync-run Tasks give their worker slot back: the task defers, a trigger waits, the task resumes.

``dag.test()`` runs each trigger inline after the task instance ended DEFERRED; the
``deferrals`` fixture records every such hand-over (task, trigger, its arguments, how long
it waited) around Airflow's own ``_run_inline_trigger``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.airflow.helpers import SCF, cloud_connection, compile_definition, run_both

from asw_airflow.airflow.runner import run_dag
from asw_airflow.semantics.errors import StatesError

APP = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud"
TIMER = "asw_airflow.airflow.triggers.StateTimerTrigger"
JOB = "asw_airflow.tencentcloud.triggers.TencentCloudJobTrigger"


@dataclass
class Deferral:
    task_id: str
    classpath: str
    kwargs: dict[str, Any]
    deferred_at: float
    waited: float
    event: Any

    def delay(self) -> float:
        """Seconds from the deferral to the trigger's ``moment``."""
        return datetime.fromisoformat(self.kwargs["moment"]).timestamp() - self.deferred_at


@pytest.fixture
def deferrals(monkeypatch):
    from airflow.sdk.definitions import dag as dag_module

    seen: list[Deferral] = []
    real = dag_module._run_inline_trigger

    def record(trigger, ti):
        deferred_at, started = time.time(), time.monotonic()
        event = real(trigger, ti)
        classpath, kwargs = trigger.serialize()
        seen.append(Deferral(ti.task_id, classpath, kwargs, deferred_at, time.monotonic() - started, event and event.payload))
        return event

    monkeypatch.setattr(dag_module, "_run_inline_trigger", record)
    return seen


def test_wait_defers_to_a_timer_at_the_computed_moment(deferrals):
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}}
    airflow, engine = run_both(definition, {"s": 2})
    assert airflow.output == engine.output == {"s": 2}
    (wait,) = deferrals
    assert (wait.task_id, wait.classpath) == ("W", TIMER)
    assert 1.5 < wait.delay() <= 2.05 and wait.waited > 1.5


def test_wait_with_a_past_timestamp_does_not_defer(deferrals):
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": "2020-01-01T00:00:00Z", "End": True}}}
    airflow, _ = run_both(definition, {"a": 1})
    assert airflow.output == {"a": 1} and deferrals == []


def test_retry_delays_are_deferrals_with_asl_backoff(handlers, deferrals):
    calls = []

    def flaky(invocation):
        calls.append(invocation.attempt)
        if len(calls) < 3:
            raise StatesError("Scf.Busy", f"attempt {invocation.attempt}")
        return {"ok": invocation.attempt}

    handlers.register_kind("scf", flaky)
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": SCF + "busy", "End": True,
        "Retry": [{"ErrorEquals": ["Scf.Busy"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}],
    }}}
    run = run_dag(compile_definition(definition)[1], {})
    assert run.output == {"ok": 2} and calls == [0, 1, 2]
    assert [(d.task_id, d.classpath, d.kwargs["payload"]["retry_count"]) for d in deferrals] == [("Call", TIMER, 1), ("Call", TIMER, 2)]
    first, second = (d.delay() for d in deferrals)
    assert 0.5 < first <= 1.05 and 1.5 < second <= 2.05


def _functions(tmp_path: Path) -> Path:
    """A function that logs each invocation to a file, so a test can count them."""
    function = tmp_path / "functions" / "count"
    function.mkdir(parents=True)
    log = tmp_path / "invocations.log"
    (function / "index.py").write_text(
        "def main_handler(event, context):\n"
        f"    with open({str(log)!r}, 'a') as f:\n"
        "        f.write('x\\n')\n"
        "    return {'seen': event}\n"
    )
    return tmp_path / "functions"


def _invocations(tmp_path: Path) -> int:
    log = tmp_path / "invocations.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_sync_run_child_execution_defers_to_the_job_trigger_and_is_started_once(tmp_path, deferrals):
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "child.json").write_text(
        '{"StartAt": "Call", "States": {"Call": {"Type": "Task", "Resource": "' + SCF + 'count", "End": true}}}'
    )
    definition = {"StartAt": "Child", "States": {"Child": {
        "Type": "Task", "Resource": f"{APP}:asw:StartExecution.sync",
        "Parameters": {"StateMachineResourceName": "child", "Input": {"n.$": "$.n"}},
        "ResultPath": "$.child", "End": True,
    }}}
    with cloud_connection(_functions(tmp_path), workflows):
        run = run_dag(compile_definition(definition)[1], {"n": 7})
    assert run.status == "SUCCEED", (run.error, run.cause)
    assert run.output == {"n": 7, "child": {"seen": {"n": 7}}}
    (job,) = deferrals
    assert (job.task_id, job.classpath, job.kwargs["handle"]["kind"]) == ("Child", JOB, "asw")
    assert job.kwargs["tencentcloud_conn_id"] == "tencentcloud_default" and job.event["status"] == "success"
    assert _invocations(tmp_path) == 1  # resumed from the trigger's event, not by starting the child again


def test_sync_run_function_defers_and_a_failed_job_reaches_catch(tmp_path, deferrals):
    functions = _functions(tmp_path)
    (functions / "boom").mkdir()
    (functions / "boom" / "index.py").write_text("def main_handler(event, context):\n    raise ValueError('no')\n")
    definition = {"StartAt": "Count", "States": {
        "Count": {"Type": "Task", "Resource": f"{APP}:scf:Invoke.sync/count", "ResultPath": "$.job", "Next": "Boom"},
        "Boom": {"Type": "Task", "Resource": f"{APP}:scf:Invoke.sync/boom", "ResultPath": "$.job2", "End": True,
                 "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}]},
        "Handled": {"Type": "Pass", "End": True},
    }}
    with cloud_connection(functions):
        run = run_dag(compile_definition(definition)[1], {})
    assert run.status == "SUCCEED", (run.error, run.cause)
    assert run.output["job"]["Status"] == "FINISHED" and run.output["error"]["Error"] == "States.TaskFailed"
    assert [(d.task_id, d.classpath, d.kwargs["handle"]["kind"]) for d in deferrals] == [("Count", JOB, "scf"), ("Boom", JOB, "scf")]
    assert _invocations(tmp_path) == 1


DAGS = Path(__file__).parents[2] / "dags"


def test_ops_deploy_polling_loop_defers_at_each_wait_and_ends_as_on_the_engine(deferrals):
    from asw_airflow.airflow.loader import load_workflow
    from asw_airflow.engine.interpreter import run_execution
    from asw_airflow.ir import build_machine
    from asw_airflow.loader import load_file

    path = DAGS / "workflows" / "ops_deploy.json"
    dag = load_workflow(path)
    (loop,) = [task for task in dag.tasks if task.task_id.startswith("loop_")]
    input = dag.params["input"]
    with cloud_connection(DAGS / "functions") as cloud:
        run = run_dag(dag, input)
        engine = run_execution(build_machine(load_file(str(path)), name="ops_deploy"), input, handlers=cloud.handlers)
    assert (run.status, run.output) == (engine.status, engine.output) == ("SUCCEED", engine.output)
    assert run.output["deployment"]["checks"] == 2
    # The loop's task gave its slot back at each Wait (two polls), resuming with the state and input to continue at.
    assert [(d.task_id, d.classpath, d.kwargs["payload"]["resume"]["state"]) for d in deferrals] == [
        (loop.task_id, TIMER, "WaitForRollout"), (loop.task_id, TIMER, "WaitForRollout")]
    assert 0.5 < deferrals[0].delay() <= 1.05 and deferrals[0].waited > 0.5
    assert deferrals[1].kwargs["payload"]["resume"]["input"]["deployment"]["status"] == "ROLLING_OUT"


def test_a_loop_region_defers_its_retry_delays_and_keeps_variables(handlers, deferrals):
    calls = []

    def flaky(invocation):
        calls.append(invocation.attempt)
        if len(calls) % 2:
            raise StatesError("Scf.Busy", "try again")
        return {"attempt": invocation.attempt}

    handlers.register_kind("scf", flaky)
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": SCF + "busy", "ResultPath": "$.last", "Next": "Count",
                 "Retry": [{"ErrorEquals": ["Scf.Busy"], "IntervalSeconds": 1, "MaxAttempts": 2}]},
        "Count": {"Type": "Pass", "Assign": {"rounds.$": "States.MathAdd($rounds, 1)"}, "Next": "Again?"},
        "Again?": {"Type": "Choice", "Choices": [{"Variable": "$rounds", "NumericLessThan": 2, "Next": "Call"}], "Default": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"rounds.$": "$rounds", "last.$": "$.last"}, "End": True},
    }}
    definition["States"] = {"Start": {"Type": "Pass", "Assign": {"rounds": 0}, "Next": "Call"}, **definition["States"]}
    definition["StartAt"] = "Start"
    airflow, engine = run_both(definition, {}, handlers)
    assert airflow.status == "SUCCEED", (airflow.error, airflow.cause)
    assert airflow.output == engine.output == {"rounds": 2, "last": {"attempt": 1}}
    resumes = [d.kwargs["payload"]["resume"] for d in deferrals]
    assert [(r["state"], r["retry_count"], r["variables"]) for r in resumes] == [("Call", 1, {"rounds": 0}), ("Call", 1, {"rounds": 1})]
    assert all(d.classpath == TIMER and d.task_id.startswith("loop_") for d in deferrals)


def test_sync_run_timeout_holds_while_deferred_stops_the_job_and_reaches_retry_and_catch(tmp_path, deferrals):
    from asw_airflow.tencentcloud.client import TencentCloudClient
    from asw_airflow.tencentcloud.integrations import call_api
    from asw_airflow.tencentcloud.local import LOCAL_REGION

    functions = tmp_path / "functions"
    (functions / "slow").mkdir(parents=True)
    (functions / "slow" / "index.py").write_text("import time\n\ndef main_handler(event, context):\n    time.sleep(5)\n    return 'late'\n")
    definition = {"StartAt": "Slow", "States": {
        "Slow": {"Type": "Task", "Resource": f"{APP}:scf:Invoke.sync/slow", "TimeoutSeconds": 1, "End": True,
                 "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                 "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                           {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "TimedOut"}]},
        "Wrong": {"Type": "Fail", "Error": "TaskFailedCaughtTimeout"},
        "TimedOut": {"Type": "Pass", "End": True},
    }}
    with cloud_connection(functions) as cloud:
        run = run_dag(compile_definition(definition)[1], {"a": 1})
        jobs = [d for d in deferrals if d.classpath == JOB]
        with TencentCloudClient(cloud.credentials, LOCAL_REGION, endpoint=cloud.emulator.endpoint) as client:
            statuses = [call_api(client, "scf", "GetAsyncEventStatus", {"InvokeRequestId": job.kwargs["handle"]["InvokeRequestId"]})
                        ["Response"]["Result"]["Status"] for job in jobs]
    assert run.status == "SUCCEED", (run.error, run.cause)
    assert run.output == {"a": 1, "error": {
        "Error": "States.Timeout", "Cause": "The task 'Slow' did not finish within its TimeoutSeconds (1 s)."}}
    # Two tries, each deferred with a one-second deadline, timed out, and its job stopped; the retry delay between them.
    assert [(d.task_id, d.classpath) for d in deferrals] == [("Slow", JOB), ("Slow", TIMER), ("Slow", JOB)]
    assert [job.event["status"] for job in jobs] == ["timeout", "timeout"] and all(0.8 < job.waited < 3 for job in jobs)
    assert statuses == ["ABORTED", "ABORTED"]
