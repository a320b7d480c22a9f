"""The partial-results feature flag: SSM parameter, cache of at most 60 s, last good value on errors."""

from __future__ import annotations

import boto3
import pytest
from audio_transcription.feature_flag import FeatureFlag, parse_flag
from audio_transcription.tests.fakes import FakeClock


@pytest.mark.parametrize(("raw", "value"), [
    ('{"partialResultsEnabled": true}', True), ('{"partialResultsEnabled": false}', False),
    ("true", True), ("FALSE", False), (" true\n", True),
])
def test_parse(raw, value):
    assert parse_flag(raw) is value


@pytest.mark.parametrize("raw", ["", "yes", "{}", '{"partialResultsEnabled": "true"}', "[true]", "{"])
def test_parse_rejects(raw):
    with pytest.raises(ValueError):
        parse_flag(raw)


def put(name, value):
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name=name, Type="String", Value=value, Overwrite=True)


def test_change_takes_effect_within_the_cache_period(world):
    clock = FakeClock()
    flag = FeatureFlag(boto3.client("ssm", region_name="us-east-1"), world.flag, ttl=30, clock=clock.time)
    assert flag.partial_results_enabled() is True
    put(world.flag, '{"partialResultsEnabled": false}')
    clock.advance(29)
    assert flag.partial_results_enabled() is True  # cached
    clock.advance(1)
    assert flag.partial_results_enabled() is False
    put(world.flag, "true")
    clock.advance(30)
    assert flag.partial_results_enabled() is True


def test_cache_is_never_longer_than_a_minute(world):
    clock = FakeClock()
    flag = FeatureFlag(boto3.client("ssm", region_name="us-east-1"), world.flag, ttl=600, clock=clock.time)
    flag.partial_results_enabled()
    put(world.flag, "false")
    clock.advance(60)
    assert flag.partial_results_enabled() is False


def test_reads_are_cached(world):
    calls = []
    ssm = boto3.client("ssm", region_name="us-east-1")

    class Counting:
        def get_parameter(self, **kw):
            calls.append(kw)
            return ssm.get_parameter(**kw)

    clock = FakeClock()
    flag = FeatureFlag(Counting(), world.flag, ttl=30, clock=clock.time)
    for _ in range(100):
        flag.partial_results_enabled()
        clock.advance(0.5)
    assert len(calls) == 2  # at 0 s and at 30 s


def test_malformed_value_or_ssm_failure_keeps_the_last_good_value(world):
    clock = FakeClock()
    flag = FeatureFlag(boto3.client("ssm", region_name="us-east-1"), world.flag, ttl=30, retry_after=5, clock=clock.time)
    put(world.flag, "false")
    assert flag.partial_results_enabled() is False
    put(world.flag, "maybe")
    clock.advance(30)
    assert flag.partial_results_enabled() is False
    put(world.flag, "true")
    clock.advance(5)  # retried after retry_after, not after the full ttl
    assert flag.partial_results_enabled() is True

    missing = FeatureFlag(boto3.client("ssm", region_name="us-east-1"), "/no/such/parameter", clock=clock.time)
    assert missing.partial_results_enabled() is True  # the default until a good read
    assert FeatureFlag(boto3.client("ssm", region_name="us-east-1"), "/no/such", default=False,
                       clock=clock.time).partial_results_enabled() is False
