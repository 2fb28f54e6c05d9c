"""TC3-HMAC-SHA256 request signing (Tencent Cloud API 3.0), shared by the client and the emulator.

The client and the emulator call the same functions, so a signature the emulator accepts is
one the real API accepts: both published test vectors are in tests/tencentcloud/test_signer.py.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Mapping

ALGORITHM = "TC3-HMAC-SHA256"

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request,\s*"
    r"SignedHeaders=(?P<signed_headers>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


def utc_date(timestamp: int) -> str:
    """The credential-scope date: the UTC day of ``timestamp``."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")


def canonical_request(headers: Mapping[str, str], payload: bytes) -> str:
    """The canonical POST request over ``headers`` (already the signed subset; names any case).

    ``x-tc-action`` is canonicalised lower-cased, as the API does when it is signed.
    """
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    if "x-tc-action" in lowered:
        lowered["x-tc-action"] = lowered["x-tc-action"].lower()
    names = sorted(lowered)
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    return "\n".join(
        ["POST", "/", "", canonical_headers, ";".join(names), hashlib.sha256(payload).hexdigest()]
    )


def string_to_sign(canonical: str, timestamp: int, service: str) -> str:
    scope = f"{utc_date(timestamp)}/{service}/tc3_request"
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def signature(secret_key: str, timestamp: int, service: str, headers: Mapping[str, str], payload: bytes) -> str:
    """Hex signature of a request: key chain ``"TC3"+key -> date -> service -> "tc3_request"``."""

    def _hmac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    key = _hmac(("TC3" + secret_key).encode("utf-8"), utc_date(timestamp))
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    to_sign = string_to_sign(canonical_request(headers, payload), timestamp, service)
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str, secret_key: str, timestamp: int, service: str, headers: Mapping[str, str], payload: bytes
) -> str:
    """The ``Authorization`` header value signing exactly ``headers``."""
    names = ";".join(sorted(name.lower() for name in headers))
    sig = signature(secret_key, timestamp, service, headers, payload)
    return (
        f"{ALGORITHM} Credential={secret_id}/{utc_date(timestamp)}/{service}/tc3_request, "
        f"SignedHeaders={names}, Signature={sig}"
    )


@dataclass(frozen=True, slots=True)
class ParsedAuthorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """Split an ``Authorization`` header; ``None`` when it is not a TC3 header."""
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        return None
    return ParsedAuthorization(
        secret_id=match["secret_id"],
        date=match["date"],
        service=match["service"],
        signed_headers=tuple(match["signed_headers"].split(";")),
        signature=match["signature"],
    )
