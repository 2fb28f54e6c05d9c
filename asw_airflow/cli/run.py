"""``asw run PATH``: execute a workflow and print its output (exit 0) or its error (exit 1).

Usage problems (a missing file, an invalid definition or sidecar, non-JSON input, a bad mock
file, options that exclude each other, a missing ``--functions``/``--workflows`` folder, an
unwritable ``--history``) exit 2 with a message on stderr and no traceback, before anything runs. A sidecar next to PATH
(``<name>.dag.json``, as Airflow deploys it) gives the default input and type, the execution
role and Airflow's connection id; ``--input`` and ``--type`` override it. Engines are looked up in ``ENGINES`` by
name, as ``module:function`` so that only the chosen one is imported; each takes
``(machine, input, options)`` and returns an ``ExecutionResult``.

``--input`` is read as strictly as a definition: duplicate keys and NaN/Infinity are usage
errors. Output is printed as strict JSON too: a NaN or Infinity that a task result or
``States.StringToJson`` produced is reported as a ``States.Runtime`` failure (exit 1).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator

from asw_airflow.diagnostics import DefinitionError, pointer_join
from asw_airflow.engine.handlers import HandlerRegistry
from asw_airflow.engine.interpreter import ExecutionResult, Listener
from asw_airflow.ir import Machine

if TYPE_CHECKING:
    from asw_airflow.airflow.sidecar import Sidecar
    from asw_airflow.tencentcloud.client import Credentials

ENGINES: dict[str, str] = {
    "local": "asw_airflow.cli.run:run_local",
    "airflow": "asw_airflow.airflow.runner:run_airflow",
}
"""Engine name -> ``module:function``; another backend registers itself with one line here."""

WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
DEFAULT_REGION = "ap-guangzhou"


class UsageError(Exception):
    """Something the user must fix before the workflow can run; printed as one line, exit 2."""


@dataclass(frozen=True)
class CloudAccess:
    """The Tencent Cloud the handlers talk to, for engines that connect by themselves (Airflow's connection)."""

    credentials: Credentials
    endpoint: str | None
    region: str
    poll_interval: float | None = None


@dataclass(frozen=True)
class RunOptions:
    """What an engine needs besides the machine and input; ``cloud`` is None for mocks and no cloud,
    ``sidecar`` None when the workflow has none."""

    handlers: HandlerRegistry
    history: bool
    listener: Listener | None
    cloud: CloudAccess | None = None
    sidecar: Sidecar | None = None


EngineRunner = Callable[[Machine, Any, RunOptions], ExecutionResult]


def run_local(machine: Machine, input: Any, options: RunOptions) -> ExecutionResult:
    """The in-process engine; a sidecar's ``role`` is ``$$.Execution.RoleArn``."""
    from datetime import datetime, timezone

    from asw_airflow.engine.interpreter import default_context, run_execution

    role = options.sidecar.role if options.sidecar is not None else None
    context = None if role is None else default_context(machine, input, datetime.now(timezone.utc), role_arn=role)
    return run_execution(
        machine, input, context=context, handlers=options.handlers, history=options.history, listener=options.listener
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run a workflow locally and print its output")
    parser.add_argument("path", metavar="PATH", help="the TCSL definition file")
    parser.add_argument("--input", metavar="JSON",
                        help="execution input as JSON, or @FILE (default: the sidecar's input, else {})")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="local", help="where to run (default local)")
    parser.add_argument("--type", dest="workflow_type", choices=WORKFLOW_TYPES,
                        help="workflow type (default: the sidecar's type, else STANDARD)")
    parser.add_argument("--mock", metavar="FILE#CASE", help="answer Tasks from a Step Functions Local mock file test case")
    parser.add_argument("--history", metavar="FILE", help="write the execution history (ASW's event shape) to FILE")
    parser.add_argument("--functions", metavar="DIR",
                        help="serve cloud functions DIR/<FunctionName>/index.py from a local emulator for scf Tasks")
    parser.add_argument("--workflows", metavar="DIR",
                        help="serve nested workflows DIR/<name>.json from a local emulator for asw Tasks")
    parser.add_argument("--endpoint", metavar="URL",
                        help="Tencent Cloud API endpoint for Tasks (credentials from TENCENTCLOUD_SECRET_ID/KEY)")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"region for Tencent Cloud calls (default {DEFAULT_REGION})")
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        try:
            _check_options(args)
            sidecar = _load_sidecar(args.path)
            default_type = sidecar.workflow_type if sidecar is not None else "STANDARD"
            machine = _load_machine(args.path, args.workflow_type or default_type)
            if args.input is not None:
                input = _read_input(args.input)
            else:
                input = sidecar.input if sidecar is not None else {}
            runner = _engine(args.engine)
            handlers, cloud = stack.enter_context(_handlers(args))
            history = None if args.history is None else stack.enter_context(_open_history(args.history))
            listener = _progress if sys.stderr.isatty() else None
            result = runner(machine, input, RunOptions(handlers, history is not None, listener, cloud, sidecar))
        except UsageError as error:
            for line in str(error).splitlines():
                print(f"asw run: {line}", file=sys.stderr)
            return 2
        except DefinitionError as error:
            for diagnostic in error.diagnostics:
                print(diagnostic.format(), file=sys.stderr)
            return 2
        if history is not None:
            try:
                text = json.dumps(result.history, ensure_ascii=False, indent=2, allow_nan=False)
                history.truncate(0)
                history.write(text)
            except OSError as error:
                print(f"asw run: cannot write history to {args.history}: {error.strerror or error}", file=sys.stderr)
                return 2
            except ValueError:  # allow_nan=False: NaN/Infinity would make the file unreadable as JSON
                print(f"asw run: cannot write history to {args.history}: it holds NaN or Infinity, which JSON "
                      "cannot represent", file=sys.stderr)
                return 2
    failure, cause = result.error, result.cause
    if result.status == "SUCCEED":
        found = _non_finite(result.output)
        if found is None:
            print(json.dumps(result.output, ensure_ascii=False, allow_nan=False))
            return 0
        # A task's result or States.StringToJson can yield NaN/Infinity; printing it would not be JSON.
        number, where = json.dumps(found[1]), found[0] or "/"
        failure, cause = "States.Runtime", f"the output holds {number} at {where}, which JSON cannot represent"
    print(json.dumps({"Error": failure, "Cause": cause}, ensure_ascii=False))
    return 1


def _non_finite(value: Any, pointer: str = "") -> tuple[str, float] | None:
    """The pointer to the first NaN or Infinity in ``value`` and the number, or None when it is all JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return pointer, value
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = _non_finite(child, pointer + pointer_join(key))
        if found is not None:
            return found
    return None


def _check_options(args: argparse.Namespace) -> None:
    """Options that contradict each other or name a missing folder: said before anything runs."""
    emulated = [name for name in ("functions", "workflows") if getattr(args, name) is not None]
    if args.endpoint is not None and emulated:
        raise UsageError(f"--endpoint and --{'/--'.join(emulated)} exclude each other: Tasks call either a Tencent "
                         "Cloud endpoint or the local emulator")
    if args.mock is not None and (emulated or args.endpoint is not None):
        other = "--endpoint" if args.endpoint is not None else f"--{emulated[0]}"
        raise UsageError(f"--mock and {other} exclude each other: Tasks are answered either by the mock file or by "
                         "a cloud")
    for name in emulated:
        folder = getattr(args, name)
        if not Path(folder).is_dir():
            problem = "is not a directory" if Path(folder).exists() else "no such directory"
            raise UsageError(f"--{name} {folder}: {problem}")


def _open_history(path: str) -> IO[str]:
    """Opened before the run, so an unwritable path is a usage error and not a run lost at the end.

    Append mode does not truncate: an earlier history survives a run that stops with a usage error.
    """
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--history {path}: {error.strerror or error}") from None


def _load_machine(path: str, workflow_type: str) -> Machine:
    from asw_airflow.ir import build_machine
    from asw_airflow.loader import load_file

    try:
        source = load_file(path)
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror or error}") from None
    return build_machine(source, workflow_type, name=Path(path).stem)  # type: ignore[arg-type]


def _load_sidecar(path: str) -> Sidecar | None:
    """The ``<name>.dag.json`` next to ``path``, if there is one (an invalid one is a DefinitionError)."""
    from asw_airflow.airflow.sidecar import SIDECAR_SUFFIX, parse_sidecar

    workflow = Path(path)
    sidecar = workflow.with_name(workflow.stem + SIDECAR_SUFFIX)
    try:
        text = sidecar.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(f"{sidecar}: {error.strerror or error}") from None
    return parse_sidecar(text, str(sidecar))


def _read_input(text: str) -> Any:
    """``--input``: any strict JSON value (duplicate keys and NaN/Infinity are errors, as in definitions)."""
    from asw_airflow.loader import load_value

    where = "--input"
    data: str | bytes = text
    if text.startswith("@"):
        where = text[1:]
        try:
            data = Path(where).read_bytes()
        except OSError as error:
            raise UsageError(f"--input {where}: {error.strerror or error}") from None
    try:
        return load_value(data, where)
    except DefinitionError as error:
        raise UsageError("\n".join(
            f"{where} is not JSON: {d.message} at line {d.line} column {d.column}"
            + (f" ({d.pointer})" if d.pointer else "")
            for d in error.diagnostics
        )) from None


def _engine(name: str) -> EngineRunner:
    module, _, function = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), function)


@contextlib.contextmanager
def _handlers(args: argparse.Namespace) -> Iterator[tuple[HandlerRegistry, CloudAccess | None]]:
    """Task handlers: a mock test case, a local emulator (--functions/--workflows), or an endpoint."""
    if args.mock is not None:
        yield _mock_handlers(args.mock, Path(args.path).stem), None
        return
    if args.functions is None and args.workflows is None and args.endpoint is None:
        yield HandlerRegistry(), None
        return
    if args.endpoint is None:
        from asw_airflow.tencentcloud.local import LOCAL_POLL_INTERVAL, local_cloud

        with local_cloud(args.functions, args.workflows, args.region) as cloud:
            access = CloudAccess(cloud.credentials, cloud.emulator.endpoint, args.region, LOCAL_POLL_INTERVAL)
            yield cloud.handlers, access
        return
    from asw_airflow.tencentcloud.client import Credentials, TencentCloudClient
    from asw_airflow.tencentcloud.integrations import register_tencentcloud_handlers

    try:
        credentials = Credentials.from_env()
    except ValueError as error:
        raise UsageError(str(error)) from None
    registry = HandlerRegistry()
    with TencentCloudClient(credentials, args.region, endpoint=args.endpoint) as client:
        register_tencentcloud_handlers(registry, client)
        yield registry, CloudAccess(credentials, args.endpoint, args.region)


def _mock_handlers(spec: str, machine_name: str) -> HandlerRegistry:
    from asw_airflow.engine.mocks import MockConfigError, load_mock_file

    file, _, case = spec.partition("#")
    if not case:
        raise UsageError(f"--mock {spec!r}: write FILE#CASE, naming the test case to use")
    try:
        return load_mock_file(file, case, machine_name)
    except OSError as error:
        raise UsageError(f"--mock {file}: {error.strerror or error}") from None
    except MockConfigError as error:
        raise UsageError(f"--mock {file}: {error}") from None


def _progress(category: str, state_name: str) -> None:
    if category.endswith(("NodeEnter", "NodeExit", "NodeFailed")):
        print(f"  {category:<22} {state_name}", file=sys.stderr)
    else:
        print(category, file=sys.stderr)
