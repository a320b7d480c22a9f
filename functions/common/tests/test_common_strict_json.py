"""A client's JSON object must name each key once."""

from __future__ import annotations

import json

import pytest

from common.strict_json import DuplicateField, unique_keys


def test_an_object_naming_each_key_once_decodes_as_usual() -> None:
    body = '{"action": "sendAudio", "nested": {"action": 1}, "list": [{"a": 1}, {"a": 2}]}'
    assert json.loads(body, object_pairs_hook=unique_keys) == json.loads(body)


@pytest.mark.parametrize("body, name", [('{"action": "a", "action": "b"}', "action"),
                                        ('{"outer": {"k": 1, "k": 1}}', "k"),
                                        ('{"\\u0061": 1, "a": 2}', "a")])
def test_a_repeated_key_at_any_depth_is_refused_with_its_name(body: str, name: str) -> None:
    with pytest.raises(DuplicateField) as caught:
        json.loads(body, object_pairs_hook=unique_keys)
    assert caught.value.name == name and caught.value.args == (name,)
