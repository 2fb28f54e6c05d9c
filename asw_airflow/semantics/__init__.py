"""TCSL semantics, written once and called by both backends (the engine and the Airflow operators)."""
