from asw_airflow.airflow.naming import Namer, sanitize


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
