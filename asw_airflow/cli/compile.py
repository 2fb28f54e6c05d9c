"""``asw compile PATH``: show the Airflow DAG a workflow compiles to, one line per task or as JSON.

Building the DAG needs Airflow but no metadata database: nothing is run or stored. Importing
Airflow still creates ``$AIRFLOW_HOME/logs``, so without a user's $AIRFLOW_HOME the command
works in a temp home removed at exit rather than litter ``~/airflow``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from asw_airflow.diagnostics import DefinitionError

WORKFLOW_TYPES = ("STANDARD", "EXPRESS")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("compile", help="show the Airflow DAG a workflow compiles to")
    parser.add_argument("path", metavar="PATH", help="the TCSL definition file")
    parser.add_argument("--type", choices=WORKFLOW_TYPES, default=None, help="workflow type (default: the sidecar's, else STANDARD)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run)


HELPER_KINDS = ("map-items", "map-collect", "parallel-fork", "parallel-join", "end")
"""Kinds of the tasks that are not a state of their own; their ``state`` is null."""


def task_kind(task: Any) -> str:
    """The JSON ``kind`` of a compiled task: its state's Type, ``engine``, or a helper kind.

    Operator class names are an implementation detail and must not leak into the contract.
    """
    from asw_airflow.airflow import operators as ops

    kinds: dict[type, str] = {
        ops.PassOperator: "Pass",
        ops.TaskOperator: "Task",
        ops.ChoiceOperator: "Choice",
        ops.WaitOperator: "Wait",
        ops.SucceedOperator: "Succeed",
        ops.FailOperator: "Fail",
        ops.EngineRegionOperator: "engine",
        ops.MapItemsOperator: "map-items",
        ops.MapCollectOperator: "map-collect",
        ops.ParallelForkOperator: "parallel-fork",
        ops.ParallelJoinOperator: "parallel-join",
        ops.EndOperator: "end",
    }
    for cls in type(task).__mro__:
        if cls in kinds:
            return kinds[cls]
    raise TypeError(f"task {task.task_id!r} has no documented kind ({type(task).__name__})")


def describe(dag: Any) -> dict[str, Any]:
    """``{"dag_id", "tasks": [{task_id, state, kind, group, mapped, upstream, trigger_rule}]}``."""
    tasks = []
    for task in dag.tasks:
        kind = task_kind(task)
        tasks.append(
            {
                "task_id": task.task_id,
                "state": None if kind in HELPER_KINDS else task.state_name,
                "kind": kind,
                "group": task.task_group.group_id if task.task_group is not None else None,
                "mapped": task.get_closest_mapped_task_group() is not None,
                "upstream": sorted(task.upstream_task_ids),
                "trigger_rule": getattr(task.trigger_rule, "value", task.trigger_rule),
            }
        )
    return {"dag_id": dag.dag_id, "tasks": tasks}


def run(args: argparse.Namespace) -> int:
    from asw_airflow.airflow.runner import prepare_home

    prepare_home()
    from asw_airflow.airflow.compiler import build_dag
    from asw_airflow.airflow.loader import compile_file
    from asw_airflow.airflow.naming import dag_id_for
    from asw_airflow.airflow.sidecar import SIDECAR_SUFFIX, Sidecar
    from asw_airflow.ir import build_machine

    path = Path(args.path)
    try:
        if args.type is None:
            sidecar = path.with_name(path.stem + SIDECAR_SUFFIX)
            dag = compile_file(path, sidecar.read_bytes() if sidecar.exists() else None)
        else:
            machine = build_machine(path.read_bytes(), workflow_type=args.type, name=path.stem)
            dag = build_dag(machine, dag_id=dag_id_for(path.stem), workflow_name=path.stem, settings=Sidecar(workflow_type=args.type))
        description = describe(dag)
    except OSError as error:
        print(f"asw compile: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    except DefinitionError as error:
        print(error, file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a CLI reports, it does not print tracebacks
        print(f"asw compile: cannot compile {path}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(description, ensure_ascii=False, indent=2))
        return 0
    for task in description["tasks"]:
        mapped = " [mapped]" if task["mapped"] else ""
        upstream = ", ".join(task["upstream"]) or "-"
        state = f"  state={task['state']}" if task["state"] is not None else ""
        print(f"{task['task_id']}  {task['kind']}{state}{mapped}  <- {upstream}  ({task['trigger_rule']})")
    return 0
