"""The shipped dags/ examples, loaded as Airflow loads them and run end to end against the emulator serving dags/functions.

Tasks reach the emulator through the default ``tencentcloud`` connection (an env connection),
exactly as a deployment reaches Tencent Cloud; each run is compared with the engine's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.airflow.helpers import cloud_connection

from asw_airflow.airflow.loader import load_workflows
from asw_airflow.airflow.runner import run_dag
from asw_airflow.engine.interpreter import run_execution
from asw_airflow.ir import build_machine
from asw_airflow.loader import load_file

DAGS = Path(__file__).parents[2] / "dags"


@pytest.fixture(scope="module")
def examples():
    return load_workflows(DAGS / "workflows")


def run_example(examples, name: str, input=None):
    dag = examples[name]
    input = dag.params["input"] if input is None else input
    with cloud_connection(DAGS / "functions") as cloud:
        airflow = run_dag(dag, input)
        engine = run_execution(build_machine(load_file(str(DAGS / "workflows" / f"{name}.json")), name=name), input, handlers=cloud.handlers)
    assert (airflow.status, airflow.error, airflow.cause) == (engine.status, engine.error, engine.cause)
    assert airflow.output == engine.output
    return airflow


def test_trade_etl_ranks_the_top_five(examples):
    run = run_example(examples, "trade_etl")
    assert run.status == "SUCCEED"
    assert [(row["symbol"], row["rank"]) for row in run.output["ranked"]] == [
        ("002594", 1), ("000001", 2), ("300750", 3), ("600519", 4), ("601318", 5)]


def test_media_pipeline_runs_branches_then_encodes_every_segment(examples):
    run = run_example(examples, "media_pipeline")
    assert run.status == "SUCCEED"
    assert [step["step"] for step in run.output["results"]] == ["transcode", "snapshot", "review"]
    assert run.output["encoded"] == [{"index": i, "encoded": True} for i in range(3)]


def test_media_pipeline_fails_a_rejected_video(examples):
    run = run_example(examples, "media_pipeline", {"video": "cos://media/raw/blocked.mp4", "segment_seconds": 10})
    assert (run.status, run.error) == ("FAILED", "Media.Rejected")
    assert run.note.startswith("Error: Media.Rejected")


def test_ops_deploy_polls_until_healthy(examples):
    run = run_example(examples, "ops_deploy")
    assert run.status == "SUCCEED"
    assert run.output["deployment"] == {"service": "checkout", "version": "1.4.2", "status": "HEALTHY", "checks": 2}


def test_ops_deploy_catches_a_failed_deploy_and_rolls_back(examples):
    run = run_example(examples, "ops_deploy", {"service": "checkout"})
    assert (run.status, run.error, run.cause) == ("FAILED", "Deploy.RolledBack", "the release was rolled back")
