"""The qrn grammar of Task resources and ASW's integration-mode support matrix."""

from __future__ import annotations

import pytest

from asw_airflow.resource import ResourceError, check_mode, parse_resource

BASE = "qrn:qcs:asw:ap-guangzhou:1250000000:sdk:json:qcloud"


def test_cloud_function_with_qualifier_and_namespace() -> None:
    ref = parse_resource(f"{BASE}:scf:Invoke/average/$LATEST/default")
    assert (ref.kind, ref.function, ref.qualifier, ref.namespace, ref.mode) == ("scf", "average", "$LATEST", "default", "request-response")


def test_generic_api_with_lower_camel_action_and_short_region() -> None:
    ref = parse_resource("qrn:qcs:asw:sh:1250000000:sdk:json:qcloud:mps:checkMpsJob")
    assert (ref.kind, ref.region, ref.service, ref.action) == ("api", "sh", "mps", "checkMpsJob")


def test_sync_suffix() -> None:
    assert parse_resource(f"{BASE}:asw:StartExecution.sync").mode == "sync"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("arn:aws:states:::lambda:invoke", "expected qrn:qcs:asw:{region}"),
        (f"{BASE}:scf:Invoke", "names none"),
        (f"{BASE}:cvm:DescribeInstances/x", "only scf:Invoke takes"),
    ],
)
def test_malformed_resources_show_the_expected_form(text: str, message: str) -> None:
    with pytest.raises(ResourceError, match=message.replace("{", r"\{").replace("$", r"\$")):
        parse_resource(text)


def test_support_matrix() -> None:
    check_mode(parse_resource(f"{BASE}:scf:Invoke.sync/fn"), "STANDARD")
    check_mode(parse_resource(f"{BASE}:cvm:DescribeInstances"), "EXPRESS")
    with pytest.raises(ResourceError, match="EXPRESS workflows support request-response only"):
        check_mode(parse_resource(f"{BASE}:scf:Invoke.sync/fn"), "EXPRESS")
    with pytest.raises(ResourceError, match="request-response only, drop the .sync suffix"):
        check_mode(parse_resource(f"{BASE}:cvm:RunInstances.sync"), "STANDARD")
