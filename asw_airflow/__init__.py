"""Run Tencent Cloud ASW (TCSL) workflows on Apache Airflow, or in-process on the local engine."""

__version__ = "0.1.0"
