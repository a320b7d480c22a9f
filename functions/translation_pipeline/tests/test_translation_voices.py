"""The language catalogue's voices against what Polly offers: botocore Stubber feeding the recorded DescribeVoices pages."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber
from common.languages import LISTENER_LANGUAGES

from translation_pipeline.tests.fakes import recorded_describe_voices
from translation_pipeline.voices import VoiceCatalog, describe_neural_voices

EXPECTED_REQUEST = {"Engine": "neural", "IncludeAdditionalLanguageCodes": True}


@pytest.fixture
def polly(boto_session):
    """A real Polly client with a Stubber: requests and responses are checked against the service model."""
    client = boto_session.client("polly")
    with Stubber(client) as stubber:
        yield client, stubber


def _stub_pages(stubber):
    first, second = recorded_describe_voices()
    stubber.add_response("describe_voices", first, EXPECTED_REQUEST)
    stubber.add_response("describe_voices", second, {**EXPECTED_REQUEST, "NextToken": first["NextToken"]})


def test_translation_every_catalogue_voice_is_offered_as_neural(polly):
    client, stubber = polly
    _stub_pages(stubber)
    offered = describe_neural_voices(client)
    stubber.assert_no_pending_responses()
    for language, choice in LISTENER_LANGUAGES.items():
        for voice in choice.voices:
            assert voice in offered, f"{language}: {voice} is not a neural voice Polly offers"
            assert offered[voice].speaks(choice.polly_language), f"{language}: {voice} does not speak {choice.polly_language}"


def test_translation_catalog_resolves_preferred_voices(polly):
    client, stubber = polly
    _stub_pages(stubber)
    catalog = VoiceCatalog(client)
    assert catalog.voice_for("es") == "Lucia"
    assert catalog.voice_for("es-MX") == "Mia"
    assert catalog.voice_for("ja") == "Takumi"
    assert catalog.voice_for("hi") == "Kajal"      # speaks hi-IN as an additional language
    assert catalog.voice_for("en") == "Joanna"
    # Described once per container, whatever the number of languages.
    stubber.assert_no_pending_responses()


def test_translation_no_neural_voice_means_captions_only(polly):
    client, stubber = polly
    _stub_pages(stubber)
    catalog = VoiceCatalog(client)
    assert catalog.voice_for("ru") is None   # Russian voices are standard-only
    assert catalog.voice_for("ro") is None


def test_translation_fallback_voice_when_preferred_missing(polly):
    client, stubber = polly
    first, second = recorded_describe_voices()
    # A region without Lucia and Sergio: another voice that speaks Spanish takes over.
    without = [v for v in first["Voices"] + second["Voices"] if v["Id"] not in ("Lucia", "Sergio")]
    stubber.add_response("describe_voices", {"Voices": without}, EXPECTED_REQUEST)
    catalog = VoiceCatalog(client)
    assert catalog.voice_for("es") in {"Andres", "Lupe", "Mia", "Pedro"}


def test_translation_default_voice_used_when_it_speaks_the_language(polly):
    client, stubber = polly
    first, second = recorded_describe_voices()
    without = [v for v in first["Voices"] + second["Voices"] if v["Id"] not in ("Joanna", "Matthew", "Ruth", "Stephen")]
    stubber.add_response("describe_voices", {"Voices": without}, EXPECTED_REQUEST)
    catalog = VoiceCatalog(client, default_voice_id="Kendra")
    assert catalog.voice_for("en") == "Kendra"
    # ...but never for a language it does not speak.
    assert catalog.voice_for("es") == "Lucia"


def test_translation_describe_failure_trusts_table(polly):
    client, stubber = polly
    stubber.add_client_error("describe_voices", service_error_code="ServiceFailureException", http_status_code=500)
    catalog = VoiceCatalog(client)
    assert catalog.voice_for("fr") == "Lea"
    assert catalog.voice_for("ru") is None

