"""Hook, operators, sensors and trigger against the emulator, without a scheduler (connection from env)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from airflow.exceptions import TaskDeferred
from airflow.sdk.module_loading import import_string

from asw_airflow.semantics.errors import StatesError
from asw_airflow.tencentcloud.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY
from asw_airflow.tencentcloud.hook import TencentCloudHook
from asw_airflow.tencentcloud.links import TencentCloudApiExplorerLink, TencentCloudExecutionLink, TencentCloudFunctionLink
from asw_airflow.tencentcloud.operators import (
    TencentCloudApiOperator,
    TencentCloudInvokeFunctionOperator,
    TencentCloudStartExecutionOperator,
)
from asw_airflow.tencentcloud.sensors import TencentCloudExecutionSensor, TencentCloudFunctionEventSensor
from asw_airflow.tencentcloud.triggers import TencentCloudJobTrigger

CONN_ID = "tc_test"


@dataclass
class FakeTI:
    dag_id: str = "dag"
    run_id: str = "manual__1"
    task_id: str = "task"
    try_number: int = 1
    map_index: int = -1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@pytest.fixture
def context():
    return {"ti": FakeTI()}


@pytest.fixture(autouse=True)
def connection(emulator, monkeypatch):
    conn = {
        "conn_type": "tencentcloud",
        "login": DEFAULT_SECRET_ID,
        "password": DEFAULT_SECRET_KEY,
        "extra": {"region": "ap-guangzhou", "endpoint": emulator.endpoint, "api_versions": {"cvm": "2017-03-12"}},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))


def run_deferred(operator, context):
    """What the triggerer and a resumed worker do: run the trigger to its event, then execute_complete."""
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    rebuilt = import_string(classpath)(**kwargs)

    async def first_event():
        async for event in rebuilt.run():
            return event

    event = asyncio.run(first_event())
    return getattr(operator, deferred.value.method_name)(context, event.payload)


def test_hook_builds_client_from_connection(emulator):
    hook = TencentCloudHook(CONN_ID)
    client = hook.get_conn()
    assert client.endpoint == emulator.endpoint and client.region == "ap-guangzhou"
    assert DEFAULT_SECRET_KEY not in repr(client)
    assert hook.test_connection() == (True, "Connection successfully tested")


def test_hook_test_connection_reports_bad_keys(monkeypatch, emulator):
    conn = {"conn_type": "tencentcloud", "login": DEFAULT_SECRET_ID, "password": "nope", "extra": {"endpoint": emulator.endpoint}}
    monkeypatch.setenv("AIRFLOW_CONN_TC_BAD", json.dumps(conn))
    ok, message = TencentCloudHook("tc_bad").test_connection()
    assert not ok and message.startswith("AuthFailure.SignatureFailure") and "nope" not in message


def test_hook_ui_field_behaviour():
    behaviour = TencentCloudHook.get_ui_field_behaviour()
    assert behaviour["relabeling"] == {"login": "SecretId", "password": "SecretKey"}
    assert "host" in behaviour["hidden_fields"]


def test_invoke_function_request_response(context):
    op = TencentCloudInvokeFunctionOperator(task_id="t", tencentcloud_conn_id=CONN_ID, function_name="echo", payload={"k": 1})
    assert op.execute(context) == {"event": {"k": 1}, "function": "echo"}
    assert context["ti"].xcoms[TencentCloudFunctionLink().xcom_key].endswith("ns=default&id=echo")


def test_invoke_function_failure_is_task_failed(context):
    op = TencentCloudInvokeFunctionOperator(task_id="t", tencentcloud_conn_id=CONN_ID, function_name="boom", payload={"n": 2})
    with pytest.raises(StatesError) as info:
        op.execute(context)
    assert (info.value.error, info.value.cause) == ("States.TaskFailed", "ValueError: bad input: 2")


def test_invoke_function_sync_run_in_worker(context):
    op = TencentCloudInvokeFunctionOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, function_name="echo", wait_for_completion=True, poll_interval=0.01
    )
    assert op.execute(context)["Status"] == "FINISHED"


def test_invoke_function_sync_run_deferred(context):
    op = TencentCloudInvokeFunctionOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, function_name="boom", payload={"n": 5},
        wait_for_completion=True, deferrable=True, poll_interval=0.01,
    )
    with pytest.raises(StatesError) as info:
        run_deferred(op, context)
    assert info.value.error == "States.TaskFailed"


def test_start_execution_request_response(context, runner):
    op = TencentCloudStartExecutionOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, state_machine_resource_name="child", input={"a": 1}
    )
    envelope = op.execute(context)
    qrn = envelope["Response"]["ExecutionResourceName"]
    assert qrn.startswith("qrn:qcs:asw:ap-guangzhou:1250000000:execution:child:")
    assert context["ti"].xcoms[TencentCloudExecutionLink().xcom_key].startswith("https://console.cloud.tencent.com/asw/")


def test_start_execution_sync_run_deferred_returns_child_output(context, runner, emulator):
    op = TencentCloudStartExecutionOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, state_machine_resource_name="child", input={"a": 2},
        wait_for_completion=True, deferrable=True, poll_interval=0.01,
    )
    assert run_deferred(op, context) == {"child": "Only", "input": {"a": 2}}
    # Executing the same try again (worker lost after the start) reuses the child.
    assert run_deferred(op, context) == {"child": "Only", "input": {"a": 2}}
    assert len(runner.calls) == 1 and emulator.asw.execution_count == 1


def test_start_execution_sync_run_in_worker_and_failure(context):
    op = TencentCloudStartExecutionOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, state_machine_resource_name="child", input={"fail": "why"},
        wait_for_completion=True, poll_interval=0.01,
    )
    with pytest.raises(StatesError) as info:
        op.execute(context)
    assert json.loads(info.value.cause)["Error"] == "Child.Failed"


def test_on_kill_stops_the_child(context, runner):
    op = TencentCloudStartExecutionOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, state_machine_resource_name="child", input={"hold": True},
        wait_for_completion=True, deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context)
    op.on_kill()
    runner.release.set()
    qrn = deferred.value.trigger.handle["ExecutionResourceName"]
    status = op.client.call("asw", "DescribeExecution", {"ExecutionResourceName": qrn})["Status"]
    assert status == "TERMINATED"


def test_api_operator_returns_envelope_and_link(context):
    op = TencentCloudApiOperator(
        task_id="t", tencentcloud_conn_id=CONN_ID, service="scf", action="ListNamespaces", parameters={"Limit": 5}
    )
    out = op.execute(context)
    assert out["Response"]["TotalCount"] == 1
    assert context["ti"].xcoms[TencentCloudApiExplorerLink().xcom_key] == (
        "https://console.cloud.tencent.com/api/explorer?Product=scf&Version=2018-04-16&Action=ListNamespaces"
    )


def test_api_operator_error_named_by_code(context):
    op = TencentCloudApiOperator(task_id="t", tencentcloud_conn_id=CONN_ID, service="scf", action="Nope")
    with pytest.raises(StatesError) as info:
        op.execute(context)
    assert info.value.error == "InvalidAction"


def test_template_fields():
    assert "payload" in TencentCloudInvokeFunctionOperator.template_fields
    assert "input" in TencentCloudStartExecutionOperator.template_fields
    assert "parameters" in TencentCloudApiOperator.template_fields


def test_function_event_sensor_pokes_and_defers(context, tmp_path):
    gate = tmp_path / "gate"
    hook = TencentCloudHook(CONN_ID)
    result = hook.get_conn().call(
        "scf", "Invoke",
        {"FunctionName": "gated", "InvocationType": "Event", "ClientContext": json.dumps({"gate": str(gate)})},
    )
    request_id = result["Result"]["FunctionRequestId"]
    sensor = TencentCloudFunctionEventSensor(
        task_id="s", tencentcloud_conn_id=CONN_ID, function_name="gated", invoke_request_id=request_id,
        poke_interval=0.01,
    )
    first = sensor.poke(context)
    assert not first.is_done
    gate.touch()
    deferring = TencentCloudFunctionEventSensor(
        task_id="s", tencentcloud_conn_id=CONN_ID, function_name="gated", invoke_request_id=request_id,
        poke_interval=0.01, deferrable=True,
    )
    assert run_deferred(deferring, context) == {"FunctionRequestId": request_id, "Status": "FINISHED"}
    assert sensor.poke(context).xcom_value == {"FunctionRequestId": request_id, "Status": "FINISHED"}


def test_execution_sensor(context):
    client = TencentCloudHook(CONN_ID).get_conn()
    qrn = client.call("asw", "StartExecution", {"StateMachineResourceName": "child", "Input": '{"z": 1}'})[
        "ExecutionResourceName"
    ]
    sensor = TencentCloudExecutionSensor(
        task_id="s", tencentcloud_conn_id=CONN_ID, execution_resource_name=qrn, poke_interval=0.01, deferrable=True
    )
    assert run_deferred(sensor, context) == {"child": "Only", "input": {"z": 1}}


def test_trigger_reports_api_errors_as_error_events():
    trigger = TencentCloudJobTrigger(
        {"kind": "asw", "Region": "ap-guangzhou", "ExecutionResourceName": "qrn:missing"}, CONN_ID, 0.01
    )

    async def first_event():
        async for event in trigger.run():
            return event

    event = asyncio.run(first_event())
    assert event.payload["status"] == "error" and event.payload["error"] == "ResourceNotFound.Execution"


def test_trigger_serialize_round_trip():
    trigger = TencentCloudJobTrigger({"kind": "asw", "Region": "ap-guangzhou", "ExecutionResourceName": "q"}, CONN_ID, 2.5, "sh")
    classpath, kwargs = trigger.serialize()
    assert classpath == "asw_airflow.tencentcloud.triggers.TencentCloudJobTrigger"
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_trigger_polls_with_jitter_and_never_past_its_deadline():
    trigger = TencentCloudJobTrigger({"kind": "asw", "Region": "ap-guangzhou", "ExecutionResourceName": "q"}, CONN_ID, 2.0)
    delays = [trigger._delay(None) for _ in range(200)]
    assert all(2.0 <= d <= 2.4 for d in delays) and len(set(delays)) > 1
    assert trigger._delay(0.5) == 0.5 and trigger._delay(-1) == 0.0


@pytest.mark.parametrize("operator_class", [TencentCloudInvokeFunctionOperator, TencentCloudExecutionSensor])
def test_a_timeout_event_fails_the_task_clearly(operator_class, context):
    from airflow.exceptions import AirflowException

    kwargs = {"function_name": "echo"} if operator_class is TencentCloudInvokeFunctionOperator else {"execution_resource_name": "q"}
    op = operator_class(task_id="t", tencentcloud_conn_id=CONN_ID, **kwargs)
    handle = {"kind": "asw", "Region": "ap-guangzhou", "ExecutionResourceName": "q"}
    with pytest.raises(AirflowException, match="passed its deadline and was stopped"):
        op.execute_complete(context, {"status": "timeout", "handle": handle})


@pytest.mark.parametrize(("login", "password", "missing"), [("AKID", "", "SecretKey"), ("", "key", "SecretId")])
def test_hook_refuses_a_connection_with_one_key(monkeypatch, login, password, missing):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDENV")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "env-key")
    conn = {"conn_type": "tencentcloud", "login": login, "password": password}
    monkeypatch.setenv("AIRFLOW_CONN_TC_HALF", json.dumps(conn))
    with pytest.raises(ValueError, match=f"sets only one key: set its {missing}"):
        TencentCloudHook("tc_half").get_conn()


def test_hook_with_no_keys_uses_the_environment(monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDENV")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "env-key")
    monkeypatch.setenv("AIRFLOW_CONN_TC_ENV", json.dumps({"conn_type": "tencentcloud"}))
    assert TencentCloudHook("tc_env").get_conn().credentials.secret_id == "AKIDENV"
