"""Airflow operators for hand-written DAGs: invoke a cloud function, start an ASW workflow, call any API.

They run the same integration code as the engine (``integrations``), so results and error names
match a TCSL Task's. ``wait_for_completion=True`` is sync-run: poll in the worker, or with
``deferrable=True`` hand the wait to :class:`TencentCloudJobTrigger`. Failures raise
``StatesError`` named by the Tencent error code (see docs/tencentcloud.md).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Sequence

from airflow.sdk import BaseOperator, Context

from asw_airflow.resource import ResourceRef
from asw_airflow.semantics.errors import StatesError
from asw_airflow.tencentcloud.client import TencentCloudClient, normalize_region
from asw_airflow.tencentcloud.hook import TencentCloudHook
from asw_airflow.tencentcloud.integrations import (
    DEFAULT_POLL_INTERVAL,
    Handle,
    call_api,
    cancel,
    child_execution_name,
    request_response,
    start,
    wait_for,
)
from asw_airflow.tencentcloud.links import (
    TencentCloudApiExplorerLink,
    TencentCloudExecutionLink,
    TencentCloudFunctionLink,
)
from asw_airflow.tencentcloud.triggers import TencentCloudJobTrigger, job_result


class _TencentCloudOperator(BaseOperator):
    """Connection, region and the sync-run wait shared by the operators."""

    def __init__(
        self,
        *,
        tencentcloud_conn_id: str = TencentCloudHook.default_conn_name,
        region: str | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.poll_interval = poll_interval
        self._job: Handle | None = None

    @cached_property
    def hook(self) -> TencentCloudHook:
        return TencentCloudHook(self.tencentcloud_conn_id, region=self.region)

    @property
    def client(self) -> TencentCloudClient:
        return self.hook.get_conn()

    def _region(self) -> str:
        return normalize_region(self.region or self.client.region)

    def _wait(self, job: Handle, deferrable: bool) -> Any:
        self._job = job
        if deferrable:
            trigger = TencentCloudJobTrigger(job, self.tencentcloud_conn_id, self.poll_interval, self.region)
            self.defer(trigger=trigger, method_name="execute_complete", timeout=self.execution_timeout)  # raises
        return wait_for(self.client, job, poll_interval=self.poll_interval)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume after the trigger: the job's output, or its error re-raised by name."""
        return job_result(event)

    def on_kill(self) -> None:
        """Stopping the task stops the job it waits for."""
        if self._job is not None:
            try:
                cancel(self.client, self._job)
            except StatesError as exc:
                self.log.warning("could not stop Tencent Cloud job %s: %s", self._job, exc)


class TencentCloudInvokeFunctionOperator(_TencentCloudOperator):
    """Invoke an SCF function with ``payload`` as its event.

    Request-response (default) returns the function's return value (JSON-parsed when it parses).
    ``wait_for_completion=True`` invokes asynchronously (InvocationType Event) and waits; SCF
    keeps no output for async runs, so the result is ``{"FunctionRequestId", "Status": "FINISHED"}``.
    """

    template_fields: Sequence[str] = ("function_name", "payload", "qualifier", "namespace", "region")
    template_fields_renderers = {"payload": "json"}
    operator_extra_links = (TencentCloudFunctionLink(),)

    def __init__(
        self,
        *,
        function_name: str,
        payload: Any = None,
        qualifier: str | None = None,
        namespace: str | None = None,
        wait_for_completion: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.function_name = function_name
        self.payload = payload
        self.qualifier = qualifier
        self.namespace = namespace
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable

    def execute(self, context: Context) -> Any:
        region = self._region()
        namespace = self.namespace or "default"
        ref = ResourceRef(
            text=f"scf:Invoke{'.sync' if self.wait_for_completion else ''}/{self.function_name}",
            region=region,
            appid="",
            service="scf",
            action="Invoke",
            mode="sync" if self.wait_for_completion else "request-response",
            function=self.function_name,
            qualifier=self.qualifier,
            namespace=namespace,
        )
        TencentCloudFunctionLink().persist(context, TencentCloudFunctionLink.url(region, namespace, self.function_name))
        if not self.wait_for_completion:
            return request_response(self.client, ref, self.payload)
        return self._wait(start(self.client, ref, self.payload), self.deferrable)


class TencentCloudStartExecutionOperator(_TencentCloudOperator):
    """Start an ASW workflow execution.

    Without waiting, returns the StartExecution envelope ``{"Response": {"ExecutionResourceName", ...}}``.
    ``wait_for_completion=True`` returns the child's output; its ``Name`` defaults to one derived from
    dag/run/task/try/map index, so a re-run of the same try never starts the workflow twice.
    """

    template_fields: Sequence[str] = ("state_machine_resource_name", "input", "name", "region")
    template_fields_renderers = {"input": "json"}
    operator_extra_links = (TencentCloudExecutionLink(),)

    def __init__(
        self,
        *,
        state_machine_resource_name: str,
        input: Any = None,
        name: str | None = None,
        wait_for_completion: bool = False,
        deferrable: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.state_machine_resource_name = state_machine_resource_name
        self.input = input
        self.name = name
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable

    def execute(self, context: Context) -> Any:
        ref = ResourceRef(
            text="asw:StartExecution" + (".sync" if self.wait_for_completion else ""),
            region=self._region(),
            appid="",
            service="asw",
            action="StartExecution",
            mode="sync" if self.wait_for_completion else "request-response",
        )
        params: dict[str, Any] = {"StateMachineResourceName": self.state_machine_resource_name}
        if self.input is not None:
            params["Input"] = self.input
        if self.name:
            params["Name"] = self.name
        if not self.wait_for_completion:
            envelope = request_response(self.client, ref, params)
            self._persist_link(context, envelope["Response"]["ExecutionResourceName"])
            return envelope
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        name = child_execution_name(
            f"{ti.dag_id}/{ti.run_id}", ti.task_id, ti.try_number, map_index if map_index >= 0 else None
        )
        job = start(self.client, ref, params, execution_name=name)
        self._persist_link(context, job["ExecutionResourceName"])
        return self._wait(job, self.deferrable)

    @staticmethod
    def _persist_link(context: Context, execution_resource_name: str) -> None:
        TencentCloudExecutionLink().persist(context, TencentCloudExecutionLink.url(execution_resource_name))


class TencentCloudApiOperator(_TencentCloudOperator):
    """Call any Tencent Cloud API 3.0 action; returns the envelope ``{"Response": {...}}`` as a TCSL Task does.

    Generic APIs are request-response only in ASW (no sync-run), so there is nothing to defer.
    """

    template_fields: Sequence[str] = ("service", "action", "parameters", "version", "region")
    template_fields_renderers = {"parameters": "json"}
    operator_extra_links = (TencentCloudApiExplorerLink(),)

    def __init__(
        self,
        *,
        service: str,
        action: str,
        parameters: dict[str, Any] | None = None,
        version: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.service = service
        self.action = action
        self.parameters = parameters
        self.version = version

    def execute(self, context: Context) -> dict[str, Any]:
        version = self.version or self.client.version_for(self.service)
        TencentCloudApiExplorerLink().persist(context, TencentCloudApiExplorerLink.url(self.service, version, self.action))
        return call_api(self.client, self.service, self.action, self.parameters, region=self._region(), version=version)
