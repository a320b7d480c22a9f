"""The local Translate: apertium pairs and the scripted translator through boto3's translate client."""

from __future__ import annotations

import shutil

import pytest
from botocore.exceptions import ClientError

from local.engines.translate import (
    ApertiumTranslator,
    ScriptedTranslator,
    escape,
    installed_pairs,
    translate_app,
    unescape,
)
from tests.local.engines.server import boto3_client, serving

needs_apertium = pytest.mark.skipif(shutil.which("apertium-wblank-mode") is None or ("en", "es") not in installed_pairs(),
                                    reason="needs apertium and apertium-eng-spa (apt)")


@pytest.fixture(scope="module")
def apertium():
    engine = ApertiumTranslator()
    yield engine
    engine.close()


def test_escaping_round_trips():
    text = "Price: $5 [test] ^a/b$ @home <b> back\\slash {x}"
    assert unescape(escape(text)) == text


@needs_apertium
def test_boto3_translates_english_to_spanish_and_catalan_through_a_path_prefix(apertium):
    with serving(translate_app(apertium), "/aws/translate") as url:
        client = boto3_client("translate", url)
        answer = client.translate_text(Text="Good morning everyone.", SourceLanguageCode="en", TargetLanguageCode="es")
        assert answer["TranslatedText"].startswith("Buenos días")
        assert (answer["SourceLanguageCode"], answer["TargetLanguageCode"]) == ("en", "es")
        # the pipeline stays up: many requests, answers in order, reserved characters intact
        for n in range(5):
            text = f"The {n} trains [north/south] cost $5."
            out = client.translate_text(Text=text, SourceLanguageCode="en", TargetLanguageCode="es")["TranslatedText"]
            assert f"{n}" in out and "$5" in out and "[" in out
        if ("en", "ca") in apertium.pairs():
            ca = client.translate_text(Text="Thank you all for coming here today.", SourceLanguageCode="en",
                                       TargetLanguageCode="ca")["TranslatedText"]
            assert "avui" in ca
        same = client.translate_text(Text="Hello.", SourceLanguageCode="en", TargetLanguageCode="en")
        assert same["TranslatedText"] == "Hello."


@needs_apertium
def test_a_missing_pair_answers_unsupported_language_pair(apertium):
    with serving(translate_app(apertium), "/aws/translate") as url:
        client = boto3_client("translate", url)
        with pytest.raises(client.exceptions.UnsupportedLanguagePairException) as caught:
            client.translate_text(Text="Hello.", SourceLanguageCode="en", TargetLanguageCode="ja")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "en to ja" in caught.value.response["Error"]["Message"]


@needs_apertium
def test_pipeline_restarts_after_it_dies(apertium):
    import asyncio

    assert asyncio.run(apertium.translate("Good morning.", "en", "es"))
    pipeline = apertium._pipelines[("en", "es")]
    pipeline._kill(pipeline._process)
    assert asyncio.run(apertium.translate("Good morning.", "en", "es")).startswith("Buenos")


def test_scripted_translator_through_boto3():
    with serving(translate_app(ScriptedTranslator())) as url:
        client = boto3_client("translate", url)
        out = client.translate_text(Text="Good morning.", SourceLanguageCode="en", TargetLanguageCode="es")
        assert out["TranslatedText"] == "[es] Good morning."
        with pytest.raises(client.exceptions.UnsupportedLanguagePairException):
            client.translate_text(Text="Hello.", SourceLanguageCode="en", TargetLanguageCode="ko")
        with pytest.raises(client.exceptions.TextSizeLimitExceededException):
            client.translate_text(Text="a" * 10_001, SourceLanguageCode="en", TargetLanguageCode="es")


def test_unknown_operations_and_bad_bodies_are_errors():
    import json
    import urllib.request

    with serving(translate_app(ScriptedTranslator()), "/aws/translate") as url:
        def post(target: str, body: bytes) -> tuple[int, dict]:
            request = urllib.request.Request(url + "/", data=body, method="POST",
                                             headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
            try:
                with urllib.request.urlopen(request) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        assert post("AWSShineFrontendService_20170701.TranslateText", b"not json") == (
            400, {"__type": "SerializationException", "message": "the request body is not JSON",
                  "Message": "the request body is not JSON"})
        status, body = post("AWSShineFrontendService_20170701.TranslateText", b'{"Text": "", "SourceLanguageCode": "en"}')
        assert status == 400 and body["__type"] == "ValidationException"
        status, body = post("AWSShineFrontendService_20170701.DeleteTerminology", b"{}")
        assert status == 400 and body["__type"] == "UnknownOperationException"
        with pytest.raises(ClientError):
            boto3_client("translate", url).translate_text(Text="x", SourceLanguageCode="auto", TargetLanguageCode="es")
