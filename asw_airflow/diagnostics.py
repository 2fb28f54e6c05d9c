"""Located problems in a workflow definition, shared by the loader, the validator and the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["ERROR", "WARNING"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, pinned to a JSON pointer and to the line and column the user wrote it at."""

    code: str
    message: str
    pointer: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    severity: Severity = "ERROR"

    def format(self) -> str:
        """``file:line:column: CODE message (pointer)``, the one-line human form."""
        where = f"{self.file or '<string>'}:{self.line or 1}:{self.column or 1}"
        return f"{where}: {self.code} {self.message} ({self.pointer or '/'})"

    def to_json(self) -> dict:
        return asdict(self)


class DefinitionError(Exception):
    """Raised when a definition cannot be used; carries every diagnostic found, not just the first."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))


def pointer_join(*parts: str | int) -> str:
    """Build a JSON pointer (RFC 6901), escaping ``~`` and ``/`` in member names."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_parts(pointer: str) -> list[str]:
    """Split a JSON pointer back into unescaped member names."""
    if not pointer:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]

