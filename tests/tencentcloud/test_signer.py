from __future__ import annotations

from asw_airflow.tencentcloud.signer import authorization, parse_authorization, signature

# Tencent Cloud's published TC3 example: cvm DescribeInstances at 2019-02-25.
TIMESTAMP = 1551113065
PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
CONTENT_TYPE = "application/json; charset=utf-8"
HOST = "cvm.tencentcloudapi.com"


def test_published_vector_content_type_and_host():
    headers = {"Content-Type": CONTENT_TYPE, "Host": HOST}
    assert (
        signature("Gu5t9xGARNpq86cd98joQYCN3*******", TIMESTAMP, "cvm", headers, PAYLOAD)
        == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    )


def test_published_vector_with_action_header_lower_cased():
    headers = {"Content-Type": CONTENT_TYPE, "Host": HOST, "X-TC-Action": "DescribeInstances"}
    assert (
        signature("*" * 32, TIMESTAMP, "cvm", headers, PAYLOAD)
        == "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    )


def test_authorization_header_round_trips_through_parser():
    headers = {"Content-Type": CONTENT_TYPE, "Host": HOST}
    value = authorization("AKIDexample", "Gu5t9xGARNpq86cd98joQYCN3*******", TIMESTAMP, "cvm", headers, PAYLOAD)
    parsed = parse_authorization(value)
    assert parsed is not None
    assert (parsed.secret_id, parsed.date, parsed.service) == ("AKIDexample", "2019-02-25", "cvm")
    assert parsed.signed_headers == ("content-type", "host")
    assert parsed.signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


def test_parser_rejects_other_schemes():
    assert parse_authorization("Basic Zm9vOmJhcg==") is None
