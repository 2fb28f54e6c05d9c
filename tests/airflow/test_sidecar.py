import json

import pytest

from asw_airflow.airflow.sidecar import Sidecar, parse_sidecar
from asw_airflow.diagnostics import DefinitionError


def test_defaults_without_keys():
    assert parse_sidecar("{}") == Sidecar()


def test_settings_are_read():
    sidecar = parse_sidecar(
        '{"type": "EXPRESS", "schedule": "0 */12 * * *", "input": {"a": 1}, "tags": ["etl"], "max_active_runs": 2, "role": "r"}'
    )
    assert (sidecar.workflow_type, sidecar.schedule, sidecar.input, sidecar.tags, sidecar.max_active_runs, sidecar.role) == (
        "EXPRESS", "0 */12 * * *", {"a": 1}, ("etl",), 2, "r")


def test_every_wrong_key_is_located():
    with pytest.raises(DefinitionError) as caught:
        parse_sidecar('{\n  "type": "FAST",\n  "schedul": "@daily"\n}', "w.dag.json")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("w.dag.json:2:11: INVALID_SIDECAR type must be")
    assert lines[1].startswith("w.dag.json:3:3: INVALID_SIDECAR unknown sidecar key 'schedul'")


@pytest.mark.parametrize("schedule", ["0 */12 * * *", "@daily", "@quarterly", "@once", "@continuous", "*/5 * * * * 30", None])
def test_cron_expressions_and_presets_airflow_takes_are_accepted(schedule):
    from airflow.sdk import DAG

    runs = 1 if schedule == "@continuous" else 16
    assert parse_sidecar(json.dumps({"schedule": schedule, "max_active_runs": runs})).schedule == schedule
    DAG("schedule_check", schedule=schedule, max_active_runs=runs).validate()


def test_continuous_schedule_needs_one_active_run():
    with pytest.raises(DefinitionError) as caught:
        parse_sidecar('{"schedule": "@continuous"}', "w.dag.json")
    assert "INVALID_SIDECAR schedule \"@continuous\" needs \"max_active_runs\": 1" in str(caught.value)


@pytest.mark.parametrize("schedule", ["not a cron", "61 * * * *", "@reboot", "", 5])
def test_a_schedule_airflow_would_reject_is_located(schedule):
    with pytest.raises(DefinitionError) as caught:
        parse_sidecar('{\n  "tags": [],\n  "schedule": ' + json.dumps(schedule) + "\n}", "w.dag.json")
    assert str(caught.value).startswith("w.dag.json:3:15: INVALID_SIDECAR schedule must be a cron expression or preset")


def test_a_connection_id_airflow_cannot_look_up_is_located():
    assert parse_sidecar('{"connection_id": "my-cloud.v2"}').connection_id == "my-cloud.v2"
    with pytest.raises(DefinitionError) as caught:
        parse_sidecar('{"connection_id": "my cloud"}', "w.dag.json")
    assert str(caught.value).startswith("w.dag.json:1:19: INVALID_SIDECAR connection_id must be the id of a tencentcloud")
