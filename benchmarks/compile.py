"""Side-by-side costs of the Airflow backend against plain Airflow of the same shape.

(a) building the DAG of a generated N-state workflow vs N bare EmptyOperators with the same edges
    (target <= 1.5x); the reference row gives the bare operators our DAG-level arguments (params,
    default_args, tags, docs), to show what Airflow charges for those alone.
(b) parsing a dags folder of W generated workflows: our one-line DAG file calling
    ``load_workflows`` over W TCSL files vs dag-factory over W YAML DAGs of the same tasks
    (EmptyOperators, ``end`` included) and edges (target: faster than dag-factory). Both are
    timed as ``DagBag(dag_folder)`` in fresh subprocesses on a temporary SQLite AIRFLOW_HOME,
    alternating sides, best of --folder-repeat: *cold* is the first parse in the process (the
    DAG file imports its library, as in the DAG processor, which pre-imports only ``airflow.*``);
    *warm* is a second DagBag in the same process (our loader then hits its content cache;
    dag-factory has none and rebuilds).
(c) dag.test() time per state vs PythonOperators of the same shape (target <= 1.2x).

Run: .venv/bin/python benchmarks/compile.py [--states 1000] [--repeat 7] [--run-states 20] [--run-repeat 3]
     [--workflows 50] [--folder-states 20] [--folder-repeat 3] [--skip-run]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from asw_airflow.airflow.runner import prepare_home

prepare_home()


def chain_definition(states: int) -> dict:
    names = [f"S{i}" for i in range(states)]
    body = {name: {"Type": "Pass", "Next": nxt} for name, nxt in zip(names, names[1:])}
    body[names[-1]] = {"Type": "Pass", "End": True}
    return {"StartAt": names[0], "States": body}


def build_ours(machine, dag_id: str):
    from asw_airflow.airflow.compiler import build_dag
    from asw_airflow.airflow.sidecar import Sidecar

    return build_dag(machine, dag_id=dag_id, workflow_name=dag_id, settings=Sidecar())


def build_bare(states: int, dag_id: str, operator: str = "empty", dag_kwargs: dict | None = None):
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, chain

    def step(ti=None):
        upstream = ti.task.upstream_task_ids
        value = ti.xcom_pull(task_ids=next(iter(upstream))) if upstream else {}
        return value

    with DAG(dag_id, schedule=None, **(dag_kwargs or {})) as dag:
        if operator == "empty":
            tasks = [EmptyOperator(task_id=f"S{i}") for i in range(states)]
        else:
            tasks = [PythonOperator(task_id=f"S{i}", python_callable=step) for i in range(states)]
        chain(*tasks)
    return dag


def our_dag_kwargs() -> dict:
    """The DAG-level arguments ``build_dag`` passes for a default sidecar, for the reference row of (a)."""
    from airflow.sdk import Param

    return {
        "tags": ["asw"],
        "default_args": {"owner": "airflow", "retries": 0},
        "params": {"input": Param({}, description="Execution input: the JSON the workflow starts with.")},
        "description": "TCSL workflow bench",
        "doc_md": "TCSL workflow **bench** (STANDARD).",
    }


def best(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def best_interleaved(functions: dict, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` for each function, run round-robin so load from other processes hits all sides."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            gc.collect()  # the previous build's DAG (a reference cycle) is not charged to this one
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


# --- (b) dags folder ------------------------------------------------------------------------------

OUR_DAG_FILE = """\
# Airflow DAG file: every TCSL workflow in ./workflows becomes a DAG.
from pathlib import Path

from asw_airflow.airflow.loader import load_workflows

load_workflows(Path(__file__).parent / "workflows", globals())
"""

FACTORY_DAG_FILE = """\
# Airflow DAG file: every YAML DAG in ./yaml becomes a DAG (dag-factory).
from pathlib import Path

from dagfactory import load_yaml_dags

folder = str(Path(__file__).parent / "yaml")
load_yaml_dags(globals_dict=globals(), dags_folder=folder, defaults_config_path=folder)
"""

CHILD = textwrap.dedent(
    """\
    import json, os, sys, time
    from airflow.dag_processing.dagbag import DagBag

    folder, expected = sys.argv[1], int(sys.argv[2])
    results = {}
    for label in ("cold", "warm"):
        start = time.perf_counter()
        bag = DagBag(dag_folder=folder)
        results[label] = time.perf_counter() - start
        tasks = sum(len(dag.task_dict) for dag in bag.dags.values())
        if len(bag.dags) != expected or bag.import_errors:
            sys.exit(f"{folder}: {len(bag.dags)} DAGs, import errors {bag.import_errors}")
    results["tasks"] = tasks
    first = bag.dags[min(bag.dags)]
    results["edges"] = sorted([task.task_id, down] for task in first.tasks for down in task.downstream_task_ids)
    print(json.dumps(results))
    """
)


def factory_yaml(dag_id: str, states: int) -> str:
    """dag-factory YAML of the DAG we compile for ``chain_definition(states)``: S0 -> ... -> S{n-1} -> end."""
    lines = [f"{dag_id}:", "  schedule: null", "  catchup: false", "  tags: [asw]", "  tasks:"]
    names = [f"S{i}" for i in range(states)] + ["end"]
    for index, name in enumerate(names):
        lines.append(f"    {name}:")
        lines.append("      operator: airflow.providers.standard.operators.empty.EmptyOperator")
        if index:
            lines.append(f"      dependencies: [{names[index - 1]}]")
    return "\n".join(lines) + "\n"


def make_folders(root: Path, workflows: int, states: int) -> tuple[Path, Path]:
    ours, factory = root / "ours", root / "factory"
    (ours / "workflows").mkdir(parents=True)
    (factory / "yaml").mkdir(parents=True)
    (ours / "asw_workflows.py").write_text(OUR_DAG_FILE)
    (factory / "factory_dags.py").write_text(FACTORY_DAG_FILE)
    for number in range(workflows):
        dag_id = f"wf_{number:03d}"
        (ours / "workflows" / f"{dag_id}.json").write_text(json.dumps(chain_definition(states), indent=2))
        (factory / "yaml" / f"{dag_id}.yaml").write_text(factory_yaml(dag_id, states))
    return ours, factory


def parse_in_child(folder: Path, expected: int, home: str) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY": "False",  # only emitted on runs, but keep parsing offline
        "DO_NOT_TRACK": "True",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(expected)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"parsing {folder} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_folders(workflows: int, states: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="asw-bench-folder-") as root:
        ours, factory = make_folders(Path(root), workflows, states)
        home = os.path.join(root, "home")
        os.makedirs(home)
        runs: dict[str, list[dict]] = {"ours": [], "factory": []}
        for _ in range(repeat):  # alternate sides so machine load hits both
            runs["ours"].append(parse_in_child(ours, workflows, home))
            runs["factory"].append(parse_in_child(factory, workflows, home))
    tasks = {side: results[0]["tasks"] for side, results in runs.items()}
    if runs["ours"][0]["edges"] != runs["factory"][0]["edges"]:
        raise RuntimeError("the dag-factory baseline does not have our edges: not the same shape")
    print(
        f"(b) DagBag of {workflows} workflows x {states + 1} tasks ({tasks['ours']} vs {tasks['factory']} tasks), "
        f"same edges, fresh process each, best of {repeat}:"
    )
    for label in ("cold", "warm"):
        ours_time = min(result[label] for result in runs["ours"])
        factory_time = min(result[label] for result in runs["factory"])
        note = "1st parse, library imported by the DAG file" if label == "cold" else "2nd parse in the same process"
        print(
            f"    {label} ({note}): ours {ours_time:.3f} s | dag-factory {factory_time:.3f} s | "
            f"ratio {ours_time / factory_time:.2f}x (target < 1x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7, help="best-of for (a)")
    parser.add_argument("--run-states", type=int, default=20)
    parser.add_argument("--run-repeat", type=int, default=3, help="best-of for (c)")
    parser.add_argument("--workflows", type=int, default=50)
    parser.add_argument("--folder-states", type=int, default=20)
    parser.add_argument("--folder-repeat", type=int, default=3)
    parser.add_argument("--skip-run", action="store_true", help="skip (c), which pays ~10 s of dag.test() warm-up")
    args = parser.parse_args()
    from asw_airflow.ir import build_machine

    definition = chain_definition(args.states)
    machine = build_machine(definition, name="bench")
    ir_time = best(lambda: build_machine(definition, name="bench"))
    reference_kwargs = our_dag_kwargs()
    tasks = len(build_ours(machine, "warm_ours").task_dict)  # the states and `end`: as many bare operators
    build_bare(tasks, "warm_bare")  # the first build in a process pays Airflow's lazy imports
    times = best_interleaved(
        {
            "ours": lambda: build_ours(machine, "bench_ours"),
            "bare": lambda: build_bare(tasks, "bench_bare"),
            "reference": lambda: build_bare(tasks, "bench_reference", dag_kwargs=reference_kwargs),
        },
        args.repeat,
    )
    ours, bare, reference = times["ours"], times["bare"], times["reference"]
    print(
        f"(a) build DAG, {args.states} states ({tasks} tasks, a chain), best of {args.repeat}: ours {ours:.3f} s "
        f"(+ IR {ir_time:.3f} s) | {tasks} bare EmptyOperators {bare:.3f} s | ratio {ours / bare:.2f}x (target <= 1.5x)"
    )
    print(
        f"    reference: bare EmptyOperators in a DAG with our params/default_args/docs {reference:.3f} s "
        f"({reference / bare:.2f}x bare); ours is {ours / reference:.2f}x that"
    )

    measure_folders(args.workflows, args.folder_states, args.folder_repeat)

    if args.skip_run:
        return
    from asw_airflow.airflow.runner import run_dag, serialize

    small = build_machine(chain_definition(args.run_states), name="bench_run")
    ours_dag = build_ours(small, "bench_run_ours")
    bare_dag = build_bare(args.run_states, "bench_run_bare", "python")
    serialize(bare_dag)
    bare_dag.test()  # warm-up: the first dag.test() in a process pays ~10 s
    runs = best_interleaved({"ours": lambda: run_dag(ours_dag, {}), "bare": lambda: bare_dag.test()}, args.run_repeat)
    run_ours, run_bare = runs["ours"], runs["bare"]
    states = args.run_states
    per_ours, per_bare = run_ours / (states + 1), run_bare / states
    print(
        f"(c) dag.test, {states} states, best of {args.run_repeat}: ours {per_ours * 1000:.0f} ms/task | PythonOperators "
        f"{per_bare * 1000:.0f} ms/task | ratio {run_ours / run_bare:.2f}x per run, {per_ours / per_bare:.2f}x per task "
        f"(target <= 1.2x; ours has one extra task, end)"
    )


if __name__ == "__main__":
    main()
