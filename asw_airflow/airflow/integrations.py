"""Which Task handlers a state operator calls: Tencent Cloud through the connection, or an injected registry.

Operators resolve handlers at run time (never at parse time: no network or DB while parsing).
In-process runs (``asw run --engine airflow``, tests) inject the same registry the engine
uses, so both backends call exactly the same integration code.
"""

from __future__ import annotations

from asw_airflow.engine.handlers import HandlerRegistry

_injected: HandlerRegistry | None = None


def use_handlers(registry: HandlerRegistry | None) -> None:
    """Make every state operator in this process call ``registry`` (None restores the connection)."""
    global _injected
    _injected = registry


def handlers_for(connection_id: str) -> HandlerRegistry:
    """The injected registry, else handlers bound to the ``tencentcloud`` connection ``connection_id``."""
    if _injected is not None:
        return _injected
    from asw_airflow.tencentcloud.hook import TencentCloudHook
    from asw_airflow.tencentcloud.integrations import register_tencentcloud_handlers

    registry = HandlerRegistry()
    register_tencentcloud_handlers(registry, TencentCloudHook(connection_id).get_conn())
    return registry
