"""Translator retries and splitting, and the DynamoDB translation cache (moto)."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from translation_pipeline.tests.fakes import CACHE, FakeTranslate, fake_translation
from translation_pipeline.translation import MAX_TRANSLATE_BYTES, TranslationCache, TranslationError, Translator, cache_key


def _translator(client, retries=3, sleeps=None):
    return Translator(client, retries, 0.1, 2.0, sleep=(sleeps.append if sleeps is not None else lambda _: None),
                      rng=lambda: 0.5)


def test_translation_request_matches_service_model(boto_session):
    client = boto_session.client("translate")
    with Stubber(client) as stubber:
        stubber.add_response("translate_text",
                             {"TranslatedText": "Buenos días.", "SourceLanguageCode": "en", "TargetLanguageCode": "es"},
                             {"Text": "Good morning.", "SourceLanguageCode": "en", "TargetLanguageCode": "es"})
        assert _translator(client).translate("Good  morning.", "en-US", "es") == "Buenos días."
        stubber.assert_no_pending_responses()


def test_translation_throttling_retried_with_jittered_backoff():
    fake = FakeTranslate(failures={"es": 2})
    sleeps: list[float] = []
    assert _translator(fake, sleeps=sleeps).translate("Hello.", "en-US", "es") == fake_translation("Hello.", "es")
    assert fake.calls_for("es") == 3
    # Full jitter (rng 0.5) of 0.1 * 2**attempt.
    assert sleeps == pytest.approx([0.05, 0.1])


def test_translation_throttling_exhausted_raises_for_that_language():
    fake = FakeTranslate(failures={"es": -1})
    with pytest.raises(TranslationError) as info:
        _translator(fake, retries=2).translate("Hello.", "en-US", "es")
    assert info.value.target == "es" and info.value.attempts == 3 and info.value.reason == "TooManyRequestsException"


def test_translation_non_retryable_error_not_retried():
    fake = FakeTranslate(failures={"xx": -1}, code="UnsupportedLanguagePairException")
    with pytest.raises(TranslationError):
        _translator(fake).translate("Hello.", "en-US", "xx")
    assert fake.calls_for("xx") == 1


def test_translation_server_errors_retried():
    fake = FakeTranslate(failures={"de": 1}, code="InternalServerException", status=500)
    assert _translator(fake).translate("Hello.", "en-US", "de") == fake_translation("Hello.", "de")


def test_translation_long_text_split_under_request_limit():
    fake = FakeTranslate()
    text = "Every sentence here is short. " * 800  # ~24 KB
    result = _translator(fake).translate(text, "en-US", "fr")
    assert len(fake.calls) >= 3
    assert all(len(c["Text"].encode()) <= MAX_TRANSLATE_BYTES for c in fake.calls)
    assert result.count("Every sentence here is short.") == 800


def test_translation_cache_round_trip_and_ttl(ddb, now):
    cache = TranslationCache(ddb, CACHE, ttl_seconds=3600, clock=lambda: now)
    key_es, key_fr = cache_key("en-US", "es", "Hello."), cache_key("en-US", "fr", "Hello.")
    assert cache.get_many([key_es, key_fr]) == {}
    cache.put(key_es, "en-US", "es", "Hola.")
    item = ddb.get_item(TableName=CACHE, Key={"cacheKey": {"S": key_es}})["Item"]
    assert int(item["expiresAt"]["N"]) == int(now) + 3600
    assert cache.get_many([key_es, key_fr]) == {key_es: "Hola."}
    # An expired row that TTL has not deleted yet is a miss.
    later = TranslationCache(ddb, CACHE, ttl_seconds=3600, clock=lambda: now + 7200)
    assert later.get_many([key_es]) == {}


def test_translation_cache_batches_over_100_keys(ddb, now):
    cache = TranslationCache(ddb, CACHE, ttl_seconds=3600, clock=lambda: now)
    keys = [cache_key("en-US", "es", f"Phrase {i}.") for i in range(130)]
    for i, key in enumerate(keys[::2]):
        cache.put(key, "en-US", "es", f"Frase {i}.")
    assert len(cache.get_many(keys)) == 65


def test_translation_cache_fault_is_a_miss_not_a_failure(now):
    class Broken:
        def batch_get_item(self, **_):
            from translation_pipeline.tests.fakes import client_error
            raise client_error("ProvisionedThroughputExceededException", 400, "BatchGetItem")

        def put_item(self, **_):
            from translation_pipeline.tests.fakes import client_error
            raise client_error("InternalServerError", 500, "PutItem")

    cache = TranslationCache(Broken(), CACHE, 3600, clock=lambda: now)
    assert cache.get_many(["k"]) == {}
    cache.put("k", "en", "es", "Hola.")  # logged, not raised
