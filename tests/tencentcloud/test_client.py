from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from asw_airflow.tencentcloud.client import (
    API_VERSIONS,
    Credentials,
    RetryPolicy,
    TencentCloudClient,
    TencentCloudError,
    is_transient,
)
from asw_airflow.tencentcloud.emulator import DEFAULT_SECRET_ID

from tests.tencentcloud.conftest import make_client


def test_call_returns_response_body(client):
    body = client.call("scf", "Invoke", {"FunctionName": "greeting", "ClientContext": json.dumps({"name": "ann"})})
    assert body["Result"]["RetMsg"] == "hello ann"
    assert body["RequestId"]


def test_acall_returns_response_body(emulator):
    async def go():
        async with make_client(emulator.endpoint) as c:
            return await asyncio.gather(
                *(c.acall("scf", "Invoke", {"FunctionName": "greeting", "ClientContext": "{}"}) for _ in range(5))
            )

    assert [b["Result"]["RetMsg"] for b in asyncio.run(go())] == ["hello world"] * 5


def test_transient_errors_of_reads_are_retried_until_success(emulator, client):
    emulator.set_faults(fail_next=3)
    body = client.call("scf", "ListNamespaces", {})
    assert body["TotalCount"] == 1
    assert list(emulator.server.calls).count(("scf", "ListNamespaces")) == 4


def test_invoke_that_may_have_run_is_not_retried(emulator, client):
    emulator.set_faults(fail_next=3)
    with pytest.raises(TencentCloudError) as info:
        client.call("scf", "Invoke", {"FunctionName": "greeting", "ClientContext": "{}"})
    assert info.value.code == "InternalError"
    assert list(emulator.server.calls) == [("scf", "Invoke")]


def _mock(c: TencentCloudClient, respond) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return respond(request)

    c._sync = httpx.Client(transport=httpx.MockTransport(handler))
    return seen


def _read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer", request=request)


@pytest.mark.parametrize(
    ("action", "params", "attempts"),
    [
        ("Invoke", {"FunctionName": "f"}, 1),
        ("StartExecution", {"StateMachineResourceName": "m"}, 1),
        ("StartExecution", {"StateMachineResourceName": "m", "Name": "n"}, 4),
        ("DescribeExecution", {"ExecutionResourceName": "q"}, 4),
    ],
)
def test_read_timeouts_are_retried_only_when_idempotent(action, params, attempts):
    with make_client("http://127.0.0.1:1") as c:
        seen = _mock(c, _read_timeout)
        with pytest.raises(TencentCloudError) as info:
            c.call("asw" if action != "Invoke" else "scf", action, params)
    assert info.value.code == "ClientTimeout"
    assert len(seen) == attempts


def test_throttled_invoke_is_retried_because_it_did_not_run():
    answers = iter([{"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}}, {"Result": {"RetMsg": "1"}}])
    with make_client("http://127.0.0.1:1") as c:
        seen = _mock(c, lambda request: httpx.Response(200, json={"Response": next(answers)}))
        assert c.call("scf", "Invoke", {"FunctionName": "f"})["Result"]["RetMsg"] == "1"
    assert len(seen) == 2


def test_sync_invoke_waits_as_long_as_scf_may_run_the_function():
    with make_client("http://127.0.0.1:1", timeout=30) as c:
        seen = _mock(c, lambda request: httpx.Response(200, json={"Response": {}}))
        c.call("scf", "Invoke", {"FunctionName": "f"})
        c.call("scf", "Invoke", {"FunctionName": "f", "InvocationType": "Event"})
        c.call("scf", "Invoke", {"FunctionName": "f"}, timeout=900)
        c.call("asw", "DescribeExecution", {})
    assert [r.extensions["timeout"]["read"] for r in seen] == [300, 30, 900, 30]


def test_retries_are_bounded(emulator):
    emulator.set_faults(fail_next=10)
    with make_client(emulator.endpoint, retry=RetryPolicy(max_attempts=2, base_seconds=0.001)) as c:
        with pytest.raises(TencentCloudError) as info:
            c.call("scf", "ListNamespaces", {})
    assert info.value.code == "InternalError"
    assert len(emulator.server.calls) == 2


def test_async_retries_use_injected_sleep(emulator):
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    emulator.set_faults(fail_next=2)

    async def go():
        async with make_client(emulator.endpoint, asleep=fake_sleep, retry=RetryPolicy(4, 1.0, 2.0)) as c:
            return await c.acall("scf", "ListNamespaces", {})

    assert asyncio.run(go())["TotalCount"] == 1
    assert len(slept) == 2 and slept[0] <= 1.0 and slept[1] <= 2.0


def test_permanent_errors_are_not_retried(emulator, client):
    with pytest.raises(TencentCloudError) as info:
        client.call("scf", "Invoke", {"FunctionName": "missing"})
    assert info.value.code == "ResourceNotFound.Function"
    assert len(emulator.server.calls) == 1


def test_wrong_secret_key_is_rejected(emulator):
    with TencentCloudClient(Credentials(DEFAULT_SECRET_ID, "wrong"), "ap-guangzhou", endpoint=emulator.endpoint) as c:
        with pytest.raises(TencentCloudError) as info:
            c.call("scf", "Invoke", {"FunctionName": "greeting"})
    assert info.value.code == "AuthFailure.SignatureFailure"
    assert "wrong" not in str(info.value)


def test_stale_timestamp_is_rejected(emulator):
    import time

    with make_client(emulator.endpoint, clock=lambda: time.time() - 301) as c:
        with pytest.raises(TencentCloudError) as info:
            c.call("scf", "Invoke", {"FunctionName": "greeting"})
    assert info.value.code == "AuthFailure.SignatureExpire"


def test_unknown_action_and_version(client):
    with pytest.raises(TencentCloudError) as info:
        client.call("scf", "DeleteEverything", {})
    assert info.value.code == "InvalidAction"
    with pytest.raises(TencentCloudError) as info:
        client.call("scf", "Invoke", {"FunctionName": "greeting"}, version="2000-01-01")
    assert info.value.code == "NoSuchVersion"


def test_network_errors_are_retried_then_raised():
    attempts = []
    with make_client("http://127.0.0.1:9") as c:
        c._sync = httpx.Client(transport=httpx.MockTransport(lambda request: attempts.append(1) or _raise_connect()))
        with pytest.raises(TencentCloudError) as info:
            c.call("scf", "Invoke", {})
    assert info.value.code == "ClientNetworkError"
    assert len(attempts) == 4


def _raise_connect():
    raise httpx.ConnectError("refused")


def test_headers_carry_region_token_language_and_signature():
    seen: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"Response": {"RequestId": "r1"}})

    creds = Credentials("AKID1", "key-1", token="tok-1")
    with TencentCloudClient(creds, "sh", endpoint="http://127.0.0.1:1", language="en-US") as c:
        c._sync = httpx.Client(transport=httpx.MockTransport(respond))
        assert c.call("cvm", "DescribeInstances", {"Limit": 1}, region="gz") == {"RequestId": "r1"}
    headers = seen[0].headers
    assert headers["X-TC-Region"] == "ap-guangzhou"
    assert headers["X-TC-Token"] == "tok-1"
    assert headers["X-TC-Language"] == "en-US"
    assert headers["X-TC-Version"] == API_VERSIONS["cvm"]
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKID1/")
    assert "/cvm/tc3_request, SignedHeaders=content-type;host, Signature=" in headers["Authorization"]


def test_api_versions_are_overridable_and_unknown_services_say_how():
    c = TencentCloudClient(Credentials("a", "b"), "ap-guangzhou", api_versions={"scf": "2099-01-01"})
    assert c.version_for("scf") == "2099-01-01"
    assert c.version_for("asw") == "2020-07-22"
    with pytest.raises(TencentCloudError, match="pass version="):
        c.version_for("nosuch")


def test_credentials_repr_and_env():
    creds = Credentials.from_env(
        {"TENCENTCLOUD_SECRET_ID": "AKIDx", "TENCENTCLOUD_SECRET_KEY": "sekrit", "TENCENTCLOUD_SESSION_TOKEN": "tk"}
    )
    assert creds == Credentials("AKIDx", "sekrit", "tk")
    assert "sekrit" not in repr(creds) and "tk" not in repr(creds)
    assert "sekrit" not in repr(TencentCloudClient(creds, "ap-guangzhou"))
    with pytest.raises(ValueError):
        Credentials.from_env({})


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("RequestLimitExceeded.UinLimitExceeded", True),
        ("InternalError.System", True),
        ("ServiceUnavailable", True),
        ("ResourceUnavailable", True),
        ("ResourceUnavailable.Function", False),
        ("ResourceInsufficient", True),
        ("AuthFailure.SignatureFailure", False),
        ("LimitExceeded.Function", False),
        ("ResourceNotFound.Function", False),
    ],
)
def test_transient_classification(code, transient):
    assert is_transient(code) is transient
