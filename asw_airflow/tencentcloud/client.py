"""Tencent Cloud API 3.0 client: one signer and retry policy, a sync face (engine, operators) and an
async face (triggers) over pooled httpx clients.

``call``/``acall`` return the ``Response`` body (``RequestId`` included), or raise
:class:`TencentCloudError`. Transient errors are retried with bounded, fully jittered exponential
backoff; permanent ones are raised at once. A call that may already have run (read timeout,
dropped connection, ``InternalError``) is retried only when running it twice is harmless
(:func:`is_idempotent`): a cloud function must not run twice for one Task.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

import httpx

from asw_airflow.tencentcloud import signer

# API version per service (from tencentcloud-sdk-python 3.1). COS is not an API 3.0 service
# (it speaks its own XML protocol), so it has no entry; pass ``version=`` for anything else.
API_VERSIONS: dict[str, str] = {
    "asr": "2019-06-14",
    "asw": "2020-07-22",
    "cls": "2020-10-16",
    "cvm": "2017-03-12",
    "mps": "2019-06-12",
    "scf": "2018-04-16",
    "tdmq": "2020-02-17",
}

# Short region aliases seen in ASW resources (``qrn:qcs:asw:sh:...``).
REGION_ALIASES: dict[str, str] = {
    "bj": "ap-beijing",
    "cd": "ap-chengdu",
    "cq": "ap-chongqing",
    "gz": "ap-guangzhou",
    "hk": "ap-hongkong",
    "nj": "ap-nanjing",
    "sg": "ap-singapore",
    "sh": "ap-shanghai",
    "sh-fsi": "ap-shanghai-fsi",
    "sz-fsi": "ap-shenzhen-fsi",
    "tokyo": "ap-tokyo",
}

DEFAULT_ENDPOINT = "https://{service}.tencentcloudapi.com"

# Client-side codes for failures that never reached an API answer.
CLIENT_NETWORK_ERROR = "ClientNetworkError"
CLIENT_TIMEOUT = "ClientTimeout"
CLIENT_BAD_RESPONSE = "ClientBadResponse"

_TRANSIENT_EXACT = {
    "ServiceUnavailable",
    "ResourceUnavailable",
    "ResourceInsufficient",
    CLIENT_NETWORK_ERROR,
    CLIENT_TIMEOUT,
}
_TRANSIENT_PREFIXES = ("RequestLimitExceeded", "InternalError")

# Failures that prove the server did not run the call, so even a non-idempotent one may be resent.
_NOT_EXECUTED_PREFIXES = ("RequestLimitExceeded",)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_READ_PREFIXES = ("Describe", "Get", "List")

# SCF runs a synchronous (RequestResponse) Invoke for up to 300 s: the client must outwait it,
# or it gives up on a function that is still running.
INVOKE_SYNC_TIMEOUT = 300.0


def is_transient(code: str) -> bool:
    """Whether an error code is worth retrying (throttling, server faults, network)."""
    return code in _TRANSIENT_EXACT or code.startswith(_TRANSIENT_PREFIXES)


def is_idempotent(service: str, action: str, params: Mapping[str, Any] | None) -> bool:
    """Whether sending the call twice has the effect of sending it once: reads, and an ASW
    StartExecution with a ``Name`` (a known Name answers the existing execution)."""
    if action.startswith(_READ_PREFIXES):
        return True
    return service == "asw" and action == "StartExecution" and bool((params or {}).get("Name"))


def normalize_region(region: str) -> str:
    return REGION_ALIASES.get(region, region)


class TencentCloudError(Exception):
    """An API error (``code`` as Tencent names it) or a client-side failure (``Client*`` codes)."""

    def __init__(self, code: str, message: str, *, request_id: str | None = None, action: str | None = None):
        super().__init__(f"{code}: {message}" + (f" (RequestId {request_id})" if request_id else ""))
        self.code = code
        self.message = message
        self.request_id = request_id
        self.action = action

    @property
    def transient(self) -> bool:
        return is_transient(self.code)


@dataclass(frozen=True)
class Credentials:
    """API keys; ``repr`` shows only the SecretId so credentials never reach logs."""

    secret_id: str
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        secret_id = env.get("TENCENTCLOUD_SECRET_ID")
        secret_key = env.get("TENCENTCLOUD_SECRET_KEY")
        if not secret_id or not secret_key:
            raise ValueError("set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or pass credentials explicitly")
        return cls(secret_id, secret_key, env.get("TENCENTCLOUD_SESSION_TOKEN") or None)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with full-jitter exponential backoff: delay n is uniform in [0, min(cap, base*2**n)]."""

    max_attempts: int = 5
    base_seconds: float = 0.2
    cap_seconds: float = 5.0

    def delay(self, retry_number: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry_number))


class TencentCloudClient:
    """Signs, sends and retries API 3.0 calls; reuse one instance to keep connections pooled."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        *,
        endpoint: str | None = None,
        language: str | None = None,
        api_versions: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        self.credentials = credentials
        self.region = normalize_region(region)
        self.endpoint = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
        self.language = language
        self.api_versions = {**API_VERSIONS, **(api_versions or {})}
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._asleep = asleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None

    @classmethod
    def from_env(cls, **kwargs: Any) -> TencentCloudClient:
        """Credentials and region from ``TENCENTCLOUD_*`` variables (region default ap-guangzhou)."""
        region = kwargs.pop("region", None) or os.environ.get("TENCENTCLOUD_REGION") or "ap-guangzhou"
        return cls(Credentials.from_env(), region, **kwargs)

    def __repr__(self) -> str:
        return f"TencentCloudClient(region={self.region!r}, endpoint={self.endpoint!r}, credentials={self.credentials!r})"

    # -- request building -------------------------------------------------------------------

    def version_for(self, service: str) -> str:
        try:
            return self.api_versions[service]
        except KeyError:
            raise TencentCloudError(
                "ClientUnknownVersion",
                f"no API version known for service {service!r}; pass version= or set api_versions",
            ) from None

    def _request(
        self, service: str, action: str, params: Mapping[str, Any] | None, version: str | None, region: str | None
    ) -> tuple[str, dict[str, str], bytes]:
        url = self.endpoint.format(service=service) + "/"
        payload = json.dumps(dict(params or {}), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        timestamp = int(self._clock())
        signed = {"Content-Type": "application/json; charset=utf-8", "Host": httpx.URL(url).netloc.decode("ascii")}
        headers = {
            **signed,
            "X-TC-Action": action,
            "X-TC-Version": version or self.version_for(service),
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": normalize_region(region or self.region),
            "Authorization": signer.authorization(
                self.credentials.secret_id, self.credentials.secret_key, timestamp, service, signed, payload
            ),
        }
        if self.credentials.token:
            headers["X-TC-Token"] = self.credentials.token
        if self.language:
            headers["X-TC-Language"] = self.language
        return url, headers, payload

    @staticmethod
    def _parse(response: httpx.Response, action: str) -> dict[str, Any]:
        try:
            body = response.json()["Response"]
        except (ValueError, KeyError, TypeError):
            code = "InternalError" if response.status_code >= 500 else CLIENT_BAD_RESPONSE
            raise TencentCloudError(
                code, f"HTTP {response.status_code} without an API 3.0 Response body", action=action
            ) from None
        error = body.get("Error")
        if error:
            raise TencentCloudError(
                error.get("Code", "InternalError"), error.get("Message", ""), request_id=body.get("RequestId"), action=action
            )
        return body

    def timeout_for(self, service: str, action: str, params: Mapping[str, Any] | None) -> float:
        """Seconds to wait for an answer: a synchronous Invoke waits as long as SCF may run the function."""
        invocation_type = (params or {}).get("InvocationType") or "RequestResponse"
        if service == "scf" and action == "Invoke" and invocation_type == "RequestResponse":
            return max(self.timeout, INVOKE_SYNC_TIMEOUT)
        return self.timeout

    def _retry_delay(self, exc: httpx.HTTPError | TencentCloudError, action: str, attempt: int, idempotent: bool) -> float:
        """The backoff before retrying a failed call, shared by both faces; raises when it must not be retried."""
        if isinstance(exc, httpx.HTTPError):
            not_executed = isinstance(exc, _NOT_SENT)
            code = CLIENT_TIMEOUT if isinstance(exc, httpx.TimeoutException) else CLIENT_NETWORK_ERROR
            exc = TencentCloudError(code, f"{type(exc).__name__}: {exc}", action=action)
        else:
            not_executed = exc.code.startswith(_NOT_EXECUTED_PREFIXES)
        if not exc.transient or attempt >= self.retry.max_attempts or not (idempotent or not_executed):
            raise exc
        return self.retry.delay(attempt - 1, self._rng)

    # -- sync face --------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._sync is None:
            self._sync = httpx.Client(timeout=self.timeout)
        return self._sync

    def call(
        self,
        service: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        version: str | None = None,
        *,
        region: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Call ``service``'s ``action``; return the ``Response`` body or raise :class:`TencentCloudError`.

        ``timeout`` (seconds) overrides :meth:`timeout_for`, e.g. with a Task's TimeoutSeconds.
        """
        idempotent = is_idempotent(service, action, params)
        seconds = timeout if timeout is not None else self.timeout_for(service, action, params)
        attempt = 0
        while True:
            url, headers, payload = self._request(service, action, params, version, region)
            try:
                response = self._client().post(url, content=payload, headers=headers, timeout=seconds)
                return self._parse(response, action)
            except (httpx.HTTPError, TencentCloudError) as exc:
                attempt += 1
                self._sleep(self._retry_delay(exc, action, attempt, idempotent))

    def close(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None

    def __enter__(self) -> TencentCloudClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- async face -------------------------------------------------------------------------

    def _aclient(self) -> httpx.AsyncClient:
        if self._async is None:
            self._async = httpx.AsyncClient(timeout=self.timeout)
        return self._async

    async def acall(
        self,
        service: str,
        action: str,
        params: Mapping[str, Any] | None = None,
        version: str | None = None,
        *,
        region: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Async :meth:`call`; the pooled ``httpx.AsyncClient`` belongs to the loop that first used it."""
        idempotent = is_idempotent(service, action, params)
        seconds = timeout if timeout is not None else self.timeout_for(service, action, params)
        attempt = 0
        while True:
            url, headers, payload = self._request(service, action, params, version, region)
            try:
                response = await self._aclient().post(url, content=payload, headers=headers, timeout=seconds)
                return self._parse(response, action)
            except (httpx.HTTPError, TencentCloudError) as exc:
                attempt += 1
                await self._asleep(self._retry_delay(exc, action, attempt, idempotent))

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()
            self._async = None

    async def __aenter__(self) -> TencentCloudClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
