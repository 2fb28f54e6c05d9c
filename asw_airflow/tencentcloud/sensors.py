"""Sensors for jobs started elsewhere: an SCF async event, or an ASW execution.

Both poke with the same ``integrations.check`` the operators use; with ``deferrable=True`` they
wait in :class:`TencentCloudJobTrigger` instead. A job that failed fails the sensor with its
TCSL error name; the job's output is the sensor's XCom.
"""

from __future__ import annotations

from abc import abstractmethod
from functools import cached_property
from typing import Any, Sequence

from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue

from asw_airflow.tencentcloud.hook import TencentCloudHook
from asw_airflow.tencentcloud.integrations import Handle, check, execution_handle, function_event_handle
from asw_airflow.tencentcloud.links import TencentCloudExecutionLink, TencentCloudFunctionLink
from asw_airflow.tencentcloud.triggers import TencentCloudJobTrigger, job_result


class _TencentCloudJobSensor(BaseSensorOperator):
    def __init__(
        self,
        *,
        tencentcloud_conn_id: str = TencentCloudHook.default_conn_name,
        region: str | None = None,
        deferrable: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> TencentCloudHook:
        return TencentCloudHook(self.tencentcloud_conn_id, region=self.region)

    @abstractmethod
    def _handle(self) -> Handle:
        """The job to wait for."""

    @abstractmethod
    def _persist_link(self, context: Context) -> None:
        """Push the console link for the job."""

    def execute(self, context: Context) -> Any:
        self._persist_link(context)
        if not self.deferrable:
            return super().execute(context)
        trigger = TencentCloudJobTrigger(self._handle(), self.tencentcloud_conn_id, self.poke_interval, self.region)
        self.defer(trigger=trigger, method_name="execute_complete", timeout=self.timeout)

    def poke(self, context: Context) -> PokeReturnValue:
        done = check(self.hook.get_conn(), self._handle())
        return PokeReturnValue(done is not None, done.output if done is not None else None)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return job_result(event)


class TencentCloudFunctionEventSensor(_TencentCloudJobSensor):
    """Waits for an SCF async invocation (``InvokeRequestId``) to finish; XCom ``{"FunctionRequestId", "Status"}``."""

    template_fields: Sequence[str] = ("function_name", "invoke_request_id", "namespace", "region")
    operator_extra_links = (TencentCloudFunctionLink(),)

    def __init__(self, *, function_name: str, invoke_request_id: str, namespace: str = "default", **kwargs: Any):
        super().__init__(**kwargs)
        self.function_name = function_name
        self.invoke_request_id = invoke_request_id
        self.namespace = namespace

    def _region(self) -> str:
        return self.region or self.hook.get_conn().region

    def _handle(self) -> Handle:
        return function_event_handle(self.function_name, self.invoke_request_id, self._region(), self.namespace)

    def _persist_link(self, context: Context) -> None:
        url = TencentCloudFunctionLink.url(self._region(), self.namespace, self.function_name)
        TencentCloudFunctionLink().persist(context, url)


class TencentCloudExecutionSensor(_TencentCloudJobSensor):
    """Waits for an ASW execution to end; XCom is its parsed output."""

    template_fields: Sequence[str] = ("execution_resource_name", "region")
    operator_extra_links = (TencentCloudExecutionLink(),)

    def __init__(self, *, execution_resource_name: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.execution_resource_name = execution_resource_name

    def _handle(self) -> Handle:
        return execution_handle(self.execution_resource_name, self.region or self.hook.get_conn().region)

    def _persist_link(self, context: Context) -> None:
        TencentCloudExecutionLink().persist(context, TencentCloudExecutionLink.url(self.execution_resource_name))
