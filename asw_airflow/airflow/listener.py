"""Writes a FAILED workflow's Error and Cause into the DAG run's note, where the Airflow UI shows it.

Tasks cannot set their run's note (the Task SDK has no call for it), but the scheduler's
listeners run inside the session that marks the run failed, so the note is written there.
"""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from asw_airflow.airflow.operators import ERROR_KEY


def run_failure(session: Any, dag_id: str, run_id: str) -> tuple[str, dict[str, Any]] | None:
    """``(task_id, {"Error", "Cause"})`` of the failure that ended the run, None if no task pushed one.

    A run may hold several ``asw_error`` XComs: a tolerated Map iteration, a branch and its
    join, a Catch-handled state then a later Fail. The one that ended the run is on a task
    instance that failed, and the latest of those; the task id and map index break ties so
    the CLI (``runner``) and the run note always agree.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, case

    failed = case((TaskInstance.state == "failed", 0), else_=1)
    row = (
        session.query(XComModel.task_id, XComModel.value)
        .outerjoin(
            TaskInstance,
            and_(
                TaskInstance.dag_id == XComModel.dag_id,
                TaskInstance.run_id == XComModel.run_id,
                TaskInstance.task_id == XComModel.task_id,
                TaskInstance.map_index == XComModel.map_index,
            ),
        )
        .filter(XComModel.dag_id == dag_id, XComModel.run_id == run_id, XComModel.key == ERROR_KEY)
        .order_by(failed, XComModel.timestamp.desc(), XComModel.task_id.desc(), XComModel.map_index.desc())
        .first()
    )
    if row is None:
        return None
    task_id, error = row
    return task_id, error if isinstance(error, dict) else {}


def failure_note(dag_run: Any, session: Any) -> str | None:
    """``Error: ...`` / ``Cause: ...`` from the XCom a failed state task pushed, None if there is none."""
    failure = run_failure(session, dag_run.dag_id, dag_run.run_id)
    if failure is None:
        return None
    task_id, error = failure
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
