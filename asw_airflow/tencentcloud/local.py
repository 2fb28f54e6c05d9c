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
from typing import Any, Iterator

from asw_airflow.engine.handlers import HandlerRegistry
from asw_airflow.tencentcloud.client import Credentials, TencentCloudClient
from asw_airflow.tencentcloud.emulator import EmulatorHandle, start_emulator
from asw_airflow.tencentcloud.integrations import register_tencentcloud_handlers

# The 20 requests/s account limit that sets the default poll interval does not apply on loopback.
LOCAL_POLL_INTERVAL = 0.1
LOCAL_REGION = "ap-guangzhou"


@dataclass
class LocalCloud:
    emulator: EmulatorHandle
    client: TencentCloudClient
    handlers: HandlerRegistry
    credentials: Credentials


def engine_workflow_runner(handlers: HandlerRegistry):
    """The emulator's runner for nested workflows: the local engine, with ``handlers`` for their Tasks."""

    def run(definition_text: str, input: Any, execution_name: str) -> dict[str, Any]:
        from asw_airflow.engine.interpreter import default_context, run_execution
        from asw_airflow.engine.clock import RealClock
        from asw_airflow.ir import build_machine

        machine = build_machine(definition_text)
        clock = RealClock()
        context = default_context(machine, input, clock.now(), name=execution_name)
        result = run_execution(machine, input, context=context, handlers=handlers, clock=clock, history=True)
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
    with start_emulator(
        functions_dir, workflows_dir, host, port, credentials.secret_id, credentials.secret_key,
        engine_workflow_runner(handlers), **emulator_options,
    ) as emulator:
        with TencentCloudClient(credentials, region, endpoint=emulator.endpoint) as client:
            register_tencentcloud_handlers(handlers, client, poll_interval=LOCAL_POLL_INTERVAL)
            yield LocalCloud(emulator, client, handlers, credentials)
