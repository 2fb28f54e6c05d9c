"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

Kept free of Airflow imports: the providers manager calls it while Airflow itself is loading.
"""

from __future__ import annotations

from typing import Any

from asw_airflow import __version__

# Extra fields of a ``tencentcloud`` connection, in the form the Airflow 3 UI renders.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {"label": "Region", "schema": {"type": ["string", "null"], "default": "ap-guangzhou"}},
    "endpoint": {"label": "Endpoint override", "schema": {"type": ["string", "null"]}},
    "token": {"label": "Session token", "schema": {"type": ["string", "null"], "format": "password"}},
    "language": {"label": "Language (zh-CN or en-US)", "schema": {"type": ["string", "null"]}},
    "api_versions": {"label": "API versions (JSON object)", "schema": {"type": ["string", "null"]}},
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "host"],
    "relabeling": {"login": "SecretId", "password": "SecretKey"},
    "placeholders": {"login": "AKID...", "extra": '{"region": "ap-guangzhou"}'},
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "asw-airflow",
        "name": "Tencent Cloud ASW",
        "description": "Run Tencent Cloud ASW (TCSL) workflows on Airflow; Tencent Cloud hook, operators, sensors and triggers.",
        "versions": [__version__],
        "connection-types": [
            {
                "hook-class-name": "asw_airflow.tencentcloud.hook.TencentCloudHook",
                "connection-type": "tencentcloud",
                "hook-name": "Tencent Cloud",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
    }
