"""A whole local Tencent Cloud for ``asw run``, ``asw conformance``, ``asw emulator`` and demos.

The emulator serves SCF and ASW on a free loopback port; nested workflows it is asked to
start run on the engine, with Task handlers that call back into the same emulator, so a
child workflow can invoke functions and start grandchildren exactly as on ASW.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from asw_airflow.engine.clock import RealClock
from asw_airflow.engine.handlers import HandlerRegistry
from asw_airflow.tencentcloud.client import Credentials, TencentCloudClient
from asw_airflow.tencentcloud.emulator import EmulatorHandle, StopSignal, WorkflowRunner, start_emulator
from asw_airflow.tencentcloud.integrations import register_tencentcloud_handlers

# The 20 requests/s account limit that sets the default poll interval does not apply on loopback.
LOCAL_POLL_INTERVAL = 0.1
LOCAL_REGION = "ap-guangzhou"
SHUTDOWN_GRACE_SECONDS = 5.0


@dataclass
class LocalCloud:
    emulator: EmulatorHandle
    client: TencentCloudClient
    handlers: HandlerRegistry
    credentials: Credentials


class ExecutionStopped(Exception):
    """Raised out of a stopped child's sync-run poll, so the poll cancels the grandchild it waits for."""


class _StoppableClock(RealClock):
    """Wall-clock time whose sleeps (Wait states, Retry delays) end as soon as the execution is stopped."""

    def __init__(self, stop: StopSignal):
        self._stop = stop

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)


def engine_workflow_runner(client_for: Callable[[], TencentCloudClient]) -> WorkflowRunner:
    """The emulator's runner for nested workflows: the local engine, its Tasks calling ``client_for()``.

    StopExecution reaches the engine (``Execution.stop``: no further state starts), cuts its Wait
    states short, and ends a sync-run poll of the child, which stops the grandchild too.
    """

    def run(definition_text: str, input: Any, execution_name: str, stop: StopSignal) -> dict[str, Any]:
        from asw_airflow.engine.interpreter import Execution, default_context
        from asw_airflow.ir import build_machine

        def sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise ExecutionStopped(f"execution {execution_name} was stopped")

        handlers = HandlerRegistry()
        register_tencentcloud_handlers(handlers, client_for(), poll_interval=LOCAL_POLL_INTERVAL, sleep=sleep)
        machine = build_machine(definition_text)
        clock = _StoppableClock(stop)
        context = default_context(machine, input, clock.now(), name=execution_name)
        execution = Execution(machine, input, context=context, handlers=handlers, clock=clock, history=True)
        stop.on_set(execution.stop)
        result = execution.run()
        return {"status": result.status, "output": result.output, "error": result.error, "cause": result.cause,
                "history": result.history}

    return run


@contextlib.contextmanager
def local_cloud(
    functions_dir: str | Path | None = None,
    workflows_dir: str | Path | None = None,
    region: str = LOCAL_REGION,
    *,
    credentials: Credentials | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    **emulator_options: Any,
) -> Iterator[LocalCloud]:
    """Start an emulator (credentials generated for this run unless given) and handlers pointed at it.

    ``emulator_options`` go to :func:`start_emulator` (``fault_rate``, ``latency_ms``, ``appid``).
    """
    handlers = HandlerRegistry()
    credentials = credentials or Credentials("AKID" + secrets.token_hex(16), secrets.token_urlsafe(24))
    clients: list[TencentCloudClient] = []
    with start_emulator(
        functions_dir, workflows_dir, host, port, credentials.secret_id, credentials.secret_key,
        engine_workflow_runner(lambda: clients[0]), **emulator_options,
    ) as emulator:
        with TencentCloudClient(credentials, region, endpoint=emulator.endpoint) as client:
            clients.append(client)
            register_tencentcloud_handlers(handlers, client, poll_interval=LOCAL_POLL_INTERVAL)
            try:
                yield LocalCloud(emulator, client, handlers, credentials)
            finally:
                emulator.asw.shutdown(SHUTDOWN_GRACE_SECONDS)  # children stop while their client still works
