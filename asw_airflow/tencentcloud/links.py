"""Operator extra links to the Tencent Cloud console.

Airflow 3 resolves a link from the XCom ``link.xcom_key`` the task pushed while running, so each
operator persists the full URL once it knows it (function, execution, or API).
The console paths are best-effort: Tencent does not document deep-link URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from airflow.sdk import BaseOperatorLink

CONSOLE = "https://console.cloud.tencent.com"


class _ConsoleLink(BaseOperatorLink):
    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return XCom.get_value(ti_key=ti_key, key=self.xcom_key) or ""

    def persist(self, context: Any, url: str) -> None:
        context["ti"].xcom_push(key=self.xcom_key, value=url)


class TencentCloudFunctionLink(_ConsoleLink):
    name = "SCF Function"

    @staticmethod
    def url(region: str, namespace: str, function: str) -> str:
        return f"{CONSOLE}/scf/list-detail?" + urlencode({"rid": region, "ns": namespace, "id": function})


class TencentCloudExecutionLink(_ConsoleLink):
    name = "ASW Execution"

    @staticmethod
    def url(execution_resource_name: str) -> str:
        return f"{CONSOLE}/asw/execution/detail?" + urlencode({"resourceName": execution_resource_name})


class TencentCloudApiExplorerLink(_ConsoleLink):
    name = "API Explorer"

    @staticmethod
    def url(service: str, version: str, action: str) -> str:
        return f"{CONSOLE}/api/explorer?" + urlencode({"Product": service, "Version": version, "Action": action})
