"""IR -> Airflow DAG: one task per state, groups for Parallel and Map, engine tasks where Airflow cannot follow.

A machine is cut into *units*: a state (one task), a Parallel (fork, a group per branch,
join), a Map (items, a mapped task group, collect), or an *engine region* (one task running
states on the in-process engine). Regions are used for what a DAG cannot express: loops (one
region per strongly connected component), a Map inside a Map iteration (Airflow cannot nest
``expand``), a Map or Parallel with Retry (a DAG cannot re-run a task group), and a whole
EXPRESS workflow. Units are wired by the envelopes described in ``operators``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param, TaskGroup, XComArg, task_group

from asw_airflow.airflow import operators as ops
from asw_airflow.airflow.naming import Namer
from asw_airflow.airflow.sidecar import Sidecar
from asw_airflow.ir import FailState, Machine, MapState, ParallelState, PassState, State
from asw_airflow.semantics import steps
from asw_airflow.semantics.paths import compile_path, compile_reference_path
from asw_airflow.semantics.templates import compile_template

JOIN_RULE = "none_failed_min_one_success"
FINAL_TASK_ID = "end"
EXPRESS_TIMEOUT = timedelta(minutes=5)
EXPRESS_RETRIES = 2


@dataclass(eq=False)
class _Unit:
    """States compiled together: ``entry`` receives the token, ``exit`` emits the envelope.

    ``preds`` are ``(state, target)`` edges from other units into this one; ``external`` are
    ``(task_id, wanted)`` sources from outside the machine (a fork, nothing for the start).
    """

    members: tuple[str, ...]
    entry: Any = None
    exit: Any = None
    preds: list[tuple[str, str]] = field(default_factory=list)
    external: list[tuple[str, str | None]] = field(default_factory=list)


def strongly_connected(machine: Machine) -> list[tuple[str, ...]]:
    """Tarjan's SCCs of the state graph (iterative), each in definition order."""
    order = {name: i for i, name in enumerate(machine.states)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[tuple[str, ...]] = []
    counter = 0
    for root in machine.states:
        if root in index:
            continue
        work = [(root, iter(machine.states[root].successors()))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in machine.states:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(machine.states[child].successors())))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(tuple(sorted(component, key=order.__getitem__)))
    return components


def _exit_stub(target: str) -> PassState:
    """A Pass that ends the region and reports ``target`` as the state to continue at."""
    return PassState(
        name=target,
        type="Pass",
        pointer="",
        end=True,
        input_path=compile_path("$"),
        output_path=compile_path("$"),
        parameters=compile_template({ops.EXIT_KEY: target, "value.$": "$"}),
        result_path=compile_reference_path("$"),
    )


def region_machine(machine: Machine, members: tuple[str, ...]) -> Machine:
    """``members`` of ``machine`` as a machine of their own, leaving through exit stubs."""
    states: dict[str, State] = {name: machine.states[name] for name in members}
    for name in members:
        for target in machine.states[name].successors():
            if target not in states:
                states[target] = _exit_stub(target)
    start = machine.start_at if machine.start_at in members else members[0]
    return Machine(
        start_at=start,
        states=states,
        timeout_seconds=None,  # the region's task passes the DAG run's deadline instead
        query_language=machine.query_language,
        comment=machine.comment,
        workflow_type=machine.workflow_type,
        name=machine.name,
        pointer=machine.pointer,
    )


class _Compiler:
    def __init__(self, dag: DAG, workflow_name: str, connection_id: str, role_arn: str | None, workflow_timeout: int | None):
        self.dag = dag
        self.common = {
            "workflow_name": workflow_name,
            "connection_id": connection_id,
            "role_arn": role_arn,
            "workflow_timeout": workflow_timeout,
        }
        self.in_map = False
        self.concurrency: int | None = None

    def machine(
        self, machine: Machine, external: list[tuple[str, str | None]], iteration: Any = None
    ) -> list[tuple[str, str | None]]:
        """Build ``machine``'s tasks in the current task group; returns its terminal sources."""
        namer = Namer()
        units: dict[str, _Unit] = {}
        for component in strongly_connected(machine):
            unit = _Unit(component)
            for name in component:
                units[name] = unit
        ordered = list(dict.fromkeys(units[name] for name in machine.states))
        units[machine.start_at].external.extend(external)
        for unit in ordered:
            for name in unit.members:
                for target in machine.states[name].successors():
                    if units[target] is not unit:
                        units[target].preds.append((name, target))
        for unit in _topological(ordered, units):
            sources = [(units[name].exit.task_id, target) for name, target in unit.preds] + unit.external
            first = iteration if machine.start_at in unit.members else None
            self._build(machine, unit, namer, sources, first)
            for task_id, _ in sources:
                self.dag.get_task(task_id) >> unit.entry
        return [
            (unit.exit.task_id, None)
            for unit in ordered
            if any(machine.states[name].end and not isinstance(machine.states[name], FailState) for name in unit.members)
        ]

    def _needs_engine(self, unit: _Unit, state: State) -> bool:
        if len(unit.members) > 1 or state.name in state.successors():
            return True  # a loop
        if isinstance(state, MapState):
            return self.in_map or bool(state.retry)
        return isinstance(state, ParallelState) and bool(state.retry)

    def _build(self, machine: Machine, unit: _Unit, namer: Namer, sources: list, iteration: Any) -> None:
        state = machine.states[unit.members[0]]
        common: dict[str, Any] = {**self.common, "sources": sources, "iteration": iteration, "trigger_rule": JOIN_RULE}
        if self.in_map and self.concurrency:
            common["max_active_tis_per_dagrun"] = self.concurrency
        if self._needs_engine(unit, state):
            region = region_machine(machine, unit.members)
            label = " + ".join(unit.members)
            key = state.name if len(unit.members) == 1 else "loop_" + "_".join(unit.members)
            task = ops.EngineRegionOperator(
                task_id=namer.key(key),
                state=region.states[region.start_at],
                region=region,
                members=unit.members,
                task_display_name=f"{label} (engine)",
                **common,
            )
            unit.entry = unit.exit = task
        elif isinstance(state, MapState):
            self._map(machine, state, unit, namer.key(state.name), common)
        elif isinstance(state, ParallelState):
            self._parallel(state, unit, namer.key(state.name), common)
        else:
            operator = ops.OPERATORS[type(state)]
            unit.entry = unit.exit = operator(task_id=namer.key(state.name), state=state, task_display_name=state.name, **common)

    def _new_tasks(self, before: set[str]) -> list[Any]:
        return [task for task_id, task in self.dag.task_dict.items() if task_id not in before]

    def _map(self, machine: Machine, state: MapState, unit: _Unit, key: str, common: dict[str, Any]) -> None:
        setting = state.max_concurrency
        concurrency = setting.constant if setting.path is None and setting.expression is None else None
        with TaskGroup(key, tooltip=f"Map {state.name}"):
            items = ops.MapItemsOperator(
                task_id="items",
                state=state,
                region=region_machine(machine, unit.members),
                task_display_name=f"{state.name}: items",
                **common,
            )
            terminals: list[tuple[str, str | None]] = []
            saved = self.in_map, self.concurrency
            self.in_map, self.concurrency = True, concurrency or None

            def iteration(item: Any) -> None:
                terminals.extend(self.machine(state.iterator, [], iteration=item))

            before = set(self.dag.task_dict)
            task_group(group_id="iteration")(iteration).expand(item=XComArg(items))
            self.in_map, self.concurrency = saved
            inner = self._new_tasks(before)
            collect = ops.MapCollectOperator(
                task_id="collect",
                state=state,
                head_task_id=items.task_id,
                terminal_task_ids=[task_id for task_id, _ in terminals],
                iterator_task_ids=[task.task_id for task in inner],
                task_display_name=f"{state.name}: collect",
                **self.common,
            )
            [task for task in inner if not task.downstream_list] >> collect
            items >> collect
        unit.entry, unit.exit = items, collect

    def _parallel(self, state: ParallelState, unit: _Unit, key: str, common: dict[str, Any]) -> None:
        with TaskGroup(key, tooltip=f"Parallel {state.name}"):
            fork = ops.ParallelForkOperator(task_id="fork", state=state, task_display_name=f"{state.name}: fork", **common)
            branches, branch_ids, leaves = [], [], []
            for number, branch in enumerate(state.branches):
                before = set(self.dag.task_dict)
                with TaskGroup(f"branch_{number}", tooltip=f"branch {number}: starts at {branch.start_at}"):
                    terminals = self.machine(branch, [(fork.task_id, None)])
                inner = self._new_tasks(before)
                branches.append([task_id for task_id, _ in terminals])
                branch_ids.append([task.task_id for task in inner])
                leaves.extend(task for task in inner if not task.downstream_list)
            join = ops.ParallelJoinOperator(
                task_id="join",
                state=state,
                head_task_id=fork.task_id,
                branches=branches,
                branch_task_ids=branch_ids,
                task_display_name=f"{state.name}: join",
                **{key: value for key, value in common.items() if key not in ("sources", "iteration", "trigger_rule")},
            )
            leaves >> join
            fork >> join
        unit.entry, unit.exit = fork, join


def _topological(ordered: list[_Unit], units: dict[str, _Unit]) -> list[_Unit]:
    """Units so that every source is built before the unit it feeds (the condensation is acyclic)."""
    done: set[int] = set()
    result: list[_Unit] = []

    def visit(unit: _Unit) -> None:
        stack = [(unit, False)]
        while stack:
            current, expanded = stack.pop()
            if id(current) in done:
                continue
            if expanded:
                done.add(id(current))
                result.append(current)
                continue
            stack.append((current, True))
            for name, _ in current.preds:
                if id(units[name]) not in done:
                    stack.append((units[name], False))

    for unit in ordered:
        visit(unit)
    return result


def _input_param(default: Any) -> Param:
    # No JSON-schema type: an execution input may be any JSON value, not only an object.
    return Param(default, description="Execution input: the JSON the workflow starts with.")


def build_dag(machine: Machine, *, dag_id: str, workflow_name: str, settings: Sidecar, fileloc: str | None = None) -> DAG:
    """The DAG running ``machine``; its final output is the ``return_value`` XCom of task ``end``."""
    dag = DAG(
        dag_id,
        schedule=settings.schedule,
        start_date=settings.start_date,
        catchup=settings.catchup,
        max_active_runs=settings.max_active_runs,
        tags=["asw", *settings.tags],
        default_args={"owner": settings.owner, "retries": 0},
        description=settings.description or machine.comment or f"TCSL workflow {workflow_name}",
        doc_md=f"TCSL workflow **{workflow_name}** ({machine.workflow_type}). Output: XCom `return_value` of task `{FINAL_TASK_ID}`.",
    )
    if fileloc is not None:
        dag.fileloc = fileloc
    # Every state task checks the execution's deadline (DAG run start + TimeoutSeconds) and caps its timers at it.
    compiler = _Compiler(dag, workflow_name, settings.connection_id, settings.role, steps.execution_timeout(machine))
    with dag:
        if machine.workflow_type == "EXPRESS":
            whole = ops.EngineRegionOperator(
                task_id="execution",
                state=machine.states[machine.start_at],
                region=machine,
                members=list(machine.states),
                task_display_name=f"{workflow_name} (EXPRESS, engine)",
                # ASW Express: at most five minutes, at-least-once (a failed attempt runs again). The
                # engine's 300 s deadline fails the run with States.Timeout; execution_timeout is a backstop.
                execution_timeout=EXPRESS_TIMEOUT,
                retries=EXPRESS_RETRIES,
                retry_delay=timedelta(seconds=1),
                **compiler.common,
            )
            terminals: list[tuple[str, str | None]] = [(whole.task_id, None)]
        else:
            terminals = compiler.machine(machine, [])
        end = ops.EndOperator(task_id=FINAL_TASK_ID, machine=machine, sources=terminals, trigger_rule=JOIN_RULE, **compiler.common)
        for task_id, _ in terminals:
            dag.get_task(task_id) >> end
    # Added once the tasks exist: a DAG-level Param given to DAG() is deep-copied into every
    # operator (twice for ours), about a third of build time; at run time tasks read dag.params.
    dag.params["input"] = _input_param(settings.input)
    return dag
