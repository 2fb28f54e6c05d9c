"""Collects diagnostics for one definition, so passes can tell what an earlier pass already reported."""

from __future__ import annotations

from asw_airflow.diagnostics import Diagnostic
from asw_airflow.loader import Source


class Report:
    """Diagnostics found so far; ``reported_under`` lets a later pass skip what is already explained."""

    def __init__(self, source: Source):
        self.source = source
        self.diagnostics: list[Diagnostic] = []
        self._pointers: list[str] = []

    def add(self, code: str, message: str, pointer: str, *, key: bool = False) -> None:
        self.diagnostics.append(self.source.diagnostic(code, message, pointer, key=key))
        self._pointers.append(pointer)

    def reported_under(self, pointer: str) -> bool:
        """Whether some diagnostic sits at ``pointer`` or inside it."""
        prefix = pointer + "/"
        return any(p == pointer or p.startswith(prefix) for p in self._pointers)
