"""Airflow ids from TCSL names: state and workflow names are free text, Airflow keys are not.

Airflow accepts ``[\\w-]`` in a task-group key and ``[\\w.-]`` in a task id (``\\w`` is
Unicode, so Chinese state names survive). Anything else becomes ``_``; whenever that
changes the name, or two names would land on the same id, a short hash of the original
name is appended so the mapping stays one-to-one and stable across parses.

Airflow caps a *full* task id (``group.subgroup.key``) at 250 characters, and each nested
Map or Parallel adds a segment, so a key is also kept short enough for its group's prefix:
it may use a third of the room the prefix leaves, then it is cut and hashed. The prefix is
the task group the compiler is building in when it asks for the key.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^\w-]+")
MAX_SEGMENT = 64
"""The longest key of one segment, even at the top level."""
MAX_TASK_ID = 250
"""Airflow's limit on a full task id, group prefixes included."""
_HASHED = 7
"""Length of the ``_<6 hex>`` suffix a cut key ends with."""

RESERVED = frozenset({"start", "end"})
"""Ids the compiler uses for its own tasks; a state may still be called that (it gets a hash)."""


def _digest(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()[:6]


def _hashed(key: str, name: str, limit: int) -> str:
    """``key`` cut to ``limit`` characters with a hash of ``name`` at its end (just the hash if no room)."""
    head = key[: max(limit - _HASHED, 0)]
    return f"{head}_{_digest(name)}" if head else _digest(name)


def segment_limit(prefix: str) -> int:
    """The longest key a segment under group ``prefix`` may have, leaving room for deeper nesting."""
    room = MAX_TASK_ID - len(prefix) - (1 if prefix else 0)
    return max(_HASHED - 1, min(MAX_SEGMENT, room // 3))


def sanitize(name: str, limit: int = MAX_SEGMENT) -> str:
    """A key Airflow accepts for ``name``, at most ``limit`` long, deterministic and without the collision check."""
    key = _UNSAFE.sub("_", name).strip("_") or "state"
    if key != name or len(key) > limit:
        key = _hashed(key, name, limit)
    return key


def _current_prefix() -> str:
    """The id of the task group being built (the compiler's current ``with TaskGroup``), "" at the top."""
    from airflow.sdk.definitions._internal.contextmanager import TaskGroupContext

    group = TaskGroupContext.get_current()
    return (group.group_id or "") if group is not None else ""


class Namer:
    """Hands out unique keys within one scope (a DAG or a task group): same name, same key."""

    def __init__(self, reserved: frozenset[str] = RESERVED):
        self._by_name: dict[str, str] = {}
        self._taken: set[str] = set(reserved)

    def key(self, name: str) -> str:
        """The key of ``name``, short enough that its full id fits under the current task group."""
        if name in self._by_name:
            return self._by_name[name]
        limit = segment_limit(_current_prefix())
        key = sanitize(name, limit)
        if key in self._taken:
            key = _hashed(key, name, limit)
            while key in self._taken:  # only if two hashes collide, which is astronomically rare
                key = f"{key}_"
        self._taken.add(key)
        self._by_name[name] = key
        return key


def dag_id_for(workflow_name: str) -> str:
    """The DAG id of a workflow file's stem, sanitised the same way as task ids."""
    return sanitize(workflow_name)
