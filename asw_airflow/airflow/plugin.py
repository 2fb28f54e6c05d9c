"""The Airflow plugin (entry point ``airflow.plugins``): registers the run-note listener."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from asw_airflow.airflow import listener


class AswAirflowPlugin(AirflowPlugin):
    name = "asw_airflow"
    listeners = [listener]
