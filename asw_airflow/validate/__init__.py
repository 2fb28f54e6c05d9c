"""Validate a TCSL definition and report every problem, located, in one run.

Stages: the JSON Schema (structure, unknown fields), then semantic passes over one walk of
the machine: transitions and reachability (``graph``), expressions compiled by the runtime's
own semantics modules (``expressions``), per-state-type rules (``rules``). Every pass
tolerates schema-invalid input; a pass skips what an earlier one already reported.
"""

from __future__ import annotations

from pathlib import Path

from asw_airflow.diagnostics import DefinitionError, Diagnostic
from asw_airflow.loader import Source, load_file
from asw_airflow.resource import WorkflowType
from asw_airflow.validate.expressions import check_expressions
from asw_airflow.validate.graph import check_graph
from asw_airflow.validate.machine import Machine, read_machine
from asw_airflow.validate.report import Report
from asw_airflow.validate.rules import check_rules
from asw_airflow.validate.schema import schema_document
from asw_airflow.validate.schema_messages import report_schema_errors

WORKFLOW_TYPES: tuple[WorkflowType, ...] = ("STANDARD", "EXPRESS")

__all__ = ["WORKFLOW_TYPES", "Machine", "read_machine", "schema_document", "validate", "validate_file"]


def validate(source: Source, workflow_type: WorkflowType = "STANDARD") -> list[Diagnostic]:
    """Every problem in ``source``: schema violations first, then semantic ones."""
    if workflow_type not in WORKFLOW_TYPES:
        raise ValueError(f"workflow_type must be one of {', '.join(WORKFLOW_TYPES)}, got {workflow_type!r}")
    report = Report(source)
    report_schema_errors(report)
    if not isinstance(source.document, dict):
        return report.diagnostics
    machine = read_machine(source.document)
    check_graph(machine, report)
    check_expressions(machine, report)
    check_rules(machine, report, workflow_type)
    return report.diagnostics


def validate_file(path: str | Path, workflow_type: WorkflowType = "STANDARD") -> list[Diagnostic]:
    """Load and validate a file; JSON errors become diagnostics, I/O errors (``OSError``) propagate."""
    try:
        source = load_file(path)
    except DefinitionError as error:
        return error.diagnostics
    return validate(source, workflow_type)
