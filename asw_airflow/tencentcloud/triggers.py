"""Airflow trigger that polls a sync-run job (SCF async event or ASW execution) with the async client.

It serializes only JSON primitives (the job handle is a JSON object) and ends with one event:
``{"status": "success", "handle", "output"}``, ``{"status": "error", "handle", "error", "cause"}``,
or, past an optional ``deadline`` (the Task's TimeoutSeconds), ``{"status": "timeout", "handle"}``
after stopping the job; operators and sensors turn these back into a result or a ``StatesError``. A ``resume`` object given
to the trigger comes back in the event: ``dag.test()`` drops the kwargs of ``defer``, so a task that
must remember something across the wait (retry counts) carries it here.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from airflow.exceptions import AirflowException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from asw_airflow.semantics.errors import StatesError
from asw_airflow.tencentcloud.hook import TencentCloudHook
from asw_airflow.tencentcloud.integrations import DEFAULT_POLL_INTERVAL, DEFAULT_POLL_JITTER, acancel, acheck


class TencentCloudJobTrigger(BaseTrigger):
    """Waits for the job ``handle`` (from ``integrations.start``) to end.

    A failed job and an API error that outlasted the client's retries both end in an error
    event carrying the TCSL error name, so the task fails with that name either way.
    """

    def __init__(
        self,
        handle: dict[str, Any],
        tencentcloud_conn_id: str = TencentCloudHook.default_conn_name,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        region: str | None = None,
        resume: dict[str, Any] | None = None,
        deadline: str | None = None,
    ):
        super().__init__()
        self.handle = handle
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.poll_interval = poll_interval
        self.region = region
        self.resume = resume
        self.deadline = deadline

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "handle": self.handle,
                "tencentcloud_conn_id": self.tencentcloud_conn_id,
                "poll_interval": self.poll_interval,
                "region": self.region,
                "resume": self.resume,
                "deadline": self.deadline,
            },
        )

    def _event(self, **fields: Any) -> TriggerEvent:
        payload = {"handle": self.handle, **fields}
        if self.resume is not None:
            payload["resume"] = self.resume
        return TriggerEvent(payload)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = TencentCloudHook(self.tencentcloud_conn_id, region=self.region)
        client = await hook.aget_conn()
        try:
            while True:
                try:
                    done = await acheck(client, self.handle)
                except StatesError as exc:
                    yield self._event(status="error", error=exc.error, cause=exc.cause)
                    return
                if done is not None:
                    yield self._event(status="success", output=done.output)
                    return
                left = self._left()
                if left is not None and left <= 0:
                    await self._stop(client)
                    yield self._event(status="timeout")
                    return
                self.log.info("Tencent Cloud job %s still running", self.handle)
                await asyncio.sleep(self._delay(left))
        finally:
            await client.aclose()

    def _delay(self, left: float | None) -> float:
        """The next poll's wait, jittered as the engine's ``wait_for`` (many triggers started together
        must not poll in lockstep against the account's rate limit), never past the deadline."""
        delay = self.poll_interval * (1 + random.uniform(0, DEFAULT_POLL_JITTER))
        return delay if left is None else max(0.0, min(delay, left))

    def _left(self) -> float | None:
        """Seconds until the deadline, None without one."""
        if self.deadline is None:
            return None
        return (datetime.fromisoformat(self.deadline) - datetime.now(timezone.utc)).total_seconds()

    async def _stop(self, client: Any) -> None:
        """Stop the timed-out job; a failure to stop it is logged, the timeout is what the task reports."""
        self.log.warning("Tencent Cloud job %s passed its deadline %s: stopping it", self.handle, self.deadline)
        try:
            await acancel(client, self.handle)
        except StatesError as exc:
            self.log.warning("Could not stop job %s: %s %s", self.handle, exc.error, exc.cause)


def job_result(event: dict[str, Any]) -> Any:
    """The output in a :class:`TencentCloudJobTrigger` event, or its failure raised: an ``error``
    as the ``StatesError`` it names, a ``timeout`` (the trigger passed its deadline and stopped
    the job) as an ``AirflowException`` saying so."""
    status = event.get("status")
    if status == "success":
        return event["output"]
    if status == "error":
        raise StatesError(event["error"], event.get("cause"))
    if status == "timeout":
        raise AirflowException(f"Tencent Cloud job {event.get('handle')} passed its deadline and was stopped")
    raise AirflowException(f"unexpected Tencent Cloud trigger event {event!r}")
