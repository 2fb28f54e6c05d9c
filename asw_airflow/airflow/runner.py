"""Run a compiled DAG once, in this process, with ``dag.test()`` on SQLite: ``asw run --engine airflow`` and tests.

``dag.test()`` only runs a DAG serialized in the metadata DB (apache/airflow#56657), so the DAG
is written there first; DAGS_FOLDER points at an empty directory so each run does not re-parse
a whole folder. Call :func:`prepare_home` before anything imports Airflow.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, replace
from typing import Any, Iterator

_initialized = False


def prepare_home(home: str | None = None) -> str:
    """Point Airflow at ``home`` (default: $AIRFLOW_HOME, else a new temp dir) with SQLite and no examples.

    A temp dir made here is removed when the process exits: a CLI run leaves nothing behind.
    A home that was given or set in the environment is the user's and is kept.
    """
    home = home or os.environ.get("AIRFLOW_HOME")
    if not home:
        home = tempfile.mkdtemp(prefix="asw-airflow-")
        atexit.register(_remove_home, home, os.getpid())
    os.environ["AIRFLOW_HOME"] = home
    dags = os.path.join(home, "empty-dags")
    os.makedirs(dags, exist_ok=True)
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", dags)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home}/airflow.db")
    return home


def _remove_home(home: str, owner: int) -> None:
    """Delete the temp home, only in the process that made it (a forked child inherits atexit hooks)."""
    if os.getpid() == owner:
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def airflow_output_to_stderr() -> Iterator[None]:
    """Send everything written to stdout while Airflow runs to stderr, and keep only warnings and up.

    ``asw run`` promises the workflow's output alone on stdout, yet Airflow's console handler
    and structlog write to file descriptor 1 (bound when Airflow configures logging, so
    swapping ``sys.stdout`` is not enough): the descriptor itself is pointed at stderr.
    """
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@dataclass(frozen=True)
class RunResult:
    """How the DAG run ended, in ASW's words, with the run's note (Error and Cause when FAILED)."""

    status: str
    output: Any = None
    error: str | None = None
    cause: str | None = None
    run_id: str = ""
    note: str | None = None


def _ensure_db() -> None:
    global _initialized
    if not _initialized:
        from airflow.utils import db

        db.initdb()
        _initialized = True


def serialize(dag: Any) -> None:
    """Write ``dag`` to the metadata DB, as the DAG processor would."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    _ensure_db()
    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    with create_session() as session:
        update_dag_parsing_results_in_db("dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session)


def run_dag(dag: Any, input: Any) -> RunResult:
    """One DAG run with execution input ``input``; the output is the ``end`` task's XCom."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from asw_airflow.airflow.compiler import FINAL_TASK_ID
    from asw_airflow.airflow.listener import run_failure

    serialize(dag)
    run = dag.test(run_conf={"input": input})
    with create_session() as session:
        stored = session.query(DagRun).filter(DagRun.dag_id == dag.dag_id, DagRun.run_id == run.run_id).one()
        note = stored.note
        state = str(stored.state)
        if state.endswith("success"):
            output = (
                session.query(XComModel.value)
                .filter(XComModel.dag_id == dag.dag_id, XComModel.run_id == run.run_id)
                .filter(XComModel.task_id == FINAL_TASK_ID, XComModel.key == "return_value")
                .scalar()
            )
            return RunResult("SUCCEED", output, run_id=run.run_id, note=note)
        _, error = run_failure(session, dag.dag_id, run.run_id) or ("", {})
    return RunResult("FAILED", None, error.get("Error"), error.get("Cause"), run.run_id, note)


def run_airflow(machine: Any, input: Any, options: Any) -> Any:
    """``asw run --engine airflow``: the ``ENGINES`` entry point of ``asw_airflow.cli.run``.

    Compiles ``machine`` and runs it once with ``dag.test()`` in a temp (or $AIRFLOW_HOME)
    SQLite home. With a cloud (``--functions``, ``--workflows``, ``--endpoint``) Tasks reach it
    through the default ``tencentcloud`` connection, given to Airflow as an ``AIRFLOW_CONN_*``
    environment variable, so sync-run Tasks defer to their trigger as in a deployment; with a
    mock file they call the mock's handlers. The workflow's sidecar, if any, gives the DAG its
    connection id and execution role. Airflow's own output goes to stderr.
    """
    with airflow_output_to_stderr():
        prepare_home()
        from asw_airflow.airflow.compiler import build_dag
        from asw_airflow.airflow.naming import dag_id_for
        from asw_airflow.airflow.sidecar import Sidecar
        from asw_airflow.engine.interpreter import ExecutionResult

        name = machine.name or "workflow"
        settings = replace(options.sidecar or Sidecar(), workflow_type=machine.workflow_type)
        dag = build_dag(machine, dag_id=dag_id_for(name), workflow_name=name, settings=settings)
        with _tasks_reach(options, settings.connection_id):
            result = run_dag(dag, input)
    return ExecutionResult(result.status, result.output, result.error, result.cause)  # type: ignore[arg-type]


def _tasks_reach(options: Any, connection_id: str) -> contextlib.AbstractContextManager[None]:
    """Point Tasks at ``options.cloud`` through connection ``connection_id``, else at ``options.handlers``."""
    from asw_airflow.airflow.integrations import connection_in_env, handlers_injected

    cloud = options.cloud
    if cloud is None:
        return handlers_injected(options.handlers)
    return connection_in_env(connection_id, cloud.credentials, cloud.endpoint, cloud.region, cloud.poll_interval)
