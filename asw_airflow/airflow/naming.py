"""Airflow ids from TCSL names: state and workflow names are free text, Airflow keys are not.

Airflow accepts ``[\\w-]`` in a task-group key and ``[\\w.-]`` in a task id (``\\w`` is
Unicode, so Chinese state names survive). Anything else becomes ``_``; whenever that
changes the name, or two names would land on the same id, a short hash of the original
name is appended so the mapping stays one-to-one and stable across parses.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^\w-]+")
MAX_SEGMENT = 64
"""Airflow caps a full task id at 250 characters; nested groups each add a segment."""

RESERVED = frozenset({"start", "end"})
"""Ids the compiler uses for its own tasks; a state may still be called that (it gets a hash)."""


def _digest(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]


def sanitize(name: str) -> str:
    """A key Airflow accepts for ``name``, deterministic and without the collision check."""
    key = _UNSAFE.sub("_", name).strip("_") or "state"
    if key != name or len(key) > MAX_SEGMENT:
        key = f"{key[: MAX_SEGMENT - 7]}_{_digest(name)}"
    return key


class Namer:
    """Hands out unique keys within one scope (a DAG or a task group): same name, same key."""

    def __init__(self, reserved: frozenset[str] = RESERVED):
        self._by_name: dict[str, str] = {}
        self._taken: set[str] = set(reserved)

    def key(self, name: str) -> str:
        if name in self._by_name:
            return self._by_name[name]
        key = sanitize(name)
        if key in self._taken:
            key = f"{key[: MAX_SEGMENT - 7]}_{_digest(name)}"
            while key in self._taken:  # only if two hashes collide, which is astronomically rare
                key = f"{key}_"
        self._taken.add(key)
        self._by_name[name] = key
        return key


def dag_id_for(workflow_name: str) -> str:
    """The DAG id of a workflow file's stem, sanitised the same way as task ids."""
    return sanitize(workflow_name)
