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
        "task_id": "Each.iteration.Work", "state": "Work", "kind": "PassOperator", "group": "Each.iteration",
        "mapped": True, "upstream": ["Each.items"], "trigger_rule": "none_failed_min_one_success",
    }
    assert tasks["Each.collect"]["trigger_rule"] == "all_done"
    assert tasks["end"]["upstream"] == ["Done"]


def test_invalid_definition_exits_2_with_located_diagnostics(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}}')
    assert main(["compile", str(path)]) == 2
    assert f"{path}:1:" in capsys.readouterr().err
