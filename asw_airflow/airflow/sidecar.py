"""Sidecar files: the Airflow settings of a workflow, kept next to its TCSL file.

``workflows/etl.json`` is the TCSL definition; ``workflows/etl.dag.json`` (optional) says
how Airflow runs it. TCSL has no place for a schedule or an owner, and the definition
must stay deployable to ASW unchanged, hence a second file. Without a sidecar a workflow
is STANDARD and runs only when triggered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from asw_airflow.diagnostics import DefinitionError
from asw_airflow.loader import Source, load_text

SIDECAR_SUFFIX = ".dag.json"
INVALID_SIDECAR = "INVALID_SIDECAR"
DEFAULT_CONNECTION_ID = "tencentcloud_default"
DEFAULT_START_DATE = datetime(2024, 1, 1, tzinfo=timezone.utc)
CONNECTION_ID = re.compile(r"[\w.-]{1,250}")
"""An id Airflow accepts as a key (its ``validate_key``), so ``AIRFLOW_CONN_<ID>`` can carry it."""


@dataclass(frozen=True)
class Sidecar:
    """Airflow settings of one workflow; every field has the no-sidecar default."""

    workflow_type: str = "STANDARD"
    schedule: str | None = None
    start_date: datetime = DEFAULT_START_DATE
    catchup: bool = False
    input: Any = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    connection_id: str = DEFAULT_CONNECTION_ID
    max_active_runs: int = 16
    owner: str = "airflow"
    description: str | None = None
    role: str | None = None
    """The execution role (ASW's ``RoleResource``), shown as ``$$.Execution.RoleArn``; None: no role."""


def _string(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _start_date(value: Any) -> bool:
    return _parse_date(value) is not None


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_AIRFLOW_PRESETS = frozenset({"@once", "@continuous", "@quarterly"})
"""Schedules Airflow accepts that croniter does not parse (croniter knows the other ``@`` presets)."""


def _schedule(value: Any) -> bool:
    """A cron expression or preset Airflow takes: caught here with its location, not later by ``dag.validate()``."""
    if value is None:
        return True
    if not _string(value):
        return False
    if value in _AIRFLOW_PRESETS:
        return True
    from croniter import CroniterError, croniter  # Airflow's own cron parser; cheap, unlike airflow.sdk

    try:
        croniter(value)
    except (CroniterError, ValueError):
        return False
    return True


# key -> (check, what a valid value looks like)
_FIELDS: dict[str, tuple[Any, str]] = {
    "type": (lambda v: v in ("STANDARD", "EXPRESS"), '"STANDARD" or "EXPRESS"'),
    "schedule": (_schedule, 'a cron expression or preset such as "0 */12 * * *" or "@daily", or null'),
    "start_date": (_start_date, 'an ISO 8601 date such as "2024-01-01" or "2024-01-01T00:00:00Z"'),
    "catchup": (lambda v: isinstance(v, bool), "true or false"),
    "input": (lambda v: True, "any JSON value"),
    "tags": (lambda v: isinstance(v, list) and all(_string(t) for t in v), "an array of non-empty strings"),
    "connection_id": (lambda v: isinstance(v, str) and bool(CONNECTION_ID.fullmatch(v)), "the id of a tencentcloud Airflow connection (letters, digits, '_', '-', '.')"),
    "max_active_runs": (_positive, "a positive integer"),
    "owner": (_string, "a non-empty string"),
    "description": (lambda v: v is None or isinstance(v, str), "a string"),
    "role": (_string, "the execution role's resource name, as ASW's RoleResource"),
}


def parse_sidecar(data: str | bytes, file: str | None = None) -> Sidecar:
    """Read a sidecar; :class:`DefinitionError` lists every wrong key with its line and column."""
    source = load_text(data, file)
    return sidecar_from_source(source)


def sidecar_from_source(source: Source) -> Sidecar:
    document = source.document
    problems = []
    for key, value in document.items():
        if key not in _FIELDS:
            problems.append(
                source.diagnostic(
                    INVALID_SIDECAR, f"unknown sidecar key {key!r}; keys are {', '.join(sorted(_FIELDS))}", f"/{key}", key=True
                )
            )
            continue
        check, expected = _FIELDS[key]
        if not check(value):
            problems.append(source.diagnostic(INVALID_SIDECAR, f"{key} must be {expected}, got {value!r}", f"/{key}"))
    if document.get("schedule") == "@continuous" and document.get("max_active_runs", 16) != 1:
        problems.append(
            source.diagnostic(INVALID_SIDECAR, 'schedule "@continuous" needs "max_active_runs": 1 (Airflow runs it one run at a time)', "/schedule")
        )
    if problems:
        raise DefinitionError(problems)
    return Sidecar(
        workflow_type=document.get("type", "STANDARD"),
        schedule=document.get("schedule"),
        start_date=_parse_date(document["start_date"]) if "start_date" in document else DEFAULT_START_DATE,
        catchup=document.get("catchup", False),
        input=document.get("input", {}),
        tags=tuple(document.get("tags", ())),
        connection_id=document.get("connection_id", DEFAULT_CONNECTION_ID),
        max_active_runs=document.get("max_active_runs", 16),
        owner=document.get("owner", "airflow"),
        description=document.get("description"),
        role=document.get("role"),
    )
