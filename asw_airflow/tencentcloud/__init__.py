"""Tencent Cloud integrations: TC3 signing, an httpx API client, SCF/ASW/generic Task integrations,
Airflow hook/operators/sensors/triggers and a local API emulator for tests and demos.

Nothing here is imported by DAG parsing: modules load httpx and Airflow only when used.
"""
