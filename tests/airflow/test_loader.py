"""A folder of TCSL files becomes DAGs; a broken file is an import error that spares the others."""

from __future__ import annotations

import json
from pathlib import Path

from asw_airflow.airflow.loader import load_workflows

GOOD = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": True}}}
DAG_FILE = "# Airflow DAGs from TCSL workflows (safe mode needs the words airflow and dag)\nfrom asw_airflow.airflow.loader import load_workflows\nload_workflows(__file__.rsplit('/', 1)[0] + '/workflows', globals())\n"


def make_folder(tmp_path: Path) -> Path:
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "good.json").write_text(json.dumps(GOOD))
    (workflows / "nightly.json").write_text(json.dumps(GOOD))
    (workflows / "nightly.dag.json").write_text('{"schedule": "@daily", "tags": ["etl"], "input": {"day": 1}}')
    (workflows / "bad.json").write_text('{\n  "StartAt": "Missing",\n  "States": {"A": {"Type": "Pass", "End": true}}\n}\n')
    (tmp_path / "asw_workflows.py").write_text(DAG_FILE)
    return tmp_path


def test_dagbag_keeps_good_workflows_and_reports_the_bad_file_with_its_location(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    folder = make_folder(tmp_path)
    bag = DagBag(dag_folder=str(folder))
    assert sorted(bag.dags) == ["good", "nightly"]
    (message,) = bag.import_errors.values()
    assert f"{folder}/workflows/bad.json:2:" in message


def test_every_broken_workflow_and_sidecar_is_listed_in_the_one_import_error(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    folder = make_folder(tmp_path)
    workflows = folder / "workflows"
    (workflows / "also_bad.json").write_text('{"StartAt": "A", "States": {"A": {"Type": "Pas", "End": true}}}')
    (workflows / "good.dag.json").write_text('{\n  "type": "FAST"\n}')
    bag = DagBag(dag_folder=str(folder))
    assert sorted(bag.dags) == ["nightly"]
    (message,) = bag.import_errors.values()
    lines = message.splitlines()
    assert lines[0] == f"ValueError: 3 workflow(s) in {workflows} did not load:"
    assert any(line.startswith(f"{workflows}/also_bad.json:1:") and "/States/A/Type" in line for line in lines)
    assert any(line.startswith(f"{workflows}/bad.json:2:") for line in lines)
    assert any(line.startswith(f"{workflows}/good.dag.json:2:11: INVALID_SIDECAR type must be") for line in lines)


def test_sidecar_settings_reach_the_dag(tmp_path):
    dags = load_workflows(make_folder(tmp_path) / "workflows")
    nightly = dags["nightly"]
    assert nightly.params["input"] == {"day": 1}
    assert set(nightly.tags) == {"asw", "etl"}
    assert dags["good"].schedule is None and nightly.schedule == "@daily"


def test_unchanged_files_are_compiled_once(tmp_path):
    folder = make_folder(tmp_path) / "workflows"
    assert load_workflows(folder)["good"] is load_workflows(folder)["good"]


def test_shipped_examples_load_without_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).parents[2] / "dags"))
    assert bag.import_errors == {}
    assert sorted(bag.dags) == ["media_pipeline", "ops_deploy", "trade_etl"]
    assert bag.dags["trade_etl"].schedule == "0 */12 * * *"


def test_a_workflow_that_cannot_compile_is_an_import_error_naming_its_file_and_spares_the_others(tmp_path, monkeypatch):
    import asw_airflow.airflow.compiler as compiler
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow.test_naming import nested_parallels

    folder = make_folder(tmp_path)
    workflows = folder / "workflows"
    (workflows / "bad.json").unlink()
    (workflows / "deep.json").write_text(json.dumps(nested_parallels(5)))
    (workflows / "crash.json").write_text(json.dumps({"StartAt": "Boom", "States": {"Boom": {"Type": "Pass", "End": True}}}))
    real = compiler.build_dag

    def build_dag(machine, *, dag_id, **kwargs):
        if dag_id == "crash":
            raise RuntimeError("compiler bug")
        return real(machine, dag_id=dag_id, **kwargs)

    monkeypatch.setattr(compiler, "build_dag", build_dag)
    bag = DagBag(dag_folder=str(folder))
    assert sorted(bag.dags) == ["deep", "good", "nightly"]
    (message,) = bag.import_errors.values()
    assert f"{workflows}/crash.json: cannot compile: RuntimeError: compiler bug" in message


def test_the_cache_keeps_one_version_per_file(tmp_path):
    from asw_airflow.airflow import loader

    folder = make_folder(tmp_path) / "workflows"
    path = folder / "good.json"
    for number in range(3):
        path.write_text(json.dumps({**GOOD, "Comment": f"version {number}"}))
        load_workflows(folder)
    assert sorted(key for key in loader._cache if key.parent == folder) == [path, folder / "nightly.json"]
