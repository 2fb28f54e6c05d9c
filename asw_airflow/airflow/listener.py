"""Writes a FAILED workflow's Error and Cause into the DAG run's note, where the Airflow UI shows it.

Tasks cannot set their run's note (the Task SDK has no call for it), but the scheduler's
listeners run inside the session that marks the run failed, so the note is written there.
"""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from asw_airflow.airflow.operators import ERROR_KEY


def failure_note(dag_run: Any, session: Any) -> str | None:
    """``Error: ...`` / ``Cause: ...`` from the XCom a failed state task pushed, None if there is none."""
    from airflow.models.xcom import XComModel

    row = (
        session.query(XComModel.task_id, XComModel.value)
        .filter(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id, XComModel.key == ERROR_KEY)
        .order_by(XComModel.timestamp.desc())
        .first()
    )
    if row is None:
        return None
    task_id, error = row
    return f"Error: {error.get('Error')}\nCause: {error.get('Cause')}\nState task: {task_id}"


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    from airflow import settings
    from airflow.models.dagrun import DagRun

    # The thread's scoped session: the one the scheduler (or dag.test) commits after this hook.
    session = settings.Session()
    note = failure_note(dag_run, session)
    if note is not None:
        session.get(DagRun, dag_run.id).note = note
