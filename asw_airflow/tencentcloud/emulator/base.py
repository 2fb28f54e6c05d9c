"""What every emulated service shares: the API error an action raises to answer with ``Response.Error``."""

from __future__ import annotations


class ApiError(Exception):
    """Answered as HTTP 200 ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``, as the real API does."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
