"""Triggers the state operators defer to; they live in the installed package so the triggerer can import them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from airflow.triggers.base import BaseTrigger, TriggerEvent


class StateTimerTrigger(BaseTrigger):
    """Fires at ``moment`` (ISO 8601, UTC) with ``payload``: a Wait state's deadline or a Retry's delay.

    Unlike Airflow's DateTimeTrigger it hands back a payload, because ``dag.test()`` drops the
    ``kwargs`` given to ``defer``; the payload holds only JSON primitives (retry counts, times).
    """

    def __init__(self, moment: str, payload: dict[str, Any] | None = None):
        super().__init__()
        self.moment = moment
        self.payload = payload or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", {"moment": self.moment, "payload": self.payload}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        deadline = datetime.fromisoformat(self.moment)
        while (remaining := (deadline - datetime.now(timezone.utc)).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, 60))
        yield TriggerEvent(self.payload)
