"""SSML: always well-formed, within Polly's limits, and only what each engine accepts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from emotion_dynamics.dynamics import Dynamics, RateDynamics, VolumeDynamics
from emotion_dynamics.rate import RATE_LEVELS
from emotion_dynamics.ssml import (
    MAX_RATE_PERCENT,
    MAX_SSML_CHARS,
    MAX_TEXT_CHARS,
    MIN_RATE_PERCENT,
    SsmlError,
    build_ssml,
    clean_text,
    rate_percent,
)
from emotion_dynamics.volume import VOLUME_LEVELS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What Polly accepts, per engine (neural: prosody with rate and volume only).
NEURAL_TAGS = {"speak", "break", "lang", "mark", "p", "s", "sub", "w", "phoneme", "say-as", "prosody"}
NEURAL_ATTRS = {"prosody": {"rate", "volume"}, "speak": set()}
STANDARD_ATTRS = {"prosody": {"rate", "volume", "pitch"}, "speak": set()}
VOLUME_VALUES = {"silent", "x-soft", "soft", "medium", "loud", "x-loud"}
PITCH = re.compile(r"^[+-]\d+%$")
RATE = re.compile(r"^\d+%$")


def dyn(volume: str = "medium", wpm: float = 145.0, rate_level: str = "medium") -> Dynamics:
    return Dynamics(VolumeDynamics(volume, -18.0, 0.0), RateDynamics(rate_level, wpm, "acoustic"))


def check_document(doc: str, engine: str) -> ET.Element:
    assert len(doc) <= MAX_SSML_CHARS
    root = ET.fromstring(doc)
    allowed = NEURAL_ATTRS if engine == "neural" else STANDARD_ATTRS
    for element in root.iter():
        assert element.tag in NEURAL_TAGS, element.tag
        assert set(element.attrib) <= allowed.get(element.tag, set()), (element.tag, element.attrib)
        if element.tag == "prosody":
            assert RATE.match(element.attrib["rate"])
            assert element.attrib["volume"] in VOLUME_VALUES
            if "pitch" in element.attrib:
                assert PITCH.match(element.attrib["pitch"])
    assert root.tag == "speak"
    return root


def spoken_text(root: ET.Element) -> str:
    return "".join(root.itertext())


dynamics_strategy = st.builds(
    dyn,
    volume=st.sampled_from(VOLUME_LEVELS),
    wpm=st.floats(min_value=0, max_value=1000, allow_nan=False),
    rate_level=st.sampled_from(RATE_LEVELS),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=1, max_size=200), dynamics=dynamics_strategy, engine=st.sampled_from(["neural", "standard"]))
def test_any_text_gives_a_valid_document_or_a_clear_error(text, dynamics, engine):
    if not clean_text(text):
        with pytest.raises(SsmlError):
            build_ssml(text, dynamics, engine)
        return
    root = check_document(build_ssml(text, dynamics, engine), engine)
    assert spoken_text(root) == clean_text(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.sampled_from("<>&\"' aé€😀\n"), min_size=2000, max_size=9000),
       engine=st.sampled_from(["neural", "standard"]))
def test_long_text_is_cut_inside_the_limits_without_breaking_escapes(text, engine):
    if not clean_text(text):
        return
    doc = build_ssml(text, dyn("loud", 300.0, "very_fast"), engine)
    root = check_document(doc, engine)
    spoken = spoken_text(root)
    assert len(spoken) <= MAX_TEXT_CHARS  # billed characters: the text, not the tags
    assert clean_text(text).startswith(spoken)
    assert len(spoken) >= min(len(clean_text(text)), 1000) - 40  # cut only as far as the limits require


def test_neural_document_is_exactly_prosody_rate_and_volume():
    doc = build_ssml("Hello there", dyn("loud", 190.0, "very_fast"), "neural")
    assert doc == '<speak><prosody rate="130%" volume="loud">Hello there</prosody></speak>'


def test_standard_engine_adds_pitch():
    doc = build_ssml("Hello", dyn("loud", 145.0), "standard")
    assert doc == '<speak><prosody rate="100%" volume="loud" pitch="+8%">Hello</prosody></speak>'


def test_reserved_characters_are_escaped():
    doc = build_ssml("Tom & Jerry <3 \"quotes\" 'apostrophes'", dyn(), "neural")
    assert "&amp;" in doc and "&lt;3" in doc and "&quot;" in doc and "&apos;" in doc
    assert spoken_text(ET.fromstring(doc)) == "Tom & Jerry <3 \"quotes\" 'apostrophes'"


def test_xml_illegal_characters_are_removed():
    doc = build_ssml("a\x00b\x1fc\ufffe\ud800d", dyn(), "neural")
    assert spoken_text(ET.fromstring(doc)) == "abcd"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01"])
def test_empty_text_is_a_clear_error(text):
    with pytest.raises(SsmlError, match="empty"):
        build_ssml(text, dyn(), "neural")


def test_unknown_engine_and_bad_dynamics_are_errors():
    with pytest.raises(SsmlError):
        build_ssml("hi", dyn(), "generative")
    with pytest.raises(SsmlError):
        build_ssml("hi", {"volume": {}}, "neural")


def test_dynamics_dict_is_accepted():
    assert build_ssml("hi", dyn("soft", 100.0).to_dict()) == build_ssml("hi", dyn("soft", 100.0))


def test_silent_and_whisper_map_to_audible_keywords():
    assert 'volume="medium"' in build_ssml("hi", dyn("silent", 0.0, "unknown"))
    assert 'rate="100%"' in build_ssml("hi", dyn("silent", 0.0, "unknown"))
    assert 'volume="x-soft"' in build_ssml("hi", dyn("whisper"))


def test_rate_is_relative_to_the_typical_pace():
    assert rate_percent(145.0) == 100
    assert rate_percent(174.0) == 120
    assert rate_percent(120.0, typical_wpm=120.0) == 100
    assert rate_percent(0.0) == 100
    assert rate_percent(30.0) == MIN_RATE_PERCENT
    assert rate_percent(900.0) == MAX_RATE_PERCENT
    assert 'rate="120%"' in build_ssml("hi", dyn(wpm=150.0), typical_wpm=125.0)


@given(st.floats(min_value=1, max_value=1000), st.floats(min_value=1, max_value=1000))
def test_rate_percent_is_monotonic(a, b):
    if a <= b:
        assert rate_percent(a) <= rate_percent(b)
