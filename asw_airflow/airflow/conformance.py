"""The ``airflow`` engine of ``asw conformance``: every corpus case compiled to a DAG and run with ``dag.test()``.

All cases share one process and one SQLite home (Airflow's warm-up is paid once). Airflow
makes ``$$.Execution`` and ``$$.StateMachine.Id`` from the DAG run, so they cannot be set to
the corpus's masked values; instead the run's own ids are mapped back to those values in the
output and cause, which the corpus then judges as recorded. ``$$.StateMachine.Name`` is the
workflow name and ``$$.Execution.RoleArn`` the sidecar's ``role``, so both are the masked values from the start.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterable, Iterator

from asw_airflow.conformance import EXECUTION_ID, EXECUTION_NAME, ROLE_ARN, STATE_MACHINE_ID, STATE_MACHINE_NAME, Case, Outcome


def mask(value: Any, replacements: list[tuple[str, str]]) -> Any:
    """``value`` with every occurrence of each run id replaced by its corpus mask (longest ids first)."""
    if isinstance(value, str):
        for real, masked in replacements:
            value = value.replace(real, masked)
        return value
    if isinstance(value, list):
        return [mask(item, replacements) for item in value]
    if isinstance(value, dict):
        return {mask(key, replacements): mask(item, replacements) for key, item in value.items()}
    return value


def airflow_engine(cases: Iterable[Case], functions: str | None = None) -> Iterator[tuple[Case, Outcome]]:
    """Run each case as a DAG; Tasks reach a local emulator serving ``functions`` if given, else no cloud."""
    from asw_airflow.airflow.runner import airflow_output_to_stderr, prepare_home

    with airflow_output_to_stderr():
        prepare_home()
        with _cloud(functions):
            yield from _run_cases(cases)


@contextlib.contextmanager
def _cloud(functions: str | None) -> Iterator[None]:
    from asw_airflow.airflow.integrations import connection_in_env, handlers_injected
    from asw_airflow.airflow.sidecar import DEFAULT_CONNECTION_ID
    from asw_airflow.engine.handlers import HandlerRegistry

    if functions is None:
        with handlers_injected(HandlerRegistry()):  # no cloud, like the local engine: a Task fails with States.Runtime
            yield
        return
    from asw_airflow.tencentcloud.local import LOCAL_POLL_INTERVAL, LOCAL_REGION, local_cloud

    with local_cloud(functions) as cloud:
        with connection_in_env(DEFAULT_CONNECTION_ID, cloud.credentials, cloud.emulator.endpoint, LOCAL_REGION, LOCAL_POLL_INTERVAL):
            yield


def _run_cases(cases: Iterable[Case]) -> Iterator[tuple[Case, Outcome]]:
    from asw_airflow.airflow.compiler import build_dag
    from asw_airflow.airflow.runner import run_dag
    from asw_airflow.airflow.sidecar import Sidecar
    from asw_airflow.diagnostics import DefinitionError
    from asw_airflow.ir import build_machine

    for number, case in enumerate(cases):
        try:
            machine = build_machine(case.definition)
        except DefinitionError as exc:
            yield case, Outcome("INVALID", error="DefinitionError", cause=str(exc))
            continue
        dag_id = f"conformance_{number:05d}"
        try:
            dag = build_dag(machine, dag_id=dag_id, workflow_name=STATE_MACHINE_NAME, settings=Sidecar(role=ROLE_ARN))
            result = run_dag(dag, case.input)
        except Exception as exc:  # an Airflow failure is this case's result, not the end of the corpus run
            yield case, Outcome("ERROR", error=type(exc).__name__, cause=str(exc))
            continue
        ids = [(f"{dag_id}:{result.run_id}", EXECUTION_ID), (result.run_id, EXECUTION_NAME), (dag_id, STATE_MACHINE_ID)]
        yield case, Outcome(result.status, mask(result.output, ids), result.error, mask(result.cause, ids))
