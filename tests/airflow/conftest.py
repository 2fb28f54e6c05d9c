"""One temporary AIRFLOW_HOME with SQLite for the whole session, set before anything imports Airflow.

DAG runs share this process: the first ``dag.test()`` pays ~10 s of warm-up, later ones ~0.1 s a task.
"""

from __future__ import annotations

import tempfile

from asw_airflow.airflow.runner import prepare_home

prepare_home(tempfile.mkdtemp(prefix="asw-airflow-tests-"))

import pytest  # noqa: E402

from asw_airflow.airflow import integrations  # noqa: E402
from asw_airflow.engine.handlers import HandlerRegistry  # noqa: E402


@pytest.fixture
def handlers():
    """A registry the compiled DAG and the engine both call; restored after the test."""
    registry = HandlerRegistry()
    integrations.use_handlers(registry)
    yield registry
    integrations.use_handlers(None)
