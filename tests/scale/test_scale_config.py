"""The broadcast-at-scale config keys: typed, ranged and related as components/config.py says."""

from __future__ import annotations

import pytest

from components.config import ConfigError, load_stack_config
from tests.harness import PROJECT, stack_config


def _load(**overrides):
    raw = {**stack_config("dev"), **overrides}
    return load_stack_config(get=lambda ns, key: raw.get(f"{ns}:{key}"), stack="dev", project=PROJECT)


def test_defaults_from_the_stack_files():
    t = _load().translation
    assert t.combineCaptionAudio is True and t.fanoutShardListeners == 500


@pytest.mark.parametrize("value", ["0", "50", "5000"])
def test_shard_size_accepted(value):
    assert _load(**{"translation:fanoutShardListeners": value}).translation.fanoutShardListeners == int(value)


@pytest.mark.parametrize("value,message", [("20", "0 \\(off\\) or at least 50"), ("5001", "between 0 and 5000"),
                                           ("1.5", "integer"), ("", "required")])
def test_shard_size_refused(value, message):
    with pytest.raises(ConfigError, match=message):
        _load(**{"translation:fanoutShardListeners": value})


def test_combine_is_a_boolean():
    assert _load(**{"translation:combineCaptionAudio": "false"}).translation.combineCaptionAudio is False
    with pytest.raises(ConfigError, match="combineCaptionAudio"):
        _load(**{"translation:combineCaptionAudio": "yes"})
