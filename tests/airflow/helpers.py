"""Compile a definition and run it both ways: on Airflow (dag.test) and on the engine."""

from __future__ import annotations

import contextlib
import itertools
from pathlib import Path
from typing import Any, Iterator

from asw_airflow.airflow.compiler import build_dag
from asw_airflow.airflow.runner import RunResult, run_dag
from asw_airflow.airflow.sidecar import DEFAULT_CONNECTION_ID, Sidecar
from asw_airflow.engine.handlers import HandlerRegistry
from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import build_machine

_ids = itertools.count()

SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/"


def compile_definition(definition: dict, workflow_type: str = "STANDARD", name: str | None = None):
    dag_id = name or f"wf_{next(_ids)}"
    machine = build_machine(definition, workflow_type=workflow_type, name=dag_id)
    return machine, build_dag(machine, dag_id=dag_id, workflow_name=dag_id, settings=Sidecar(workflow_type=workflow_type))


def run_both(definition: dict, input: Any, handlers: HandlerRegistry | None = None, workflow_type: str = "STANDARD") -> tuple[RunResult, Any]:
    machine, dag = compile_definition(definition, workflow_type)
    airflow = run_dag(dag, input)
    engine = run_execution(machine, input, handlers=handlers or HandlerRegistry())
    return airflow, engine


@contextlib.contextmanager
def cloud_connection(functions: Path | str, workflows: Path | str | None = None) -> Iterator[Any]:
    """A local emulator reached through the default ``tencentcloud`` connection, as ``asw run --engine airflow`` does."""
    from asw_airflow.airflow.integrations import connection_in_env
    from asw_airflow.tencentcloud.local import LOCAL_POLL_INTERVAL, LOCAL_REGION, local_cloud

    with local_cloud(functions, workflows) as cloud:
        with connection_in_env(DEFAULT_CONNECTION_ID, cloud.credentials, cloud.emulator.endpoint, LOCAL_REGION, LOCAL_POLL_INTERVAL):
            yield cloud
