import json

import pytest

from alerts.ingest.parse import BodyError, InvalidJSON, ItemRejected, normalize, split_body
from socconsole.lib.jsonsafe import JSONTooDeep, loads, max_depth


def nested(depth):
    return "[" * depth + "]" * depth


def test_it_splits_an_array_keeping_each_element_byte_exact():
    first = '{"id" : "é-1",\t"display_name":"caf\\u00e9 ☕",  "severity":"low"}'
    second = '{ "id":"2", "list": [1, [2, {"x": "]}\\""}]],"severity": "High" }'
    body = f'\n  [ {first} ,\r\n\n   {second}\n\t]  \n'.encode()
    items = split_body(body, "application/json")
    assert [item.index for item in items] == [0, 1]
    assert items[0].raw == first.encode()
    assert items[1].raw == second.encode()
    assert items[0].data["display_name"] == "café ☕"
    assert items[1].data["list"][1][1] == {"x": ']}"'}


def test_it_splits_an_arm_list_whatever_the_key_order():
    element = '{"name": "n1", "properties": {"a": [1, 2]}}'
    body = ('{"nextLink": "https://x/y?page=2",  "value" :[' + element + ',\n {"name":"n2"}]}')
    items = split_body(body.encode(), None)
    assert [item.raw for item in items] == [element.encode(), b'{"name":"n2"}']
    assert items[1].data == {"name": "n2"}


def test_it_keeps_an_object_with_value_and_other_keys_as_one_item():
    body = b' {"id": "x", "value": [1, 2]} '
    items = split_body(body, "application/json")
    assert len(items) == 1
    assert items[0].raw == b'{"id": "x", "value": [1, 2]}'


def test_it_takes_a_single_object_as_one_item():
    items = split_body(b'\xef\xbb\xbf  {"id": "1"}\n', "application/json; charset=utf-8")
    assert [(item.index, item.raw, item.data) for item in items] == [
        (0, b'{"id": "1"}', {"id": "1"})]


def test_it_accepts_an_empty_array():
    assert split_body(b"[ ]", None) == []


def test_it_splits_ndjson_and_rejects_a_bad_line_alone():
    body = (b'\xef\xbb\xbf{"id": "1", "n": "\xc3\xa9"}\r\n\n   \n'
            b'{"id": "2", oops}\n'
            b'{"id": "3"}')
    items = split_body(body, "application/x-ndjson; charset=utf-8")
    assert [item.index for item in items] == [0, 1, 2]
    assert items[0].raw == b'{"id": "1", "n": "\xc3\xa9"}'
    assert items[0].data == {"id": "1", "n": "é"}
    assert isinstance(items[1].data, InvalidJSON)
    assert items[1].raw == b'{"id": "2", oops}'
    assert items[2].data == {"id": "3"}
    with pytest.raises(ItemRejected) as info:
        normalize(items[1].data)
    assert info.value.code == "invalid_json"


def test_it_rejects_a_too_deep_ndjson_line_alone():
    body = ('{"id": "1"}\n{"a": ' + nested(70) + "}\n").encode()
    items = split_body(body, "application/x-ndjson")
    assert items[0].data == {"id": "1"}
    with pytest.raises(ItemRejected) as info:
        normalize(items[1].data)
    assert info.value.code == "too_deep"


def test_it_marks_a_non_utf8_ndjson_line_invalid():
    items = split_body(b'{"id": "1"}\n{"id": "\xff"}\n', "application/x-ndjson")
    assert isinstance(items[1].data, InvalidJSON)


@pytest.mark.parametrize("body, words", [
    (b"", "empty"),
    (b"  \n\t ", "empty"),
    (b'{"id": "\xff"}', "UTF-8"),
    (b'{"id": 1,}', "not valid JSON"),
    (b'[{"id": 1}] [', "not valid JSON"),
    (b'[{"id": 1} {"id": 2}]', "not valid JSON"),
    (b'"just a string"', "single value"),
    (b"42", "single value"),
    (b'{"x": NaN}', "not valid JSON"),
    (('{"value": ' + nested(100_000) + "}").encode(), "deeper than 64"),
    (("[" * 100_000).encode(), "deeper than 64"),
])
def test_it_rejects_a_bad_body(body, words):
    with pytest.raises(BodyError) as info:
        split_body(body, "application/json")
    assert words in info.value.message


def test_a_too_deep_array_element_is_refused_alone():
    body = '[{"id": "a"}, {"x": ' + nested(70) + "}, " + nested(100_000) + "]"
    items = split_body(body.encode(), None)
    assert [type(i.data).__name__ for i in items] == ["dict", "InvalidJSON", "InvalidJSON"]
    assert items[1].data.code == items[2].data.code == "too_deep"
    assert items[1].raw == ('{"x": ' + nested(70) + "}").encode()


def test_it_accepts_64_levels():
    items = split_body(nested(64).encode(), None)
    assert len(items) == 1


def test_it_parses_ndjson_only_when_the_content_type_says_so():
    with pytest.raises(BodyError):
        split_body(b'{"id": "1"}\n{"id": "2"}\n', "application/json")


def test_loads_guards_depth_without_counting_brackets_in_strings():
    text = json.dumps({"s": "[[[[{{{{" * 100})
    assert max_depth(text) == 1
    assert loads(text) == {"s": "[[[[{{{{" * 100}
    with pytest.raises(JSONTooDeep):
        loads("[" * 5000 + "]" * 5000)


def test_it_splits_the_rest_api_example_file_into_its_alerts(arm_alerts):
    element = json.dumps(arm_alerts[1], indent=1)
    body = ('{"parameters": {"api-version": "2022-01-01"},\n "responses": {"200": {"body": '
            '{"value": [' + json.dumps(arm_alerts[0]) + ",\n" + element + "]}}}}").encode()
    items = split_body(body, "application/json")
    assert [item.data["name"] for item in items] == [a["name"] for a in arm_alerts]
    assert items[1].raw == element.encode()
