"""The pages offer exactly the languages the backend accepts (functions/common/languages.py)."""

from __future__ import annotations

import re

from common.languages import LISTENER_LANGUAGES, TRANSCRIBE_STREAMING_LANGUAGES

from tests.web.conftest import ROOT

SOURCE = (ROOT / "web" / "js" / "languages.js").read_text()


def _array(name: str) -> list[str]:
    body = re.search(rf"export const {name} = \[(.*?)\];", SOURCE, re.S).group(1)
    return re.findall(r'"([^"]+)"', body)


def test_source_languages_are_transcribe_streaming_codes():
    assert _array("SOURCE_LANGUAGES") == list(TRANSCRIBE_STREAMING_LANGUAGES)


def test_target_languages_are_the_listener_catalogue():
    assert _array("TARGET_LANGUAGES") == list(LISTENER_LANGUAGES)
