# Airflow DAGs from the TCSL workflows in ./workflows (one DAG per *.json, settings in *.dag.json).
from pathlib import Path

from asw_airflow.airflow.loader import load_workflows

load_workflows(Path(__file__).parent / "workflows", globals())
