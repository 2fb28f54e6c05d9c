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
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from asw_airflow.airflow.sidecar import CONNECTION_ID
from asw_airflow.engine.handlers import HandlerRegistry, TaskHandler

if TYPE_CHECKING:
    from asw_airflow.resource import ResourceRef
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


@dataclass
class BoundHandlers(HandlerRegistry):
    """The handlers of one task execution: a registry, and a context manager that closes the client it owns.

    The ``tencentcloud`` connection ``connection_id`` is opened on the first :meth:`resolve`, not
    before: the engine resolves inside its Task step, so a missing connection or bad credentials
    fail that Task with States.TaskFailed (which Retry and Catch see) rather than the Airflow
    task; a later resolve (a Retry) tries again. ``with handlers_for(id) as handlers`` closes the
    client when the task is done. An injected registry is only delegated to, never closed.
    """

    connection_id: str | None = None
    injected: HandlerRegistry | None = None
    client: TencentCloudClient | None = None
    _opening: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def resolve(self, resource: ResourceRef) -> TaskHandler:
        if self.injected is not None:
            return self.injected.resolve(resource)
        self._connect()
        return super().resolve(resource)

    def _connect(self) -> None:
        """Open the connection once; nested Map iterations may resolve from several threads."""
        with self._opening:
            if self.client is not None or self.connection_id is None:
                return
            from asw_airflow.tencentcloud.integrations import register_tencentcloud_handlers

            client, interval = connection_client(self.connection_id)
            self.client = client
            register_tencentcloud_handlers(self, client, poll_interval=interval)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    def __enter__(self) -> BoundHandlers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def connection_client(connection_id: str) -> tuple[TencentCloudClient, float]:
    """A new client of the ``tencentcloud`` connection (the caller closes it) and its sync-run poll interval.

    The connection is read once: its extra gives the interval and the client alike.
    """
    from asw_airflow.tencentcloud.hook import TencentCloudHook
    from asw_airflow.tencentcloud.integrations import DEFAULT_POLL_INTERVAL

    hook = TencentCloudHook(connection_id)
    connection = hook.get_connection(connection_id)
    interval = connection.extra_dejson.get(POLL_INTERVAL_EXTRA)
    return hook.client_from(connection), float(interval) if interval else DEFAULT_POLL_INTERVAL


def handlers_for(connection_id: str) -> BoundHandlers:
    """The injected registry, else handlers bound to the ``tencentcloud`` connection ``connection_id``.

    Use it as ``with handlers_for(id) as handlers``: the connection opens at the first resolve
    (so its failure is the Task's) and leaving the block closes its client.
    """
    if _injected is not None:
        return BoundHandlers(injected=_injected)
    return BoundHandlers(connection_id=connection_id)


def connection_env(
    connection_id: str, credentials: Credentials, endpoint: str | None, region: str, poll_interval: float | None = None
) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` for a Tencent Cloud reached at ``endpoint``: how a CLI run hands Airflow its cloud.

    The name is Airflow's own lookup key, ``AIRFLOW_CONN_`` + the id upper-cased with ``-`` and
    ``.`` kept: a process environment holds it although a shell cannot export it. Ids Airflow
    would not accept (anything but letters, digits, ``_``, ``-``, ``.``) are refused here.
    The value holds the secret key: put it in a process environment, never print it.
    """
    if not CONNECTION_ID.fullmatch(connection_id):
        raise ValueError(f"connection id {connection_id!r} is not a valid Airflow connection id: use letters, digits, '_', '-' and '.'")
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
