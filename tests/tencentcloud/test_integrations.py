from __future__ import annotations

import asyncio
import json
import time

import pytest

from asw_airflow.engine.handlers import HandlerRegistry, TaskInvocation
from asw_airflow.resource import parse_resource
from asw_airflow.semantics.errors import StatesError
from asw_airflow.tencentcloud import integrations
from asw_airflow.tencentcloud.client import RetryPolicy
from asw_airflow.tencentcloud.integrations import (
    Finished,
    JobFailed,
    acheck,
    arequest_response,
    astart,
    child_execution_name,
    iteration_key,
    register_tencentcloud_handlers,
)

from tests.tencentcloud.conftest import make_client

QRN = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:"
CHILD = "qrn:qcs:asw:ap-guangzhou:1250000000:http:json:flowmachine:child:abc123"
CONTEXT = {"Execution": {"Id": "qrn:qcs:asw:ap-guangzhou:1250000000:execution:parent:run-1"}}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def run_task(client, sleeps):
    """Run a Task through the engine handler the way the interpreter does."""
    registry = HandlerRegistry()
    register_tencentcloud_handlers(registry, client, poll_interval=0.01, sleep=lambda s: (sleeps.append(s), time.sleep(0.01)))

    def run(resource: str, payload, *, state="Step", attempt=0, timeout=None, context=CONTEXT):
        ref = parse_resource(QRN + resource)
        invocation = TaskInvocation(ref, payload, context, state, attempt, timeout)
        return registry.resolve(ref)(invocation)

    return run


def test_scf_request_response_returns_parsed_value(run_task):
    assert run_task("scf:Invoke/echo", {"n": 1}) == {"event": {"n": 1}, "function": "echo"}


def test_scf_request_response_keeps_non_json_string(run_task):
    assert run_task("scf:Invoke/greeting", {"name": "bo"}) == "hello bo"
    assert run_task("scf:Invoke/verbatim", {"text": "[1, 2]"}) == [1, 2]
    assert run_task("scf:Invoke/verbatim", {"text": "NaN"}) == "NaN", "NaN is not JSON: the string stays"


def test_scf_raising_function_is_task_failed_with_its_message(run_task):
    with pytest.raises(StatesError) as info:
        run_task("scf:Invoke/boom", {"n": 3})
    assert info.value.error == "States.TaskFailed"
    assert info.value.cause == "ValueError: bad input: 3"


def test_scf_timeout_is_states_timeout(run_task):
    with pytest.raises(StatesError) as info:
        run_task("scf:Invoke/slow", {"seconds": 2})
    assert info.value.error == "States.Timeout"


def test_scf_missing_function_is_named_by_tencent_code(run_task):
    with pytest.raises(StatesError) as info:
        run_task("scf:Invoke/nope", {})
    assert info.value.error == "ResourceNotFound.Function"


def test_scf_request_response_whose_answer_is_lost_runs_the_function_once(emulator, run_task, tmp_path):
    runs = tmp_path / "runs"
    emulator.set_faults(lose_next=1)
    with pytest.raises(StatesError) as info:
        run_task("scf:Invoke/count", {"file": str(runs)})
    assert info.value.error == "InternalError"
    assert runs.read_text() == "ran\n"
    assert list(emulator.server.calls).count(("scf", "Invoke")) == 1


def test_scf_sync_run_polls_until_finished(client, tmp_path):
    gate, sleeps = tmp_path / "gate", []

    def sleep(seconds: float) -> None:
        """The function finishes only once the engine has polled and slept at least once."""
        sleeps.append(seconds)
        gate.touch()
        time.sleep(0.01)

    registry = HandlerRegistry()
    register_tencentcloud_handlers(registry, client, poll_interval=0.01, sleep=sleep)
    ref = parse_resource(QRN + "scf:Invoke.sync/gated")
    result = registry.resolve(ref)(TaskInvocation(ref, {"gate": str(gate)}, CONTEXT, "Step"))
    assert result["Status"] == "FINISHED" and result["FunctionRequestId"]
    assert sleeps and all(0.01 <= s <= 0.012 for s in sleeps)


def test_scf_sync_run_failure(run_task):
    with pytest.raises(StatesError) as info:
        run_task("scf:Invoke.sync/boom", {"n": 1})
    assert info.value.error == "States.TaskFailed"
    assert "FAILED" in info.value.cause


def test_scf_sync_run_timeout_cancels_the_event(run_task, client):
    with pytest.raises(StatesError) as info:
        run_task("scf:Invoke.sync/slow", {"seconds": 0.4}, timeout=0.02)
    assert info.value.error == "States.Timeout"
    events = client.call("scf", "ListAsyncEvents", {"FunctionName": "slow"})["EventList"]
    assert [e["Status"] for e in events] == ["ABORTED"]


def test_asw_request_response_returns_envelope(run_task, runner):
    out = run_task("asw:StartExecution", {"StateMachineResourceName": CHILD, "Input": {"a": 1}})
    assert set(out) == {"Response"}
    assert out["Response"]["ExecutionResourceName"].startswith("qrn:qcs:asw:ap-guangzhou:1250000000:execution:child:")


def test_asw_sync_run_returns_child_output(run_task, runner):
    payload = {"StateMachineResourceName": "child", "Input": {"a": 1}}
    out = run_task("asw:StartExecution.sync", payload)
    assert out == {"child": "Only", "input": {"a": 1}}
    assert runner.calls[0][1] == child_execution_name(CONTEXT["Execution"]["Id"], "Step", 0, iteration_key(None, payload))


def test_asw_sync_run_accepts_string_input(run_task):
    out = run_task("asw:StartExecution.sync", {"StateMachineResourceName": CHILD, "Input": '{"b": 2}'})
    assert out["input"] == {"b": 2}


def test_asw_sync_run_child_failure_carries_error_and_cause(run_task):
    with pytest.raises(StatesError) as info:
        run_task("asw:StartExecution.sync", {"StateMachineResourceName": CHILD, "Input": {"fail": "no luck"}})
    assert info.value.error == "States.TaskFailed"
    assert json.loads(info.value.cause)["Error"] == "Child.Failed"
    assert json.loads(info.value.cause)["Cause"] == "no luck"


def test_asw_sync_run_lost_start_response_does_not_run_child_twice(emulator, run_task, runner):
    emulator.set_faults(lose_next=1)
    out = run_task("asw:StartExecution.sync", {"StateMachineResourceName": CHILD, "Input": {"x": 1}})
    assert out["input"] == {"x": 1}
    assert len(runner.calls) == 1
    assert emulator.server.calls.count(("asw", "StartExecution")) == 2
    assert emulator.asw.execution_count == 1


def test_asw_sync_run_under_random_faults_runs_each_child_once(emulator, client, runner):
    emulator.set_faults(fault_rate=0.3)
    registry = HandlerRegistry()
    patient = make_client(emulator.endpoint, retry=RetryPolicy(max_attempts=12, base_seconds=0.001, cap_seconds=0.002))
    register_tencentcloud_handlers(registry, patient, poll_interval=0.0, sleep=lambda s: time.sleep(0.005))
    ref = parse_resource(QRN + "asw:StartExecution.sync")
    for index in range(8):
        context = {**CONTEXT, "Map": {"Item": {"Index": index, "Value": index}}}
        out = registry.resolve(ref)(TaskInvocation(ref, {"StateMachineResourceName": CHILD, "Input": {"i": index}}, context, "Each"))
        assert out["input"] == {"i": index}
    assert sorted(call[0]["i"] for call in runner.calls) == list(range(8))
    assert emulator.asw.execution_count == 8
    patient.close()


def test_new_retry_attempt_starts_a_new_child(run_task, runner):
    payload = {"StateMachineResourceName": CHILD, "Input": {}}
    run_task("asw:StartExecution.sync", payload, attempt=0)
    run_task("asw:StartExecution.sync", payload, attempt=0)
    run_task("asw:StartExecution.sync", payload, attempt=1)
    assert len({name for _, name in runner.calls}) == 2


def test_stopping_the_parent_stops_the_child(emulator, client, runner):
    class Stop(BaseException):
        pass

    def stopping_sleep(seconds: float) -> None:
        raise Stop

    registry = HandlerRegistry()
    register_tencentcloud_handlers(registry, client, sleep=stopping_sleep)
    ref = parse_resource(QRN + "asw:StartExecution.sync")
    invocation = TaskInvocation(ref, {"StateMachineResourceName": CHILD, "Input": {"hold": True}}, CONTEXT, "Nested")
    with pytest.raises(Stop):
        registry.resolve(ref)(invocation)
    name = child_execution_name(CONTEXT["Execution"]["Id"], "Nested", 0, iteration_key(None, invocation.payload))
    qrn = f"qrn:qcs:asw:ap-guangzhou:1250000000:execution:child:{name}"
    assert emulator.asw.join(qrn, 10), "the stop released the held runner"
    assert client.call("asw", "DescribeExecution", {"ExecutionResourceName": qrn})["Status"] == "TERMINATED"
    history = client.call("asw", "DescribeExecutionHistory", {"ExecutionResourceName": qrn})["Events"]
    assert [e["EventCategory"] for e in history] == ["ExecutionStart", "TaskNodeEnter", "ExecutionTerminated"]


def test_sync_run_of_a_generic_api_is_refused(run_task):
    with pytest.raises(StatesError) as info:
        run_task("scf:ListAsyncEvents.sync", {"FunctionName": "echo"})
    assert info.value.error == "States.Runtime"
    assert "request-response only" in info.value.cause


def test_generic_api_request_response(run_task):
    out = run_task("scf:ListAsyncEvents", {"FunctionName": "echo"})
    assert out["Response"]["TotalCount"] == 0 and out["Response"]["RequestId"]


def test_generic_api_errors_are_named_by_code(run_task):
    with pytest.raises(StatesError) as info:
        run_task("scf:GetAsyncEventStatus", {"InvokeRequestId": "missing"})
    assert info.value.error == "ResourceNotFound.AsyncEvent"


def test_generic_api_payload_must_be_an_object(run_task):
    with pytest.raises(StatesError) as info:
        run_task("cvm:DescribeInstances", [1, 2])
    assert info.value.error == "States.Runtime"


def test_async_faces(emulator, runner):
    async def go():
        async with make_client(emulator.endpoint) as c:
            value = await arequest_response(c, QRN + "scf:Invoke/greeting", {"name": "async"})
            handle = await astart(c, QRN + "asw:StartExecution.sync", {"StateMachineResourceName": CHILD}, execution_name="n1")
            while (done := await acheck(c, handle)) is None:
                await asyncio.sleep(0.01)
            return value, handle, done

    value, handle, done = asyncio.run(go())
    assert value == "hello async"
    assert json.loads(json.dumps(handle)) == handle
    assert done == Finished({"child": "Only", "input": {}})


def test_check_distinguishes_job_failure(client):
    handle = integrations.start(client, QRN + "scf:Invoke.sync/boom", {"n": 0})
    deadline = time.time() + 5
    with pytest.raises(JobFailed):
        while time.time() < deadline:
            integrations.check(client, handle)
            time.sleep(0.01)


def test_child_execution_name_is_stable_and_distinct():
    a = child_execution_name("exec-1", "Run child", 0)
    assert a == child_execution_name("exec-1", "Run child", 0)
    assert a.startswith("Run-child-0-") and len(a) <= 60
    assert len({a, child_execution_name("exec-1", "Run child", 1), child_execution_name("exec-2", "Run child", 0),
                child_execution_name("exec-1", "Run child", 0, item_index=3)}) == 4


def test_iteration_key_tells_apart_inner_iterations_of_different_outer_items():
    first_outer = {"Item": {"Index": 0, "Value": {"user": "a"}}}
    second_outer = {"Item": {"Index": 0, "Value": {"user": "b"}}}
    assert iteration_key(None, None) is None
    assert iteration_key(first_outer, {"x": 1, "y": 2}) == iteration_key({"Item": {"Value": {"user": "a"}, "Index": 0}}, {"y": 2, "x": 1})
    names = {child_execution_name("e", "S", 0, iteration_key(m, {"p": 1})) for m in (first_outer, second_outer)}
    names |= {child_execution_name("e", "S", 0, iteration_key(None, {"p": p})) for p in (1, 2)}
    assert len(names) == 4


def test_wait_for_counts_slow_status_calls_toward_the_timeout(client, tmp_path):
    """Each status call "takes" 10 s on the injected clock; sleeping is free: the 15 s timeout still ends it."""
    gate, sleeps, now = tmp_path / "gate", [], [0.0]

    def clock() -> float:
        now[0] += 10
        return now[0]

    handle = integrations.start(client, QRN + "scf:Invoke.sync/gated", {"gate": str(gate)})
    try:
        with pytest.raises(StatesError) as info:
            integrations.wait_for(client, handle, poll_interval=1, sleep=sleeps.append, timeout_seconds=15, clock=clock)
    finally:
        gate.touch()
    assert info.value.error == "States.Timeout"
    assert len(sleeps) == 1 and sum(sleeps) < 15
    status = client.call("scf", "GetAsyncEventStatus", {"InvokeRequestId": handle["InvokeRequestId"]})["Result"]
    assert status["Status"] == "ABORTED"


def test_a_caller_giving_up_stops_the_sync_run_poll_and_cancels_the_job(client, tmp_path):
    gate = tmp_path / "gate"
    registry = HandlerRegistry()
    register_tencentcloud_handlers(registry, client, poll_interval=0.01)
    ref = parse_resource(QRN + "scf:Invoke.sync/gated")
    invocation = TaskInvocation(ref, {"gate": str(gate)}, CONTEXT, "GivenUp")
    invocation.cancelled.set()  # the engine timed the call out, or the Airflow task was killed
    try:
        with pytest.raises(StatesError) as info:
            registry.resolve(ref)(invocation)
        assert info.value.error == "States.Timeout"
        events = client.call("scf", "ListAsyncEvents", {"FunctionName": "gated"})["EventList"]
        assert "ABORTED" in [e["Status"] for e in events]
    finally:
        gate.touch()
