"""Task integrations for SCF, nested ASW workflows and any other cloud API, shared by the engine and Airflow.

Each operation is written once as a generator of API calls (:class:`ApiCall`) and driven either by
the sync client (engine, operators) or the async client (triggers), so both backends run the same
request building and result interpretation:

- request-response: :func:`request_response` / :func:`arequest_response` -> the Task's result.
- sync-run: :func:`start` -> a JSON-able handle, then :func:`check` until it returns
  :class:`Finished` (``None`` means still running; a failed job raises ``StatesError``), and
  :func:`cancel` to stop the job when the parent stops. ``a``-prefixed twins are async.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Generator, Mapping, TypeVar

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.engine.handlers import HandlerRegistry, TaskInvocation
from asw_airflow.loader import load_value
from asw_airflow.resource import ResourceRef, parse_resource
from asw_airflow.semantics.errors import RUNTIME, TASK_FAILED, TIMEOUT, StatesError
from asw_airflow.tencentcloud.client import TencentCloudClient, TencentCloudError, normalize_region
from asw_airflow.tencentcloud.errors import SCF_TIMEOUT_STATUS, from_api_error, from_function_result

T = TypeVar("T")
Handle = dict[str, Any]

DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_POLL_JITTER = 0.2


@dataclass(frozen=True, slots=True)
class ApiCall:
    service: str
    action: str
    params: dict[str, Any]
    region: str | None = None
    version: str | None = None
    timeout: float | None = None  # None: the client's per-action default


class JobFailed(StatesError):
    """A sync-run job that ended badly (as opposed to a failure to ask about it)."""


@dataclass(frozen=True, slots=True)
class Finished:
    """A sync-run job that ended well; ``output`` is the Task's result (it may be ``None``)."""

    output: Any


Flow = Generator[ApiCall, dict[str, Any], T]


def _drive(client: TencentCloudClient, flow: Flow[T]) -> T:
    try:
        call = next(flow)
        while True:
            try:
                response = client.call(
                    call.service, call.action, call.params, call.version, region=call.region, timeout=call.timeout
                )
            except TencentCloudError as exc:
                call = flow.throw(from_api_error(exc))
            else:
                call = flow.send(response)
    except StopIteration as stop:
        return stop.value


async def _adrive(client: TencentCloudClient, flow: Flow[T]) -> T:
    try:
        call = next(flow)
        while True:
            try:
                response = await client.acall(
                    call.service, call.action, call.params, call.version, region=call.region, timeout=call.timeout
                )
            except TencentCloudError as exc:
                call = flow.throw(from_api_error(exc))
            else:
                call = flow.send(response)
    except StopIteration as stop:
        return stop.value


# -- request building ---------------------------------------------------------------------------


def _ref(resource: ResourceRef | str) -> ResourceRef:
    return resource if isinstance(resource, ResourceRef) else parse_resource(resource)


def _object(ref: ResourceRef, payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise StatesError(
            RUNTIME, f"{ref.service}:{ref.action} takes its request as an object; got {type(payload).__name__}"
        )
    return dict(payload)


def _invoke_params(ref: ResourceRef, payload: Any, invocation_type: str) -> dict[str, Any]:
    return {
        "FunctionName": ref.function,
        "InvocationType": invocation_type,
        "Qualifier": ref.qualifier or "$LATEST",
        "Namespace": ref.namespace or "default",
        "ClientContext": json.dumps(payload, ensure_ascii=False),
    }


def _start_execution_params(ref: ResourceRef, payload: Any) -> dict[str, Any]:
    params = _object(ref, payload)
    if "Input" in params and not isinstance(params["Input"], str):
        params["Input"] = json.dumps(params["Input"], ensure_ascii=False)
    return params


def _function_output(ret_msg: str | None) -> Any:
    """SCF returns the function's value as a string: JSON when it parses, else the string itself."""
    if ret_msg is None:
        return None
    try:
        return load_value(ret_msg)
    except DefinitionError:  # not JSON (or NaN and the like, which JSON cannot carry on): the string itself
        return ret_msg


def child_execution_name(
    parent_execution: str, state_name: str, attempt: int, item_index: int | str | None = None
) -> str:
    """A child execution ``Name`` that is the same for every start of one parent attempt.

    StartExecution treats a repeated Name as the same execution, so a retried start (lost
    response, client retry, worker restart) never runs the child twice; a new Retry attempt
    gets a new child. ``item_index`` separates Map iterations of the same state: Airflow's map
    index, or the engine's :func:`iteration_key`.
    """
    key = f"{parent_execution}\x00{state_name}\x00{attempt}\x00{item_index}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", state_name).strip("-")[:24] or "state"
    return f"{slug}-{attempt}-{digest}"


# -- flows --------------------------------------------------------------------------------------


def _request_response_flow(ref: ResourceRef, payload: Any, version: str | None, timeout_seconds: float | None) -> Flow[Any]:
    if ref.kind == "scf":
        params = _invoke_params(ref, payload, "RequestResponse")
        body = yield ApiCall("scf", "Invoke", params, ref.region, timeout=timeout_seconds)
        result = body.get("Result") or {}
        error = from_function_result(ref.function or "", result)
        if error is not None:
            raise error
        return _function_output(result.get("RetMsg"))
    if ref.kind == "asw":
        body = yield ApiCall("asw", "StartExecution", _start_execution_params(ref, payload), ref.region)
        return {"Response": body}
    return (yield from _api_flow(ref.service, ref.action, _object(ref, payload), ref.region, version))


def _api_flow(service: str, action: str, params: dict[str, Any], region: str | None, version: str | None) -> Flow[Any]:
    body = yield ApiCall(service, action, params, region, version)
    return {"Response": body}


def _start_flow(ref: ResourceRef, payload: Any, execution_name: str | None) -> Flow[Handle]:
    region = normalize_region(ref.region)
    if ref.kind == "scf":
        body = yield ApiCall("scf", "Invoke", _invoke_params(ref, payload, "Event"), region)
        request_id = (body.get("Result") or {}).get("FunctionRequestId")
        return function_event_handle(ref.function or "", request_id, region, ref.namespace or "default")
    if ref.kind == "asw":
        params = _start_execution_params(ref, payload)
        params.setdefault("Name", execution_name or uuid.uuid4().hex)
        body = yield ApiCall("asw", "StartExecution", params, region)
        return execution_handle(body["ExecutionResourceName"], region)
    raise StatesError(RUNTIME, f"{ref.service}:{ref.action} supports request-response only; drop the .sync suffix")


def function_event_handle(function_name: str, invoke_request_id: str, region: str, namespace: str = "default") -> Handle:
    """The handle of an SCF async event started elsewhere, for sensors."""
    return {
        "kind": "scf",
        "Region": normalize_region(region),
        "FunctionName": function_name,
        "Namespace": namespace,
        "InvokeRequestId": invoke_request_id,
    }


def execution_handle(execution_resource_name: str, region: str) -> Handle:
    """The handle of an ASW execution started elsewhere, for sensors."""
    return {"kind": "asw", "Region": normalize_region(region), "ExecutionResourceName": execution_resource_name}


def _failed_execution(qrn: str, status: str, events: list[dict[str, Any]]) -> JobFailed:
    detail: dict[str, Any] = {"ExecutionResourceName": qrn, "Status": status}
    for event in reversed(events):
        if event.get("Exception"):
            try:
                detail.update(json.loads(event["Exception"]))
            except ValueError:
                detail["Cause"] = event["Exception"]
            break
    return JobFailed(TASK_FAILED, json.dumps(detail, ensure_ascii=False))


def _check_flow(handle: Handle) -> Flow[Finished | None]:
    if handle["kind"] == "scf":
        body = yield ApiCall("scf", "GetAsyncEventStatus", {"InvokeRequestId": handle["InvokeRequestId"]}, handle["Region"])
        status = body["Result"]
        if status["Status"] == "RUNNING":
            return None
        if status["Status"] == "FINISHED":
            return Finished({"FunctionRequestId": handle["InvokeRequestId"], "Status": "FINISHED"})
        cause = (
            f"async invocation {handle['InvokeRequestId']} of cloud function {handle['FunctionName']} "
            f"ended {status['Status']} (StatusCode {status.get('StatusCode')})"
        )
        raise JobFailed(TIMEOUT if status.get("StatusCode") == SCF_TIMEOUT_STATUS else TASK_FAILED, cause)
    qrn = handle["ExecutionResourceName"]
    body = yield ApiCall("asw", "DescribeExecution", {"ExecutionResourceName": qrn}, handle["Region"])
    status = body["Status"]
    if status in ("INIT", "RUNNING"):
        return None
    if status == "SUCCEED":
        return Finished(_function_output(body.get("Output")))
    history = yield ApiCall("asw", "DescribeExecutionHistory", {"ExecutionResourceName": qrn}, handle["Region"])
    raise _failed_execution(qrn, status, history.get("Events") or [])


def _cancel_flow(handle: Handle) -> Flow[None]:
    if handle["kind"] == "scf":
        params = {
            "FunctionName": handle["FunctionName"],
            "Namespace": handle["Namespace"],
            "InvokeRequestId": handle["InvokeRequestId"],
        }
        yield ApiCall("scf", "TerminateAsyncEvent", params, handle["Region"])
    else:
        yield ApiCall("asw", "StopExecution", {"ExecutionQrn": handle["ExecutionResourceName"]}, handle["Region"])


# -- public faces -------------------------------------------------------------------------------


def request_response(
    client: TencentCloudClient,
    resource: ResourceRef | str,
    payload: Any,
    *,
    version: str | None = None,
    timeout_seconds: float | None = None,
) -> Any:
    """Run a request-response Task: a function's return value, or an API's ``{"Response": ...}``.

    ``version`` overrides the client's API version for generic API calls. ``timeout_seconds``
    (the Task's TimeoutSeconds) is how long a synchronous Invoke waits for the function,
    instead of SCF's 300 s limit.
    """
    return _drive(client, _request_response_flow(_ref(resource), payload, version, timeout_seconds))


async def arequest_response(
    client: TencentCloudClient,
    resource: ResourceRef | str,
    payload: Any,
    *,
    version: str | None = None,
    timeout_seconds: float | None = None,
) -> Any:
    return await _adrive(client, _request_response_flow(_ref(resource), payload, version, timeout_seconds))


def call_api(
    client: TencentCloudClient,
    service: str,
    action: str,
    params: Mapping[str, Any] | None = None,
    *,
    region: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Any API as a generic Task runs it: ``{"Response": ...}``, errors as ``StatesError``."""
    return _drive(client, _api_flow(service, action, dict(params or {}), region, version))


def start(
    client: TencentCloudClient, resource: ResourceRef | str, payload: Any, *, execution_name: str | None = None
) -> Handle:
    """Start a sync-run job (SCF Event invoke or child execution named ``execution_name``)."""
    return _drive(client, _start_flow(_ref(resource), payload, execution_name))


async def astart(
    client: TencentCloudClient, resource: ResourceRef | str, payload: Any, *, execution_name: str | None = None
) -> Handle:
    return await _adrive(client, _start_flow(_ref(resource), payload, execution_name))


def check(client: TencentCloudClient, handle: Handle) -> Finished | None:
    """``None`` while the job runs, :class:`Finished` when it succeeded; raises :class:`JobFailed` when it
    failed (any other ``StatesError`` is a failure to ask)."""
    return _drive(client, _check_flow(handle))


async def acheck(client: TencentCloudClient, handle: Handle) -> Finished | None:
    return await _adrive(client, _check_flow(handle))


def cancel(client: TencentCloudClient, handle: Handle) -> None:
    """Stop the job (TerminateAsyncEvent / StopExecution); stopping a finished job is a no-op."""
    _drive(client, _cancel_flow(handle))


async def acancel(client: TencentCloudClient, handle: Handle) -> None:
    await _adrive(client, _cancel_flow(handle))


# -- engine -------------------------------------------------------------------------------------


def iteration_key(map_context: Mapping[str, Any] | None, payload: Any) -> str | None:
    """What tells apart the Map iterations (at any depth) a Task may run in, or None outside a Map.

    The engine's context does not carry the index path: ``$$.Map`` holds only the innermost
    ``Item`` (``map_item_context`` drops outer ones), and a Task gets no ``$$.Map`` at all when
    its iterator never reads ``$$``. So the key is the whole ``$$.Map`` plus the Task's payload,
    as canonical JSON: iterations of different (outer or inner) items send different payloads.
    Iterations with identical items and payloads still share one child.
    """
    if not map_context and payload is None:
        return None
    return json.dumps({"Map": map_context, "Payload": payload}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)


def _execution_name(invocation: TaskInvocation) -> str:
    context = invocation.context
    parent = (context.get("Execution") or {}).get("Id") or uuid.uuid4().hex
    item = iteration_key(context.get("Map"), invocation.payload)
    return child_execution_name(parent, invocation.state_name, invocation.attempt, item)


def _pause(invocation: TaskInvocation, sleep: Callable[[float], None] | None) -> Callable[[float], None]:
    """A sleep between polls that ends the wait (and so cancels the job) once the caller gave up."""

    def pause(delay: float) -> None:
        if sleep is None:
            stopped = invocation.cancelled.wait(delay)
        else:
            sleep(delay)
            stopped = invocation.cancelled.is_set()
        if stopped:
            raise StatesError(TIMEOUT, f"the caller stopped waiting for state {invocation.state_name!r}'s job")

    return pause


def register_tencentcloud_handlers(
    registry: HandlerRegistry,
    client: TencentCloudClient,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    poll_jitter: float = DEFAULT_POLL_JITTER,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
) -> None:
    """Register engine handlers for ``scf``, ``asw`` and ``api`` resources.

    A sync-run polls every ``poll_interval * (1 + uniform(0, poll_jitter))`` seconds, waiting on
    the invocation's ``cancelled`` signal (or through ``sleep``, for tests). Exceeding the Task's
    ``timeout_seconds`` raises ``States.Timeout``; on that, on a polling failure, or when the caller
    gives up on the call (its timeout, a stopped run, a killed task) the job is cancelled first, so
    stopping the parent stops the child.
    """

    def handle(invocation: TaskInvocation) -> Any:
        ref = invocation.resource
        if ref.mode != "sync":
            return request_response(client, ref, invocation.payload, timeout_seconds=invocation.timeout_seconds)
        job = start(client, ref, invocation.payload, execution_name=_execution_name(invocation))
        return wait_for(
            client, job, poll_interval=poll_interval, poll_jitter=poll_jitter, sleep=_pause(invocation, sleep),
            timeout_seconds=invocation.timeout_seconds, rng=rng,
        )

    for kind in ("scf", "asw", "api"):
        registry.register_kind(kind, handle)


def wait_for(
    client: TencentCloudClient,
    handle: Handle,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    poll_jitter: float = DEFAULT_POLL_JITTER,
    sleep: Callable[[float], None] = time.sleep,
    timeout_seconds: float | None = None,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Any:
    """Poll a sync-run job to its output; cancel it if waiting ends any other way than the job ending.

    ``timeout_seconds`` is a deadline on ``clock`` from the first poll, so slow status calls
    count toward it, not only the sleeps between them.
    """
    jitter = rng or random.Random()
    deadline = None if timeout_seconds is None else clock() + timeout_seconds
    try:
        while True:
            done = check(client, handle)
            if done is not None:
                return done.output
            left = None if deadline is None else deadline - clock()
            if left is not None and left <= 0:
                raise StatesError(TIMEOUT, f"sync-run job did not finish within {timeout_seconds:g} s: {handle}")
            delay = poll_interval * (1 + jitter.uniform(0, poll_jitter))
            sleep(delay if left is None else min(delay, left))
    except JobFailed:
        raise  # the job itself ended: nothing to cancel
    except BaseException:
        _cancel_quietly(client, handle)
        raise


def _cancel_quietly(client: TencentCloudClient, job: Handle) -> None:
    try:
        cancel(client, job)
    except StatesError:
        pass  # the original failure matters more than a failed stop
