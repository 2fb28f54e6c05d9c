"""``asw validate PATH...`` and ``asw schema``: check definitions without importing Airflow."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from asw_airflow.airflow.sidecar import INVALID_SIDECAR, SIDECAR_SUFFIX, sidecar_from_source
from asw_airflow.diagnostics import DefinitionError, Diagnostic
from asw_airflow.loader import Source, load_file
from asw_airflow.validate import WORKFLOW_TYPES, read_machine, schema_document, validate


def register(subparsers: Any) -> None:
    check = subparsers.add_parser("validate", help="validate TCSL definition files or directories of *.json")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a definition file, or a directory searched for *.json")
    check.add_argument("--type", dest="workflow_type", choices=WORKFLOW_TYPES, default="STANDARD",
                       help="workflow type the definitions run as (default STANDARD)")
    check.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    check.set_defaults(handler=run_validate)
    schema = subparsers.add_parser("schema", help="print the TCSL JSON Schema")
    schema.set_defaults(handler=run_schema)


def _expand(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files to check, in a stable order, and a message for every path that does not exist.

    A ``*.json`` symlink whose target is gone is reported, not skipped: it is most likely a
    workflow that was meant to be checked (and deployed).
    """
    files: list[Path] = []
    missing: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            for found in sorted(path.rglob("*.json")):
                if found.is_file():
                    files.append(found)
                elif found.is_symlink() and not found.exists():
                    missing.append(_broken_link(found))
        elif path.exists():
            files.append(path)
        elif path.is_symlink():
            missing.append(_broken_link(path))
        else:
            missing.append(f"asw validate: {text}: no such file or directory")
    return files, missing


def _broken_link(path: Path) -> str:
    return f"asw validate: {path}: broken symbolic link to {os.readlink(path)}"


def summary(file: Path, document: dict[str, Any], workflow_type: str) -> str:
    """``x.json: valid STANDARD workflow, 7 states (2 Task, 1 Map, ...)``, counting nested states too."""
    counts = read_machine(document).type_counts()
    total = sum(counts.values())
    detail = ", ".join(f"{count} {kind}" for kind, count in counts.most_common())
    return f"{file}: valid {workflow_type} workflow, {total} state{'s' if total != 1 else ''} ({detail})"


def check(file: Path, source: Source, workflow_type: str) -> list[Diagnostic]:
    """A ``*.dag.json`` is a workflow's Airflow sidecar and is checked as one; any other file is TCSL.

    A sidecar configures the workflow of the same name next to it; without one it configures
    nothing (a renamed or deleted workflow), which is an error rather than a valid sidecar.
    """
    if not file.name.endswith(SIDECAR_SUFFIX):
        return validate(source, workflow_type)
    found: list[Diagnostic] = []
    workflow = file.with_name(file.name.removesuffix(SIDECAR_SUFFIX) + ".json")
    if not workflow.is_file():
        found.append(source.diagnostic(INVALID_SIDECAR, f"no workflow {workflow.name} next to it; a sidecar "
                                       "configures the workflow of the same name, so rename or remove it", ""))
    try:
        sidecar_from_source(source)
    except DefinitionError as error:
        found.extend(error.diagnostics)
    return found


def run_validate(args: argparse.Namespace) -> int:
    files, missing = _expand(args.paths)
    for message in missing:
        print(message, file=sys.stderr)
    found: list[Diagnostic] = []
    io_failed = bool(missing)
    for file in files:
        try:
            source = load_file(file)
        except DefinitionError as error:
            diagnostics = error.diagnostics
        except OSError as error:
            print(f"asw validate: {file}: {error.strerror or error}", file=sys.stderr)
            io_failed = True
            continue
        else:
            diagnostics = check(file, source, args.workflow_type)
        found.extend(diagnostics)
        if args.format == "text":
            for diagnostic in diagnostics:
                print(diagnostic.format())
            if not diagnostics:
                sidecar = file.name.endswith(SIDECAR_SUFFIX)
                print(f"{file}: valid Airflow sidecar" if sidecar else summary(file, source.document, args.workflow_type))
    if args.format == "json":
        print(json.dumps([d.to_json() for d in found], ensure_ascii=False, indent=2))
    if not files and not missing:
        print("asw validate: no *.json files found", file=sys.stderr)
        return 2
    if io_failed:  # some input was not checked at all: that outranks an invalid file
        return 2
    return 1 if found else 0


def run_schema(args: argparse.Namespace) -> int:
    print(json.dumps(schema_document(), indent=2, ensure_ascii=False))
    return 0
