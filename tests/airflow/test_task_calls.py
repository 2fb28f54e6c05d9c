"""A request-response Task's call behaves alike on Airflow and the engine: TimeoutSeconds, handler exceptions."""

from __future__ import annotations

from tests.airflow.helpers import SCF, run_both

from asw_airflow.engine.handlers import TaskInvocation


def _task(**fields: object) -> dict:
    return {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": SCF + "fn", **fields}, "Caught": {"Type": "Pass", "End": True}},
    }


def test_task_timeout_seconds_times_out_on_both(handlers):
    handlers.register_kind("scf", lambda call: call.cancelled.wait(30) and "late")  # returns once told to stop
    catch_task_failed = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Caught"}]  # does not cover States.Timeout
    airflow, engine = run_both(_task(TimeoutSeconds=1, Catch=catch_task_failed, End=True), {}, handlers)
    assert (airflow.status, airflow.error) == (engine.status, engine.error) == ("FAILED", "States.Timeout")
    assert airflow.cause == engine.cause


def test_a_handler_exception_reaches_a_task_failed_catcher_on_both(handlers):
    def broken(call: TaskInvocation) -> None:
        raise ValueError("no credentials")

    handlers.register_kind("scf", broken)
    catcher = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}]
    airflow, engine = run_both(_task(Catch=catcher, End=True), {"a": 1}, handlers)
    expected = {"a": 1, "error": {"Error": "States.TaskFailed", "Cause": "ValueError: no credentials"}}
    assert (airflow.status, airflow.output) == (engine.status, engine.output) == ("SUCCEED", expected)


def test_a_missing_connection_is_task_failed_not_an_airflow_crash():
    from tests.airflow.helpers import compile_definition

    from asw_airflow.airflow.runner import run_dag

    catcher = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}]
    _, dag = compile_definition(_task(Catch=catcher, End=True))
    result = run_dag(dag, {})
    assert result.status == "SUCCEED"
    assert result.output["error"]["Error"] == "States.TaskFailed"


class _Client:
    def __enter__(self) -> "_Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


def test_killing_a_task_stops_the_job_it_started(monkeypatch):
    from types import SimpleNamespace

    import pytest
    from airflow.sdk.exceptions import TaskDeferred

    from asw_airflow.airflow import integrations
    from asw_airflow.airflow.operators import Attempt, TaskOperator
    from asw_airflow.ir import build_machine
    from asw_airflow.semantics.dataflow import Frame
    from asw_airflow.tencentcloud import integrations as cloud

    cancelled: list[dict] = []
    monkeypatch.setattr(integrations, "connection_client", lambda connection_id: (_Client(), 1.0))
    monkeypatch.setattr(cloud, "start", lambda client, resource, payload, execution_name: {"job": execution_name})
    monkeypatch.setattr(cloud, "cancel", lambda client, handle: cancelled.append(handle))
    sync = {"Type": "Task", "Resource": SCF.replace("Invoke/", "Invoke.sync/") + "fn", "End": True}
    machine = build_machine({"StartAt": "T", "States": {"T": sync}})
    operator = TaskOperator(task_id="t", state=machine.states["T"], workflow_name="wf", connection_id="tencentcloud_default")
    context = {"dag_run": SimpleNamespace(start_date=None), "ti": SimpleNamespace(map_index=-1)}
    frame = Frame({"Execution": {"Id": "wf:run"}}, {})
    with pytest.raises(TaskDeferred):
        operator.start_job(context, {}, frame, Attempt("2024-01-01T00:00:00Z"), None)
    operator.on_kill()
    assert len(cancelled) == 1 and cancelled[0]["job"]



def test_killing_an_engine_task_stops_its_execution_and_cancels_the_call_in_flight(handlers):
    import threading
    from types import SimpleNamespace

    from airflow.sdk.exceptions import AirflowFailException
    from tests.airflow.helpers import compile_definition

    from asw_airflow.airflow.operators import EngineRegionOperator, run_region

    calling = threading.Event()
    calls: list[TaskInvocation] = []

    def waits_until_cancelled(call: TaskInvocation) -> str:
        calls.append(call)
        calling.set()
        call.cancelled.wait(30)
        return "stopped"

    handlers.register_kind("scf", waits_until_cancelled)
    loop = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": SCF + "fn", "ResultPath": "$.r", "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "T"}], "Default": "Done"},
            "Done": {"Type": "Pass", "End": True},
        },
    }
    _, dag = compile_definition(loop)
    (operator,) = [task for task in dag.tasks if isinstance(task, EngineRegionOperator)]
    context = {"dag_run": SimpleNamespace(dag_id=dag.dag_id, run_id="r", start_date=None), "params": {}}
    failures: list[BaseException] = []

    def run() -> None:
        try:
            run_region(operator, context, operator._region, {"again": True}, {})
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    assert calling.wait(10)
    operator.on_kill()
    worker.join(10)
    assert not worker.is_alive()
    assert len(calls) == 1 and calls[0].cancelled.is_set()  # the loop did not call again
    assert len(failures) == 1 and isinstance(failures[0], AirflowFailException)
    assert "killed" in str(failures[0])


def test_a_missing_connection_in_an_engine_task_is_task_failed_on_both():
    from asw_airflow.airflow.compiler import build_dag
    from asw_airflow.airflow.integrations import handlers_for
    from asw_airflow.airflow.operators import EngineRegionOperator
    from asw_airflow.airflow.runner import run_dag
    from asw_airflow.airflow.sidecar import Sidecar
    from asw_airflow.engine.interpreter import run_execution
    from asw_airflow.ir import build_machine

    catcher = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Caught"}]
    loop = {
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": SCF + "fn", "Catch": catcher, "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "T"}], "Default": "Done"},
            "Done": {"Type": "Pass", "End": True},
            "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.by", "End": True},
        },
    }
    machine = build_machine(loop, name="missing_connection_loop")
    dag = build_dag(machine, dag_id="missing_connection_loop", workflow_name="missing_connection_loop", settings=Sidecar(connection_id="no_such_connection"))
    assert any(isinstance(task, EngineRegionOperator) for task in dag.tasks)
    airflow = run_dag(dag, {"again": True})
    with handlers_for("no_such_connection") as handlers:
        engine = run_execution(machine, {"again": True}, handlers=handlers)
    assert airflow.status == engine.status == "SUCCEED", (airflow.error, airflow.cause)
    assert airflow.output["by"] == engine.output["by"] == "caught"
    assert airflow.output["error"]["Error"] == engine.output["error"]["Error"] == "States.TaskFailed"
