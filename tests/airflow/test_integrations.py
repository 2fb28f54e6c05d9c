"""Task handlers on a connection: one connection read, a client closed with the task, env names as Airflow looks them up."""

from __future__ import annotations

import pytest

from asw_airflow.airflow import integrations
from asw_airflow.airflow.integrations import connection_env, connection_in_env, handlers_for
from asw_airflow.engine.handlers import HandlerRegistry
from asw_airflow.resource import parse_resource
from asw_airflow.tencentcloud.client import Credentials

CREDENTIALS = Credentials("id", "key")
SCF = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/echo"


def test_handlers_on_a_connection_read_it_once_and_close_their_client(monkeypatch):
    from asw_airflow.tencentcloud.hook import TencentCloudHook

    reads = []
    real = TencentCloudHook.get_connection.__func__

    def get_connection(cls, conn_id):
        reads.append(conn_id)
        return real(cls, conn_id)

    monkeypatch.setattr(TencentCloudHook, "get_connection", classmethod(get_connection))
    with connection_in_env("my-cloud.v2", CREDENTIALS, "http://127.0.0.1:9", "ap-guangzhou", poll_interval=0.5):
        with handlers_for("my-cloud.v2") as handlers:
            handlers.resolve(parse_resource(SCF))
            client = handlers.client
            client._client()  # the pooled httpx client a call would open
            assert client._sync is not None
    assert reads == ["my-cloud.v2"]
    assert client._sync is None


def test_an_injected_registry_is_delegated_to_and_left_open(handlers):
    handlers.register_kind("scf", lambda invocation: "mocked")
    with handlers_for("ignored") as bound:
        assert bound.resolve(parse_resource(SCF))(None) == "mocked"
    assert integrations.injected() and isinstance(bound, HandlerRegistry)


def test_env_name_is_airflows_lookup_key_and_bad_ids_are_refused():
    from airflow.sdk import BaseHook

    (name,) = connection_env("my-cloud.v2", CREDENTIALS, None, "ap-guangzhou")
    assert name == "AIRFLOW_CONN_MY-CLOUD.V2"
    with connection_in_env("my-cloud.v2", CREDENTIALS, None, "ap-guangzhou"):
        assert BaseHook.get_connection("my-cloud.v2").login == "id"
    with pytest.raises(ValueError, match="not a valid Airflow connection id"):
        connection_env("my cloud=1", CREDENTIALS, None, "ap-guangzhou")
