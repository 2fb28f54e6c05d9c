"""Which Task handlers a state operator calls: Tencent Cloud through the connection, or an injected registry.

Operators resolve handlers at run time (never at parse time: no network or DB while parsing).
In-process runs with mocks (tests, ``asw run --mock``) inject the same registry the engine
uses, so both backends call exactly the same integration code. Through a connection, a
sync-run Task is started here and waited for by a trigger (see ``operators.TaskOperator``).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import TYPE_CHECKING, Any, Iterator

from asw_airflow.engine.handlers import HandlerRegistry

if TYPE_CHECKING:
    from asw_airflow.tencentcloud.client import Credentials, TencentCloudClient

POLL_INTERVAL_EXTRA = "poll_interval"
"""Connection extra: seconds between sync-run polls (the emulator needs no 5 s politeness)."""

_injected: HandlerRegistry | None = None


def use_handlers(registry: HandlerRegistry | None) -> None:
    """Make every state operator in this process call ``registry`` (None restores the connection)."""
    global _injected
    _injected = registry


def injected() -> bool:
    """True when Tasks answer from an injected registry rather than a Tencent Cloud connection."""
    return _injected is not None


def connection_client(connection_id: str) -> tuple[TencentCloudClient, float]:
    """The client of the ``tencentcloud`` connection and its sync-run poll interval."""
    from asw_airflow.tencentcloud.hook import TencentCloudHook
    from asw_airflow.tencentcloud.integrations import DEFAULT_POLL_INTERVAL

    hook = TencentCloudHook(connection_id)
    interval = hook.get_connection(connection_id).extra_dejson.get(POLL_INTERVAL_EXTRA)
    return hook.get_conn(), float(interval) if interval else DEFAULT_POLL_INTERVAL


def handlers_for(connection_id: str) -> HandlerRegistry:
    """The injected registry, else handlers bound to the ``tencentcloud`` connection ``connection_id``."""
    if _injected is not None:
        return _injected
    from asw_airflow.tencentcloud.integrations import register_tencentcloud_handlers

    client, interval = connection_client(connection_id)
    registry = HandlerRegistry()
    register_tencentcloud_handlers(registry, client, poll_interval=interval)
    return registry


def connection_env(
    connection_id: str, credentials: Credentials, endpoint: str | None, region: str, poll_interval: float | None = None
) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` for a Tencent Cloud reached at ``endpoint``: how a CLI run hands Airflow its cloud.

    The value holds the secret key: put it in a process environment, never print it.
    """
    extra: dict[str, Any] = {"region": region}
    if endpoint:
        extra["endpoint"] = endpoint
    if credentials.token:
        extra["token"] = credentials.token
    if poll_interval is not None:
        extra[POLL_INTERVAL_EXTRA] = poll_interval
    value = {"conn_type": "tencentcloud", "login": credentials.secret_id, "password": credentials.secret_key, "extra": extra}
    return {f"AIRFLOW_CONN_{connection_id.upper()}": json.dumps(value)}


@contextlib.contextmanager
def handlers_injected(registry: HandlerRegistry) -> Iterator[None]:
    """Tasks in this process call ``registry`` inside the block."""
    use_handlers(registry)
    try:
        yield
    finally:
        use_handlers(None)


@contextlib.contextmanager
def connection_in_env(
    connection_id: str, credentials: Credentials, endpoint: str | None, region: str, poll_interval: float | None = None
) -> Iterator[None]:
    """Connection ``connection_id`` reaches ``endpoint`` inside the block (this process's environment)."""
    env = connection_env(connection_id, credentials, endpoint, region, poll_interval)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
