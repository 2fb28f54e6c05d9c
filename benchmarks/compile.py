"""Side-by-side costs of the Airflow backend against plain Airflow of the same shape.

(a) building the DAG of a generated N-state workflow vs N bare EmptyOperators with the same edges
    (target <= 1.5x); (c) dag.test() time per state vs PythonOperators of the same shape
    (target <= 1.2x). Run: .venv/bin/python benchmarks/compile.py [--states 1000] [--run-states 20]
"""

from __future__ import annotations

import argparse
import time

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


def build_bare(states: int, dag_id: str, operator: str = "empty"):
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, chain

    def step(ti=None):
        upstream = ti.task.upstream_task_ids
        value = ti.xcom_pull(task_ids=next(iter(upstream))) if upstream else {}
        return value

    with DAG(dag_id, schedule=None) as dag:
        if operator == "empty":
            tasks = [EmptyOperator(task_id=f"S{i}") for i in range(states)]
        else:
            tasks = [PythonOperator(task_id=f"S{i}", python_callable=step) for i in range(states)]
        chain(*tasks)
    return dag


def best(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--run-states", type=int, default=20)
    args = parser.parse_args()
    from asw_airflow.ir import build_machine

    definition = chain_definition(args.states)
    machine = build_machine(definition, name="bench")
    ir_time = best(lambda: build_machine(definition, name="bench"))
    ours = best(lambda: build_ours(machine, "bench_ours"))
    bare = best(lambda: build_bare(args.states, "bench_bare"))
    print(f"(a) build DAG, {args.states} states: ours {ours:.3f} s (+ IR {ir_time:.3f} s) | bare EmptyOperators {bare:.3f} s | ratio {ours / bare:.2f}x (target <= 1.5x)")

    from asw_airflow.airflow.runner import run_dag, serialize

    small = build_machine(chain_definition(args.run_states), name="bench_run")
    ours_dag = build_ours(small, "bench_run_ours")
    bare_dag = build_bare(args.run_states, "bench_run_bare", "python")
    serialize(bare_dag)
    bare_dag.test()  # warm-up: the first dag.test() in a process pays ~10 s
    run_ours = best(lambda: run_dag(ours_dag, {}), repeat=2)
    run_bare = best(lambda: bare_dag.test(), repeat=2)
    states = args.run_states
    print(
        f"(c) dag.test per state, {states} states: ours {run_ours / (states + 1) * 1000:.0f} ms | PythonOperators "
        f"{run_bare / states * 1000:.0f} ms | ratio {run_ours / run_bare:.2f}x (target <= 1.2x; ours has one extra task, end)"
    )
    print("(b) dags folder of 50 workflows vs dag-factory: not measured yet")


if __name__ == "__main__":
    main()
