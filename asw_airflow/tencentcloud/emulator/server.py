"""The emulator's HTTP front: TC3 verification, fault injection, and dispatch to emulated services.

Every answer is HTTP 200 with an API 3.0 envelope, as the real API answers, except the
unsigned loopback admin endpoint ``/_admin/faults`` (GET shows, POST sets) with fields
``fault_rate`` (share of calls answered ``InternalError`` before running), ``latency_ms``,
``fail_next`` (the next N calls fail before running) and ``lose_next`` (the next N calls run,
then their answer is replaced by ``InternalError``: a lost response, the case idempotency is for).
"""

from __future__ import annotations

import collections
import hmac
import json
import random
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from asw_airflow.tencentcloud import signer
from asw_airflow.tencentcloud.client import API_VERSIONS
from asw_airflow.tencentcloud.emulator.base import ApiError

MAX_CLOCK_SKEW_SECONDS = 300
# Calls remembered in ``server.calls`` (tests count them); older ones are dropped so a
# long-running ``asw emulator`` does not grow without bound.
CALL_LOG_SIZE = 10_000

Action = Callable[[dict, str], dict]


@dataclass
class Faults:
    fault_rate: float = 0.0
    latency_ms: float = 0.0
    fail_next: int = 0
    lose_next: int = 0


class EmulatorServer(ThreadingHTTPServer):
    """Holds credentials, faults and the ``(service, action) -> handler`` table."""

    daemon_threads = True
    request_queue_size = 128  # the default listen backlog of 5 resets connections under Map fan-outs

    def __init__(
        self,
        address: tuple[str, int],
        secret_id: str,
        secret_key: str,
        actions: dict[tuple[str, str], Action],
        faults: Faults,
        seed: int | None = None,
    ):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET  # --host ::1
        super().__init__(address, _Handler)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.actions = actions
        self.faults = faults
        self.calls: collections.deque[tuple[str, str]] = collections.deque(maxlen=CALL_LOG_SIZE)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def answer(self, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        """The ``Response`` object for one API request."""
        request_id = str(uuid.uuid4())
        try:
            service, action, region = self._authenticate(headers, body)
            with self._lock:
                self.calls.append((service, action))
                fail_now = self.faults.fail_next > 0 or self._rng.random() < self.faults.fault_rate
                if self.faults.fail_next > 0:
                    self.faults.fail_next -= 1
            if self.faults.latency_ms:
                time.sleep(self.faults.latency_ms / 1000)
            if fail_now:
                raise ApiError("InternalError", "injected fault")
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                raise ApiError("InvalidParameter", "the request body is not JSON") from None
            result = self.actions[(service, action)](params, region)
            with self._lock:
                lose = self.faults.lose_next > 0
                if lose:
                    self.faults.lose_next -= 1
            if lose:
                raise ApiError("InternalError", "injected fault after the action ran")
            return {**result, "RequestId": request_id}
        except ApiError as exc:
            return {"Error": {"Code": exc.code, "Message": exc.message}, "RequestId": request_id}
        except Exception as exc:  # an emulator bug: answer as the API does, never drop the connection
            message = f"emulator error: {type(exc).__name__}: {exc}"
            return {"Error": {"Code": "InternalError", "Message": message}, "RequestId": request_id}

    def _authenticate(self, headers: dict[str, str], body: bytes) -> tuple[str, str, str]:
        auth = signer.parse_authorization(headers.get("authorization", ""))
        if auth is None:
            raise ApiError("AuthFailure.SignatureFailure", "missing or malformed TC3-HMAC-SHA256 Authorization header")
        if auth.secret_id != self.secret_id:
            raise ApiError("AuthFailure.SecretIdNotFound", "the SecretId is not known")
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            raise ApiError("MissingParameter", "X-TC-Timestamp is required") from None
        if abs(time.time() - timestamp) > MAX_CLOCK_SKEW_SECONDS:
            raise ApiError("AuthFailure.SignatureExpire", "the request timestamp is more than 5 minutes off")
        if "content-type" not in auth.signed_headers or "host" not in auth.signed_headers:
            raise ApiError("AuthFailure.SignatureFailure", "SignedHeaders must include content-type and host")
        if any(name not in headers for name in auth.signed_headers):
            raise ApiError("AuthFailure.SignatureFailure", "a signed header is missing from the request")
        signed = {name: headers[name] for name in auth.signed_headers}
        expected = signer.signature(self.secret_key, timestamp, auth.service, signed, body)
        if not hmac.compare_digest(expected, auth.signature) or auth.date != signer.utc_date(timestamp):
            raise ApiError("AuthFailure.SignatureFailure", "the request signature does not match")
        action = headers.get("x-tc-action", "")
        if (auth.service, action) not in self.actions:
            raise ApiError("InvalidAction", f"action {action!r} of service {auth.service!r} is not supported")
        version = headers.get("x-tc-version", "")
        if version != API_VERSIONS.get(auth.service):
            raise ApiError("NoSuchVersion", f"version {version!r} of service {auth.service!r} does not exist")
        return auth.service, action, headers.get("x-tc-region", "")

    def set_faults(self, changes: dict[str, Any]) -> Faults:
        with self._lock:
            for key, value in changes.items():
                if key not in Faults.__dataclass_fields__:
                    raise ValueError(f"unknown fault setting {key!r}")
                setattr(self.faults, key, type(getattr(self.faults, key))(value))
            return Faults(**asdict(self.faults))


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # keep test and CLI output clean
        pass

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        if self.path == "/_admin/faults":
            self._send(200, asdict(self.server.faults))
        else:
            self._send(404, {"error": "POST API 3.0 requests to /"})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/_admin/faults":
            try:
                self._send(200, asdict(self.server.set_faults(json.loads(body or b"{}"))))
            except (ValueError, TypeError) as exc:
                self._send(400, {"error": str(exc)})
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        self._send(200, {"Response": self.server.answer(headers, body)})
