"""Emulated SCF: Python functions from ``DIR/<FunctionName>/index.py`` (``main_handler(event, context)``).

Optional ``DIR/<FunctionName>/config.json`` may set ``{"Timeout": seconds}`` (SCF's default is 3 s;
the emulator's is 300 s so slow tests do not trip it). A raising function answers with SCF's
error shape: ``InvokeResult`` -1 and ``ErrMsg`` JSON ``{"errorCode", "errorMessage",
"statusCode": 430, "stackTrace"}``; a function past its timeout gets ``statusCode`` 433.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any, Callable

from asw_airflow.tencentcloud.emulator.base import ApiError

DEFAULT_TIMEOUT_SECONDS = 300.0
_USER_ERROR_STATUS = 430
_TIMEOUT_STATUS = 433


class FunctionLoadError(Exception):
    """The function's code or config.json is broken: a failure of the function, answered as one
    (``InvokeResult`` -1, States.TaskFailed in a workflow), not as an API or network error."""


class FunctionStore:
    """Loads functions from a directory, reloading a module when its file changes."""

    def __init__(self, root: Path | None):
        self.root = root
        self._modules: dict[str, tuple[float, Callable[[Any, dict], Any]]] = {}
        self._lock = threading.Lock()

    def handler(self, name: str) -> Callable[[Any, dict], Any]:
        if self.root is None or "/" in name or name.startswith("."):
            raise ApiError("ResourceNotFound.Function", f"function {name!r} does not exist")
        path = self.root / name / "index.py"
        if not path.is_file():
            raise ApiError("ResourceNotFound.Function", f"function {name!r} does not exist")
        mtime = path.stat().st_mtime
        with self._lock:
            cached = self._modules.get(name)
            if cached is None or cached[0] != mtime:
                spec = importlib.util.spec_from_file_location(f"_asw_emulated_scf_{name}", path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                try:
                    spec.loader.exec_module(module)
                except BaseException as exc:  # SyntaxError, ImportError, a raising module body...
                    raise FunctionLoadError(f"{type(exc).__name__}: {exc}") from exc
                if not callable(getattr(module, "main_handler", None)):
                    raise ApiError("FailedOperation.FunctionStatusError", f"{path} defines no main_handler(event, context)")
                cached = (mtime, module.main_handler)
                self._modules[name] = cached
        return cached[1]

    def timeout(self, name: str) -> float:
        config = self.root / name / "config.json" if self.root else None
        if config is None or not config.is_file():
            return DEFAULT_TIMEOUT_SECONDS
        try:
            seconds = float(json.loads(config.read_text()).get("Timeout", DEFAULT_TIMEOUT_SECONDS))
        except (ValueError, TypeError, AttributeError) as exc:
            raise FunctionLoadError(f"{config}: expected {{\"Timeout\": seconds}}: {type(exc).__name__}: {exc}") from exc
        if not seconds > 0:
            raise FunctionLoadError(f"{config}: Timeout must be positive, got {seconds:g}")
        return seconds


def _error_message(status: int, message: str, stack: str = "") -> str:
    return json.dumps({"errorCode": -1, "errorMessage": message, "statusCode": status, "stackTrace": stack})


class ScfService:
    """Invoke (RequestResponse and Event), GetAsyncEventStatus, ListAsyncEvents, TerminateAsyncEvent, ListNamespaces."""

    def __init__(self, functions: FunctionStore):
        self.functions = functions
        self._events: dict[str, dict[str, Any]] = {}
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        """A thread per run, not a shared pool: a run never queues behind others (Map fan-outs would
        turn queue time into false 433 timeouts), and :meth:`shutdown` can wait for every one."""

        def tracked() -> None:
            try:
                target()
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=tracked, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def wait_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` in all for running functions (Python cannot kill them); whether all ended."""
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def actions(self) -> dict[str, Callable[[dict, str], dict]]:
        return {
            "ListNamespaces": self.list_namespaces,
            "Invoke": self.invoke,
            "GetAsyncEventStatus": self.get_async_event_status,
            "ListAsyncEvents": self.list_async_events,
            "TerminateAsyncEvent": self.terminate_async_event,
        }

    def _run(self, name: str, event: Any, request_id: str, qualifier: str, namespace: str) -> dict[str, Any]:
        try:
            handler = self.functions.handler(name)
            timeout = self.functions.timeout(name)
        except FunctionLoadError as exc:
            message = f"function {name} failed to load: {exc}"
            return {"FunctionRequestId": request_id, "Log": "", "MemUsage": 0, "RetMsg": "", "Duration": 0,
                    "InvokeResult": -1, "ErrMsg": _error_message(_USER_ERROR_STATUS, message)}
        context = {
            "request_id": request_id,
            "function_name": name,
            "function_version": qualifier,
            "namespace": namespace,
            "time_limit_in_ms": int(timeout * 1000),
            "memory_limit_in_mb": 128,
        }
        outcome: list[tuple[bool, Any]] = []

        def call() -> None:
            try:
                outcome.append((True, handler(event, context)))
            except BaseException as exc:  # the function's own failure is the answer, not a server error
                outcome.append((False, exc))

        started = time.monotonic()
        self._spawn(call, f"emulated-scf-{name}").join(timeout)  # the timeout counts from the function's start
        result: dict[str, Any] = {"FunctionRequestId": request_id, "Log": "", "MemUsage": 0, "RetMsg": "", "ErrMsg": ""}
        if not outcome:
            result["ErrMsg"] = _error_message(_TIMEOUT_STATUS, f"Invoking task timed out after {timeout:g} seconds")
            result["InvokeResult"] = -1
        elif outcome[0][0]:
            value = outcome[0][1]
            result["RetMsg"] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            result["InvokeResult"] = 0
        else:
            exc = outcome[0][1]
            result["ErrMsg"] = _error_message(
                _USER_ERROR_STATUS, f"{type(exc).__name__}: {exc}", "".join(traceback.format_exception(exc))
            )
            result["InvokeResult"] = -1
        result["Duration"] = round((time.monotonic() - started) * 1000, 3)
        return result

    def list_namespaces(self, params: dict, region: str) -> dict:
        return {"Namespaces": [{"Name": "default", "Type": "default", "Description": ""}], "TotalCount": 1}

    def invoke(self, params: dict, region: str) -> dict:
        name = params.get("FunctionName")
        if not name:
            raise ApiError("MissingParameter", "FunctionName is required")
        qualifier = params.get("Qualifier") or "$LATEST"
        namespace = params.get("Namespace") or "default"
        try:
            event = json.loads(params.get("ClientContext") or "{}")
        except ValueError:
            raise ApiError("InvalidParameterValue.ClientContext", "ClientContext must be a JSON string") from None
        try:
            self.functions.handler(name)  # unknown functions fail the call itself, in both modes
        except FunctionLoadError:
            pass  # a broken function is the run's failure, answered by _run
        request_id = str(uuid.uuid4())
        invocation_type = params.get("InvocationType") or "RequestResponse"
        if invocation_type == "RequestResponse":
            return {"Result": self._run(name, event, request_id, qualifier, namespace)}
        if invocation_type != "Event":
            raise ApiError("InvalidParameterValue.InvocationType", "InvocationType must be RequestResponse or Event")
        record = {
            "InvokeRequestId": request_id,
            "FunctionName": name,
            "Namespace": namespace,
            "Qualifier": qualifier,
            "InvokeType": "Event",
            "Status": "RUNNING",
            "StatusCode": 0,
            "StartTime": time.strftime("%Y-%m-%d %H:%M:%S"),
            "EndTime": "",
        }
        with self._lock:
            self._events[request_id] = record
        self._spawn(lambda: self._run_event(record, event), f"emulated-scf-event-{request_id}")
        return {"Result": {"FunctionRequestId": request_id, "RetMsg": "async invoke success", "ErrMsg": "", "Log": ""}}

    def _run_event(self, record: dict, event: Any) -> None:
        result = self._run(record["FunctionName"], event, record["InvokeRequestId"], record["Qualifier"], record["Namespace"])
        with self._lock:
            if record["Status"] == "RUNNING":
                record["Status"] = "FINISHED" if not result["ErrMsg"] else "FAILED"
                record["StatusCode"] = 200 if not result["ErrMsg"] else json.loads(result["ErrMsg"])["statusCode"]
                record["EndTime"] = time.strftime("%Y-%m-%d %H:%M:%S")

    def _event(self, request_id: str | None) -> dict:
        record = self._events.get(request_id or "")
        if record is None:
            raise ApiError("ResourceNotFound.AsyncEvent", f"async event {request_id!r} does not exist")
        return record

    def get_async_event_status(self, params: dict, region: str) -> dict:
        record = self._event(params.get("InvokeRequestId"))
        return {"Result": {key: record[key] for key in ("Status", "StatusCode", "InvokeRequestId")}}

    def list_async_events(self, params: dict, region: str) -> dict:
        name = params.get("FunctionName")
        if not name:
            raise ApiError("MissingParameter", "FunctionName is required")
        wanted_status = set(params.get("Status") or [])
        with self._lock:
            events = [
                {key: record[key] for key in ("InvokeRequestId", "InvokeType", "Qualifier", "Status", "StartTime", "EndTime")}
                for record in self._events.values()
                if record["FunctionName"] == name
                and record["Namespace"] == (params.get("Namespace") or "default")
                and (not params.get("InvokeRequestId") or record["InvokeRequestId"] == params["InvokeRequestId"])
                and (not wanted_status or record["Status"] in wanted_status)
            ]
        try:
            offset, limit = int(params.get("Offset", 0)), int(params.get("Limit", 20))
        except (TypeError, ValueError):
            raise ApiError("InvalidParameterValue", "Offset and Limit must be integers") from None
        return {"TotalCount": len(events), "EventList": events[offset : offset + limit]}

    def terminate_async_event(self, params: dict, region: str) -> dict:
        record = self._event(params.get("InvokeRequestId"))
        with self._lock:
            if record["Status"] == "RUNNING":
                record["Status"] = "ABORTED"
                record["EndTime"] = time.strftime("%Y-%m-%d %H:%M:%S")
        return {}
