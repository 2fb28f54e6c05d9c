import json

from asw_airflow.cli import main

DEFINITION = {
    "StartAt": "Each",
    "States": {
        "Each": {"Type": "Map", "Iterator": {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "End": True}}}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def test_json_lists_every_task_with_its_state_group_and_trigger_rule(tmp_path, capsys):
    path = tmp_path / "fan_out.json"
    path.write_text(json.dumps(DEFINITION))
    assert main(["compile", str(path), "--format", "json"]) == 0
    described = json.loads(capsys.readouterr().out)
    tasks = {task["task_id"]: task for task in described["tasks"]}
    assert described["dag_id"] == "fan_out"
    assert list(tasks) == ["Each.items", "Each.iteration.Work", "Each.collect", "Done", "end"]
    assert tasks["Each.iteration.Work"] | {} == {
        "task_id": "Each.iteration.Work", "state": "Work", "kind": "Pass", "group": "Each.iteration",
        "mapped": True, "upstream": ["Each.items"], "trigger_rule": "none_failed_min_one_success",
    }
    assert tasks["Each.collect"]["trigger_rule"] == "all_done"
    assert tasks["end"]["upstream"] == ["Done"]
    assert (tasks["end"]["kind"], tasks["end"]["state"]) == ("end", None)
    assert all(set(task) == {"task_id", "state", "kind", "group", "mapped", "upstream", "trigger_rule"} for task in tasks.values())


def test_invalid_definition_exits_2_with_located_diagnostics(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}}')
    assert main(["compile", str(path)]) == 2
    assert f"{path}:1:" in capsys.readouterr().err


SHAPES = {
    "StartAt": "Route",
    "States": {
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.fan", "BooleanEquals": True, "Next": "Both"}], "Default": "Grid"},
        "Both": {"Type": "Parallel", "Next": "Again", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Pass", "End": True}}},
        ]},
        "Grid": {"Type": "Map", "MaxConcurrency": 2, "Next": "Again", "Iterator": {"StartAt": "Row", "States": {
            "Row": {"Type": "Map", "Iterator": {"StartAt": "Cell", "States": {"Cell": {"Type": "Pass", "End": True}}}, "Next": "Mark"},
            "Mark": {"Type": "Pass", "End": True},
        }}},
        "Again": {"Type": "Pass", "Next": "More"},
        "More": {"Type": "Choice", "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "Again"}], "Default": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
JOIN, ALL_DONE = "none_failed_min_one_success", "all_done"


def compiled(tmp_path, capsys, definition: dict, *extra: str) -> dict:
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(definition))
    assert main(["compile", str(path), "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_choice_parallel_map_nested_map_and_loop_compile_to_the_documented_tasks(tmp_path, capsys):
    tasks = [
        (t["task_id"], t["state"], t["kind"], t["group"], t["mapped"], t["upstream"], t["trigger_rule"])
        for t in compiled(tmp_path, capsys, SHAPES)["tasks"]
    ]
    assert tasks == [
        ("Route", "Route", "Choice", None, False, [], JOIN),
        # Parallel: fork, one group per branch, join building the array whatever the branches did
        ("Both.fork", None, "parallel-fork", "Both", False, ["Route"], JOIN),
        ("Both.branch_0.A", "A", "Pass", "Both.branch_0", False, ["Both.fork"], JOIN),
        ("Both.branch_1.B", "B", "Pass", "Both.branch_1", False, ["Both.fork"], JOIN),
        ("Both.branch_1.C", "C", "Pass", "Both.branch_1", False, ["Both.branch_1.B"], JOIN),
        ("Both.join", None, "parallel-join", "Both", False, ["Both.branch_0.A", "Both.branch_1.C", "Both.fork"], ALL_DONE),
        # Map: items, a mapped iteration group (the nested Map is one engine task in it), collect
        ("Grid.items", None, "map-items", "Grid", False, ["Route"], JOIN),
        ("Grid.iteration.Row", "Row", "engine", "Grid.iteration", True, ["Grid.items"], JOIN),
        ("Grid.iteration.Mark", "Mark", "Pass", "Grid.iteration", True, ["Grid.iteration.Row"], JOIN),
        ("Grid.collect", None, "map-collect", "Grid", False, ["Grid.items", "Grid.iteration.Mark"], ALL_DONE),
        # the loop Again -> More -> Again is one engine task joining both fan-ins
        ("loop_Again_More", "Again", "engine", None, False, ["Both.join", "Grid.collect"], JOIN),
        ("Done", "Done", "Succeed", None, False, ["loop_Again_More"], JOIN),
        ("end", None, "end", None, False, ["Done"], JOIN),
    ]


def test_map_iteration_tasks_carry_max_concurrency(tmp_path, capsys):
    from asw_airflow.airflow.loader import compile_file

    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(SHAPES))
    dag = compile_file(path)
    assert dag.get_task("Grid.iteration.Mark").max_active_tis_per_dagrun == 2
    assert dag.get_task("Grid.iteration.Row").region_states == ["Row"]


def test_express_workflow_is_one_engine_task_then_end(tmp_path, capsys):
    tasks = compiled(tmp_path, capsys, SHAPES, "--type", "EXPRESS")["tasks"]
    assert [(t["task_id"], t["kind"], t["upstream"]) for t in tasks] == [
        ("execution", "engine", []),
        ("end", "end", ["execution"]),
    ]


def test_a_workflow_airflow_rejects_exits_2_with_a_message_not_a_traceback(tmp_path, capsys):
    from tests.airflow.test_naming import nested_parallels

    path = tmp_path / "abyss.json"
    path.write_text(json.dumps(nested_parallels(30)))
    assert main(["compile", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"asw compile: cannot compile {path}: ValueError: ") and "Traceback" not in err


def test_long_nested_names_compile(tmp_path, capsys):
    from tests.airflow.test_naming import nested_parallels

    tasks = compiled(tmp_path, capsys, nested_parallels(5))["tasks"]
    assert [task["kind"] for task in tasks].count("parallel-fork") == 5
