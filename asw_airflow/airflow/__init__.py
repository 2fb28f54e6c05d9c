"""The Airflow backend: TCSL workflows compiled to DAGs of state operators."""
