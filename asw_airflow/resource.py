"""Task ``Resource`` strings: the qrn grammar ASW uses, parsed into a typed reference.

    qrn:qcs:asw:{region}:{appid}:sdk:json:qcloud:{service}:{Action}[.sync][/{Function}[/{Qualifier}/{Namespace}]]

Cloud functions are ``...:qcloud:scf:Invoke/{FunctionName}[/{Version|Alias}/{Namespace}]``
and nested workflows ``...:qcloud:asw:StartExecution``. How sync-run is spelled is not
documented by Tencent; we accept an ASL-style ``.sync`` suffix on the action and
allow it only where ASW's support matrix does (see DESIGN.md section 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

IntegrationMode = Literal["request-response", "sync"]
WorkflowType = Literal["STANDARD", "EXPRESS"]

EXPECTED_FORM = (
    "qrn:qcs:asw:{region}:{appid}:sdk:json:qcloud:{service}:{Action}, e.g. "
    "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud:scf:Invoke/my-function "
    "or ...:qcloud:asw:StartExecution.sync"
)

_QRN = re.compile(
    r"""^qrn:qcs:asw:
    (?P<region>[a-z][a-z0-9-]*):
    (?P<appid>\d*):
    sdk:json:qcloud:
    (?P<service>[a-z][a-z0-9]*):
    (?P<action>[A-Za-z][A-Za-z0-9]*)
    (?P<sync>\.sync)?
    (?:/(?P<function>[A-Za-z0-9_.-]+)
       (?:/(?P<qualifier>[A-Za-z0-9_$.-]+)/(?P<namespace>[A-Za-z0-9_-]+))?
    )?$""",
    re.VERBOSE,
)

# Services and actions whose sync-run mode ASW supports (Standard workflows only).
_SYNC_CAPABLE = {("scf", "Invoke"), ("asw", "StartExecution")}


class ResourceError(ValueError):
    """A Resource that does not follow the qrn grammar or the support matrix; the message shows the right form."""


@dataclass(frozen=True, slots=True)
class ResourceRef:
    """A parsed Task resource; ``kind`` says which integration runs it."""

    text: str
    region: str
    appid: str
    service: str
    action: str
    mode: IntegrationMode = "request-response"
    function: str | None = None
    qualifier: str | None = None
    namespace: str | None = None

    @property
    def kind(self) -> Literal["scf", "asw", "api"]:
        if self.service == "scf" and self.action == "Invoke":
            return "scf"
        if self.service == "asw" and self.action == "StartExecution":
            return "asw"
        return "api"


def parse_resource(text: str) -> ResourceRef:
    """Parse a Task ``Resource``; raise :class:`ResourceError` naming the expected form."""
    match = _QRN.match(text)
    if match is None:
        raise ResourceError(f"{text!r} is not a Tencent Cloud resource; expected {EXPECTED_FORM}")
    parts = match.groupdict()
    ref = ResourceRef(
        text=text,
        region=parts["region"],
        appid=parts["appid"],
        service=parts["service"],
        action=parts["action"],
        mode="sync" if parts["sync"] else "request-response",
        function=parts["function"],
        qualifier=parts["qualifier"],
        namespace=parts["namespace"],
    )
    if ref.kind == "scf" and ref.function is None:
        raise ResourceError(
            f"{text!r} invokes a cloud function but names none; expected ...:qcloud:scf:Invoke/{{FunctionName}}"
            "[/{Version|Alias}/{Namespace}]"
        )
    if ref.kind != "scf" and ref.function is not None:
        raise ResourceError(
            f"{text!r}: only scf:Invoke takes a /{{FunctionName}} suffix; put other request fields in Parameters"
        )
    return ref


def check_mode(ref: ResourceRef, workflow_type: WorkflowType) -> None:
    """Raise :class:`ResourceError` when ASW's support matrix forbids ``ref``'s integration mode."""
    if ref.mode != "sync":
        return
    if workflow_type == "EXPRESS":
        raise ResourceError(
            f"{ref.text!r}: EXPRESS workflows support request-response only; drop the .sync suffix"
        )
    if (ref.service, ref.action) not in _SYNC_CAPABLE:
        raise ResourceError(
            f"{ref.text!r}: sync-run is supported only for scf:Invoke and asw:StartExecution; "
            f"{ref.service}:{ref.action} is request-response only, drop the .sync suffix"
        )
