"""Airflow hook for Tencent Cloud API 3.0: a ``tencentcloud`` connection turned into a :class:`TencentCloudClient`.

Connection fields: login = SecretId, password = SecretKey; extra (JSON): ``region``, ``endpoint``
(e.g. ``http://127.0.0.1:9000`` for the emulator, ``{service}`` is substituted), ``token``,
``language``, ``api_versions`` (object ``{"scf": "2018-04-16"}``). A connection with neither
SecretId nor SecretKey falls back to the ``TENCENTCLOUD_*`` environment variables; one with only
one of them is an error, not a silent switch to other keys.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook, Connection

from asw_airflow.provider import CONN_FIELDS, UI_FIELD_BEHAVIOUR
from asw_airflow.tencentcloud.client import Credentials, TencentCloudClient, TencentCloudError

DEFAULT_REGION = CONN_FIELDS["region"]["schema"]["default"]


class TencentCloudHook(BaseHook):
    """Builds one pooled client per hook from a ``tencentcloud`` connection."""

    conn_name_attr = "tencentcloud_conn_id"
    default_conn_name = "tencentcloud_default"
    conn_type = "tencentcloud"
    hook_name = "Tencent Cloud"

    def __init__(self, tencentcloud_conn_id: str = default_conn_name, region: str | None = None, **client_kwargs: Any):
        super().__init__()
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.client_kwargs = client_kwargs

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """wtforms widgets for UIs that still render them; the Airflow 3 UI reads :data:`CONN_FIELDS`."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        return {
            name: (PasswordField if spec["schema"].get("format") == "password" else StringField)(
                lazy_gettext(spec["label"]),
                widget=BS3PasswordFieldWidget() if spec["schema"].get("format") == "password" else BS3TextFieldWidget(),
            )
            for name, spec in CONN_FIELDS.items()
        }

    def client_from(self, conn: Connection) -> TencentCloudClient:
        """A client for an already fetched connection (callers that read the connection's extras once)."""
        extra = conn.extra_dejson
        api_versions = extra.get("api_versions") or {}
        if isinstance(api_versions, str):
            api_versions = json.loads(api_versions)
        if conn.login and conn.password:
            credentials = Credentials(conn.login, conn.password, extra.get("token") or None)
        elif conn.login or conn.password:
            missing = "SecretKey (password)" if conn.login else "SecretId (login)"
            raise ValueError(f"connection {conn.conn_id!r} sets only one key: set its {missing} too, or neither to use TENCENTCLOUD_*")
        else:
            credentials = Credentials.from_env()
        kwargs = {
            "endpoint": extra.get("endpoint") or None,
            "language": extra.get("language") or None,
            "api_versions": api_versions,
            **self.client_kwargs,
        }
        return TencentCloudClient(credentials, self.region or extra.get("region") or DEFAULT_REGION, **kwargs)

    @cached_property
    def client(self) -> TencentCloudClient:
        return self.client_from(self.get_connection(self.tencentcloud_conn_id))

    def get_conn(self) -> TencentCloudClient:
        return self.client

    async def aget_conn(self) -> TencentCloudClient:
        """The client for use in a trigger: reads the connection without blocking the event loop."""
        return self.client_from(await self.aget_connection(self.tencentcloud_conn_id))

    def test_connection(self) -> tuple[bool, str]:
        """Sign a cheap read-only call (SCF ListNamespaces) to prove the keys and endpoint work."""
        try:
            self.get_conn().call("scf", "ListNamespaces", {"Limit": 1})
        except (TencentCloudError, ValueError) as exc:
            return False, str(exc)
        return True, "Connection successfully tested"
