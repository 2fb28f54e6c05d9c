"""What a path, template, intrinsic or Choice rule can see while a state runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(slots=True)
class Scope:
    """``$`` is ``value``, ``$$`` is ``context``, ``$name`` is ``variables[name]`` (ASL ``Assign``)."""

    value: Any
    context: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
