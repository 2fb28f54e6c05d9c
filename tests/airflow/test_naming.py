from asw_airflow.airflow.naming import Namer, sanitize
from tests.airflow.helpers import compile_definition


def test_plain_names_are_kept():
    assert sanitize("Transcode-Video_2") == "Transcode-Video_2"


def test_unicode_words_are_kept_but_spaces_are_replaced_with_a_stable_hash():
    assert sanitize("转码") == "转码"
    key = sanitize("Check status?")
    assert key.startswith("Check_status_") and key == sanitize("Check status?")


def test_collisions_get_distinct_keys_and_reserved_ids_are_avoided():
    namer = Namer()
    first, second = namer.key("a b"), namer.key("a_b")
    assert first != second
    assert namer.key("a b") == first
    assert namer.key("end") != "end"


def nested_parallels(depth: int, name_length: int = 80) -> dict:
    """``depth`` Parallels, each the only state of its parent's one branch, with long state names."""
    machine = {"StartAt": "Leaf", "States": {"Leaf": {"Type": "Pass", "End": True}}}
    for level in range(depth):
        name = f"Level{level}_".ljust(name_length, "x")
        machine = {"StartAt": name, "States": {name: {"Type": "Parallel", "End": True, "Branches": [machine]}}}
    return machine


def test_full_task_ids_of_deeply_nested_long_names_stay_under_airflows_limit():
    _, dag = compile_definition(nested_parallels(5))
    assert max(len(task_id) for task_id in dag.task_ids) <= 250
    assert any(task_id.endswith(".branch_0.Leaf") for task_id in dag.task_ids)


def test_short_names_under_a_long_prefix_are_kept_and_cut_names_stay_distinct():
    from airflow.sdk import DAG, TaskGroup

    with DAG("naming_prefix", schedule=None):
        with TaskGroup("g" * 190):
            namer = Namer()
            short, first, second = namer.key("Leaf"), namer.key("a" * 40 + "1"), namer.key("a" * 40 + "2")
    assert short == "Leaf"
    assert first != second and max(len(first), len(second)) <= (250 - 191) // 3
