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
