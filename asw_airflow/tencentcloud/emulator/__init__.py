"""A local emulator of the SCF and ASW APIs Task states use, for tests and demos (``asw emulator``).

It verifies TC3 signatures against its configured keys, runs Python cloud functions from a
directory and nested TCSL workflows through an injected runner, and can inject faults.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asw_airflow.tencentcloud.emulator.asw import AswService, StopSignal, WorkflowRunner
from asw_airflow.tencentcloud.emulator.scf import FunctionStore, ScfService
from asw_airflow.tencentcloud.emulator.server import EmulatorServer, Faults

DEFAULT_SECRET_ID = "AKIDEMULATOR"
DEFAULT_SECRET_KEY = "emulator-secret-key"
DEFAULT_APPID = "1250000000"
# How long stopping the emulator waits for running executions and functions (a function that
# ignores it keeps its daemon thread: Python cannot kill a thread).
SHUTDOWN_GRACE_SECONDS = 5.0

__all__ = ["EmulatorHandle", "StopSignal", "WorkflowRunner", "add_arguments", "start_emulator"]


@dataclass
class EmulatorHandle:
    """A running emulator: ``endpoint`` is what a client's ``endpoint=`` takes."""

    server: EmulatorServer
    asw: AswService
    scf: ScfService
    thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def set_faults(self, **changes: Any) -> Faults:
        return self.server.set_faults(changes)

    def stop(self) -> None:
        """Stop serving, stop running executions, and wait a bounded time for them and for running functions."""
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join()
        self.asw.shutdown(SHUTDOWN_GRACE_SECONDS)
        self.scf.wait_idle(SHUTDOWN_GRACE_SECONDS)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _build(
    functions_dir: str | Path | None,
    workflows_dir: str | Path | None,
    host: str,
    port: int,
    secret_id: str,
    secret_key: str,
    workflow_runner: WorkflowRunner | None,
    faults: Faults,
    appid: str,
    seed: int | None,
) -> EmulatorHandle:
    scf = ScfService(FunctionStore(Path(functions_dir) if functions_dir else None))
    asw = AswService(Path(workflows_dir) if workflows_dir else None, workflow_runner, appid)
    actions = {("scf", name): fn for name, fn in scf.actions().items()}
    actions.update({("asw", name): fn for name, fn in asw.actions().items()})
    server = EmulatorServer((host, port), secret_id, secret_key, actions, faults, seed)
    return EmulatorHandle(server, asw, scf)


def start_emulator(
    functions_dir: str | Path | None = None,
    workflows_dir: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    secret_id: str = DEFAULT_SECRET_ID,
    secret_key: str = DEFAULT_SECRET_KEY,
    workflow_runner: WorkflowRunner | None = None,
    *,
    fault_rate: float = 0.0,
    latency_ms: float = 0.0,
    appid: str = DEFAULT_APPID,
    seed: int | None = None,
) -> EmulatorHandle:
    """Serve in a background thread; ``port=0`` picks a free port (see ``handle.endpoint``)."""
    handle = _build(
        functions_dir, workflows_dir, host, port, secret_id, secret_key, workflow_runner,
        Faults(fault_rate=fault_rate, latency_ms=latency_ms), appid, seed,
    )
    handle.thread = threading.Thread(target=handle.server.serve_forever, args=(0.05,), name="tencentcloud-emulator", daemon=True)
    handle.thread.start()
    return handle


def _loopback_host(value: str) -> str:
    """Only loopback: the admin endpoint that sets faults is unsigned, so nobody else may reach it."""
    try:
        loopback = value == "localhost" or ipaddress.ip_address(value).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a loopback address; the emulator's /_admin/faults endpoint is unsigned, "
            "so it binds to loopback only (127.0.0.1, ::1, localhost)"
        )
    return value


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (0..65535; 0 picks a free one)")
    return port


def _directory(value: str) -> str:
    if not Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"{value!r} is not a directory" + ("" if Path(value).exists() else " (it does not exist)"))
    return value


def _fraction(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a share between 0 and 1")
    return number


def _milliseconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a non-negative number of milliseconds")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options; bad values exit 2 with argparse's one-line message."""
    parser.add_argument("--host", type=_loopback_host, default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port to bind (default: a free port)")
    parser.add_argument("--functions", type=_directory, metavar="DIR",
                        help="cloud functions: DIR/<FunctionName>/index.py with main_handler")
    parser.add_argument("--workflows", type=_directory, metavar="DIR", help="nested workflows: DIR/<name>.json TCSL files")
    parser.add_argument("--secret-id", default=os.environ.get("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
                        help="SecretId clients must sign with (default $TENCENTCLOUD_SECRET_ID)")
    parser.add_argument("--secret-key", default=os.environ.get("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
                        help="SecretKey clients must sign with (default $TENCENTCLOUD_SECRET_KEY)")
    parser.add_argument("--appid", default=DEFAULT_APPID, help="APPID shown in execution qrns")
    parser.add_argument("--fault-rate", type=_fraction, default=0.0, help="share of calls answered InternalError (0..1)")
    parser.add_argument("--latency-ms", type=_milliseconds, default=0.0, help="latency added to every call")
